"""The callbacks queue (core/interview/callbacks.py delivers its events) and the queue of events given up
after every retry, which ops lists and replays (core/ops/callback_failures.py)."""

from __future__ import annotations

from core.infra import usage
from core.infra.connections import connections
from core.models import CallbackJob

CALLBACKS_QUEUE = "interview-callbacks"
FAILED_QUEUE = f"{CALLBACKS_QUEUE}-failed"


def event_id(job: CallbackJob) -> str:
    """The Webhook-Id: one per event, the same on every attempt and replay."""
    return f"{job.interview_id}-{job.sequence}"


async def queue_event(job: CallbackJob, delay: int = 0) -> None:
    """Onto the callbacks queue, hidden for `delay` seconds (the wait before a retry)."""
    queue = await connections().queue(CALLBACKS_QUEUE)
    await queue.send_message(job.model_dump_json().encode(), visibility_timeout=delay)
    usage.note(queue_messages=1)


async def give_up(job: CallbackJob) -> None:
    """Onto the failed queue, kept until ops replays it (storage queues drop messages after 7 days unless
    told otherwise)."""
    failed = await connections().queue(FAILED_QUEUE)
    await failed.send_message(job.model_dump_json().encode(), time_to_live=-1)
    usage.note(queue_messages=1)
