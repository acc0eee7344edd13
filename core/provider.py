"""What answers a queued job: the pool of remote LLM providers when any is configured, with the built-in
local evaluator behind it, which is always available and never out of quota."""

from __future__ import annotations

import random
from typing import Protocol

from core import usage
from core.connections import connections
from core.evaluator import evaluate_answer
from core.models import Evaluation, InterviewSetup, Question, Report
from core.pool import Pool
from core.prompts import (
    LlmEvaluation,
    LlmNarrative,
    evaluation_request,
    report_request,
    to_evaluation,
    with_narrative,
)
from core.provider_config import configured_slots
from core.quota import Quota
from core.report import write_report

AnsweredTurns = list[tuple[int, Question, str, Evaluation]]


class Provider(Protocol):
    async def evaluate(self, question: Question, answer: str) -> Evaluation: ...

    async def report(self, setup: InterviewSetup, turns: AnsweredTurns) -> Report: ...


class LocalProvider:
    """Deterministic rubric scoring and aggregation, in process."""

    async def evaluate(self, question: Question, answer: str) -> Evaluation:
        await usage.count(provider_calls_local=1)
        return evaluate_answer(question, answer)

    async def report(self, setup: InterviewSetup, turns: AnsweredTurns) -> Report:
        await usage.count(provider_calls_local=1)
        return write_report(setup, turns)


class PooledProvider:
    """Remote LLMs first; whatever they cannot do in time falls to the local evaluator."""

    def __init__(self, pool: Pool, local: LocalProvider) -> None:
        self._pool = pool
        self._local = local

    async def evaluate(self, question: Question, answer: str) -> Evaluation:
        asked = await self._pool.ask(evaluation_request(question, answer), LlmEvaluation)
        if asked is None:
            return await self._local.evaluate(question, answer)
        reply, slot = asked
        return to_evaluation(reply, answer, slot.entry.name)

    async def report(self, setup: InterviewSetup, turns: AnsweredTurns) -> Report:
        # Scores are always aggregated locally; a remote model only writes the words around them.
        scored = await self._local.report(setup, turns)
        asked = await self._pool.ask(report_request(setup, scored), LlmNarrative)
        if asked is None:
            return scored
        narrative, slot = asked
        return with_narrative(scored, narrative, slot.entry.name)


def job_provider() -> Provider:
    slots = configured_slots()
    if not slots:
        return LocalProvider()
    pool = Pool(slots, Quota(connections().redis(), random.Random()), connections().http())
    return PooledProvider(pool, LocalProvider())
