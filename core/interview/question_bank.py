"""The question bank: the project's own questions, as data files under data/questions.

A custom role (one the bank does not have) starts on the questions of the nearest bank role, so the
candidate never waits; questions generated for the role replace the ones not yet asked when they come."""

from __future__ import annotations

import random
from functools import lru_cache

from core.interview.job_ad import nearest_bank_role, read_job_ad, skill_overlap
from core.models import (
    BankRole,
    InterviewRecord,
    InterviewSetup,
    Question,
    QuestionKind,
    RoleOut,
    RoleQuestions,
)
from core.settings import DATA_DIR


def bank_role(setup: InterviewSetup) -> BankRole:
    """The bank role whose questions an interview draws: its own; for a custom role, the role its job ad
    reads as, or else the one its title's words name."""
    if setup.role != "custom":
        return setup.role
    if setup.job_description:
        return read_job_ad(setup.job_description).role
    return nearest_bank_role(setup.custom_role or "")


def question_kinds(setup: InterviewSetup) -> list[QuestionKind]:
    """The kind of each turn's question; a mixed interview alternates, starting technical."""
    if setup.kind != "mixed":
        return [setup.kind] * setup.questions
    return [("technical", "behavioral")[i % 2] for i in range(setup.questions)]


class QuestionBank:
    def __init__(self, roles: list[RoleQuestions]) -> None:
        self._roles = {role.role: role for role in roles}
        self._by_id = {question.id: question for role in roles for question in role.questions}

    def roles(self) -> list[RoleOut]:
        """Every bank role with its title, in the order of the bank's files."""
        return [RoleOut(role=role.role, title=role.title) for role in self._roles.values()]

    def role_title(self, role: BankRole) -> str:
        return self._roles[role].title

    def title(self, setup: InterviewSetup) -> str:
        return setup.custom_role or self._roles[bank_role(setup)].title

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def all_questions(self) -> list[Question]:
        return list(self._by_id.values())

    def eligible(self, setup: InterviewSetup, kind: QuestionKind) -> list[Question]:
        return [
            q for q in self._roles[bank_role(setup)].questions if q.kind == kind and setup.level in q.levels
        ]

    def pick(self, setup: InterviewSetup, seed: str) -> list[Question]:
        """The interview's questions, drawn without repeats; with a job ad, those about most of its skills
        first (drawn at random among equals)."""
        rng = random.Random(seed)
        kinds = question_kinds(setup)
        skills = frozenset(read_job_ad(setup.job_description).skills if setup.job_description else ())
        pools = {
            kind: _draw(self.eligible(setup, kind), kinds.count(kind), rng, skills) for kind in set(kinds)
        }
        return [pools[kind].pop() for kind in kinds]


def _draw(pool: list[Question], count: int, rng: random.Random, skills: frozenset[str]) -> list[Question]:
    """`count` questions of the pool, the first to be asked last (they are popped)."""
    if not skills:
        return rng.sample(pool, count)
    shuffled = rng.sample(pool, len(pool))
    ranked = sorted(shuffled, key=lambda question: -skill_overlap(question, skills))
    return ranked[:count][::-1]


def interview_question(record: InterviewRecord, question_id: str) -> Question:
    """A question of this interview, whether generated for it or from the bank."""
    generated = next((question for question in record.generated if question.id == question_id), None)
    return generated or question_bank().question(question_id)


# With a job ad, the share of an interview's questions written for the ad; the bank's, drawn for its
# skills, ask the rest (at least one of each).
AD_GENERATED_SHARE = 1 / 3


def with_generated(record: InterviewRecord, generated: list[Question], keep: int) -> InterviewRecord:
    """The record with its questions after the first `keep` (those already shown) replaced by generated
    ones of the same kind, where there are enough; with a job ad, only a few of them."""
    unused = {kind: [q for q in generated if q.kind == kind] for kind in ("technical", "behavioral")}
    question_ids = record.question_ids[:keep]
    few = max(1, int(record.total * AD_GENERATED_SHARE)) if record.setup.job_description else record.total
    for kind, current in zip(question_kinds(record.setup)[keep:], record.question_ids[keep:], strict=True):
        replace = unused[kind] and few > 0
        few -= bool(replace)
        question_ids.append(unused[kind].pop(0).id if replace else current)
    return record.model_copy(
        update={"question_ids": question_ids, "generated": generated, "questions_pending": False}
    )


@lru_cache(maxsize=1)
def question_bank() -> QuestionBank:
    files = sorted((DATA_DIR / "questions").glob("*.json"))
    return QuestionBank([RoleQuestions.model_validate_json(path.read_text("utf-8")) for path in files])
