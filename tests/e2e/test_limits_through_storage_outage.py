"""The daily caps per client through a storage outage (HTTP -> devhost -> a real Azurite, stopped and
started again; a real Redis): a new interview refused 503 because its record could not be stored does not
count against its client, so a candidate who retries through the outage is not locked out for the day.
Found by `make chaos` (azurite-restarted): retries during the outage spent the daily custom roles."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from devhost.stack import Service, free_ports, start_azurite, start_devhost, start_redis
from testing.app_stack import ROOT

# Starts its own servers (redis-server, Azurite and the host): not in the fast tier.
pytestmark = pytest.mark.service

INTERVIEWS_A_DAY = 2
CUSTOM_ROLES_A_DAY = 1
CUSTOM = {"role": "custom", "custom_role": "Data engineer (Spark)", "level": "mid", "kind": "mixed"}
BANK = {"role": "qa", "level": "junior", "kind": "technical"}


@dataclass
class Host:
    url: str
    stop_storage: Any
    start_storage: Any


@pytest.fixture(scope="module")
async def host(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Host]:
    workdir = tmp_path_factory.mktemp("limits-outage")
    ports = (blob, queue, table) = tuple(free_ports(3))
    storage: list[Service] = [start_azurite(workdir / "azurite", ports=(blob, queue, table))]

    def stop_storage() -> None:
        storage.pop().stop()

    def start_storage() -> None:
        storage.append(start_azurite(workdir / "azurite", ports=ports))

    try:
        with start_redis(workdir / "redis") as redis:
            env = {
                "REDIS_URL": redis.url,
                "AzureWebJobsStorage": storage[0].url,
                "RATE_LIMIT_PER_MINUTE": "0",
                "DAILY_INTERVIEWS_PER_CLIENT": str(INTERVIEWS_A_DAY),
                "DAILY_CUSTOM_ROLES_PER_CLIENT": str(CUSTOM_ROLES_A_DAY),
            }
            with start_devhost(ROOT, env, log_path=workdir / "devhost.log") as devhost:
                yield Host(devhost.url, stop_storage, start_storage)
    finally:
        for service in storage:
            service.stop()


async def create(http: aiohttp.ClientSession, setup: dict[str, Any]) -> tuple[int, str]:
    async with http.post("/api/interviews", json=setup | {"questions": 3}) as response:
        body = await response.json()
        return response.status, body.get("error", {}).get("code", "") if response.status != 201 else ""


async def test_interviews_refused_for_storage_do_not_count_against_the_daily_caps(host: Host) -> None:
    connector = aiohttp.TCPConnector(local_addr=("127.0.0.7", 0))
    async with aiohttp.ClientSession(base_url=host.url, connector=connector) as http:
        await asyncio.to_thread(host.stop_storage)
        try:
            for _ in range(3):  # more than either cap
                assert await create(http, CUSTOM) == (503, "storage_unavailable")
        finally:
            await asyncio.to_thread(host.start_storage)
        # Storage is back: the client has its whole day left, and the caps still count what was stored.
        assert await create(http, CUSTOM) == (201, "")
        assert await create(http, CUSTOM) == (429, "daily_custom_roles")
        assert await create(http, BANK) == (201, "")
        assert await create(http, BANK) == (429, "daily_interviews")
