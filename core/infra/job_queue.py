"""The jobs queue: work that templates and cache could not answer, for the queue-triggered worker."""

from __future__ import annotations

from core.infra import usage
from core.infra.connections import connections
from core.infra.redis_failover import or_default
from core.models import EvaluateJob, JobMessage, QuestionsJob, ReportJob

JOBS_QUEUE = "interview-jobs"
POISON_QUEUE = f"{JOBS_QUEUE}-poison"
# A job is queued again only when it has not finished this long after it was queued: long enough for
# the host's retries, short enough that a job lost between the store and the queue comes back soon.
REQUEUE_AFTER_SECONDS = 60

Job = EvaluateJob | ReportJob | QuestionsJob


def job_tag(job: Job) -> str:
    return (
        f"{job.interview_id}:{job.turn}" if isinstance(job, EvaluateJob) else f"{job.interview_id}:{job.kind}"
    )


async def enqueue_once(job: Job) -> bool:
    """Queue the job unless it was queued within REQUEUE_AFTER_SECONDS; True when it was queued now."""
    marker = f"queued:{job_tag(job)}"
    mark = connections().redis().run(lambda redis: redis.set(marker, b"1", nx=True, ex=REQUEUE_AFTER_SECONDS))
    # Without Redis the job is queued anyway: the worker is idempotent, a lost job is not.
    first = await or_default("queued marker", mark, True)
    if first:
        try:
            queue = await connections().queue(JOBS_QUEUE)
            await queue.send_message(JobMessage(job=job).model_dump_json().encode())
        except Exception:
            # Not queued after all: the marker must not keep the next poll from queuing it.
            unmark = connections().redis().run(lambda redis: redis.delete(marker))
            await or_default("queued marker", unmark, 0)
            raise
        usage.note(queue_messages=1)
    return bool(first)


def parse_job(body: bytes) -> Job:
    return JobMessage.model_validate_json(body).job
