"""The queue is at-least-once: redelivered jobs apply once; failing ones end in the poison queue, from
where ops replay them."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp

from core.infra import store
from core.infra.connections import connections
from core.infra.job_queue import JOBS_QUEUE
from core.models import EvaluateJob, JobMessage, ReportJob
from testing.app_stack import OPS_HEADERS, ROOT, Stack
from testing.interview_client import start_interview, unique_answer

ADMIN = OPS_HEADERS


async def _eventually(check: Callable[[], Awaitable[Any]], seconds: float, what: str) -> Any:
    for _ in range(int(seconds * 4)):
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


async def _counters(http: aiohttp.ClientSession) -> dict[str, int]:
    async with http.get("/api/ops/usage", headers=ADMIN) as response:
        assert response.status == 200
        return (await response.json())["counters"]


async def _send(job: EvaluateJob | ReportJob) -> None:
    queue = await connections().queue(JOBS_QUEUE)
    await queue.send_message(JobMessage(job=job).model_dump_json().encode())


async def _poisoned(http: aiohttp.ClientSession) -> list[dict[str, Any]]:
    async with http.get("/api/ops/poison", headers=ADMIN) as response:
        assert response.status == 200
        return (await response.json())["messages"]


async def test_a_redelivered_job_does_not_apply_twice(http: aiohttp.ClientSession, stack: Stack) -> None:
    candidate = await start_interview(http, questions=3)
    answers = [unique_answer(f"redeliver-{candidate.id}-{turn}") for turn in (1, 2, 3)]
    for turn, text in enumerate(answers, start=1):
        await candidate.answer_and_wait(turn, text)
    status, report = await candidate.report(wait=10)
    assert status == 200
    before = (await store.load_interview(candidate.id)).record
    assert before.evaluated == 3 and before.report_done
    duplicates = (await _counters(http)).get("duplicate_deliveries", 0)

    await _send(EvaluateJob(interview_id=candidate.id, turn=2))
    await _send(ReportJob(interview_id=candidate.id))

    async def both_seen() -> bool:
        return (await _counters(http)).get("duplicate_deliveries", 0) >= duplicates + 2

    await _eventually(both_seen, 20, "the two redelivered jobs to be handled")
    after = (await store.load_interview(candidate.id)).record
    assert after == before
    state = await candidate.state()
    assert [entry["answer"] for entry in state["transcript"]] == answers
    assert (await candidate.report())[1] == report


async def test_a_message_with_a_field_of_a_newer_release_is_read_not_poisoned(
    http: aiohttp.ClientSession,
) -> None:
    """In a deploy the old release reads what the new one sent: unknown fields are ignored."""
    candidate = await start_interview(http, questions=3)
    await candidate.answer_and_wait(1, unique_answer(f"newer-{candidate.id}-1"))
    duplicates = (await _counters(http)).get("duplicate_deliveries", 0)
    newer = {
        "job": {"kind": "evaluate", "interview_id": candidate.id, "turn": 1, "priority": 2},
        "queued_at": "2026-12-01T00:00:00Z",
        "sent_by": "a newer release",
    }
    queue = await connections().queue(JOBS_QUEUE)
    await queue.send_message(json.dumps(newer).encode())

    async def seen() -> bool:
        return (await _counters(http)).get("duplicate_deliveries", 0) >= duplicates + 1

    await _eventually(seen, 20, "the message to be read (turn 1 is already scored: a duplicate)")
    assert not [m for m in await _poisoned(http) if candidate.id in m["body"]]


async def _queue_waits(http: aiohttp.ClientSession) -> int:
    """Today's samples of how long jobs waited for the queue trigger, from the ops summary."""
    async with http.get("/api/ops/summary", headers=ADMIN) as response:
        assert response.status == 200
        found = (await response.json())["latency_ms"]["queue_wait"]
        return int(found["count"]) if found else 0


async def test_a_jobs_wait_for_the_queue_trigger_is_on_the_ops_summary(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http, questions=3)
    waits = await _queue_waits(http)

    # Queued (REMOTE_JOBS sends evaluations through the queue): its job's wait is sampled when the worker
    # starts it, and written with the worker's count before the result is announced.
    status, body = await candidate.answer(1, unique_answer(f"queue-wait-{candidate.id}"))
    assert status == 202, body
    await candidate.wait_for(1, status, body)

    assert await _queue_waits(http) >= waits + 1


async def test_failing_jobs_are_poisoned_listed_and_replayed(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    candidate = await start_interview(http, questions=3)
    await candidate.answer_and_wait(1, unique_answer(f"poison-{candidate.id}-1"))
    malformed = b"this is not a job"
    raw_queue = await connections().queue(JOBS_QUEUE, raw=True)
    await raw_queue.send_message(base64.b64encode(malformed).decode())
    # Turn 2 is not answered yet, so this job fails on every delivery until it is moved aside.
    await _send(EvaluateJob(interview_id=candidate.id, turn=2))

    async def two_poisoned() -> list[dict[str, Any]]:
        messages = await _poisoned(http)
        return messages if len(messages) >= 2 else []

    poisoned = await _eventually(two_poisoned, 60, "both failing messages to reach the poison queue")
    bodies = {message["body"] for message in poisoned}
    assert malformed.decode() in bodies
    assert any(
        json.loads(body)["job"]
        == {"kind": "evaluate", "interview_id": candidate.id, "turn": 2, "follow_up": False}
        for body in bodies
        if body.startswith("{")
    )

    async with http.get("/api/ops/poison") as response:
        assert response.status == 401
    async with http.post("/api/ops/poison/replay", headers={"x-functions-key": "wrong"}) as response:
        assert response.status == 401

    listed = subprocess.run(
        [sys.executable, "-m", "handlers.poison_cli", "list"],
        cwd=ROOT,
        env=os.environ,
        capture_output=True,
        text=True,
        check=True,
    )
    assert candidate.id in listed.stdout

    # The candidate answers turn 2; replaying the stale job must not evaluate it a second time.
    await candidate.answer_and_wait(2, unique_answer(f"poison-{candidate.id}-2"))
    duplicates = (await _counters(http)).get("duplicate_deliveries", 0)
    async with http.post("/api/ops/poison/replay", headers=ADMIN) as response:
        assert response.status == 200
        assert (await response.json())["replayed"] >= 2

    async def replayed_job_handled() -> bool:
        return (await _counters(http)).get("duplicate_deliveries", 0) > duplicates

    await _eventually(replayed_job_handled, 20, "the replayed job to run")
    record = (await store.load_interview(candidate.id)).record
    assert record.answered == 2 and record.evaluated == 2
