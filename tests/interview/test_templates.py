"""The fixed wording: every greeting formats, and declined answers are told apart from real ones, so the
templates answer them at no provider call."""

from __future__ import annotations

import pytest

from core.interview.question_bank import question_bank
from core.interview.templates import greeting, is_non_answer, phrases
from core.models import InterviewSetup


def test_every_greeting_formats() -> None:
    setup = InterviewSetup(
        role="frontend", level="junior", kind="technical", questions=7, candidate_name="Ada"
    )
    for seed in range(50):
        text = greeting(setup, question_bank().title(setup), str(seed))
        assert "7" in text and "{" not in text
    assert phrases().transitions and phrases().closings and phrases().skip_feedback


@pytest.mark.parametrize(
    "text", ["I don't know", "skip", "  pass. ", "no idea", "idk", "N/A", "ok", "not sure!"]
)
def test_declined_answers_are_recognised(text: str) -> None:
    assert is_non_answer(text)


def test_real_answers_are_not_mistaken_for_declines() -> None:
    assert not is_non_answer("I don't know the exact figure, but we cut latency by half with a cache.")
