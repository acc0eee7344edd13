"""The worst-case shapes are what they claim: each an answer the API would take, close to its 8 KB."""

from __future__ import annotations

import pytest

from bench.evaluator_worst_case import SHAPES, at_limit
from core.models import MAX_ANSWER_BYTES, AnswerIn


@pytest.mark.parametrize("name", sorted(SHAPES))
def test_each_shape_is_an_answer_of_nearly_the_limit(name: str) -> None:
    text = at_limit(SHAPES[name])
    assert MAX_ANSWER_BYTES - 300 <= len(text.encode()) <= MAX_ANSWER_BYTES
    AnswerIn(turn=1, answer=text)  # refused input would measure nothing
