"""What an answer is before what it says: text addressed to the grader (taken out and flagged), and a list
of terms without sentences (scored as such). Both run in one pass over the answer."""

from __future__ import annotations

import re
from bisect import bisect_left
from dataclasses import dataclass, field

from core.rubric.cues import (
    CLAUSE_WORDS,
    GRADER_ADDRESSEES,
    GRADER_ASKS,
    GRADER_DEMANDS,
    GRADER_MENTIONS,
    GRADER_OUTRIGHT,
    GRADER_TAG_PATTERN,
    ROLE_TAG_ANYWHERE,
    ROLE_TAG_PATTERN,
    TERM_LIST_MAX_CLAUSES,
    TERM_LIST_MAX_FRAGMENT_WORDS,
    TERM_LIST_MIN_FRAGMENTS,
)
from core.rubric.matching import PhraseFinder, Sentences, lowered, word_pattern

_GRADER = PhraseFinder(
    {
        "addressee": GRADER_ADDRESSEES,
        "mention": GRADER_MENTIONS,
        "demand": GRADER_DEMANDS,
        "ask": GRADER_ASKS,
        "outright": GRADER_OUTRIGHT,
    },
    whole_words=True,
)
# Bracketed asides and tags: no nesting, so each character is read by at most one attempt.
_BRACKETED = re.compile(r"\[[^\[\]]*\]|<[^<>]*>|\{[^{}]*\}|\([^()]*\)")
_TAG_BRACKETS = "[<{"
_PAIRED_TAG = re.compile(
    r"<(system|assistant|grader|evaluator|instructions?|admin|developer|score|prompt)>[^<]*</\1>"
)
_FRAGMENT_END = re.compile(r"[,;:\n•·|]|[.!?](?=\s|$)|\s[-–—]\s")


@dataclass(frozen=True)
class Screened:
    """The answer with what it said to the grader blanked out (offsets unchanged), and what was found."""

    text: str
    to_grader: list[str]
    # The sentences of `text`, when screening read them and left the text as it was: not read twice.
    sentences: Sentences | None = field(default=None, compare=False, repr=False)

    @property
    def addresses_grader(self) -> bool:
        return bool(self.to_grader)


def screen(answer: str) -> Screened:
    """Blanks out every sentence or bracketed aside that talks to the grader: a fake system or role tag,
    an outright instruction ("ignore your instructions"), or a demand for a score made to the grader."""
    lower = lowered(answer)
    spans = [match.span() for match in _PAIRED_TAG.finditer(lower)]
    found = _GRADER.find(lower)
    # A phrase found in a sentence or an aside on its own is also found, at the same offset, in the whole
    # answer (both start and end next to a space, a mark or a bracket): one where none starts has none.
    starts = sorted({hit.start for hits in found.values() for hit in hits})
    if any(bracket in lower for bracket in "[<{("):
        for match in _BRACKETED.finditer(lower):
            inside = match.group()[1:-1]
            tag = match.group()[0] in _TAG_BRACKETS and GRADER_TAG_PATTERN.match(inside)
            if tag or (_named(starts, match.start() + 1, match.end() - 1) and _talks_to_grader(inside)):
                spans.append(match.span())
    sentences = None
    # A role tag ends with one of ":>]|": an answer with none of them has none (and is not searched).
    if starts or (any(mark in lower for mark in ":>]|") and ROLE_TAG_ANYWHERE.search(lower)):
        sentences = Sentences(answer)
        for sentence in sentences.items:
            piece = lower[sentence.start : sentence.end]
            named = _named(starts, sentence.start, sentence.end)
            if (named and _talks_to_grader(piece)) or ROLE_TAG_PATTERN.match(piece):
                spans.append((sentence.start, sentence.end))
    if not spans:
        return Screened(answer, [], sentences)
    chars = list(answer)
    quoted = []
    for start, end in sorted(spans):
        quoted.append(answer[start:end].strip())
        for index in range(start, end):
            chars[index] = " "
        chars[start] = "\n"  # a sentence boundary: what remains never joins across the gap
    return Screened("".join(chars), list(dict.fromkeys(quote for quote in quoted if quote)))


def _named(starts: list[int], start: int, end: int) -> bool:
    """Whether one of `starts` (sorted) lies in [start, end)."""
    first = bisect_left(starts, start)
    return first < len(starts) and starts[first] < end


def _talks_to_grader(text: str) -> bool:
    found = _GRADER.find(text)
    plain_addressee = found["addressee"] and (found["demand"] or found["ask"])
    return bool(found["outright"] or plain_addressee or (found["mention"] and found["demand"]))


def is_term_list(text: str, word_count: int | None = None) -> bool:
    """Whether `text` is a list of terms rather than sentences: at least a few fragments, all short, and
    (all but at most one) with no pronoun, auxiliary verb or linking word that would make it a clause.
    `word_count` is the number of words in `text` (`meaning.tokens(text)`), when the caller has it."""
    lower = lowered(text)
    pieces = _FRAGMENT_END.split(lower)
    # The fragments hold every word (no word spans a fragment's end), and are at most all the pieces: so
    # many words make fragments too long on average, whatever the fragments are.
    if word_count is not None and word_count > TERM_LIST_MAX_FRAGMENT_WORDS * len(pieces):
        return False
    word = word_pattern(lower)
    fragments = [found for piece in pieces if (found := word.findall(piece))]
    if len(fragments) < TERM_LIST_MIN_FRAGMENTS:
        return False
    words = sum(len(fragment) for fragment in fragments)
    if words > TERM_LIST_MAX_FRAGMENT_WORDS * len(fragments):
        return False
    clauses = sum(1 for fragment in fragments if not CLAUSE_WORDS.isdisjoint(fragment))
    return clauses <= TERM_LIST_MAX_CLAUSES * len(fragments)
