"""The question bank: the project's own questions, as data files under data/questions."""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path

from core.models import InterviewSetup, Question, QuestionKind, Role, RoleQuestions

DATA_DIR = Path(__file__).resolve().parent.parent / "data"


class QuestionBank:
    def __init__(self, roles: list[RoleQuestions]) -> None:
        self._roles = {role.role: role for role in roles}
        self._by_id = {question.id: question for role in roles for question in role.questions}

    def title(self, role: Role) -> str:
        return self._roles[role].title

    def question(self, question_id: str) -> Question:
        return self._by_id[question_id]

    def all_questions(self) -> list[Question]:
        return list(self._by_id.values())

    def eligible(self, setup: InterviewSetup, kind: QuestionKind) -> list[Question]:
        return [q for q in self._roles[setup.role].questions if q.kind == kind and setup.level in q.levels]

    def pick(self, setup: InterviewSetup, seed: str) -> list[Question]:
        """The interview's questions, drawn without repeats; a mixed interview alternates kinds."""
        rng = random.Random(seed)
        kinds: list[QuestionKind] = (
            [setup.kind] * setup.questions
            if setup.kind != "mixed"
            else [("technical", "behavioral")[i % 2] for i in range(setup.questions)]
        )
        pools = {kind: rng.sample(self.eligible(setup, kind), kinds.count(kind)) for kind in set(kinds)}
        return [pools[kind].pop() for kind in kinds]


@lru_cache(maxsize=1)
def question_bank() -> QuestionBank:
    files = sorted((DATA_DIR / "questions").glob("*.json"))
    return QuestionBank([RoleQuestions.model_validate_json(path.read_text("utf-8")) for path in files])
