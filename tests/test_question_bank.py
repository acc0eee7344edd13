"""The question bank and the fixed wording are complete enough for every interview a candidate can set up."""

from __future__ import annotations

import itertools
from typing import get_args

import pytest

from core.models import InterviewSetup, Level, Role
from core.question_bank import question_bank
from core.templates import greeting, is_non_answer, phrases


def test_the_bank_has_at_least_300_distinct_questions() -> None:
    questions = question_bank().all_questions()
    assert len(questions) >= 300
    assert len({q.id for q in questions}) == len(questions)
    assert len({q.text.lower() for q in questions}) == len(questions)
    assert all(3 <= len(q.key_points) <= 5 and q.follow_ups for q in questions)


@pytest.mark.parametrize(("role", "level"), list(itertools.product(get_args(Role), get_args(Level))))
def test_every_setup_can_draw_its_longest_interview(role: str, level: str) -> None:
    for kind in ("behavioral", "technical", "mixed"):
        setup = InterviewSetup(role=role, level=level, kind=kind, questions=15)
        picked = question_bank().pick(setup, seed=f"{role}-{level}-{kind}")
        assert len({q.id for q in picked}) == 15
        assert all(level in q.levels and q.id.startswith(role) for q in picked)
        if kind != "mixed":
            assert {q.kind for q in picked} == {kind}
        else:
            assert [q.kind for q in picked[:2]] == ["technical", "behavioral"]


def test_the_same_seed_draws_the_same_questions() -> None:
    setup = InterviewSetup(role="qa", level="mid", kind="mixed", questions=6)
    assert question_bank().pick(setup, "seed") == question_bank().pick(setup, "seed")
    assert question_bank().pick(setup, "seed") != question_bank().pick(setup, "other seed")


def test_every_greeting_formats() -> None:
    setup = InterviewSetup(
        role="frontend", level="junior", kind="technical", questions=7, candidate_name="Ada"
    )
    for seed in range(50):
        text = greeting(setup, question_bank().title("frontend"), str(seed))
        assert "7" in text and "{" not in text
    assert phrases().transitions and phrases().closings and phrases().skip_feedback


@pytest.mark.parametrize(
    "text", ["I don't know", "skip", "  pass. ", "no idea", "idk", "N/A", "ok", "not sure!"]
)
def test_declined_answers_are_recognised(text: str) -> None:
    assert is_non_answer(text)


def test_real_answers_are_not_mistaken_for_declines() -> None:
    assert not is_non_answer("I don't know the exact figure, but we cut latency by half with a cache.")
