"""How long an interview is kept, and how one is deleted: by its candidate (DELETE /interviews/{id}) or
when it expires (RETENTION_DAYS after it was created, by the hourly sweep in handlers/timers.py).

Deleting an interview removes everything stored for it alone:
  - its partition in Table storage: the record, every answer with its feedback, the report;
  - its row in the store's list of interviews by creation time;
  - its keys in Redis: the client-limits owner key (the keyed hash of the candidate's address, kept for
    the share of model calls) and the markers of its queued jobs.
What stays is shared between candidates and belongs to no interview: cached results keyed by a hash of
a question and an answer's normalised text (an evaluation, whose evidence may quote the answer it was
first written for) and a custom role's generated questions. Those serve every candidate who gives the
same answer or picks the same title, and they expire on their own (CACHE_TTL_EVALUATE, 14 days by
default, CACHE_TTL_QUESTIONS, 30 days), so nothing of an answer outlives the retention by long. The
daily counters and the per-client day counts (keyed by a salted hash of an address, under a salt that
is new every UTC day) name no interview either.

Jobs already queued for a deleted interview end as recorded no-ops (core/interview/worker.py); ready
signals are not stored (Redis pub/sub), so nothing of them is left to delete.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from core.infra import store, usage
from core.infra.client_limits import owner_key
from core.infra.connections import connections
from core.infra.job_queue import queued_marker
from core.infra.redis_failover import or_default
from core.models import EvaluateJob, InterviewRecord, InterviewSetup, QuestionsJob, ReportJob
from core.settings import get_settings

log = logging.getLogger(__name__)
# Interviews one sweep deletes at most: a run stays well inside the function timeout (5 min in host.json);
# the next run takes the rest.
SWEEP_BATCH = 2_000
# The most questions an interview can have, so its job markers can be named without its record.
_MOST_TURNS: int = next(
    int(bound.le) for bound in InterviewSetup.model_fields["questions"].metadata if hasattr(bound, "le")
)


def retention() -> timedelta:
    return timedelta(days=get_settings().retention_days)


def expired(record: InterviewRecord, now: datetime | None = None) -> bool:
    """Whether the interview is past its retention: from then on it is treated as gone, even before
    the sweep deletes it."""
    return (now or datetime.now(UTC)) - record.created_at >= retention()


async def _forget_in_redis(interview_id: str) -> None:
    """The interview's own Redis keys; they expire on their own too, so a failure only logs."""
    keys = [
        owner_key(interview_id),
        queued_marker(ReportJob(interview_id=interview_id)),
        queued_marker(QuestionsJob(interview_id=interview_id)),
        *(queued_marker(EvaluateJob(interview_id=interview_id, turn=n)) for n in range(1, _MOST_TURNS + 1)),
    ]
    deleting = connections().redis().run(lambda redis: redis.delete(*keys))
    await or_default("interview keys", deleting, None)


async def erase(interview_id: str, created_at: datetime) -> bool:
    """Delete one interview and everything stored for it alone (see the module's docstring); True when
    its record was there. Safe to repeat, and to run while a job or a request for it is in flight."""
    deleted = await store.delete_interview(interview_id)
    await store.forget_created(interview_id, created_at)
    await _forget_in_redis(interview_id)
    return deleted


async def sweep_expired(now: datetime | None = None, limit: int = SWEEP_BATCH) -> int:
    """Delete the interviews created more than RETENTION_DAYS ago (up to `limit` of them, oldest first);
    how many records were deleted. One range query finds them (store.created_before), then each is
    erased as its candidate's own deletion would erase it."""
    cutoff = (now or datetime.now(UTC)) - retention()
    deleted = 0
    for created in await store.created_before(cutoff, limit):
        try:
            deleted += await erase(created.interview_id, created.created_at)
        except Exception:  # one interview that cannot be deleted now must not keep the rest; next run
            log.exception("could not delete expired interview %s", created.interview_id)
    if deleted:
        await usage.count(interviews_expired=deleted)
    return deleted
