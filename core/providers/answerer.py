"""The answerer: what answers a queued job: the pool of remote LLM providers when any is configured, with the built-in
local evaluator behind it, which is always available and never out of quota.

Which kinds of job go to a remote model at all is a policy (REMOTE_JOBS): by default only the report,
which reviews every answer of an interview in one call, and a custom role's questions. Every answer is
scored by the rubric either way; the local evaluator answers what the policy keeps local."""

from __future__ import annotations

import random
from typing import Protocol

from core.infra import usage
from core.infra.connections import connections
from core.infra.counters import LOCAL_PROVIDER
from core.models import Evaluation, ExampleAuthor, InterviewSetup, Level, Question, Report
from core.providers.batching import EvaluationBatcher, batcher_for
from core.providers.capacity import SCORING_REPORT_CALL
from core.providers.catalogue import configured_slots
from core.providers.pool import Pool
from core.providers.prompts import (
    LlmEvaluation,
    LlmExample,
    LlmFollowUp,
    LlmQuestions,
    LlmReview,
    evaluation_request,
    example_request,
    follow_up_request,
    questions_request,
    review_request,
    review_scores,
    to_evaluation,
    with_review,
)
from core.providers.quota import Quota
from core.rubric.evaluator import evaluate_answer
from core.rubric.report import write_report
from core.settings import get_settings

AnsweredTurns = list[tuple[int, Question, str, Evaluation]]
# The class of model a cached result came from: results of one class may serve each other's jobs.
# Bump a version when its scoring or prompts change, so old results are not served for the new ones.
LOCAL_CLASS = "local-v1"
REMOTE_CLASS = "llm-v1"


class Answerer(Protocol):
    """What answers the jobs of the queue: scores an answer, writes a report, generates questions."""

    model_class: str

    async def evaluate(self, question: Question, answer: str) -> Evaluation: ...

    async def report(self, title: str, setup: InterviewSetup, turns: AnsweredTurns) -> Report: ...

    async def questions(self, title: str, level: Level, job_ad: str | None = None) -> LlmQuestions | None: ...

    async def follow_up(self, question: Question, gap: str) -> LlmFollowUp | None: ...

    async def example(self, question: Question) -> tuple[LlmExample, ExampleAuthor] | None: ...


class LocalAnswerer:
    """Deterministic rubric scoring and aggregation, in process."""

    model_class = LOCAL_CLASS

    async def evaluate(self, question: Question, answer: str) -> Evaluation:
        usage.note_provider_call(LOCAL_PROVIDER)
        return evaluate_answer(question, answer)

    async def report(self, title: str, setup: InterviewSetup, turns: AnsweredTurns) -> Report:
        usage.note_provider_call(LOCAL_PROVIDER)
        return write_report(title, setup, turns)

    async def questions(self, title: str, level: Level, job_ad: str | None = None) -> LlmQuestions | None:
        return None  # the local answer to a custom role is the nearest bank role's questions

    async def follow_up(self, question: Question, gap: str) -> LlmFollowUp | None:
        return None  # the local follow-up is the bank's (core/interview/follow_ups.py)

    async def example(self, question: Question) -> tuple[LlmExample, ExampleAuthor] | None:
        return None  # the local example is the key points' outline (core/interview/example_answers.py)


class PooledAnswerer:
    """Remote LLMs first; whatever they cannot do in time falls to the local evaluator."""

    model_class = REMOTE_CLASS

    def __init__(self, pool: Pool, local: LocalAnswerer, batcher: EvaluationBatcher | None = None) -> None:
        self._pool = pool
        self._local = local
        self._batcher = batcher

    async def evaluate(self, question: Question, answer: str) -> Evaluation:
        asked = (
            await self._batcher.evaluate(question, answer)
            if self._batcher is not None
            else await self._pool.ask(evaluation_request(question, answer), LlmEvaluation)
        )
        if asked is None:
            return await self._local.evaluate(question, answer)
        reply, slot = asked
        return to_evaluation(reply, question, answer, slot.entry.name, slot.entry.model)

    async def report(self, title: str, setup: InterviewSetup, turns: AnsweredTurns) -> Report:
        # Scores are always aggregated locally; the review call writes the words around them, and scores
        # the answers only the built-in evaluator scored, in the same call.
        scored = await self._local.report(title, setup, turns)
        fixed = get_settings().remote_jobs
        if fixed is not None and "report" not in fixed:
            return scored
        answers = {number: answer for number, _, answer, _ in turns}
        to_score = {
            number: question for number, question, _, found in turns if found.scorer.kind == "built-in"
        }
        asked = await self._pool.ask(review_request(title, setup, scored, answers, to_score), LlmReview)
        if asked is None:
            return scored
        review, slot = asked
        if found := review_scores(review, to_score):
            entry = slot.entry
            turns = [
                (number, question, answer, evaluation)
                if number not in found
                else (
                    number,
                    question,
                    answer,
                    to_evaluation(found[number], question, answer, entry.name, entry.model),
                )
                for number, question, answer, evaluation in turns
            ]
            scored = write_report(title, setup, turns)
        return with_review(scored, review, slot.entry.name)

    async def questions(self, title: str, level: Level, job_ad: str | None = None) -> LlmQuestions | None:
        asked = await self._pool.ask(questions_request(title, level, job_ad), LlmQuestions)
        return asked[0] if asked else None

    async def follow_up(self, question: Question, gap: str) -> LlmFollowUp | None:
        asked = await self._pool.ask(follow_up_request(question, gap), LlmFollowUp)
        return asked[0] if asked else None

    async def example(self, question: Question) -> tuple[LlmExample, ExampleAuthor] | None:
        asked = await self._pool.ask(example_request(question), LlmExample)
        if asked is None:
            return None
        reply, slot = asked
        return reply, ExampleAuthor(provider=slot.entry.name, model=slot.entry.model)


def model_class() -> str:
    """The class of model that answers queued jobs, without building the pool that would."""
    return REMOTE_CLASS if configured_slots() else LOCAL_CLASS


def answerer_for_jobs() -> Answerer:
    slots = configured_slots()
    if not slots:
        return LocalAnswerer()
    # Every owner keeps room for one report while another has more: reports are the job reserved first.
    quota = Quota(connections().redis(), random.Random(), kept=SCORING_REPORT_CALL.size())
    pool = Pool(slots, quota, connections().http())
    return PooledAnswerer(pool, LocalAnswerer(), batcher_for(pool, slots))
