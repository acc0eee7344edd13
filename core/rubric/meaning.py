"""Matching by meaning, as far as a deterministic, dependency-free method goes: words reduced to stems,
and patterns whose words must all occur close together, in any order, within one sentence.

A pattern is a phrase of plain words ("stop calling them for a while"): its stop words are dropped, every
other word is stemmed ("calling" → "call"), and it matches where all of its words occur within a few
words of each other in one sentence of the answer. A word written with a trailing "*" ("degrad*") matches
any word whose stem starts with it. The scan is one pass over the answer's words with dictionary lookups,
then a check of only the patterns all of whose words occurred: linear in the answer's length.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from core.rubric.matching import Hit, lowered

_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# A word, or a character that ends a sentence (or a clause a pattern must not cross).
_WORD_OR_BOUNDARY = re.compile(r"([^\W_]+(?:['’][^\W_]+)*)|[.!?;\n]")
_SENTENCE_GAP = 1000  # a pattern's words never span a boundary: positions jump this far across one
_IDS_CACHE_SIZE = 20000  # stems remembered per finder
STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "the",
        "to",
        "of",
        "for",
        "in",
        "on",
        "at",
        "by",
        "with",
        "and",
        "or",
        "as",
        "is",
        "are",
        "be",
        "been",
        "being",
        "was",
        "were",
        "am",
        "it",
        "its",
        "it's",
        "this",
        "that",
        "these",
        "those",
        "there",
        "their",
        "them",
        "they",
        "we",
        "our",
        "us",
        "i",
        "i'd",
        "i'll",
        "i'm",
        "i've",
        "me",
        "my",
        "mine",
        "you",
        "your",
        "he",
        "him",
        "his",
        "she",
        "her",
        "do",
        "does",
        "did",
        "so",
        "very",
        "just",
        "also",
        "then",
        "than",
        "too",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "may",
        "might",
        "must",
        "has",
        "have",
        "had",
        "having",
        "into",
        "onto",
        "from",
        "about",
        "any",
        "some",
        "each",
        "every",
        "all",
        "which",
        "who",
        "whom",
        "whose",
        "what",
        "when",
        "where",
        "how",
        "if",
        "but",
    ]
)
# Irregular forms, mapped to a word whose stem they share.
_IRREGULAR_SOURCE = {
    "ran": "run",
    "went": "go",
    "gone": "go",
    "goes": "go",
    "going": "go",
    "wrote": "write",
    "written": "write",
    "built": "build",
    "took": "take",
    "taken": "take",
    "made": "make",
    "kept": "keep",
    "led": "lead",
    "chose": "choose",
    "chosen": "choose",
    "broke": "break",
    "broken": "break",
    "fell": "fall",
    "fallen": "fall",
    "gave": "give",
    "given": "give",
    "began": "begin",
    "begun": "begin",
    "sent": "send",
    "spent": "spend",
    "found": "find",
    "told": "tell",
    "thought": "think",
    "brought": "bring",
    "caught": "catch",
    "held": "hold",
    "lost": "lose",
    "paid": "pay",
    "said": "say",
    "saw": "see",
    "seen": "see",
    "got": "get",
    "gotten": "get",
    "felt": "feel",
    "met": "meet",
    "meant": "mean",
    "did": "do",
    "does": "do",
    "done": "do",
    "doing": "do",
    "used": "use",
    "using": "use",
    "uses": "use",
    "knew": "know",
    "known": "know",
    "grew": "grow",
    "grown": "grow",
    "drove": "drive",
    "driven": "drive",
    "rose": "rise",
    "risen": "rise",
    "shown": "show",
    "hid": "hide",
    "hidden": "hide",
    "fed": "feed",
    "agreed": "agree",
    "freed": "free",
    "bought": "buy",
    "sold": "sell",
    "understood": "understand",
    "stood": "stand",
    "left": "leave",
    "slept": "sleep",
    "won": "win",
    "woke": "wake",
    "woken": "wake",
    "slid": "slide",
    "shook": "shake",
    "struck": "strike",
    "threw": "throw",
    "thrown": "throw",
    "wore": "wear",
    "worn": "wear",
    "swore": "swear",
    "bit": "bite",
    "drew": "draw",
    "drawn": "draw",
    "flew": "fly",
    "flown": "fly",
    "forgave": "forgive",
    "hung": "hang",
    "lent": "lend",
    "oversaw": "oversee",
    "overseen": "oversee",
    "rewrote": "rewrite",
    "rewritten": "rewrite",
    "rebuilt": "rebuild",
    "redid": "redo",
    "undid": "undo",
    "withdrew": "withdraw",
    "taught": "teach",
    "sought": "seek",
    "fought": "fight",
    "dealt": "deal",
    "ate": "eat",
    "became": "become",
    "spoke": "speak",
    "spoken": "speak",
    "forgot": "forget",
    "forgotten": "forget",
    "children": "child",
    "people": "person",
    "data": "data",
    "media": "media",
    "criteria": "criterion",
    "analyses": "analysis",
    "hypotheses": "hypothesis",
    "indices": "index",
    "indexes": "index",
    "better": "good",
    "best": "good",
    "worse": "bad",
    "worst": "bad",
    "less": "less",
    "unless": "unless",
    "this": "this",
    "has": "has",
    "was": "was",
    "is": "is",
    "its": "its",
    "series": "series",
}


def _has_vowel(word: str) -> bool:
    return any(char in "aeiouy" for char in word)


def _undoubled(word: str) -> str:
    if len(word) >= 4 and word[-1] == word[-2] and word[-1] not in "aeiouslz":
        return word[:-1]
    return word


def _stem_rules(word: str) -> str:
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    if word.endswith("ied") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("ing") and len(word) >= 6 and _has_vowel(word[:-3]):
        word = _undoubled(word[:-3])
    elif word.endswith("ed") and len(word) >= 5 and word[-3] != "e" and _has_vowel(word[:-2]):
        word = _undoubled(word[:-2])
    if word.endswith("ly") and len(word) > 5:
        word = word[:-2]
    if word.endswith("e") and len(word) > 3:
        word = word[:-1]
    return word


_IRREGULAR = {form: _stem_rules(base) for form, base in _IRREGULAR_SOURCE.items()}


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A light stem of a lowercased word: plural, past and -ing forms, -ly and a final e removed, so that
    "retries", "retried" and "retrying" all give "retry" and "saves", "saved" and "saving" give "sav"."""
    word = word.replace("’", "'")
    if word.endswith("'s"):
        word = word[:-2]
    irregular = _IRREGULAR.get(word)
    return irregular if irregular is not None else _stem_rules(word)


class Token(NamedTuple):
    stem: str
    position: int  # the word's index, with a jump at each sentence boundary
    start: int
    end: int


def tokens(text: str) -> list[Token]:
    """The words of `text` with their stems and offsets; positions jump across sentence boundaries."""
    found: list[Token] = []
    position = 0
    boundary = False
    for match in _WORD_OR_BOUNDARY.finditer(lowered(text)):
        word = match.group(1)
        if word is None:
            boundary = bool(found)
            continue
        if boundary:
            position += _SENTENCE_GAP
            boundary = False
        found.append(Token(stem(word), position, match.start(), match.end()))
        position += 1
    return found


@dataclass(frozen=True)
class _Word:
    text: str
    prefix: bool


@lru_cache(maxsize=65536)
def pattern_words(pattern: str) -> tuple[_Word, ...]:
    """The stemmed content words of a pattern, in order; "*" after a word makes it a prefix."""
    every = [
        (match.group(1), bool(match.group(2)))
        for match in re.finditer(r"([^\W_]+(?:['’][^\W_]+)*)(\*?)", lowered(pattern))
    ]
    content = [(word, star) for word, star in every if star or word not in STOP_WORDS]
    # A phrase with one content word keeps its stop words: "on me" is not "me", "as a result" not "result".
    kept = content if len(content) > 1 or len(every) == 1 else every
    return tuple(_Word(word if star else stem(word), star) for word, star in kept)


PatternKey = tuple[tuple[str, bool], ...]


def pattern_key(pattern: str) -> PatternKey:
    """A pattern's stemmed content words (and whether each is a prefix): equal for patterns that match alike."""
    return tuple((word.text, word.prefix) for word in pattern_words(pattern))


def span_for(words: int) -> int:
    """How far apart (in words) the first and last word of a pattern may be."""
    return max(4, 3 * words)


class MeaningFinder:
    """Finds which labels' patterns occur in a text. Built once per set of patterns (it is cached by the
    caller); `find` is one pass over the words plus a check of the patterns whose words all occurred."""

    def __init__(self, patterns: Mapping[str, Iterable[str]]) -> None:
        self._word_ids: dict[_Word, int] = {}
        self._exact: dict[str, list[int]] = {}
        self._prefix: dict[str, list[int]] = {}
        # Each pattern: its label and the ids of its distinct words, with its span.
        self._patterns: list[tuple[str, tuple[int, ...], int]] = []
        self._keys: list[PatternKey] = []  # each pattern's words, as `pattern_key` has them
        self._patterns_of_word: list[list[int]] = []
        seen: set[tuple[str, tuple[_Word, ...]]] = set()
        for label, phrases in patterns.items():
            for phrase in phrases:
                words = pattern_words(phrase)
                if not words or (label, words) in seen:
                    continue
                seen.add((label, words))
                ids = tuple(dict.fromkeys(self._word_id(word) for word in words))
                index = len(self._patterns)
                self._patterns.append((label, ids, span_for(len(words))))
                self._keys.append(tuple((word.text, word.prefix) for word in words))
                for word_id in ids:
                    self._patterns_of_word[word_id].append(index)
        self._prefix_lengths = sorted({len(text) for text in self._prefix})
        self._ids_cache: dict[str, tuple[int, ...]] = {}
        self.labels = list(patterns)

    def _word_id(self, word: _Word) -> int:
        if word not in self._word_ids:
            self._word_ids[word] = len(self._word_ids)
            self._patterns_of_word.append([])
            table = self._prefix if word.prefix else self._exact
            table.setdefault(word.text, []).append(self._word_ids[word])
        return self._word_ids[word]

    def find(self, text: str, words: Sequence[Token] | None = None) -> dict[str, list[Hit]]:
        """Per label with a match, where its patterns match in `text` (one hit per matching pattern, in
        order of position); `words` are `tokens(text)` when the caller has them already."""
        words = tokens(text) if words is None else words
        return self.find_weighted(text, words, {})[0]

    def strengths(
        self, text: str, words: Sequence[Token], weights: Mapping[PatternKey, float]
    ) -> dict[str, float]:
        """Per label with a match, the largest weight of its matching patterns (a pattern missing from
        `weights` weighs 1): how telling the best evidence for the label is."""
        return self.find_weighted(text, words, weights)[1]

    def find_weighted(
        self, text: str, words: Sequence[Token], weights: Mapping[PatternKey, float]
    ) -> tuple[dict[str, list[Hit]], dict[str, float]]:
        """`find` and `strengths` in one pass over the words."""
        occurrences: dict[int, list[int]] = {}
        for index, token in enumerate(words):
            for word_id in self._ids_of(token.stem):
                occurrences.setdefault(word_id, []).append(index)
        counts: dict[int, int] = {}
        for word_id in occurrences:
            for pattern in self._patterns_of_word[word_id]:
                counts[pattern] = counts.get(pattern, 0) + 1
        found: dict[str, list[Hit]] = {}
        strongest: dict[str, float] = {}
        for pattern, count in sorted(counts.items()):
            label, ids, span = self._patterns[pattern]
            if count != len(ids):
                continue
            where = _window(words, [occurrences[word_id] for word_id in ids], span)
            if where is None:
                continue
            start, end = words[where[0]].start, words[where[1]].end
            found.setdefault(label, []).append(Hit(start, end, text[start:end]))
            weight = weights.get(self._keys[pattern], 1.0)
            if weight > strongest.get(label, -1.0):
                strongest[label] = weight
        for hits in found.values():
            hits.sort(key=lambda hit: hit.start)
        return found, strongest

    def _ids_of(self, word: str) -> tuple[int, ...]:
        """The ids of the pattern words that `word` (a stem) matches: itself, or a prefix of it."""
        found = self._ids_cache.get(word)
        if found is None:
            ids = list(self._exact.get(word, ()))
            for length in self._prefix_lengths:
                if length > len(word):
                    break
                ids += self._prefix.get(word[:length], ())
            found = tuple(ids)
            if len(self._ids_cache) >= _IDS_CACHE_SIZE:
                self._ids_cache.clear()
            self._ids_cache[word] = found
        return found


def _window(words: Sequence[Token], lists: list[list[int]], span: int) -> tuple[int, int] | None:
    """The first (first, last) token indexes at which one occurrence of every list lies within `span`
    positions of an occurrence of the rarest list, or None."""
    lists = sorted(lists, key=len)
    anchors, others = lists[0], lists[1:]
    if not others:
        return anchors[0], anchors[0]
    positions = [[words[index].position for index in items] for items in others]
    for anchor in anchors:
        centre = words[anchor].position
        low = high = anchor
        for items, places in zip(others, positions, strict=True):
            at = bisect_left(places, centre - span)
            if at == len(places) or places[at] > centre + span:
                break
            # the nearest occurrence to the anchor among those in range
            best = at
            while (
                best + 1 < len(places)
                and places[best + 1] <= centre + span
                and abs(places[best + 1] - centre) < abs(places[best] - centre)
            ):
                best += 1
            low, high = min(low, items[best]), max(high, items[best])
        else:
            return low, high
    return None
