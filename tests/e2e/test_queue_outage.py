"""The jobs queue out of reach while table storage answers (HTTP -> devhost -> a real Azurite whose queue
endpoint sits behind a TCP proxy that refuses connections): an answer that completes the interview is
stored, scored and answered 200, and its report is queued again by the next GET .../report once the queue
is back. Found by `make chaos` (azurite-restarted): the last answer was stored but answered 503, and a
retry then got 409 interview_finished."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from devhost.stack import start_azurite, start_devhost, start_redis
from testing.app_stack import NO_CLIENT_LIMITS, ROOT
from testing.fakes.tcp_proxy import Proxy
from testing.interview_client import start_interview

# Starts its own servers (redis-server, Azurite and the host): not in the fast tier.
pytestmark = pytest.mark.service

# A report queued again comes within a few long-polls: the failed send's queueing time was taken back, so it
# does not hold the report back for REQUEUE_AFTER_SECONDS (60 s).
REPORT_POLLS = 3


class QueueOutage:
    def __init__(self, url: str, queue: Proxy, redis: Redis) -> None:
        self.url = url
        self.queue = queue
        self.redis = redis


@pytest.fixture(scope="module")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[QueueOutage]:
    workdir = tmp_path_factory.mktemp("queue-outage")
    with (
        start_redis(workdir / "redis") as redis,
        start_azurite(workdir / "azurite", in_memory=True) as azurite,
    ):
        queue_port = int(azurite.url.split("QueueEndpoint=http://127.0.0.1:")[1].split("/")[0])
        queue = Proxy(queue_port)
        await queue.start()
        storage = azurite.url.replace(f"127.0.0.1:{queue_port}/", f"127.0.0.1:{queue.port}/")
        env = {"REDIS_URL": redis.url, "AzureWebJobsStorage": storage, **NO_CLIENT_LIMITS}
        # The devhost starts in a thread: this event loop must keep serving the proxy meanwhile.
        host_context = start_devhost(ROOT, env)
        host = await asyncio.to_thread(host_context.__enter__)
        try:
            async with Redis.from_url(redis.url) as direct:
                yield QueueOutage(host.url, queue, direct)
        finally:
            await asyncio.to_thread(host_context.__exit__, None, None, None)
            await queue.stop()


async def test_the_last_answer_is_answered_while_its_report_cannot_be_queued(app: QueueOutage) -> None:
    async with aiohttp.ClientSession(base_url=app.url) as http:
        candidate = await start_interview(http, questions=3)
        for turn in (1, 2):
            status, result = await candidate.answer(turn, "I don't know")
            assert status == 200, result
        await app.queue.refuse()
        try:
            status, result = await candidate.answer(3, "I don't know")
            # The report was not queued, so nothing may say it was: no marker in Redis, and the record's
            # report_queued_at taken back (core/interview/progress.py), so the next poll queues it at once.
            assert not await app.redis.exists(f"queued:{candidate.id}:report")
        finally:
            await app.queue.restore()
        assert status == 200, result
        assert result["source"] == "template" and result["report_url"]
        state = await candidate.state()
        assert [entry["status"] for entry in state["transcript"]] == ["done", "done", "done"]
        for _ in range(REPORT_POLLS):
            status, report = await candidate.report(wait=10)
            if status == 200:
                break
        assert status == 200, report
