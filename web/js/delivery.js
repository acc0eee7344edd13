// How a dictated answer was delivered: speaking pace (words per minute) and filler words per 100 words.
// Worked out in the browser from what the speech recognition heard and when, so the server never sees
// audio or timings; the feedback shows it beside the scores, labelled as coming from the dictation.
import { FILLERS } from "./fillers.js";

// Under this much timed speech a pace means little (a couple of words between two results).
const MIN_TIMED_MS = 3000;
const MIN_TIMED_WORDS = 5;
const SENTENCE_OR_CLAUSE_END = new Set([",", ".", ";", ":", "!", "?"]);

/** Words and punctuation marks, lower case: "Um, I think" → ["um", ",", "i", "think"]. */
function tokens(text) {
  return text.toLowerCase().replaceAll("’", "'").match(/[a-z0-9]+(?:'[a-z]+)?|[,.;:!?]/g) ?? [];
}

function isWord(token) {
  return token !== undefined && !SENTENCE_OR_CLAUSE_END.has(token);
}

export function countWords(text) {
  return tokens(text).filter(isWord).length;
}

const PATTERNS = FILLERS.map((filler) => ({ ...filler, words: filler.phrase.split(" ") }));

/** Does `filler` start at tokens[index], with its context rules met? */
function fillerAt(list, index, filler, previousWasFiller) {
  if (!filler.words.every((word, offset) => list[index + offset] === word)) return false;
  const before = list[index - 1];
  if (filler.notAfter?.includes(before)) return false;
  if (filler.setOff) {
    const after = list[index + filler.words.length];
    const setOff = before === undefined || !isWord(before) || (after !== undefined && !isWord(after));
    return setOff || previousWasFiller || Boolean(filler.after?.includes(before));
  }
  return true;
}

/** {total, byPhrase: {phrase: count}} for the fillers in `text`; each word is counted at most once. */
export function countFillers(text) {
  const list = tokens(text);
  const byPhrase = {};
  let total = 0;
  let previousWasFiller = false;
  for (let index = 0; index < list.length; ) {
    if (!isWord(list[index])) {
      index += 1;
      continue;
    }
    const found = PATTERNS.find((filler) => fillerAt(list, index, filler, previousWasFiller));
    previousWasFiller = Boolean(found);
    if (found) {
      byPhrase[found.phrase] = (byPhrase[found.phrase] ?? 0) + 1;
      total += 1;
      index += found.words.length;
    } else {
      index += 1;
    }
  }
  return { total, byPhrase };
}

/**
 * The delivery of a dictated answer.
 * @param {string} transcript everything the recognition heard for this answer (its final results)
 * @param {number} spokenMs time from the first result to the last, summed over dictation sessions
 * @returns {{words: number, seconds: number, wordsPerMinute: number | null, fillers: number,
 *            fillersPer100: number | null, byPhrase: Record<string, number>}}
 */
export function deliveryOf(transcript, spokenMs) {
  const words = countWords(transcript);
  const { total, byPhrase } = countFillers(transcript);
  const timed = spokenMs >= MIN_TIMED_MS && words >= MIN_TIMED_WORDS;
  return {
    words,
    seconds: Math.round(spokenMs / 1000),
    wordsPerMinute: timed ? Math.round(words / (spokenMs / 60000)) : null,
    fillers: total,
    fillersPer100: words > 0 ? Math.round((total / words) * 1000) / 10 : null,
    byPhrase,
  };
}
