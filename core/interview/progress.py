"""What follows a turn's feedback being stored: waiting clients are told, the interview's callback (if it
has one) gets its turn.ready event, and a completed interview gets its report queued. Safe to run again for
the same turn: a redelivered job re-runs it harmlessly.

The report job is queued exactly once per REQUEUE_AFTER_SECONDS, whoever asks (the write that completes
the interview, a redelivered evaluation, any number of clients polling the report at once): the record
holds when it was queued (`report_queued_at`), set in the write that completes the interview, and a job
is queued again only when that time is older than the limit (the job is presumed lost) and the caller
wins the ETag-guarded write of a new time. Storage decides, so this holds without Redis too."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.infra import signals, store, usage
from core.infra.job_queue import REQUEUE_AFTER_SECONDS, enqueue
from core.interview import callbacks
from core.models import InterviewRecord, ReportJob

log = logging.getLogger(__name__)


def turn_subject(interview_id: str, turn: int) -> str:
    """The ready signal of one turn's feedback."""
    return f"{interview_id}:turn-{turn}"


def report_subject(interview_id: str) -> str:
    """The ready signal of an interview's report."""
    return f"{interview_id}:report"


def _awaits_report(record: InterviewRecord) -> bool:
    return record.finished and record.evaluated >= record.total and not record.report_done


def completing(record: InterviewRecord, now: datetime | None = None) -> InterviewRecord:
    """The record about to be written, stamped with its report's queueing time when this write completes
    the interview (the caller then queues the job with `queue_report`); unchanged otherwise."""
    if _awaits_report(record) and record.report_queued_at is None:
        return record.model_copy(update={"report_queued_at": now or datetime.now(UTC)})
    return record


def report_presumed_lost(record: InterviewRecord, now: datetime | None = None) -> bool:
    """Whether the interview waits for a report whose job was queued longer than REQUEUE_AFTER_SECONDS
    ago (or never: a record from before the time was kept)."""
    queued = record.report_queued_at
    limit = timedelta(seconds=REQUEUE_AFTER_SECONDS)
    return _awaits_report(record) and (queued is None or (now or datetime.now(UTC)) - queued >= limit)


async def queue_report(interview_id: str) -> None:
    """Send the report job whose queueing time was just stored. A failed send loses nothing: the stored
    time is taken back (so the next poll of the report queues it at once), or, if that fails too, ages
    past the limit and a poll queues it then."""
    try:
        await enqueue(ReportJob(interview_id=interview_id))
    except Exception:
        log.exception("could not queue the report of %s; a poll queues it again", interview_id)
        await _forget_queued(interview_id)


async def _forget_queued(interview_id: str) -> None:
    """Take back the queueing time of a report whose job could not be sent (found by `make chaos`: with
    the queue out of reach, the report waited REQUEUE_AFTER_SECONDS after the queue was back)."""
    try:
        current = await store.load_interview(interview_id)
        if current is not None and _awaits_report(current.record):
            await store.replace_interview(
                current, current.record.model_copy(update={"report_queued_at": None})
            )
    except Exception:  # a changed record (someone queued it), or storage out too: the time ages instead
        log.warning(
            "could not take back the report time of %s; a poll queues it after the limit", interview_id
        )


async def requeue_report_if_lost(current: store.Versioned) -> bool:
    """Queue the report again if its job is presumed lost and this caller is the one that records the new
    queueing time (concurrent callers lose the ETag race and queue nothing); True when queued."""
    if not report_presumed_lost(current.record):
        return False
    try:
        await store.replace_interview(
            current, current.record.model_copy(update={"report_queued_at": datetime.now(UTC)})
        )
    except store.StaleWrite:
        return False  # someone changed the record first: another caller queued it, or the report landed
    await queue_report(current.record.id)
    await usage.count(reports_requeued=1)
    return True


async def after_feedback(record: InterviewRecord, turn: int, completed_now: bool) -> None:
    """Tell the turn's waiters; queue the report if the write of this feedback completed the interview
    (`completing` stamped it)."""
    await signals.announce(turn_subject(record.id, turn))
    # Before the report is queued, so this turn's event is created before the report's.
    await callbacks.turn_ready(record, turn)
    if completed_now:
        await queue_report(record.id)
