"""The question bank: the project's own questions, as data files under data/questions.

A custom role (one the bank does not have) starts on the questions of the nearest bank role, so the
candidate never waits; questions generated for the role replace the ones not yet asked when they come."""

from __future__ import annotations

import random
import re
from functools import lru_cache

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

# Words of a job title that point to a bank role, checked in this order; a title that names none of
# them is interviewed as a backend engineer, the most general of the bank's roles.
_ROLE_WORDS: tuple[tuple[BankRole, frozenset[str]], ...] = (
    ("engineering-manager", frozenset({"manager", "head", "director", "lead", "vp"})),
    ("product-manager", frozenset({"product", "owner", "pm"})),
    ("data-scientist", frozenset({"scientist", "ml", "machine", "ai", "research", "nlp", "vision"})),
    ("data-analyst", frozenset({"data", "analyst", "analytics", "bi", "insights", "reporting"})),
    ("devops-sre", frozenset({"devops", "sre", "reliability", "cloud", "infrastructure", "platform", "ops"})),
    ("qa", frozenset({"qa", "test", "tester", "testing", "quality", "sdet"})),
    ("frontend", frozenset({"frontend", "front", "ui", "web", "react", "angular", "vue", "mobile", "ios"})),
)
_WORD = re.compile(r"[a-z]+")


def nearest_bank_role(title: str) -> BankRole:
    words = set(_WORD.findall(title.casefold()))
    return next((role for role, signs in _ROLE_WORDS if words & signs), "backend")


def bank_role(setup: InterviewSetup) -> BankRole:
    return nearest_bank_role(setup.custom_role or "") if setup.role == "custom" else setup.role


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
        """The interview's questions, drawn without repeats."""
        rng = random.Random(seed)
        kinds = question_kinds(setup)
        pools = {kind: rng.sample(self.eligible(setup, kind), kinds.count(kind)) for kind in set(kinds)}
        return [pools[kind].pop() for kind in kinds]


def interview_question(record: InterviewRecord, question_id: str) -> Question:
    """A question of this interview, whether generated for it or from the bank."""
    generated = next((question for question in record.generated if question.id == question_id), None)
    return generated or question_bank().question(question_id)


def with_generated(record: InterviewRecord, generated: list[Question], keep: int) -> InterviewRecord:
    """The record with its questions after the first `keep` (those already shown) replaced by generated
    ones of the same kind, where there are enough."""
    unused = {kind: [q for q in generated if q.kind == kind] for kind in ("technical", "behavioral")}
    question_ids = record.question_ids[:keep]
    for kind, current in zip(question_kinds(record.setup)[keep:], record.question_ids[keep:], strict=True):
        question_ids.append(unused[kind].pop(0).id if unused[kind] else current)
    return record.model_copy(
        update={"question_ids": question_ids, "generated": generated, "questions_pending": False}
    )


@lru_cache(maxsize=1)
def question_bank() -> QuestionBank:
    files = sorted((DATA_DIR / "questions").glob("*.json"))
    return QuestionBank([RoleQuestions.model_validate_json(path.read_text("utf-8")) for path in files])
