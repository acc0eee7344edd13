"""DELETE /api/interviews/{id}: a candidate deletes an interview and everything stored for it alone,
through the real path (devhost, Azurite, Redis, the queue worker)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from core.infra import store
from core.infra.client_limits import owner_key
from core.infra.connections import connections
from core.infra.job_queue import JOBS_QUEUE
from core.models import EvaluateJob, JobMessage, ReportJob
from core.settings import get_settings
from testing.app_stack import OPS_HEADERS, Stack
from testing.interview_client import Candidate, start_interview, unique_answer


async def _eventually(check: Callable[[], Awaitable[Any]], seconds: float, what: str) -> Any:
    for _ in range(int(seconds * 4)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def _counters(http: aiohttp.ClientSession) -> dict[str, int]:
    async with http.get("/api/ops/usage", headers=OPS_HEADERS) as response:
        assert response.status == 200
        counters: dict[str, int] = (await response.json())["counters"]
        return counters


async def _delete(http: aiohttp.ClientSession, interview_id: str, headers: dict[str, str]) -> tuple[int, Any]:
    async with http.delete(f"/api/interviews/{interview_id}", headers=headers) as response:
        text = await response.text()
        return response.status, text


async def _partition(interview_id: str) -> list[str]:
    table = await connections().table(get_settings().interviews_table)
    rows = table.query_entities("PartitionKey eq @pk", parameters={"pk": interview_id}, select=["RowKey"])
    return sorted([row["RowKey"] async for row in rows])


async def _listed_by_creation(interview_id: str) -> bool:
    record = await store.load_interview(interview_id)
    assert record is not None
    partition, row = store._created_keys(interview_id, record.record.created_at)
    table = await connections().table(get_settings().interviews_table)
    rows = table.query_entities(
        "PartitionKey eq @pk and RowKey eq @rk", parameters={"pk": partition, "rk": row}, select=["RowKey"]
    )
    return bool([found async for found in rows])


async def _poisoned(http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with http.get("/api/ops/poison", headers=OPS_HEADERS) as response:
        assert response.status == 200
        messages: list[dict[str, Any]] = (await response.json())["messages"]
        return messages


async def _finished(http: aiohttp.ClientSession, tag: str) -> Candidate:
    candidate = await start_interview(http, questions=3)
    for turn in (1, 2, 3):
        await candidate.answer_and_wait(turn, unique_answer(f"{tag}-{candidate.id}-{turn}"))
    status, _ = await candidate.report(wait=10)
    assert status == 200
    return candidate


async def test_a_deleted_interview_is_gone_from_every_route_and_from_storage(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    candidate = await _finished(http, "delete")
    assert await _partition(candidate.id) == ["interview", "report", "turn-0001", "turn-0002", "turn-0003"]
    assert await _listed_by_creation(candidate.id)
    redis = connections().redis().active()
    await redis.set(owner_key(candidate.id), b"some-client", ex=60)
    deleted_before = (await _counters(http)).get("interviews_deleted", 0)

    status, body = await _delete(http, candidate.id, candidate.auth)
    assert (status, body) == (204, "")

    assert await _partition(candidate.id) == []
    assert not await redis.exists(owner_key(candidate.id))
    assert (await _counters(http)).get("interviews_deleted", 0) == deleted_before + 1
    routes = [
        ("GET", f"/api/interviews/{candidate.id}", None),
        ("GET", f"/api/interviews/{candidate.id}/report", None),
        ("GET", f"/api/interviews/{candidate.id}/turns/1", None),
        ("POST", f"/api/interviews/{candidate.id}/turns", {"turn": 1, "answer": "again"}),
        ("DELETE", f"/api/interviews/{candidate.id}", None),
    ]
    for method, path, body_json in routes:
        async with http.request(method, path, json=body_json, headers=candidate.auth) as response:
            assert response.status == 404, (method, path)
            assert (await response.json())["error"]["code"] == "not_found"


async def test_a_wrong_or_missing_token_deletes_nothing(http: aiohttp.ClientSession, stack: Stack) -> None:
    candidate = await start_interview(http, questions=3)
    await candidate.answer_and_wait(1, unique_answer(f"keep-{candidate.id}"))
    other = await start_interview(http, questions=3)
    before = await _partition(candidate.id)

    assert (await _delete(http, candidate.id, other.auth))[0] == 403
    assert (await _delete(http, candidate.id, {}))[0] == 401
    assert (await _delete(http, candidate.id, {"Authorization": "Basic abc"}))[0] == 401

    assert await _partition(candidate.id) == before
    state = await candidate.state()
    assert state["transcript"][0]["answer"] == unique_answer(f"keep-{candidate.id}")
    # The other candidate's token deletes only its own interview.
    assert (await _delete(http, other.id, other.auth))[0] == 204
    assert (await candidate.state())["id"] == candidate.id


async def test_jobs_queued_for_a_deleted_interview_end_without_a_poison_message(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    candidate = await _finished(http, "orphan-jobs")
    assert (await _delete(http, candidate.id, candidate.auth))[0] == 204
    poisoned_before = {message["body"] for message in await _poisoned(http)}
    ended_before = (await _counters(http)).get("jobs_for_deleted_interviews", 0)

    queue = await connections().queue(JOBS_QUEUE)
    for job in (EvaluateJob(interview_id=candidate.id, turn=2), ReportJob(interview_id=candidate.id)):
        await queue.send_message(JobMessage(job=job).model_dump_json().encode())

    async def both_ended() -> bool:
        return (await _counters(http)).get("jobs_for_deleted_interviews", 0) >= ended_before + 2

    await _eventually(both_ended, 30, "the two jobs of the deleted interview to end")
    bodies = {message["body"] for message in await _poisoned(http)} - poisoned_before
    assert not [body for body in bodies if candidate.id in body]
    # Nothing of them came back either: the interview's partition is still empty.
    assert await _partition(candidate.id) == []


async def test_the_devhost_allows_delete_in_a_cors_preflight(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    headers = {
        "Origin": "http://localhost:8080",
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization",
    }
    async with http.options("/api/interviews/abc", headers=headers) as response:
        assert response.status == 204
        assert response.headers["Access-Control-Allow-Methods"] == "DELETE"
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:8080"
