"""What follows a turn's feedback being stored: waiting clients are told, the interview's callback (if it
has one) gets its turn.ready event, and a completed interview gets its report queued. Safe to run again for the same turn: a redelivered job re-runs it harmlessly."""

from __future__ import annotations

from core.infra import signals
from core.infra.job_queue import enqueue_once
from core.interview import callbacks
from core.models import InterviewRecord, ReportJob


def turn_subject(interview_id: str, turn: int) -> str:
    """The ready signal of one turn's feedback."""
    return f"{interview_id}:turn-{turn}"


def report_subject(interview_id: str) -> str:
    """The ready signal of an interview's report."""
    return f"{interview_id}:report"


async def after_feedback(record: InterviewRecord, turn: int) -> None:
    await signals.announce(turn_subject(record.id, turn))
    # Before the report is queued, so this turn's event is created before the report's.
    await callbacks.turn_ready(record, turn)
    await queue_report_when_complete(record)


async def queue_report_when_complete(record: InterviewRecord) -> None:
    if record.finished and record.evaluated >= record.total and not record.report_done:
        await enqueue_once(ReportJob(interview_id=record.id))
