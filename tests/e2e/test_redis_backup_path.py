"""A primary and a backup Redis under the running app (HTTP -> devhost -> queue -> worker): with either
one down, whole interviews still go through, and the backup is used only while the primary is down.

Both servers are real; each sits behind a TCP proxy that this test process serves, so an outage is a
refused connection, as when a server dies, without stopping the server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from devhost.stack import start_azurite, start_devhost, start_redis
from testing.app_stack import MASTER_KEY, NO_CLIENT_LIMITS, ROOT
from testing.fakes.tcp_proxy import Proxy
from testing.interview_client import start_interview, unique_answer

# Starts its own servers (redis-server, Azurite or the host): not in the fast tier.
pytestmark = pytest.mark.service

RETRY_PRIMARY_SECONDS = 1.0


class Redundant:
    def __init__(self, url: str, primary: Proxy, backup: Proxy, backup_direct: Redis) -> None:
        self.url = url
        self.primary = primary
        self.backup = backup
        self.backup_direct = backup_direct


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Redundant]:
    workdir = tmp_path_factory.mktemp("backup-path")
    with (
        start_redis(workdir / "primary") as primary_server,
        start_redis(workdir / "backup") as backup_server,
        start_azurite(workdir / "azurite", in_memory=True) as azurite,
    ):
        primary, backup = Proxy.in_front_of(primary_server.url), Proxy.in_front_of(backup_server.url)
        await primary.start()
        await backup.start()
        env = {
            "REDIS_URL": primary.url,
            "REDIS_BACKUP_URL": backup.url,
            "REDIS_TIMEOUT_SECONDS": "0.5",
            "REDIS_RETRY_PRIMARY_SECONDS": str(RETRY_PRIMARY_SECONDS),
            "AzureWebJobsStorage": azurite.url,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            **NO_CLIENT_LIMITS,
            "REMOTE_JOBS": "evaluate,questions,report",  # the queue and the worker use Redis too
        }
        # The devhost starts in a thread: this event loop must keep serving the proxies meanwhile.
        host_context = start_devhost(ROOT, env)
        host = await asyncio.to_thread(host_context.__enter__)
        try:
            async with Redis.from_url(backup_server.url) as backup_direct:
                yield Redundant(host.url, primary, backup, backup_direct)
        finally:
            await asyncio.to_thread(host_context.__exit__, None, None, None)
            await primary.stop()
            await backup.stop()


async def whole_interview(base_url: str, tag: str) -> None:
    async with aiohttp.ClientSession(base_url=base_url) as http:
        candidate = await start_interview(http, questions=3)
        for turn in (1, 2, 3):
            result = await candidate.answer_and_wait(turn, unique_answer(f"{tag}-{candidate.id}-{turn}"))
            assert result["feedback"]["overall"] >= 1
        status, report = await candidate.report(wait=15)
        assert status == 200, report


async def backup_commands(app: Redundant) -> int:
    stats = await app.backup_direct.info("stats")
    return int(stats["total_commands_processed"])


async def test_with_the_backup_down_nothing_reaches_it(app: Redundant) -> None:
    await app.backup.refuse()
    try:
        before = app.backup.chunks
        await whole_interview(app.url, "backup-down")
        assert app.backup.chunks == before
    finally:
        await app.backup.restore()


async def test_with_the_primary_down_interviews_go_on_over_the_backup(app: Redundant) -> None:
    before = await backup_commands(app)
    await app.primary.refuse()
    try:
        await whole_interview(app.url, "primary-down")
        # The turn markers, counters and ready signals of this interview went to the backup.
        assert await backup_commands(app) > before + 10
        assert await app.backup_direct.keys("queued:*")
    finally:
        await app.primary.restore()


async def test_once_the_primary_answers_again_the_backup_is_left_alone(app: Redundant) -> None:
    await asyncio.sleep(RETRY_PRIMARY_SECONDS + 0.5)
    await whole_interview(app.url, "probe")  # the first command of each instance finds the primary back
    primary_before, backup_before = app.primary.chunks, await backup_commands(app)
    await whole_interview(app.url, "primary-back")
    assert app.primary.chunks > primary_before
    # INFO itself is one command on the backup.
    assert await backup_commands(app) == backup_before + 1


async def test_with_both_down_interviews_still_go_through(app: Redundant) -> None:
    """Redis only saves effort (cache, counters, signals, queue markers); the record is in Table storage."""
    await app.primary.refuse()
    await app.backup.refuse()
    try:
        await whole_interview(app.url, "both-down")
    finally:
        await app.primary.restore()
        await app.backup.restore()
