"""What follows a turn's feedback being stored: waiting clients are told, and a completed interview gets
its report queued. Safe to run again for the same turn: a redelivered job re-runs it harmlessly."""

from __future__ import annotations

from core.infra import signals
from core.infra.job_queue import enqueue_once
from core.models import InterviewRecord, ReportJob


def turn_part(turn: int) -> str:
    return f"turn-{turn}"


async def after_feedback(record: InterviewRecord, turn: int) -> None:
    await signals.announce(record.id, turn_part(turn))
    await queue_report_when_complete(record)


async def queue_report_when_complete(record: InterviewRecord) -> None:
    if record.finished and record.evaluated >= record.total and not record.report_done:
        await enqueue_once(ReportJob(interview_id=record.id))
