"""Retention: an interview older than RETENTION_DAYS is refused at once through the API and deleted by the
hourly sweep, against the real stack (devhost, Azurite, Redis). The old interviews are written through
the store with an old creation time, as they would have been written that long ago."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
from azure.functions.timer import TimerRequest

from core.infra import store
from core.infra.client_limits import owner_key
from core.infra.connections import connections
from core.interview import retention
from core.interview.question_bank import question_bank
from core.models import InterviewRecord, InterviewSetup, TurnRecord
from core.settings import get_settings
from handlers.timers import delete_expired_interviews
from testing.app_stack import Stack
from testing.interview_client import Candidate, start_interview


async def _stored_interview(http: aiohttp.ClientSession, age: timedelta) -> Candidate:
    """An interview created `age` ago, with its first answer, written through the store."""
    setup = InterviewSetup(role="backend", level="mid", kind="mixed", questions=3)
    interview_id, token = uuid.uuid4().hex, secrets.token_urlsafe(32)
    record = InterviewRecord(
        id=interview_id,
        setup=setup,
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
        created_at=datetime.now(UTC) - age,
        question_ids=[question.id for question in question_bank().pick(setup, interview_id)],
        greeting="Hello.",
    )
    await store.create_interview(record)
    current = await store.load_interview(interview_id)
    assert current is not None
    turn = TurnRecord(
        turn=1, question_id=record.question_ids[0], answer="An old answer.", answered_at=record.created_at
    )
    await store.add_turn(current, record.model_copy(update={"answered": 1}), turn)
    await connections().redis().active().set(owner_key(interview_id), b"client", ex=600)
    return Candidate(http=http, id=interview_id, token=token, created={})


async def _rows(interview_id: str) -> list[str]:
    table = await connections().table(get_settings().interviews_table)
    entities = table.query_entities("PartitionKey eq @pk", parameters={"pk": interview_id}, select=["RowKey"])
    return [entity["RowKey"] async for entity in entities]


async def _get(candidate: Candidate, path: str = "") -> tuple[int, str]:
    async with candidate.http.get(
        f"/api/interviews/{candidate.id}{path}", headers=candidate.auth
    ) as response:
        body = await response.json()
        return response.status, body["error"]["code"] if response.status >= 400 else "ok"


async def test_an_expired_interview_is_refused_at_once_and_deleted_by_the_sweep(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    days = get_settings().retention_days
    expired = await _stored_interview(http, timedelta(days=days, minutes=5))
    kept = await _stored_interview(http, timedelta(days=days) - timedelta(hours=2))
    fresh = await start_interview(http, questions=3)

    # Refused before any sweep ran: the same 404 as a deleted interview, on every route.
    assert await _get(expired) == (404, "not_found")
    assert await _get(expired, "/turns/1") == (404, "not_found")
    assert await _get(expired, "/report") == (404, "not_found")
    async with http.post(
        f"/api/interviews/{expired.id}/turns", json={"turn": 2, "answer": "late"}, headers=expired.auth
    ) as response:
        assert response.status == 404
    assert await _get(kept) == (200, "ok")
    assert sorted(await _rows(expired.id)) == ["interview", "turn-0001"]  # still stored until the sweep

    assert await retention.sweep_expired() >= 1

    assert await _rows(expired.id) == []
    assert not await connections().redis().active().exists(owner_key(expired.id))
    assert [created.interview_id for created in await store.created_before(datetime.now(UTC), 10_000)].count(
        expired.id
    ) == 0
    assert sorted(await _rows(kept.id)) == ["interview", "turn-0001"]
    assert await _get(kept) == (200, "ok")
    assert await _get(fresh) == (200, "ok")
    # A second sweep finds nothing more of it.
    assert expired.id not in {
        created.interview_id for created in await store.created_before(datetime.now(UTC), 10_000)
    }


async def test_the_timer_function_runs_the_sweep(http: aiohttp.ClientSession, stack: Stack) -> None:
    expired = await _stored_interview(http, timedelta(days=get_settings().retention_days + 1))
    kept = await start_interview(http, questions=3)

    # The registered timer function itself, as the host calls it on its schedule (in this process).
    await delete_expired_interviews._function.get_user_function()(TimerRequest(past_due=False))

    assert await _rows(expired.id) == []
    assert await _get(kept) == (200, "ok")


async def test_the_sweep_lists_by_creation_time_without_a_table_scan(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    """The list by creation time finds exactly the interviews created before a cutoff, oldest first,
    and `limit` caps one run (the next run takes the rest)."""
    ages = [timedelta(days=400 + n) for n in range(3)]
    stored = [await _stored_interview(http, age) for age in ages]
    cutoff = datetime.now(UTC) - timedelta(days=399)
    found = [created.interview_id for created in await store.created_before(cutoff, 10_000)]
    assert [candidate.id for candidate in reversed(stored)] == [
        i for i in found if i in {c.id for c in stored}
    ]
    assert len(await store.created_before(cutoff, 2)) == 2
    assert await retention.sweep_expired(limit=2) == 2
    assert await retention.sweep_expired(limit=2) >= 1
    for candidate in stored:
        assert await _rows(candidate.id) == []
