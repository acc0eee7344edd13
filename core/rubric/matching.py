"""Text analysis shared by the local evaluator and the report: phrase matching, sentences, quotes.

The matching rule of the question bank, used for key-point terms and cue phrases alike: a phrase matches
the lowercased text where it starts at a word start, its words may be separated by any run of white
space or punctuation, and (unless whole words are asked for) its last word may continue, so "idempot"
matches "Idempotency" and "request id" matches "Request-IDs", but "api" does not match "rapid".
Leading punctuation of a phrase is ignored; trailing punctuation is literal ("c++").
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import NamedTuple

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_ALNUM_RUN = re.compile(r"[^\W_]+")
# A letter or digit: Unicode's, or, for text that is all ASCII, the same characters as a plain set, which
# the regex engine checks without a Unicode lookup per character (scans about twice as fast).
_ALNUM = {False: r"[^\W_]", True: "[0-9A-Za-z]"}
_ASCII_WORD = re.compile(r"[0-9A-Za-z]+(?:'[0-9A-Za-z]+)*")  # _WORD on ASCII text (no ’ there)
WORD_START = r"(?<![^\W_])"  # not preceded by a letter or digit
# A phrase trie: each key a word, a separator or the end mark, each value the node below it.
Trie = dict[str, "Trie"]
_END_KEY = ""  # marks, in a phrase trie, that a phrase ends at this node
_SEPARATOR_KEY = " "  # a separator between two words of a phrase
# A newline, or a run of end marks (and closing quotes) before a space or the end. Starts only where a run
# of end marks starts, and never gives back what it took: linear in the text. It opens with the character
# it starts at, so that the regex engine skips ahead to the next candidate instead of trying every offset.
_SENTENCE_END = re.compile(r"[.!?\n](?:(?<=\n)|(?<![.!?].)[.!?]*+[\"'”’)\]]*+(?=\s|$))")
# A full stop after these is not the end of a sentence.
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.")
_LETTER = re.compile(r"[^\W\d_]")
_BULLET = " \t-*•"


class Hit(NamedTuple):
    """Where a phrase or pattern matched: offsets into the original text and its verbatim slice. (A
    tuple: an answer makes dozens, and a tuple is made several times faster than a frozen dataclass.)"""

    start: int
    end: int
    text: str


class Sentence(NamedTuple):
    start: int
    end: int
    text: str


def lowered(text: str) -> str:
    """`text` lowercased without changing any offset ("İ".lower() alone would be two characters)."""
    return text.replace("\u0130", "i").lower()


def word_start(ascii: bool = False) -> str:
    """Regex source: not preceded by a letter or digit (`ascii`: in text that is all ASCII)."""
    return f"(?<!{_ALNUM[ascii]})"


def word_pattern(text: str) -> re.Pattern[str]:
    """The pattern of a word (letters and digits, and apostrophes between them) to scan `text` with."""
    return _ASCII_WORD if text.isascii() else _WORD


def phrases_regex(phrases: Iterable[str], *, whole_words: bool = False, ascii: bool = False) -> str:
    """Regex source matching any of `phrases` by the module's rule, as a trie so that one attempt per
    position suffices however many phrases there are, preferring the longest. It carries no word-start
    check: callers add it. With `ascii` it is for text that is all ASCII (and matches there alike)."""
    trie: Trie = {}
    for phrase in phrases:
        node = trie
        for key in _normalized(phrase):
            node = node.setdefault(key, {})
        node[_END_KEY] = {}
    return _trie_regex(trie, whole_words, ascii) if trie else "(?!)"  # no phrases: never matches


@lru_cache(maxsize=4096)  # the same few phrases recur throughout an answer
def _normalized(phrase: str) -> str:
    """The lowercased words of `phrase` joined by one space (the separator), then its trailing punctuation."""
    phrase = lowered(phrase)
    runs = list(_ALNUM_RUN.finditer(phrase))
    trailing = phrase[runs[-1].end() :].strip() if runs else phrase.strip()
    normalized = _SEPARATOR_KEY.join(run.group() for run in runs) + trailing
    if not normalized:
        raise ValueError(f"nothing to match in the phrase {phrase!r}")
    return normalized


def _trie_regex(node: Trie, whole_words: bool, ascii: bool) -> str:
    alnum = _ALNUM[ascii]
    separator = f"[^{alnum[1:-1]}]+" if ascii else r"[\W_]+"  # a run of anything but letters and digits
    branches = [
        (separator if key == _SEPARATOR_KEY else re.escape(key)) + _trie_regex(child, whole_words, ascii)
        for key, child in sorted(node.items())
        if key != _END_KEY
    ]
    if _END_KEY in node:
        # Listed last, so the longest phrase wins; for whole words, where no letter or digit follows.
        branches.append(f"(?!{alnum})" if whole_words else "")
    return branches[0] if len(branches) == 1 else f"(?:{'|'.join(branches)})"


class PhraseFinder:
    """Finds where the phrases of several named tables occur, in one scan of the text.

    A trie of all the phrases finds the longest one at each word start; a shorter phrase at the same start
    is always a prefix of it, so a table lookup made up front tells which tables the match counts for."""

    def __init__(self, tables: Mapping[str, Iterable[str]], *, whole_words: bool = False) -> None:
        self._tables = list(tables)
        tables_of: dict[str, list[str]] = {}
        for table, phrases in tables.items():
            for phrase in phrases:
                tables_of.setdefault(_normalized(phrase), []).append(table)
        self._counts_for = {phrase: _tables_matching(phrase, tables_of, whole_words) for phrase in tables_of}
        self._whole_words = whole_words
        # For text that is all ASCII (most answers: compiled now) and for any text (once one comes).
        self._patterns: dict[bool, re.Pattern[str]] = {}
        self._pattern(ascii=True)

    def find(self, text: str) -> dict[str, list[Hit]]:
        """Per table, in order of position, where its phrases occur (the longest phrase at each start)."""
        found: dict[str, list[Hit]] = {table: [] for table in self._tables}
        lower = lowered(text)
        for match in self._pattern(lower.isascii()).finditer(lower):
            start, end = match.span(1)
            hit = Hit(start, end, text[start:end])
            for table in self._counts_for[_normalized(match.group(1))]:
                found[table].append(hit)
        return found

    def _pattern(self, ascii: bool) -> re.Pattern[str]:
        pattern = self._patterns.get(ascii)
        if pattern is None:
            phrases = phrases_regex(self._counts_for, whole_words=self._whole_words, ascii=ascii)
            pattern = self._patterns[ascii] = re.compile(f"{word_start(ascii)}(?=({phrases}))")
        return pattern


def _tables_matching(phrase: str, tables_of: dict[str, list[str]], whole_words: bool) -> list[str]:
    """The tables with a phrase that matches wherever `phrase` does: `phrase` itself or a prefix of it
    (which, for whole words, must end where a word does)."""
    ends = [
        end
        for end in range(1, len(phrase) + 1)
        if not whole_words or end == len(phrase) or not phrase[end].isalnum()
    ]
    return list(dict.fromkeys(table for end in ends for table in tables_of.get(phrase[:end], ())))


@lru_cache(maxsize=4096)
def _term_finder(term: str) -> PhraseFinder:
    return PhraseFinder({term: [term]})


def matches_term(text: str, term: str) -> bool:
    """Whether `term` occurs in `text` by the question bank's rule (see the module's docstring)."""
    return bool(_term_finder(term).find(text)[term])


def find_all(pattern: re.Pattern[str], text: str) -> list[Hit]:
    """Every match of `pattern` (written in lowercase) in the lowercased `text`, with verbatim slices."""
    matches = pattern.finditer(lowered(text))
    return [Hit(match.start(), match.end(), text[match.start() : match.end()]) for match in matches]


def previous_word(text: str, position: int) -> str:
    """The lowercased word just before `position`, or "" at the start."""
    before = _ALNUM_RUN.findall(lowered(text[max(0, position - 40) : position]))
    return before[-1] if before else ""


def count_words(text: str) -> int:
    return len(word_pattern(text).findall(text))


class Sentences:
    """The sentences of a text as verbatim slices (list bullets trimmed), and which one holds an offset."""

    def __init__(self, text: str) -> None:
        self.items: list[Sentence] = []
        start = 0
        for boundary in [*_sentence_ends(text), len(text)]:
            sentence = _trimmed(text, start, boundary)
            if sentence is not None:
                self.items.append(sentence)
            start = boundary
        self._starts = [sentence.start for sentence in self.items]

    def at(self, position: int) -> Sentence | None:
        index = bisect_right(self._starts, position) - 1
        if index >= 0 and position < self.items[index].end:
            return self.items[index]
        return None


def _sentence_ends(text: str) -> list[int]:
    ends = []
    for match in _SENTENCE_END.finditer(text):
        abbreviation = text.endswith(_ABBREVIATIONS, 0, match.end())
        if not abbreviation or match.group() == "\n":
            ends.append(match.end())
    return ends


def _trimmed(text: str, start: int, end: int) -> Sentence | None:
    piece = text[start:end]
    stripped = piece.lstrip().lstrip(_BULLET).rstrip()
    if not _LETTER.search(stripped):
        return None
    offset = start + len(piece) - len(piece.lstrip().lstrip(_BULLET))
    return Sentence(offset, offset + len(stripped), stripped)


def quote(text: str, anchor: int = 0, limit: int = 200) -> str:
    """A verbatim excerpt of `text`, at most `limit` characters, that keeps the offset `anchor` in view and
    is cut at word boundaries."""
    if len(text) <= limit:
        return text
    start = max(0, anchor - limit // 4)
    if start and not text[start - 1].isspace():
        next_space = text.find(" ", start, anchor)
        start = next_space + 1 if next_space >= 0 else start
    end = min(len(text), start + limit)
    if end < len(text) and not text[end].isspace():
        last_space = text.rfind(" ", start, end)
        end = last_space if last_space > start else end
    return text[start:end].strip().rstrip(",;:")


def join_words(items: list[str], conjunction: str = "and") -> str:
    """Joins `items` as in "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def quoted(items: list[str]) -> str:
    """Quotes and joins `items` as in “a”, “b” and “c”."""
    return join_words([f"“{item}”" for item in items])
