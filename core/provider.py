"""What answers a queued job. Here the built-in local evaluator; remote LLM providers join it in a pool."""

from __future__ import annotations

from typing import Protocol

from core.evaluator import evaluate_answer
from core.models import Evaluation, InterviewSetup, Question, Report
from core.report import write_report


class Provider(Protocol):
    name: str

    async def evaluate(self, question: Question, answer: str) -> Evaluation: ...

    async def report(
        self, setup: InterviewSetup, turns: list[tuple[int, Question, str, Evaluation]]
    ) -> Report: ...


class LocalProvider:
    """Deterministic, always available and never out of quota."""

    name = "local"

    async def evaluate(self, question: Question, answer: str) -> Evaluation:
        return evaluate_answer(question, answer)

    async def report(
        self, setup: InterviewSetup, turns: list[tuple[int, Question, str, Evaluation]]
    ) -> Report:
        return write_report(setup, turns)


def job_provider() -> Provider:
    return LocalProvider()
