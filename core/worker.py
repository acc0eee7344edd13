"""The queue worker: runs a job through the provider and stores the result exactly once.

The queue delivers at least once, so every step checks the record first: a redelivered job whose
result is already stored only repeats the harmless follow-ups (signal, report queueing)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from core import signals, store, usage
from core.cache import cache_evaluation, cached_evaluation, evaluation_key
from core.jobs import Job, parse_job
from core.models import EvaluateJob, Evaluation, FeedbackSource, Report, ReportJob, TurnRecord
from core.progress import after_feedback
from core.provider import job_provider
from core.question_bank import question_bank

log = logging.getLogger(__name__)


class JobRejected(Exception):
    """The stored data cannot serve this job (no such interview or turn, or not ready for it)."""


async def handle_message(body: bytes) -> None:
    """Entry point for one queue message; raising leaves the message to the host's retry and poison rules."""
    job: Job = parse_job(body)
    if isinstance(job, EvaluateJob):
        await evaluate(job)
    else:
        await report(job)


async def _interview(interview_id: str) -> store.Versioned:
    current = await store.load_interview(interview_id)
    if current is None:
        raise JobRejected(f"no interview {interview_id}")
    return current


async def evaluate(job: EvaluateJob) -> None:
    scored: tuple[Evaluation, FeedbackSource] | None = None
    while True:
        current = await _interview(job.interview_id)
        loaded = await store.load_turn(job.interview_id, job.turn)
        if loaded is None:
            raise JobRejected(f"interview {job.interview_id} has no turn {job.turn}")
        turn, turn_etag = loaded
        if turn.feedback is not None:
            await usage.count(duplicate_deliveries=1)
            await after_feedback(current.record, job.turn)
            return
        # Scored once: a write that loses a race retries the write, never the provider call.
        scored = scored or await _evaluation_for(turn)
        evaluation, source = scored
        updated = current.record.model_copy(update={"evaluated": current.record.evaluated + 1})
        try:
            await store.save_feedback(
                current,
                updated,
                turn.model_copy(update={"feedback": evaluation, "source": source}),
                turn_etag,
            )
        except store.StaleWrite:
            continue  # the interview moved on (another turn landed); decide again on fresh data
        waited_ms = (datetime.now(UTC) - turn.answered_at).total_seconds() * 1000
        hits = int(source == "cache")
        await usage.count(latency=("queued", waited_ms), cache_lookups=1, cache_hits=hits)
        await after_feedback(updated, job.turn)
        return


async def _evaluation_for(turn: TurnRecord) -> tuple[Evaluation, FeedbackSource]:
    question = question_bank().question(turn.question_id)
    key = evaluation_key(question.id, turn.answer)
    cached = await cached_evaluation(key)
    if cached is not None:
        return cached, "cache"
    evaluation = await job_provider().evaluate(question, turn.answer)
    await cache_evaluation(key, evaluation)
    return evaluation, "provider"


async def report(job: ReportJob) -> None:
    written: Report | None = None
    while True:
        current = await _interview(job.interview_id)
        record = current.record
        if record.report_done:
            await usage.count(duplicate_deliveries=1)
            break
        turns = sorted(await store.load_turns(record.id), key=lambda turn: turn.turn)
        if not record.finished or any(turn.feedback is None for turn in turns):
            raise JobRejected(f"interview {record.id} is not ready for its report")
        bank = question_bank()
        written = written or await job_provider().report(
            record.setup,
            [
                (turn.turn, bank.question(turn.question_id), turn.answer, turn.feedback)
                for turn in turns
                if turn.feedback
            ],
        )
        try:
            await store.save_report(current, record.model_copy(update={"report_done": True}), written)
        except (store.StaleWrite, store.AlreadyExists):
            continue
        await usage.count(reports_written=1)
        break
    await signals.announce(job.interview_id, "report")
