"""Callbacks through the real path: HTTP -> devhost -> jobs queue -> worker -> callbacks queue -> a local
receiver (an aiohttp server in this process), with Redis and Azurite real.

The host of this module has its own Azurite (the suite's shared host also polls the callbacks queue, and
would take these events with settings of its own), signs with a test key, retries quickly (1 s, 1 s, 1 s:
four attempts) and exempts exactly the receiver's origin (CALLBACK_INSECURE_ORIGINS, test-only) from the
https and public-address checks. The receiver checks every signature the way the README's example does,
with the standard library only, and never with the app's own code."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import hmac
import json
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from azure.core.exceptions import ResourceExistsError, ResourceNotFoundError
from azure.data.tables.aio import TableClient
from azure.storage.queue import TextBase64DecodePolicy, TextBase64EncodePolicy
from azure.storage.queue.aio import QueueClient

from core.infra.callback_queue import FAILED_QUEUE
from devhost.stack import start_azurite, start_devhost
from testing.app_stack import NO_CLIENT_LIMITS, OPS_HEADERS, OPS_KEY, ROOT, Services
from testing.interview_client import Candidate, start_interview, unique_answer

pytestmark = pytest.mark.service

SIGNING_KEY = "test-callback-signing-key"
RETRIES = (1, 1, 1)
ATTEMPTS = len(RETRIES) + 1
# How long an event may take to arrive here: the worker, the queue's polling (2 s at most) and any retries.
ARRIVAL_SECONDS = 60


def signature_ok(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The README's receiver check: the timestamp near our clock, and the HMAC-SHA256 of
    "{id}.{timestamp}.{body}" under the secret's key equal to one of the v1 signatures."""
    msg_id = headers.get("webhook-id", "")
    timestamp = headers.get("webhook-timestamp", "")
    if not msg_id or not timestamp.isdigit() or abs(time.time() - int(timestamp)) > 300:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    signed = f"{msg_id}.{timestamp}.".encode() + body
    expected = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    return any(
        version == "v1" and hmac.compare_digest(expected, value)
        for version, _, value in (
            part.partition(",") for part in headers.get("webhook-signature", "").split()
        )
    )


@dataclass
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int

    @property
    def event(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


@dataclass
class Receiver:
    """POST /ok/<tag>: 200. /flaky/<tag>: 500 to the first two attempts of each event, then 200.
    /first-flaky/<tag>: the same for the first event only. /down/<tag>: 503 while <tag> is in `down`."""

    deliveries: list[Delivery] = field(default_factory=list)
    down: set[str] = field(default_factory=set)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        kind, tag = request.match_info["kind"], request.match_info["tag"]
        headers = {name.lower(): value for name, value in request.headers.items()}
        body = await request.read()
        status = 200
        tries = sum(1 for seen in self.deliveries if seen.headers["webhook-id"] == headers.get("webhook-id"))
        if kind == "flaky" or (kind == "first-flaky" and json.loads(body)["data"]["sequence"] == 1):
            status = 500 if tries < 2 else 200
        elif kind == "down" and tag in self.down:
            status = 503
        self.deliveries.append(Delivery(request.path, headers, body, status))
        self.arrived.set()
        return web.Response(status=status, text="thanks")

    def to(self, path: str) -> list[Delivery]:
        return [delivery for delivery in self.deliveries if delivery.path == path]

    async def wait_for(self, done: Callable[[], bool], seconds: float = ARRIVAL_SECONDS) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not done():
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, (
                f"still waiting; received: {[(d.path, d.status, d.body) for d in self.deliveries]}"
            )
            self.arrived.clear()
            try:
                await asyncio.wait_for(self.arrived.wait(), min(left, 2))
            except TimeoutError:
                continue


@dataclass
class CallbackHost:
    url: str
    storage: str
    receiver: Receiver


@pytest.fixture(scope="module")
async def host(services: Services, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[CallbackHost]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/{kind}/{tag}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    receiver.url = f"http://127.0.0.1:{port}"
    workdir = tmp_path_factory.mktemp("callbacks")
    try:
        with start_azurite(workdir / "azurite", in_memory=True) as azurite:
            env = {
                "REDIS_URL": services.redis_url,
                "AzureWebJobsStorage": azurite.url,
                "OPS_KEY": OPS_KEY,
                **NO_CLIENT_LIMITS,
                "REMOTE_JOBS": "evaluate,questions,report",
                "CALLBACK_SIGNING_KEY": SIGNING_KEY,
                "CALLBACK_INSECURE_ORIGINS": receiver.url,
                "CALLBACK_ALLOWED_HOSTS": "example.com,127.0.0.1",
                "CALLBACK_RETRY_SECONDS": ",".join(map(str, RETRIES)),
                "CALLBACK_ORDER_WAIT_SECONDS": "120",
            }
            # The devhost starts in a thread: this event loop must keep serving the receiver meanwhile.
            host_context = start_devhost(ROOT, env)
            started = await asyncio.to_thread(host_context.__enter__)
            try:
                yield CallbackHost(started.url, azurite.url, receiver)
            finally:
                await asyncio.to_thread(host_context.__exit__, None, None, None)
    finally:
        await runner.cleanup()


@pytest.fixture
async def http(host: CallbackHost) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=host.url) as session:
        yield session


async def _answer_all(candidate: Candidate, answers: list[str]) -> None:
    for turn, text in enumerate(answers, start=1):
        await candidate.answer_and_wait(turn, text)


def _events(deliveries: list[Delivery]) -> list[tuple[str, int | None, int]]:
    return [(d.event["type"], d.event["data"]["turn"], d.event["data"]["sequence"]) for d in deliveries]


async def test_a_whole_interview_is_called_back_signed_and_in_order(
    host: CallbackHost, http: aiohttp.ClientSession
) -> None:
    url = f"{host.receiver.url}/ok/whole"
    candidate = await start_interview(http, callback_url=url)
    secret = candidate.created["callback_secret"]
    assert secret.startswith("whsec_")
    # Turns 1 and 3 go through the queue and the worker; turn 2, a non-answer, is answered at once.
    await _answer_all(candidate, [unique_answer("callbacks-1"), "I don't know", unique_answer("callbacks-3")])
    status, _ = await candidate.report(wait=20)
    assert status == 200

    receiver = host.receiver
    await receiver.wait_for(lambda: len(receiver.to("/ok/whole")) >= 4)
    deliveries = receiver.to("/ok/whole")
    assert _events(deliveries) == [
        ("turn.ready", 1, 1),
        ("turn.ready", 2, 2),
        ("turn.ready", 3, 3),
        ("report.ready", None, 4),
    ]
    for delivery in deliveries:
        assert signature_ok(secret, delivery.headers, delivery.body), delivery.headers
        assert not signature_ok(
            "whsec_" + base64.b64encode(b"x" * 32).decode(), delivery.headers, delivery.body
        )
        assert delivery.event["data"]["interview_id"] == candidate.id
        assert delivery.headers["webhook-id"] == f"{candidate.id}-{delivery.event['data']['sequence']}"
        assert delivery.headers["content-type"] == "application/json"
    # The event says where to read the result, not the result: the URL answers with the interview's token.
    for delivery in deliveries:
        async with http.get(delivery.event["data"]["url"], headers=candidate.auth) as response:
            assert response.status == 200
            assert "feedback" in await response.json() or delivery.event["type"] == "report.ready"
    assert "feedback" not in deliveries[0].body.decode() and "answer" not in deliveries[0].event["data"]


async def test_a_receiver_that_fails_twice_gets_each_event_on_the_third_attempt(
    host: CallbackHost, http: aiohttp.ClientSession
) -> None:
    path = "/flaky/retries"
    candidate = await start_interview(http, callback_url=host.receiver.url + path)
    await _answer_all(candidate, ["I don't know", "No idea", "I don't know"])
    receiver = host.receiver
    await receiver.wait_for(lambda: sum(d.status == 200 for d in receiver.to(path)) >= 4)
    deliveries = receiver.to(path)
    attempts = Counter(delivery.headers["webhook-id"] for delivery in deliveries)
    assert sorted(attempts.values()) == [3, 3, 3, 3], attempts
    for event_id in attempts:
        tries = [delivery for delivery in deliveries if delivery.headers["webhook-id"] == event_id]
        assert [delivery.status for delivery in tries] == [500, 500, 200]
        # One body for the event, a fresh timestamp (and signature) for each attempt, all signed.
        assert len({delivery.body for delivery in tries}) == 1
        assert all(signature_ok(candidate.created["callback_secret"], d.headers, d.body) for d in tries)
    taken = [delivery for delivery in deliveries if delivery.status == 200]
    assert [sequence for _, _, sequence in _events(taken)] == [1, 2, 3, 4]


async def test_later_events_wait_for_an_earlier_one_being_retried(
    host: CallbackHost, http: aiohttp.ClientSession
) -> None:
    """Turn 1's event fails twice; the others are ready meanwhile, and still come after it."""
    path = "/first-flaky/order"
    candidate = await start_interview(http, callback_url=host.receiver.url + path)
    await _answer_all(candidate, ["I don't know", "No idea", "I don't know"])
    receiver = host.receiver
    await receiver.wait_for(lambda: sum(d.status == 200 for d in receiver.to(path)) >= 4)
    deliveries = receiver.to(path)
    assert [(d.event["data"]["sequence"], d.status) for d in deliveries] == [
        (1, 500),
        (1, 500),
        (1, 200),
        (2, 200),
        (3, 200),
        (4, 200),
    ]


async def _failed(http: aiohttp.ClientSession) -> dict[str, Any]:
    async with http.get("/api/ops/callbacks/failed", headers=OPS_HEADERS) as response:
        assert response.status == 200
        body: dict[str, Any] = await response.json()
        return body


async def _eventually(check: Callable[[], Awaitable[bool]], seconds: float = ARRIVAL_SECONDS) -> None:
    deadline = asyncio.get_running_loop().time() + seconds
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "not within the time allowed"
        await asyncio.sleep(0.5)


async def test_a_receiver_that_stays_down_is_recorded_failed_then_replayed(
    host: CallbackHost, http: aiohttp.ClientSession
) -> None:
    path = "/down/replay"
    receiver = host.receiver
    receiver.down.add("replay")
    candidate = await start_interview(http, callback_url=receiver.url + path)
    await candidate.answer_and_wait(1, "I don't know")
    event_id = f"{candidate.id}-1"

    async def listed() -> bool:
        return any(failed["event_id"] == event_id for failed in (await _failed(http))["callbacks"])

    await _eventually(listed)
    failed = next(failed for failed in (await _failed(http))["callbacks"] if failed["event_id"] == event_id)
    assert failed["event"]["attempts"] == ATTEMPTS
    assert failed["event"]["last_error"] == "HTTP 503"
    # Tried exactly as often as the settings say, then left alone.
    assert [delivery.status for delivery in receiver.to(path)] == [503] * ATTEMPTS

    async with http.get("/api/ops/callbacks/failed") as response:  # the ops key is required
        assert response.status == 401
    receiver.down.discard("replay")
    async with http.post("/api/ops/callbacks/replay", headers=OPS_HEADERS) as response:
        assert response.status == 200
        assert (await response.json())["replayed"] >= 1

    await receiver.wait_for(lambda: any(delivery.status == 200 for delivery in receiver.to(path)))
    taken = [delivery for delivery in receiver.to(path) if delivery.status == 200]
    assert len(taken) == 1 and taken[0].headers["webhook-id"] == event_id
    assert signature_ok(candidate.created["callback_secret"], taken[0].headers, taken[0].body)
    assert not await listed()


async def test_a_message_that_is_not_an_event_is_counted_and_left_alone(
    host: CallbackHost, http: aiohttp.ClientSession
) -> None:
    """One unreadable message in the failed queue (hand-written, or from another version) neither hides
    the events listed beside it nor counts as replayed: it stays for a person to look at."""
    # Base64, as the app's queues are (QUEUE_MESSAGE_ENCODING).
    base64_text = {
        "message_encode_policy": TextBase64EncodePolicy(),
        "message_decode_policy": TextBase64DecodePolicy(),
    }
    async with QueueClient.from_connection_string(host.storage, FAILED_QUEUE, **base64_text) as failed:
        with contextlib.suppress(ResourceExistsError):  # made on the first failure, which may not be yet
            await failed.create_queue()
        await failed.send_message("not an event")
        status = await _failed(http)
        assert status["unreadable"] >= 1
        async with http.post("/api/ops/callbacks/replay", headers=OPS_HEADERS) as response:
            assert response.status == 200
            replayed = await response.json()
        assert replayed["unreadable"] >= 1
        peeked = [message.content for message in await failed.peek_messages(max_messages=32)]
        assert "not an event" in peeked
        # Cleaned up for the other tests of this module.
        async for message in failed.receive_messages(max_messages=32, messages_per_page=32):
            if message.content == "not an event":
                await failed.delete_message(message)


async def _interviews_stored(storage: str) -> int:
    async with TableClient.from_connection_string(storage, "interviews") as table:
        try:
            return len([entity async for entity in table.query_entities("RowKey eq 'interview'")])
        except ResourceNotFoundError:  # no interview was ever created on this host
            return 0


@pytest.mark.parametrize(
    "callback_url",
    [
        "http://example.com/hooks",  # not https
        "https://10.0.0.5/hooks",  # a private address
        "https://127.0.0.1/hooks",  # loopback
        "https://[::1]/hooks",
        "https://[::ffff:127.0.0.1]/hooks",  # IPv4-mapped loopback
        "https://169.254.169.254/latest/meta-data",  # link-local (cloud metadata)
        "https://localhost/hooks",  # a name that resolves to a loopback address
        "https://8.8.8.8/hooks",  # public, but not on the allow-list
        "https://user:secret@example.com/hooks",
        "not a url",
        "https://example.com/" + "a" * 2100,  # over 2 KB
    ],
)
async def test_a_callback_url_that_is_refused_creates_nothing(
    host: CallbackHost, http: aiohttp.ClientSession, callback_url: str
) -> None:
    before = await _interviews_stored(host.storage)
    body = {"role": "backend", "level": "mid", "kind": "mixed", "questions": 3, "callback_url": callback_url}
    async with http.post("/api/interviews", json=body) as response:
        assert response.status == 422
        error = (await response.json())["error"]
    assert error["code"] in ("invalid_callback_url", "invalid_body"), error
    assert "callback_url" in error["message"]
    assert await _interviews_stored(host.storage) == before


async def test_only_the_exact_test_origin_is_exempt(host: CallbackHost, http: aiohttp.ClientSession) -> None:
    port = int(host.receiver.url.rpartition(":")[2])
    for url in (
        f"http://127.0.0.1:{port + 1}/ok/x",
        f"https://127.0.0.1:{port}/ok/x",
        f"http://localhost:{port}/",
    ):
        body = {"role": "backend", "level": "mid", "kind": "mixed", "questions": 3, "callback_url": url}
        async with http.post("/api/interviews", json=body) as response:
            assert response.status == 422, url
            assert (await response.json())["error"]["code"] == "invalid_callback_url"
