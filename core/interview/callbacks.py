"""Callbacks: an interview created with a callback_url is told, by a signed POST, when each turn's feedback
and its report are ready (`turn.ready`, `report.ready`).

Each event is a message of its own queue (core/infra/callback_queue.py, handlers/callback_dispatch.py),
apart from the jobs queue, so a slow or failing receiver never holds up or poisons the interview's own work. A failed
attempt is queued again, hidden for the next wait of CALLBACK_RETRY_SECONDS (1 s, 5 s, 30 s, 2 min, 10 min:
six attempts); after the last one the event goes to FAILED_QUEUE, which ops lists and replays.

What a receiver can count on:
  - at least once: an event may come twice (Webhook-Id is the same on every attempt: its idempotency key);
  - in order, mostly: an event is sent only once every earlier event of its interview was delivered or
    given up, unless an earlier one is still not ready CALLBACK_ORDER_WAIT_SECONDS (15 min) later; a
    replayed event comes after later ones. Every event carries its `sequence` (turn n is n, the report the
    number of questions + 1), to order by;
  - little in it: the event names the interview, the turn and the URL to GET the result with the
    interview's token; the feedback itself never leaves in a callback.

Cost per interview: one event per turn and one for the report, each created once (a Redis marker, like
the jobs queue's), each tried at most len(CALLBACK_RETRY_SECONDS) + 1 times; only ops replays add more.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from core.infra import callback_sender, store, usage
from core.infra.callback_queue import event_id, give_up, queue_event
from core.infra.connections import connections
from core.infra.redis_failover import or_default
from core.infra.webhook_signature import interview_secret, signed_headers
from core.models import CallbackData, CallbackEvent, CallbackJob, InterviewRecord
from core.settings import get_settings

# Longer than an interview lasts: an event is created once, however often its job is redelivered.
MARK_SECONDS = 3 * 24 * 3600
# An event waiting for an earlier one looks again after 1 s, then after as long as it has waited, up to this.
LONGEST_ORDER_STEP_SECONDS = 60
log = logging.getLogger(__name__)


def _finished_key(interview_id: str) -> str:
    return f"callbacks-finished:{interview_id}"


async def turn_ready(record: InterviewRecord, turn: int) -> None:
    """Queue the turn.ready event of a turn whose feedback is stored (once, however often it is called)."""
    if record.setup.callback_url:
        await _create(
            CallbackJob(
                interview_id=record.id,
                type="turn.ready",
                turn=turn,
                sequence=turn,
                ready_at=datetime.now(UTC),
            )
        )


async def report_ready(record: InterviewRecord) -> None:
    """Queue the report.ready event of an interview whose report is stored."""
    if record.setup.callback_url:
        await _create(
            CallbackJob(
                interview_id=record.id,
                type="report.ready",
                sequence=record.total + 1,
                ready_at=datetime.now(UTC),
            )
        )


async def _create(job: CallbackJob) -> None:
    marker = f"callback:{job.interview_id}:{job.sequence}"
    mark = connections().redis().run(lambda redis: redis.set(marker, b"1", nx=True, ex=MARK_SECONDS))
    # Without Redis the event is queued anyway: a receiver takes a duplicate by its Webhook-Id.
    if await or_default("callback marker", mark, True):
        await queue_event(job, delay=0)


async def _earlier_finished(job: CallbackJob) -> bool:
    """Whether every earlier event of the interview was delivered or given up (yes when Redis fails:
    order is a courtesy, delivery is the promise)."""
    if job.sequence == 1:
        return True
    earlier = list(range(1, job.sequence))
    check = (
        connections().redis().run(lambda redis: redis.smismember(_finished_key(job.interview_id), earlier))
    )
    return all(await or_default("callback order", check, [True]))


async def _finish(job: CallbackJob) -> None:
    key = _finished_key(job.interview_id)

    async def mark() -> None:
        redis = connections().redis()
        await redis.run(lambda client: client.sadd(key, job.sequence))
        await redis.run(lambda client: client.expire(key, MARK_SECONDS))

    await or_default("callback finished", mark(), None)


def _result_url(job: CallbackJob) -> str:
    base = f"{get_settings().public_api_base}/interviews/{job.interview_id}"
    return f"{base}/turns/{job.turn}" if job.type == "turn.ready" else f"{base}/report"


def event_body(job: CallbackJob) -> bytes:
    """What is POSTed: the same bytes on every attempt (Webhook-Timestamp is what changes)."""
    data = CallbackData(
        interview_id=job.interview_id, turn=job.turn, sequence=job.sequence, url=_result_url(job)
    )
    return CallbackEvent(type=job.type, timestamp=job.ready_at, data=data).model_dump_json().encode()


def _order_step(job: CallbackJob, now: datetime) -> int | None:
    """Seconds to wait for an earlier event before looking again; None once the event waited long enough."""
    since = job.waited_since or now
    waited = (now - since).total_seconds()
    if waited >= get_settings().callback_order_wait_seconds:
        return None
    return int(min(max(1.0, waited), LONGEST_ORDER_STEP_SECONDS))


async def deliver(job: CallbackJob) -> None:
    """One attempt at an event: sent, queued again for later, or given up to FAILED_QUEUE."""
    current = await store.load_interview(job.interview_id)
    url = current.record.setup.callback_url if current else None
    if url is None:
        log.info("callback %s dropped: the interview or its callback_url is gone", event_id(job))
        return
    now = datetime.now(UTC)
    if not await _earlier_finished(job):
        step = _order_step(job, now)
        if step is not None:
            await queue_event(job.model_copy(update={"waited_since": job.waited_since or now}), delay=step)
            return
    settings = get_settings()
    signing_key = settings.callback_signing_key.get_secret_value()
    if signing_key:
        body = event_body(job)
        secret = interview_secret(signing_key, job.interview_id)
        error = await callback_sender.post(
            url, signed_headers(secret, event_id(job), int(time.time()), body), body
        )
    else:
        error = "callbacks are off on this app (CALLBACK_SIGNING_KEY is not set)"
    attempted = job.model_copy(update={"attempts": job.attempts + 1, "last_error": error})
    if error is None:
        await _finish(attempted)
        await usage.count(callbacks_delivered=1)
        return
    retries = settings.callback_retry_seconds
    if signing_key and attempted.attempts <= len(retries):
        await queue_event(attempted, delay=retries[attempted.attempts - 1])
        return
    log.warning("callback %s failed after %s attempts: %s", event_id(job), attempted.attempts, error)
    await give_up(attempted)
    await _finish(attempted)
    await usage.count(callbacks_failed=1)


async def handle_message(body: bytes) -> None:
    """Entry point for one callbacks-queue message; raising (storage down) leaves it to the host's retries."""
    await deliver(CallbackJob.model_validate_json(body))
