"""The queue worker: runs a job through the provider and stores the result exactly once.

The queue delivers at least once, so every step checks the record first: a redelivered job whose
result is already stored only repeats the harmless follow-ups (signal, report queueing)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

from core.infra import signals, store, usage
from core.infra.job_queue import Job, note_queue_wait, parse_message
from core.interview import callbacks, example_answers, service
from core.interview.follow_ups import follow_up_for, gap_text
from core.interview.job_ad import read_job_ad, skills_in
from core.interview.progress import (
    after_feedback,
    completing,
    report_subject,
    requeue_report_if_lost,
)
from core.interview.question_bank import interview_question, question_bank, with_generated
from core.interview.shared_results import (
    SAVED_BY,
    evaluation_for,
    evaluation_key,
    follow_up_key,
    generated_questions,
    questions_key,
)
from core.models import (
    EvaluateJob,
    Evaluation,
    ExampleJob,
    FeedbackSource,
    FollowUp,
    FollowUpJob,
    InterviewRecord,
    QuestionsJob,
    Report,
    ReportJob,
    SkillsShown,
    TurnRecord,
)
from core.providers.answerer import LOCAL_CLASS, Answerer, LocalAnswerer, answerer_for_jobs
from core.providers.batching import evaluation_coming
from core.saving import coalescing
from core.saving.coalescing import Computed, Found

log = logging.getLogger(__name__)


class JobRejected(Exception):
    """The stored data cannot serve this job (no such turn, or not ready for it)."""


class InterviewGone(Exception):
    """The job's interview is not stored (deleted by its candidate or its expiry): nothing to do."""


async def handle_message(body: bytes) -> None:
    """Entry point for one queue message; raising leaves the message to the host's retry and poison rules."""
    message = parse_message(body)
    note_queue_wait(message)
    job: Job = message.job
    try:
        if isinstance(job, EvaluateJob):
            # Announced before its storage reads: a batch opened meanwhile waits for it, and one that
            # nobody else is coming to is sent at once (core/providers/batching.py).
            with evaluation_coming():
                await evaluate(job)
        elif isinstance(job, QuestionsJob):
            await generate_questions(job)
        elif isinstance(job, FollowUpJob):
            await write_follow_up(job)
        elif isinstance(job, ExampleJob):
            await write_example(job)
        else:
            await report(job)
    except InterviewGone:
        # Jobs are queued only after their interview is stored, so a job without one outlived its
        # interview: it ends here (counted), neither retried nor poisoned.
        log.info("job %s: its interview %s was deleted; nothing to do", job.kind, job.interview_id)
        await usage.count(jobs_for_deleted_interviews=1)


async def _interview(interview_id: str) -> store.Versioned:
    current = await store.load_interview(interview_id)
    if current is None:
        raise InterviewGone(interview_id)
    return current


async def evaluate(job: EvaluateJob) -> None:
    scored: tuple[Evaluation, FeedbackSource, Found] | None = None
    modelled: tuple[FollowUp | None, bool] | None = None
    while True:
        # Both at once: a candidate waits for this job, and the write below checks both ETags anyway.
        current, loaded = await asyncio.gather(
            _interview(job.interview_id), store.load_turn(job.interview_id, job.turn)
        )
        if loaded is None:
            raise JobRejected(f"interview {job.interview_id} has no turn {job.turn}")
        turn, turn_etag = loaded
        if turn.final_feedback is not None and not turn.provisional:
            await usage.count(duplicate_deliveries=1)
            await after_feedback(current.record, job.turn, completed_now=False)
            # Its report is queued again only if that job is presumed lost (progress.py).
            await requeue_report_if_lost(current)
            return
        # Scored once: a write that loses a race retries the write, never the provider call. What is
        # scored cannot change meanwhile: a follow-up is only asked once the answer's feedback is stored.
        scored = scored or await _evaluation_for(current.record, turn)
        evaluation, source, found = scored
        record = current.record
        if turn.follow_up_answer is not None:
            changes: dict[str, object] = {"combined": evaluation, "combined_source": source}
            opens = record.follow_up_open
        elif turn.provisional:
            # The built-in score was shown at once with the follow-up (if any) chosen on it: the model's
            # score replaces the score only, and never asks a second follow-up.
            changes = {"feedback": evaluation, "source": source}
            opens = record.follow_up_open
        else:
            # Asked only while this is the latest answer: a candidate who went on has left the question.
            latest = record.answered == turn.turn
            if modelled is None or (modelled[0] is not None and not latest):
                chosen = follow_up_for(record, turn.turn, evaluation, turn.answer) if latest else None
                # Once while it is the latest answer: a retried write must not count a second model call.
                modelled = await service.model_follow_up(record, turn.turn, chosen)
            follow_up = modelled[0]
            changes = {
                "feedback": evaluation,
                "source": source,
                "follow_up": follow_up,
                "follow_up_status": "open" if follow_up else None,
            }
            opens = turn.turn if follow_up else record.follow_up_open
        counted = record.model_copy(update={"evaluated": record.evaluated + 1, "follow_up_open": opens})
        updated = completing(counted)
        try:
            await store.save_feedback(
                current, updated, turn.model_copy(update=changes | {"provisional": False}), turn_etag
            )
        except store.StaleWrite:
            continue  # the interview moved on (another turn landed); decide again on fresh data
        waited_ms = (datetime.now(UTC) - turn.answered_at).total_seconds() * 1000
        # The lookup was counted when the turn was queued: a hit here is that lookup's late hit.
        await usage.count(SAVED_BY[found], latency=("queued", waited_ms))
        # The candidate waits for this: the rest only asks for work that nobody waits for.
        await after_feedback(updated, job.turn, completed_now=updated is not counted)
        if modelled and modelled[1] and turn.follow_up_answer is None:
            await service.queue_follow_up(job.interview_id, job.turn)
        if turn.follow_up_answer is None:
            await example_answers.offer_example(updated, turn.question_id)
        return


async def _evaluation_for(
    record: InterviewRecord, turn: TurnRecord
) -> tuple[Evaluation, FeedbackSource, Found]:
    question = interview_question(record, turn.question_id)
    answerer = answerer_for_jobs()

    text = turn.scored_text

    async def compute() -> Computed:
        evaluation = await answerer.evaluate(question, text)
        # A local fallback must not stand in for a model's evaluation in the cache.
        shareable = (evaluation.scored_by == "local") == (answerer.model_class == LOCAL_CLASS)
        return evaluation.model_dump_json().encode(), shareable

    payload, found = await coalescing.once(evaluation_key(question, text), compute)
    assert payload is not None
    evaluation = evaluation_for(payload, text)
    return evaluation, "provider" if found == "computed" else "cache", found


async def write_follow_up(job: FollowUpJob) -> None:
    """A model's follow-up for the turn's question and gap, into the cache for the next answer that
    misses the same; the turn keeps the follow-up it was asked."""
    current = await _interview(job.interview_id)
    loaded = await store.load_turn(job.interview_id, job.turn)
    if loaded is None or loaded[0].follow_up is None:
        raise JobRejected(f"interview {job.interview_id} turn {job.turn} has no follow-up")
    turn = loaded[0]
    asked = turn.follow_up
    assert asked is not None
    question = interview_question(current.record, turn.question_id)
    answerer = answerer_for_jobs()

    async def compute() -> Computed:
        reply = await answerer.follow_up(question, gap_text(asked))
        return (reply.model_dump_json().encode(), True) if reply else (None, False)

    _, found = await coalescing.once(follow_up_key(question, gap_text(asked)), compute)
    await usage.count(SAVED_BY[found])


async def write_example(job: ExampleJob) -> None:
    """A model's example answer to the question, stored for every candidate who gets it; asked only with
    spare capacity, from the question and its key points alone, and never again once one is stored."""
    current = await _interview(job.interview_id)
    if await store.load_example(job.question_id) is not None:
        await usage.count(duplicate_deliveries=1)
        return
    if not example_answers.examples_allowed():
        return  # the outline stays; a later answer to the question asks again
    question = interview_question(current.record, job.question_id)
    written = await answerer_for_jobs().example(question)
    if written is None:
        return  # no provider could answer in time: the outline stays, a later answer asks again
    reply, author = written
    await store.create_example(question.id, example_answers.model_example(reply.answer, author))


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
        ad = setup.job_description
        # An ad's questions depend on the ad and the level only, as their cache key does.
        title = question_bank().title(setup) if not ad else question_bank().role_title(read_job_ad(ad).role)
        reply = await answerer.questions(title, setup.level, ad)
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


def with_follow_ups(written: Report, turns: list[TurnRecord], job_description: str | None = None) -> Report:
    """The report with each turn's follow-up question and answer, and with a job ad the ad's skills the
    answers showed (by the same vocabulary), whoever wrote it."""
    by_turn = {turn.turn: turn for turn in turns}
    ad_skills = None
    if job_description:
        wanted = read_job_ad(job_description).skills
        shown = set(skills_in("\n\n".join(turn.scored_text for turn in turns)))
        ad_skills = SkillsShown(
            shown=[skill for skill in wanted if skill in shown],
            not_shown=[skill for skill in wanted if skill not in shown],
        )
    return written.model_copy(
        update={
            "ad_skills": ad_skills,
            "answers": [
                summary.model_copy(
                    update={
                        "follow_up": asked.follow_up.text if asked and asked.follow_up else None,
                        "follow_up_answer": asked.follow_up_answer if asked else None,
                    }
                )
                for summary in written.answers
                for asked in [by_turn.get(summary.turn)]
            ],
        }
    )


async def report(job: ReportJob) -> None:
    written: Report | None = None
    while True:
        current = await _interview(job.interview_id)
        record = current.record
        if record.report_done:
            await usage.count(duplicate_deliveries=1)
            break
        turns = sorted(await store.load_turns(record.id), key=lambda turn: turn.turn)
        if not record.finished or any(turn.final_feedback is None or turn.provisional for turn in turns):
            raise JobRejected(f"interview {record.id} is not ready for its report")
        if written is None:
            # Nothing but non-answers (template feedback): nothing for a model to review. A client past
            # its share of the day's model calls: the built-in evaluator writes the report too.
            declined = all(
                turn.final_feedback is not None and turn.final_feedback.scored_by == "template"
                for turn in turns
            )
            remote = not declined and await service.remote_allowed("report", record.id)
            answerer: Answerer = answerer_for_jobs() if remote else LocalAnswerer()
            written = with_follow_ups(
                await answerer.report(
                    question_bank().title(record.setup),
                    record.setup,
                    [
                        (turn.turn, interview_question(record, turn.question_id), turn.scored_text, scored)
                        for turn in turns
                        if (scored := turn.final_feedback)
                    ],
                ),
                turns,
                record.setup.job_description,
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
    # Also on a redelivery: the event is created once however often this runs (a raise retries the job).
    await callbacks.report_ready(record)
