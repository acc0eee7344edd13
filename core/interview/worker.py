"""The queue worker: runs a job through the provider and stores the result exactly once.

The queue delivers at least once, so every step checks the record first: a redelivered job whose
result is already stored only repeats the harmless follow-ups (signal, report queueing)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from core.infra import signals, store, usage
from core.infra.job_queue import Job, parse_job
from core.interview import service
from core.interview.progress import after_feedback, report_subject
from core.interview.question_bank import interview_question, question_bank, with_generated
from core.interview.shared_results import (
    SAVED_BY,
    evaluation_for,
    evaluation_key,
    generated_questions,
    questions_key,
)
from core.models import (
    EvaluateJob,
    Evaluation,
    FeedbackSource,
    InterviewRecord,
    QuestionsJob,
    Report,
    ReportJob,
    TurnRecord,
)
from core.providers.answerer import LOCAL_CLASS, Answerer, LocalAnswerer, answerer_for_jobs
from core.saving import coalescing
from core.saving.coalescing import Computed, Found

log = logging.getLogger(__name__)


class JobRejected(Exception):
    """The stored data cannot serve this job (no such interview or turn, or not ready for it)."""


async def handle_message(body: bytes) -> None:
    """Entry point for one queue message; raising leaves the message to the host's retry and poison rules."""
    job: Job = parse_job(body)
    if isinstance(job, EvaluateJob):
        await evaluate(job)
    elif isinstance(job, QuestionsJob):
        await generate_questions(job)
    else:
        await report(job)


async def _interview(interview_id: str) -> store.Versioned:
    current = await store.load_interview(interview_id)
    if current is None:
        raise JobRejected(f"no interview {interview_id}")
    return current


async def evaluate(job: EvaluateJob) -> None:
    scored: tuple[Evaluation, FeedbackSource, Found] | None = None
    while True:
        current = await _interview(job.interview_id)
        loaded = await store.load_turn(job.interview_id, job.turn)
        if loaded is None:
            raise JobRejected(f"interview {job.interview_id} has no turn {job.turn}")
        turn, turn_etag = loaded
        if turn.feedback is not None and not turn.provisional:
            await usage.count(duplicate_deliveries=1)
            await after_feedback(current.record, job.turn)
            return
        # Scored once: a write that loses a race retries the write, never the provider call.
        scored = scored or await _evaluation_for(current.record, turn)
        evaluation, source, found = scored
        updated = current.record.model_copy(update={"evaluated": current.record.evaluated + 1})
        try:
            await store.save_feedback(
                current,
                updated,
                turn.model_copy(update={"feedback": evaluation, "source": source, "provisional": False}),
                turn_etag,
            )
        except store.StaleWrite:
            continue  # the interview moved on (another turn landed); decide again on fresh data
        waited_ms = (datetime.now(UTC) - turn.answered_at).total_seconds() * 1000
        # The lookup was counted when the turn was queued: a hit here is that lookup's late hit.
        await usage.count(SAVED_BY[found], latency=("queued", waited_ms))
        await after_feedback(updated, job.turn)
        return


async def _evaluation_for(
    record: InterviewRecord, turn: TurnRecord
) -> tuple[Evaluation, FeedbackSource, Found]:
    question = interview_question(record, turn.question_id)
    answerer = answerer_for_jobs()

    async def compute() -> Computed:
        evaluation = await answerer.evaluate(question, turn.answer)
        # A local fallback must not stand in for a model's evaluation in the cache.
        shareable = (evaluation.scored_by == "local") == (answerer.model_class == LOCAL_CLASS)
        return evaluation.model_dump_json().encode(), shareable

    payload, found = await coalescing.once(evaluation_key(question, turn.answer), compute)
    assert payload is not None
    evaluation = evaluation_for(payload, turn.answer)
    return evaluation, "provider" if found == "computed" else "cache", found


async def generate_questions(job: QuestionsJob) -> None:
    """A custom role's questions: from the cache or a model, then in place of the unasked ones."""
    current = await _interview(job.interview_id)
    if not current.record.questions_pending:
        await usage.count(duplicate_deliveries=1)
        return
    setup = current.record.setup
    cache_job = questions_key(setup)
    answerer = answerer_for_jobs()

    async def compute() -> Computed:
        reply = await answerer.questions(setup.custom_role or "", setup.level)
        return (reply.model_dump_json().encode(), True) if reply else (None, False)

    payload, found = await coalescing.once(cache_job, compute)
    generated = generated_questions(cache_job, setup, payload) if payload else []
    while True:
        record = current.record
        updated = (
            with_generated(record, generated, keep=record.answered + 1)
            if generated
            else record.model_copy(update={"questions_pending": False})
        )
        try:
            await store.replace_interview(current, updated)
            break
        except store.StaleWrite:
            current = await _interview(job.interview_id)  # a turn landed meanwhile: keep what is now asked
    await usage.count(SAVED_BY[found], questions_generated=int(bool(generated) and found == "computed"))


async def report(job: ReportJob) -> None:
    written: Report | None = None
    while True:
        current = await _interview(job.interview_id)
        record = current.record
        if record.report_done:
            await usage.count(duplicate_deliveries=1)
            break
        turns = sorted(await store.load_turns(record.id), key=lambda turn: turn.turn)
        if not record.finished or any(turn.feedback is None or turn.provisional for turn in turns):
            raise JobRejected(f"interview {record.id} is not ready for its report")
        if written is None:
            # Nothing but non-answers (template feedback): nothing for a model to review. A client past
            # its share of the day's model calls: the built-in evaluator writes the report too.
            declined = all(
                turn.feedback is not None and turn.feedback.scored_by == "template" for turn in turns
            )
            remote = not declined and await service.remote_allowed("report", record.id)
            answerer: Answerer = answerer_for_jobs() if remote else LocalAnswerer()
            written = await answerer.report(
                question_bank().title(record.setup),
                record.setup,
                [
                    (turn.turn, interview_question(record, turn.question_id), turn.answer, turn.feedback)
                    for turn in turns
                    if turn.feedback
                ],
            )
        try:
            await store.save_report(current, record.model_copy(update={"report_done": True}), written)
        except (store.StaleWrite, store.AlreadyExists):
            continue
        # A model's review of every answer in one call stands in for one call per answer.
        batched = len(written.answers) if written.written_by != "local" else 0
        await usage.count(reports_written=1, batched_jobs=batched)
        break
    await signals.announce(report_subject(job.interview_id))
