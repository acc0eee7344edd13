"""Storage out of reach under the running app (HTTP -> devhost -> a real Azurite, stopped and started
again): every request answers 503 storage_unavailable with Retry-After within seconds, nothing logged
carries a query string, and once storage is back the interview goes on where it was."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from devhost.stack import Service, free_ports, start_azurite, start_devhost, start_redis
from testing.app_stack import NO_CLIENT_LIMITS, ROOT
from testing.interview_client import start_interview

# Starts its own servers (redis-server, Azurite and the host): not in the fast tier.
pytestmark = pytest.mark.service

# What "within a few seconds" means here: the storage SDK's connection attempts and its 2 retries.
ANSWERED_WITHIN_SECONDS = 8
SECRET_IN_QUERY = "never-log-this-query-value"


class Storage:
    """Azurite on fixed ports with its data on disk, so it can stop and come back with what it held."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        blob, queue, table = free_ports(3)
        self.ports = (blob, queue, table)
        self.service: Service | None = start_azurite(workdir, ports=self.ports)

    @property
    def url(self) -> str:
        assert self.service is not None
        return self.service.url

    def stop(self) -> None:
        if self.service is not None:
            self.service.stop()
            self.service = None

    def start(self) -> None:
        if self.service is None:
            self.service = start_azurite(self.workdir, ports=self.ports)


@dataclass
class Host:
    url: str
    log: Path
    storage: Storage


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    workdir = tmp_path_factory.mktemp("storage-outage")
    storage = Storage(workdir / "azurite")
    try:
        with start_redis(workdir / "redis") as redis:
            env = {
                "REDIS_URL": redis.url,
                "AzureWebJobsStorage": storage.url,
                "OPS_KEY": "",  # this host has ops off
                **NO_CLIENT_LIMITS,
            }
            log = workdir / "devhost.log"
            with start_devhost(ROOT, env, log_path=log) as devhost:
                yield Host(devhost.url, log, storage)
    finally:
        storage.stop()


async def timed(call: Any) -> tuple[aiohttp.ClientResponse, dict[str, Any], float]:
    """A request (aiohttp's request context manager), its JSON body and how long it took."""
    started = time.monotonic()
    async with call as response:
        body = await response.json()
        return response, body, time.monotonic() - started


async def test_requests_answer_503_with_retry_after_while_storage_is_down(host: Host) -> None:
    async with aiohttp.ClientSession(base_url=host.url) as http:
        candidate = await start_interview(http)
        await asyncio.to_thread(host.storage.stop)
        try:
            calls = {
                "create": http.post(
                    "/api/interviews",
                    json={"role": "qa", "level": "junior", "kind": "technical", "questions": 3},
                ),
                "answer": http.post(
                    f"/api/interviews/{candidate.id}/turns",
                    json={"turn": 1, "answer": "I don't know"},
                    headers=candidate.auth,
                ),
                "state": http.get(
                    f"/api/interviews/{candidate.id}?code={SECRET_IN_QUERY}", headers=candidate.auth
                ),
                "poll": http.get(
                    f"/api/interviews/{candidate.id}/turns/1?wait=1&token={SECRET_IN_QUERY}",
                    headers=candidate.auth,
                ),
            }
            for name, call in calls.items():
                response, body, seconds = await timed(call)
                assert response.status == 503, (name, body)
                assert body["error"]["code"] == "storage_unavailable", (name, body)
                assert int(response.headers["Retry-After"]) > 0, name
                assert seconds < ANSWERED_WITHIN_SECONDS, f"{name} took {seconds:.1f} s"
        finally:
            await asyncio.to_thread(host.storage.start)

        # Storage is back with what it held: the same interview goes on.
        status, result = await candidate.answer(1, "I don't know")
        assert status == 200, result
        assert (await candidate.state())["transcript"][0]["status"] == "done"

    logged = host.log.read_text("utf-8", errors="replace")
    assert "storage unreachable" in logged
    assert SECRET_IN_QUERY not in logged and "?code=" not in logged and "wait=1" not in logged
    assert candidate.token not in logged


async def test_ops_are_disabled_without_an_ops_key(host: Host) -> None:
    async with aiohttp.ClientSession(base_url=host.url) as http:
        for path in ("/api/ops/summary", "/api/ops/poison"):
            async with http.get(path, headers={"X-Ops-Key": "anything"}) as response:
                assert response.status == 503
                assert (await response.json())["error"]["code"] == "ops_disabled"
