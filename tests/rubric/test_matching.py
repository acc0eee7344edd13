"""The phrase matching the evaluator and the report share: key-point terms match by the question bank's
word-prefix rule, and quotes cut at word boundaries."""

from __future__ import annotations

import re

import pytest

from core.rubric.matching import matches_term, quote


@pytest.mark.parametrize(
    ("text", "term", "expected"),
    [
        ("Idempotency keys", "idempot", True),
        ("we used an IDEMPOTENT put", "idempot", True),
        ("a rapid rollout", "api", False),
        ("the API returns", "api", True),
        ("log the Request-ID header", "request id", True),
        ("log the request  ids", "request id", True),
        ("log the requestid", "request id", False),
        ("send Retry-After: 5", "retry-after", True),
        ("send retry after five seconds", "retry-after", True),
        ("a b tree index", "b-tree", True),
        ("it returns 409.", "409", True),
        ("it returns 4091", "409", True),
        ("error 1409", "409", False),
        ("the queries were slow", "query", False),
    ],
)
def test_term_matches_as_a_word_prefix(text: str, term: str, expected: bool):
    assert matches_term(text, term) is expected


def test_quote_cuts_at_word_boundaries_around_the_anchor():
    sentence = " ".join(f"word{number}" for number in range(100))
    anchor = sentence.index("word60")
    excerpt = quote(sentence, anchor)

    assert excerpt in sentence and len(excerpt) <= 200
    assert "word60" in excerpt
    assert re.fullmatch(r"word\d+( word\d+)*", excerpt)
