"""The jobs queue: work that templates and cache could not answer, for the queue-triggered worker."""

from __future__ import annotations

from datetime import UTC, datetime

from core.infra import usage
from core.infra.connections import connections
from core.infra.redis_failover import or_default
from core.models import EvaluateJob, ExampleJob, FollowUpJob, JobMessage, QuestionsJob, ReportJob

JOBS_QUEUE = "interview-jobs"
POISON_QUEUE = f"{JOBS_QUEUE}-poison"
# A job is queued again only when it has not finished this long after it was queued: long enough for
# the host's retries, short enough that a job lost between the store and the queue comes back soon.
REQUEUE_AFTER_SECONDS = 60

Job = EvaluateJob | ReportJob | QuestionsJob | FollowUpJob | ExampleJob


def job_tag(job: Job) -> str:
    if isinstance(job, EvaluateJob):
        # A follow-up's answer is scored by a job of its own: the answer's may still hold the marker.
        return f"{job.interview_id}:{job.turn}" + (":follow-up" if job.follow_up else "")
    if isinstance(job, ExampleJob):
        # One per question, whichever interview asked for it: the example is shared by all of them.
        return f"{job.kind}:{job.question_id}"
    if isinstance(job, FollowUpJob):
        return f"{job.interview_id}:{job.kind}:{job.turn}"
    return f"{job.interview_id}:{job.kind}"


def queued_marker(job: Job) -> str:
    """The Redis key that says the job was queued within REQUEUE_AFTER_SECONDS."""
    return f"queued:{job_tag(job)}"


async def enqueue_once(job: Job) -> bool:
    """Queue the job unless it was queued within REQUEUE_AFTER_SECONDS; True when it was queued now."""
    marker = queued_marker(job)
    mark = connections().redis().run(lambda redis: redis.set(marker, b"1", nx=True, ex=REQUEUE_AFTER_SECONDS))
    # Without Redis the job is queued anyway: the worker is idempotent, a lost job is not.
    first = await or_default("queued marker", mark, True)
    if first:
        try:
            await enqueue(job)
        except Exception:
            # Not queued after all: the marker must not keep the next poll from queuing it.
            unmark = connections().redis().run(lambda redis: redis.delete(marker))
            await or_default("queued marker", unmark, 0)
            raise
    return bool(first)


async def enqueue(job: Job) -> None:
    """Queue the job now; for callers that decided in storage that it is due (core/interview/progress.py)."""
    queue = await connections().queue(JOBS_QUEUE)
    message = JobMessage(job=job, queued_at=datetime.now(UTC))
    await queue.send_message(message.model_dump_json().encode())
    usage.note(queue_messages=1)


def parse_message(body: bytes) -> JobMessage:
    return JobMessage.model_validate_json(body)


def note_queue_wait(message: JobMessage) -> None:
    """Sample how long the job waited for the queue trigger, from its send to now (a redelivered or
    replayed job counts from its first send: that is how long its result was held up)."""
    if message.queued_at is not None:
        waited = (datetime.now(UTC) - message.queued_at).total_seconds() * 1000
        usage.note_latency("queue_wait", waited)
