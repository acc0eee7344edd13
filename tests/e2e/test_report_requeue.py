"""A report job is queued again only when it is presumed lost (queued over REQUEUE_AFTER_SECONDS ago),
and concurrent polls of the report cannot multiply it: through the real path (devhost, Azurite, Redis,
the queue worker). The interviews are written through the store in the state under test, a finished
interview whose report job was queued now or long ago, as the app itself would have left them."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp

from core.infra import store
from core.infra.job_queue import REQUEUE_AFTER_SECONDS
from core.interview.question_bank import interview_question, question_bank
from core.models import InterviewRecord, InterviewSetup, TurnRecord
from core.rubric.evaluator import evaluate_answer
from testing.app_stack import OPS_HEADERS, Stack
from testing.interview_client import GOOD_ANSWER, Candidate, start_interview

POLLS = 20


async def _finished_without_report(
    http: aiohttp.ClientSession, report_queued_at: datetime | None
) -> Candidate:
    """A finished interview, every answer evaluated, whose report job was queued at `report_queued_at`
    (None: a record from before the time was kept) and has not run."""
    setup = InterviewSetup(role="backend", level="mid", kind="mixed", questions=3)
    interview_id, token = uuid.uuid4().hex, secrets.token_urlsafe(32)
    record = InterviewRecord(
        id=interview_id,
        setup=setup,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_at=datetime.now(UTC),
        question_ids=[question.id for question in question_bank().pick(setup, interview_id)],
        greeting="Hello.",
    )
    await store.create_interview(record)
    for turn in (1, 2, 3):
        current = await store.load_interview(interview_id)
        assert current is not None
        question = interview_question(record, record.question_ids[turn - 1])
        answered = TurnRecord(
            turn=turn,
            question_id=question.id,
            answer=GOOD_ANSWER,
            answered_at=datetime.now(UTC),
            feedback=evaluate_answer(question, GOOD_ANSWER),
            source="local",
        )
        updated = current.record.model_copy(
            update={
                "answered": turn,
                "evaluated": turn,
                "report_queued_at": report_queued_at if turn == 3 else None,
            }
        )
        await store.add_turn(current, updated, answered)
    return Candidate(http=http, id=interview_id, token=token, created={})


async def _queued(http: aiohttp.ClientSession) -> tuple[int, int]:
    """Queue messages sent and report jobs queued again, so far today. A new interview comes first: its
    counts write the app's pending ones (a sent message is noted, then written with the next counts)."""
    await start_interview(http, questions=3)
    async with http.get("/api/ops/usage", headers=OPS_HEADERS) as response:
        assert response.status == 200
        counters = (await response.json())["counters"]
        return counters.get("queue_messages", 0), counters.get("reports_requeued", 0)


async def _poll_at_once(candidate: Candidate) -> list[int]:
    replies = await asyncio.gather(*(candidate.report(wait=1) for _ in range(POLLS)))
    return [status for status, _ in replies]


async def test_polls_never_queue_a_report_job_that_is_in_flight(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    # Queued a moment ago (the message itself is "in flight": it was never sent, so nothing answers).
    candidate = await _finished_without_report(http, datetime.now(UTC))
    messages, requeued = await _queued(http)

    for _ in range(2):  # poll loops: rounds of concurrent polls
        assert await _poll_at_once(candidate) == [202] * POLLS

    assert await _queued(http) == (messages, requeued)
    record = (await store.load_interview(candidate.id)).record  # type: ignore[union-attr]
    assert not record.report_done


async def test_a_lost_report_job_is_queued_again_once_by_twenty_concurrent_polls(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    lost_at = datetime.now(UTC) - timedelta(seconds=REQUEUE_AFTER_SECONDS + 5)
    candidates = [
        await _finished_without_report(http, lost_at),
        await _finished_without_report(http, None),  # stored before the queueing time was kept
    ]
    for candidate in candidates:
        messages, requeued = await _queued(http)
        statuses = await _poll_at_once(candidate)
        assert set(statuses) <= {200, 202}
        assert await _queued(http) == (messages + 1, requeued + 1)
        # The one job is real: the worker writes the report, and every later poll reads it.
        status, report = await candidate.report(wait=20)
        assert status == 200, report
        assert await _queued(http) == (messages + 1, requeued + 1)
        record = (await store.load_interview(candidate.id)).record  # type: ignore[union-attr]
        assert record.report_done
        assert record.report_queued_at is not None and record.report_queued_at > lost_at
