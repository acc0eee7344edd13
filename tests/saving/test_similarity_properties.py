"""core.saving.similarity under arbitrary input (Hypothesis): no exception, the symmetries the cache relies
on, and time linear in the text's length."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.models import MAX_ANSWER_BYTES
from core.saving.similarity import (
    MIN_WORDS,
    Fingerprint,
    bands,
    fingerprint,
    is_near_duplicate,
    normalise,
    normalise_unordered,
    same_words,
    similarity,
)
from core.saving.similarity import _within_edits as within_edits
from tests.growth import GROWTH, assert_linear

# Words an interview answer is made of, with what the guards look at: numbers (digits and words),
# negations, filler words, typo-prone long words, punctuation that normalise drops or keeps.
VOCABULARY = [
    "we", "I", "the", "cache", "Redis", "Postgres", "latency", "dropped", "from", "to", "ms", "900", "180",
    "3.5", "99.9%", "$40k", "1,000", "two", "ten", "not", "never", "didn't", "can't", "without", "sure",
    "here's", "my", "answer", "basically", "thanks", "recieve", "receive", "behaviour", "behavior",
    "optimise", "optimize", "replication", "replicaton", "c++", "node.js", "C#", "—", "“quoted”", "...",
    "!", ",", "\n", "\t", "Ⅻ", "ﬁle", "ß", "İstanbul",
]  # fmt: skip
WORDS = st.sampled_from(VOCABULARY) | st.text(min_size=1, max_size=12)
ANSWERS = st.lists(WORDS, min_size=0, max_size=80).map(" ".join)
TEXTS = st.text(max_size=2_000) | ANSWERS
LONG_ANSWERS = st.lists(WORDS, min_size=MIN_WORDS + 4, max_size=80).map(" ".join)


@st.composite
def edited_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """An answer and the same answer with a few words changed, added, dropped or swapped: the pairs
    whose verdict is close, where an asymmetry would show."""
    words = draw(st.lists(st.sampled_from(VOCABULARY), min_size=MIN_WORDS, max_size=60))
    edited = list(words)
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(edited) - 1))
        action = draw(st.sampled_from(["replace", "insert", "delete", "swap", "typo"]))
        if action == "replace":
            edited[at] = draw(WORDS)
        elif action == "insert":
            edited.insert(at, draw(WORDS))
        elif action == "delete" and len(edited) > 1:
            del edited[at]
        elif action == "swap":
            other = draw(st.integers(0, len(edited) - 1))
            edited[at], edited[other] = edited[other], edited[at]
        elif action == "typo" and len(edited[at]) > 1:
            cut = draw(st.integers(1, len(edited[at]) - 1))
            edited[at] = edited[at][:cut] + edited[at][cut + 1 :]
    return " ".join(words), " ".join(edited)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_any_text_normalises_and_fingerprints_without_error(text: str) -> None:
    normalised = normalise(text)
    assert normalise(normalised) == normalised  # the cache key of a key is the key
    fp = fingerprint(text)
    assert fp.words == len(normalised.split())
    assert fp == fingerprint(normalised)  # the fingerprint is of the normalised text
    assert Fingerprint.from_bytes(fp.to_bytes()) == fp
    assert bands(fp) == bands(Fingerprint.from_bytes(fp.to_bytes()))
    assert len(bands(fp)) in (0, 8)
    unordered = normalise_unordered(text)
    assert normalise_unordered(unordered) == unordered


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(VOCABULARY[:40]), min_size=1, max_size=12), st.randoms(use_true_random=False))
def test_word_order_does_not_change_a_title(words: list[str], rng: object) -> None:
    shuffled = list(words)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert normalise_unordered(" ".join(shuffled)) == normalise_unordered(" ".join(words))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.from_regex(r"[a-z]{1,10}", fullmatch=True), min_size=1, max_size=40))
def test_case_white_space_and_trailing_punctuation_are_forgiven(words: list[str]) -> None:
    plain = " ".join(words)
    shouted = "  " + "\n ".join(word.upper() for word in words) + " !!"
    assert normalise(shouted) == normalise(plain)
    assert fingerprint(shouted) == fingerprint(plain)


@settings(max_examples=300, deadline=None)
@given(TEXTS)
def test_a_text_is_a_near_duplicate_of_itself_once_long_enough(text: str) -> None:
    fp = fingerprint(text)
    assert similarity(fp, fp) == 1.0
    assert same_words(fp, fp)
    assert is_near_duplicate(fp, fp) is (fp.words >= MIN_WORDS)


@settings(max_examples=300, deadline=None)
@given(edited_pairs() | st.tuples(LONG_ANSWERS, LONG_ANSWERS) | st.tuples(TEXTS, TEXTS))
def test_the_verdict_and_its_parts_are_symmetric(pair: tuple[str, str]) -> None:
    a, b = (fingerprint(text) for text in pair)
    assert 0.0 <= similarity(a, b) == similarity(b, a) <= 1.0
    assert same_words(a, b) == same_words(b, a)
    assert is_near_duplicate(a, b) == is_near_duplicate(b, a)
    if is_near_duplicate(a, b):
        # What the guards promise of every hit: the same numbers in order, the same negations.
        assert a.numbers == b.numbers and a.negations == b.negations
        assert min(a.words, b.words) >= MIN_WORDS


def _levenshtein(a: str, b: str) -> int:
    """The whole table: the reference the banded computation must agree with."""
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i]
        for j, char_b in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


# Mutants of _within_edits that are equivalent (checked against the whole table for every pair of
# strings over "ab" up to 5 letters and limits 0-3; mutmut sometimes reports the first two as timeouts):
# a sentinel of limit + 2 for "over the limit" (any value over the limit serves, as every comparison is
# with the limit), and a band wider than 2 * limit + 1 (3 * limit + 1, 2 * limit + 2): the extra cells
# are computed like the others, so the distances in the band are the same, only with more work.
@settings(max_examples=500, deadline=None)
@given(st.text("abcd", max_size=9), st.text("abcd", max_size=9), st.integers(0, 3))
def test_the_banded_edit_distance_agrees_with_the_whole_table(a: str, b: str, limit: int) -> None:
    assert within_edits(a, b, limit) == (_levenshtein(a, b) <= limit)


# --- time: linear in the text's length --------------------------------------------------------

BASE = "we moved the sessions to a cache and it made the checkout much faster for every customer today"


def _long_word_pair(length: int) -> tuple[Fingerprint, Fingerprint]:
    """Two answers that differ in one long word near its end: a likely typo to the word guard."""
    word = "a" * length
    return fingerprint(f"{BASE} {word}b"), fingerprint(f"{BASE} {word}c")


def _sized(unit: str, size: int) -> str:
    return (unit * (size // max(len(unit), 1) + 1))[:size]


SHAPES = {
    "sentences": "We cut p95 latency from 900 ms to 180 ms, and we did not roll back. ",
    "one long word": "x",
    "numbers with thousands": "1,000,",
    "many negations": "not never didn't ",
    "punctuation": "...!!—“”",
    "dotted tokens": "a.b.c.d.e.",
}
SIZE = MAX_ANSWER_BYTES // GROWTH


@pytest.mark.parametrize("shape", SHAPES)
def test_fingerprint_and_comparison_grow_linearly(shape: str) -> None:
    small_text, large_text = _sized(SHAPES[shape], SIZE), _sized(SHAPES[shape], SIZE * GROWTH)
    small_fp, large_fp = fingerprint(small_text), fingerprint(large_text)
    assert_linear(lambda: bands(fingerprint(small_text)), lambda: bands(fingerprint(large_text)))
    assert_linear(
        lambda: is_near_duplicate(small_fp, small_fp), lambda: is_near_duplicate(large_fp, large_fp)
    )


def test_comparing_answers_that_differ_in_one_long_word_grows_linearly() -> None:
    """The word guard pairs a changed word with a likely typo by edit distance: over two words of n
    letters a full edit-distance table costs n * n, so one 8 KB answer against a cached one could hold a
    request for seconds (4,000 letters: 3.5 s of CPU). Only distances up to 2 matter."""
    small, large = _long_word_pair(1_000), _long_word_pair(1_000 * GROWTH)
    assert is_near_duplicate(*small) and is_near_duplicate(*large)  # a typo in a long word, as designed
    assert_linear(
        lambda: is_near_duplicate(*small), lambda: is_near_duplicate(*large), catastrophe_seconds=0.5
    )
