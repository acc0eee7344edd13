// Filler words and phrases counted in a dictated answer: data only, read by delivery.js. Close to the
// built-in evaluator's cues (core/rubric/cues.py FILLER_CUES), plus hedges ("kind of", "sort of") that
// matter more in speech than in writing.
// Each entry is a phrase in lower case, word by word. Words that are often not fillers carry a rule:
//   notAfter  – not counted right after one of these words ("what kind of", "do you know");
//   setOff    – counted only when set off: at the start of the answer or a sentence, next to a comma,
//               or right after another filler or a conjunction listed in `after` ("and like we…").
// Speech recognisers rarely punctuate, so "like" is counted sparingly: a missed filler is better than
// a candidate told off for "I'd like to" or "things like caching".
// "What kind of database", "the same sort of problem": a noun phrase, not a hedge.
const BEFORE_A_NOUN = ["what", "this", "that", "the", "a", "an", "any", "some", "which", "every", "same",
  "one", "other", "each", "no", "our", "my", "your", "their", "its", "his", "her", "right", "wrong"];

export const FILLERS = [
  { phrase: "um" },
  { phrase: "umm" },
  { phrase: "uh" },
  { phrase: "uhh" },
  { phrase: "uhm" },
  { phrase: "er" },
  { phrase: "erm" },
  { phrase: "hmm" },
  { phrase: "you know", notAfter: ["do", "did", "don't", "didn't", "if", "what", "as", "whether"] },
  { phrase: "i mean", notAfter: ["what", "do", "did", "don't", "didn't"] },
  { phrase: "sort of", notAfter: BEFORE_A_NOUN },
  { phrase: "kind of", notAfter: BEFORE_A_NOUN },
  { phrase: "basically" },
  { phrase: "actually" },
  { phrase: "literally" },
  { phrase: "like", setOff: true, after: ["and", "but", "so", "or", "um", "uh", "er", "was", "were"] },
];
