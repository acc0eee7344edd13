"""Per-client limits and the ops key through the real path (HTTP -> devhost -> Redis and Azurite).

The host of this module runs with small limits, its own Redis (behind a TCP proxy this process serves,
so Redis can be taken away as if it died) and its own Azurite. Each test is its own client: the test
process connects from another loopback address (127.0.0.x), which the devhost appends to
X-Forwarded-For as Azure's front end appends the client's address."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from devhost.stack import start_azurite, start_devhost, start_redis
from testing.app_stack import MASTER_KEY, OPS_HEADERS, OPS_KEY, ROOT
from testing.fakes.tcp_proxy import Proxy
from testing.interview_client import Candidate, start_interview

# Starts its own servers (redis-server, Azurite and the host): not in the fast tier.
pytestmark = pytest.mark.service

PER_MINUTE = 30  # a token every 2 s
BURST = 3
INTERVIEWS_A_DAY = 2
CUSTOM_ROLES_A_DAY = 1
CUSTOM = {"role": "custom", "custom_role": "Data engineer (Spark)"}


@dataclass
class LimitedHost:
    url: str
    redis: Proxy
    redis_direct: Redis


@pytest.fixture(scope="module")
async def host(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LimitedHost]:
    workdir = tmp_path_factory.mktemp("client-limits")
    with (
        start_redis(workdir / "redis") as redis_server,
        start_azurite(workdir / "azurite", in_memory=True) as azurite,
    ):
        proxy = Proxy.in_front_of(redis_server.url)
        await proxy.start()
        env = {
            "REDIS_URL": proxy.url,
            "REDIS_TIMEOUT_SECONDS": "0.5",
            "AzureWebJobsStorage": azurite.url,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "OPS_KEY": OPS_KEY,
            "RATE_LIMIT_PER_MINUTE": str(PER_MINUTE),
            "RATE_LIMIT_BURST": str(BURST),
            "DAILY_INTERVIEWS_PER_CLIENT": str(INTERVIEWS_A_DAY),
            "DAILY_CUSTOM_ROLES_PER_CLIENT": str(CUSTOM_ROLES_A_DAY),
        }
        # The devhost starts in a thread: this event loop must keep serving the proxy meanwhile.
        host_context = start_devhost(ROOT, env)
        started = await asyncio.to_thread(host_context.__enter__)
        try:
            async with Redis.from_url(redis_server.url) as direct:
                yield LimitedHost(started.url, proxy, direct)
        finally:
            await asyncio.to_thread(host_context.__exit__, None, None, None)
            await proxy.stop()


def client(host: LimitedHost, number: int) -> aiohttp.ClientSession:
    """A session whose requests come from 127.0.0.<number>: a client of its own."""
    connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{number}", 0))
    return aiohttp.ClientSession(base_url=host.url, connector=connector)


async def create(
    http: aiohttp.ClientSession, headers: dict[str, str] | None = None, **setup: Any
) -> tuple[int, dict[str, Any], dict[str, str]]:
    body = {"role": "backend", "level": "mid", "kind": "mixed", "questions": 3} | setup
    async with http.post("/api/interviews", json=body, headers=headers or {}) as response:
        return response.status, await response.json(), dict(response.headers)


async def answer(
    candidate: Candidate, turn: int, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], dict[str, str]]:
    async with candidate.http.post(
        f"/api/interviews/{candidate.id}/turns",
        json={"turn": turn, "answer": "I don't know"},
        headers=candidate.auth | (headers or {}),
    ) as response:
        return response.status, await response.json(), dict(response.headers)


def assert_refused(status: int, body: dict[str, Any], headers: dict[str, str], code: str) -> int:
    assert status == 429, body
    assert body["error"]["code"] == code, body
    retry_after = int(headers["Retry-After"])
    assert retry_after >= 1
    return retry_after


async def summary(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/api/ops/summary", headers=OPS_HEADERS) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def test_answers_past_the_burst_wait_for_the_bucket_then_go_through(host: LimitedHost) -> None:
    async with client(host, 11) as http:
        candidate = await start_interview(http)  # token 1 of 3
        for turn in (1, 2):  # tokens 2 and 3
            status, body, _ = await answer(candidate, turn)
            assert status == 200, body
        status, body, headers = await answer(candidate, 3)
        retry_after = assert_refused(status, body, headers, "rate_limited")
        assert retry_after <= 60 // PER_MINUTE + 1
        assert f"{PER_MINUTE} new interviews and answers a minute" in body["error"]["message"]
        assert f"in {retry_after} s" in body["error"]["message"]
        # Refused before anything was read or stored.
        assert [entry["status"] for entry in (await candidate.state())["transcript"]] == [
            "done",
            "done",
            "unanswered",
        ]

        await asyncio.sleep(retry_after)
        status, body, _ = await answer(candidate, 3)
        assert status == 200, body


async def test_a_spoofed_x_forwarded_for_does_not_make_another_client(host: LimitedHost) -> None:
    """Only the last entry counts, the one Azure's front end (here the devhost) appends: entries a client
    puts in front of it, different on every request, change nothing."""
    async with client(host, 12) as http:
        candidate = await start_interview(http)
        results = []
        for turn in (1, 2, 3):
            spoofed = {"X-Forwarded-For": f"203.0.113.{turn}, 198.51.100.{turn}, 10.0.0.{turn}"}
            results.append(await answer(candidate, turn, spoofed))
        assert [status for status, _, _ in results] == [200, 200, 429]
        assert_refused(*results[2], "rate_limited")
    # A new connection from the same address, claiming to be someone else, is the same client too.
    async with client(host, 12) as again:
        status, body, headers = await create(again, {"X-Forwarded-For": "192.0.2.55"})
        assert_refused(status, body, headers, "rate_limited")


async def test_a_client_may_start_so_many_interviews_a_day(host: LimitedHost) -> None:
    async with client(host, 13) as http:
        for _ in range(INTERVIEWS_A_DAY):
            status, body, _ = await create(http)
            assert status == 201, body
        status, body, headers = await create(http)
        retry_after = assert_refused(status, body, headers, "daily_interviews")
        # Until 00:00 UTC, which the message names.
        assert 0 < retry_after <= 24 * 3600
        assert "00:00 UTC" in body["error"]["message"]
        assert f"{INTERVIEWS_A_DAY} interviews today" in body["error"]["message"]

    async with client(host, 14) as other:  # another address is another client
        status, body, _ = await create(other)
        assert status == 201, body


async def test_a_client_may_start_so_many_custom_roles_a_day(host: LimitedHost) -> None:
    async with client(host, 15) as http:
        status, body, _ = await create(http, **CUSTOM)
        assert status == 201, body
        status, body, headers = await create(http, **(CUSTOM | {"custom_role": "Platform engineer"}))
        assert_refused(status, body, headers, "daily_custom_roles")
        assert "custom role" in body["error"]["message"] and "00:00 UTC" in body["error"]["message"]
        status, body, _ = await create(http)  # a role of the list is still open
        assert status == 201, body


async def test_ops_shows_the_top_clients_hashed_and_who_was_limited(host: LimitedHost) -> None:
    async with client(host, 16) as http:
        for _ in range(INTERVIEWS_A_DAY + 1):
            await create(http)
        clients = (await summary(http))["clients"]
        text = str(clients)
    assert clients["limits"] == {
        "writes_per_minute": PER_MINUTE,
        "burst": BURST,
        "interviews_per_day": INTERVIEWS_A_DAY,
        "custom_roles_per_day": CUSTOM_ROLES_A_DAY,
        "model_call_share": 0.05,
    }
    assert clients["top"] and all(len(row["client"]) == 16 for row in clients["top"])
    assert sorted(clients["top"], key=lambda row: -row["interviews"]) == clients["top"]
    limited_codes = {code for row in clients["limited"] for code in row["limited"]}
    assert {"daily_interviews", "daily_custom_roles"} <= limited_codes
    refused_daily = [row for row in clients["limited"] if row["limited"].get("daily_interviews")]
    assert any(row["interviews"] == INTERVIEWS_A_DAY for row in refused_daily)
    # Never an address, in the answer or in Redis.
    assert "127.0.0." not in text
    keys = [key.decode() for key in await host.redis_direct.keys("*")]
    assert keys and not any("127.0.0." in key for key in keys)
    for key in keys:
        if await host.redis_direct.type(key) == b"string":
            assert b"127.0.0." not in (await host.redis_direct.get(key) or b"")
        assert await host.redis_direct.ttl(key) > 0, f"{key} never expires"


async def test_with_redis_down_the_limits_let_requests_through(host: LimitedHost) -> None:
    """A limit only saves effort: with Redis gone it fails open, and the interview goes on."""
    async with client(host, 17) as http:
        for _ in range(INTERVIEWS_A_DAY):
            status, body, _ = await create(http)
            assert status == 201, body
        status, body, headers = await create(http)
        assert_refused(status, body, headers, "daily_interviews")
        # The bucket is this process's own and works without Redis: wait for a token of it.
        await asyncio.sleep(60 / PER_MINUTE)
        await host.redis.refuse()
        try:
            status, body, _ = await create(http)
            assert status == 201, body
        finally:
            await host.redis.restore()


async def test_the_ops_routes_answer_only_to_the_ops_key_in_its_header(host: LimitedHost) -> None:
    async with client(host, 18) as http:

        async def status_of(path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
            async with http.get(path, headers=headers or {}) as response:
                body = await response.json(content_type=None)
                return response.status, (body or {}).get("error", {}).get("code", "")

        for path in ("/api/ops/summary", "/api/ops/usage", "/api/ops/providers", "/api/ops/poison"):
            assert await status_of(path) == (401, "missing_ops_key")
            assert await status_of(path, {"X-Ops-Key": "not-the-key"}) == (403, "wrong_ops_key")
            # Never in a query string, never as the host's keys, the master key included.
            assert await status_of(f"{path}?code={OPS_KEY}") == (401, "missing_ops_key")
            assert await status_of(f"{path}?ops_key={OPS_KEY}") == (401, "missing_ops_key")
            assert await status_of(path, {"x-functions-key": OPS_KEY}) == (401, "missing_ops_key")
            assert await status_of(path, {"x-functions-key": MASTER_KEY}) == (401, "missing_ops_key")
            assert (await status_of(path, OPS_HEADERS))[0] == 200
        async with http.post("/api/ops/poison/replay", headers={"X-Ops-Key": "nope"}) as response:
            assert response.status == 403
        async with http.post("/api/ops/poison/replay", headers=OPS_HEADERS) as response:
            assert response.status == 200
