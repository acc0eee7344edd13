"""The question bank is complete enough for every interview a candidate can set up, draws repeatably, and
starts a custom role on the nearest bank role until its generated questions arrive."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import get_args

import pytest

from core.interview.question_bank import nearest_bank_role, question_bank, with_generated
from core.models import BankRole, InterviewRecord, InterviewSetup, KeyPoint, Level, Question


def test_the_bank_has_at_least_300_distinct_questions() -> None:
    questions = question_bank().all_questions()
    assert len(questions) >= 300
    assert len({q.id for q in questions}) == len(questions)
    assert len({q.text.lower() for q in questions}) == len(questions)
    assert all(3 <= len(q.key_points) <= 5 and q.follow_ups for q in questions)


@pytest.mark.parametrize(("role", "level"), list(itertools.product(get_args(BankRole), get_args(Level))))
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


@pytest.mark.parametrize(
    ("title", "role"),
    [
        ("Site Reliability Engineer", "devops-sre"),
        ("Senior Data Engineer (Spark)", "data-analyst"),
        ("Machine learning engineer", "data-scientist"),
        ("Head of Engineering", "engineering-manager"),
        ("iOS developer", "frontend"),
        ("SDET", "qa"),
        ("Blockchain wizard", "backend"),
    ],
)
def test_a_custom_role_starts_on_the_nearest_bank_role(title: str, role: str) -> None:
    assert nearest_bank_role(title) == role
    setup = InterviewSetup(role="custom", custom_role=title, level="mid", kind="mixed", questions=15)
    assert len({q.id for q in question_bank().pick(setup, "seed")}) == 15
    assert question_bank().title(setup) == title


def test_generated_questions_replace_only_the_unshown_ones_of_the_same_kind() -> None:
    setup = InterviewSetup(role="custom", custom_role="Data engineer", level="mid", kind="mixed", questions=5)
    bank_ids = [q.id for q in question_bank().pick(setup, "seed")]
    record = InterviewRecord(
        id="x", setup=setup, token_hash="h", created_at=datetime.now(UTC), question_ids=bank_ids,
        greeting="Hi", answered=1, questions_pending=True,
    )  # fmt: skip
    point = KeyPoint(text="Partitioning", terms=["partition"])
    generated = [
        Question(id="gen-1", kind="technical", levels=["mid"], text="T1?", key_points=[point], follow_ups=[]),
        Question(
            id="gen-2", kind="behavioral", levels=["mid"], text="B1?", key_points=[point], follow_ups=[]
        ),
    ]
    updated = with_generated(record, generated, keep=record.answered + 1)
    # Turns 1 (answered) and 2 (on screen) stay; 3 is technical, 4 behavioral; 5 has none left.
    assert updated.question_ids == [bank_ids[0], bank_ids[1], "gen-1", "gen-2", bank_ids[4]]
    assert updated.generated == generated and not updated.questions_pending
