"""The fake provider server every wire dialect runs in: an aiohttp server on 127.0.0.1 per fake, started
and stopped by the test, that answers each request with an outcome and lets its dialect word the answer.

It first lets the dialect check the key and the shape of the request the way its provider does (a wrong
key gets that provider's 401, a malformed body its 400), then answers with the next outcome in `script`,
else one drawn from `failure_rates` with a seeded random generator, else success. The outcomes this
module plays itself are the ones that look alike in every wire format: a slow reply, a dropped
connection and a body cut short; the dialect words the rest (success, rate limits, errors, odd shapes).

The dialects (openai_compatible, gemini, cloudflare) subclass `Dialect` naming their wire; the package
imports them all, so `FakeProvider(wire)` finds its dialect whichever module of the package was imported.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from aiohttp import web

Wire = Literal["openai", "gemini", "cloudflare"]
Flavour = Literal["generic", "groq", "openrouter"]
Outcome = Literal[
    "ok", "minute_limit", "day_limit", "server", "slow", "garbage", "wrong_shape", "empty", "auth", "down"
]
ReplyContent = str | dict[str, Any]
Reply = ReplyContent | Callable[[dict[str, Any]], ReplyContent]

SLOW_SECONDS = 30.0


def estimated_tokens(text: str) -> int:
    """The token count a fake reports for a text: about four characters a token."""
    return max(1, len(text) // 4)


def refusing_base_url() -> str:
    """A base URL on a port nobody listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def as_text(content: ReplyContent) -> str:
    return content if isinstance(content, str) else json.dumps(content)


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    outcome: str


class Dialect(ABC):
    """How one wire format checks a request and words each answer.

    A subclass names its wire (`class GeminiDialect(Dialect, wire="gemini")`), the path of its base URL
    and the routes it answers on."""

    wire: ClassVar[Wire]
    base_path: ClassVar[str]
    routes: ClassVar[tuple[str, ...]]
    _by_wire: ClassVar[dict[str, type[Dialect]]] = {}

    def __init_subclass__(cls, *, wire: Wire, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.wire = wire
        Dialect._by_wire[wire] = cls

    @staticmethod
    def of(wire: Wire) -> type[Dialect]:
        return Dialect._by_wire[wire]

    def __init__(self, fake: FakeProvider, request: web.Request, body: Any) -> None:
        self.fake = fake
        self.request = request
        self.body: dict[str, Any] = body if isinstance(body, dict) else {}
        self.parsed = isinstance(body, dict)

    @property
    def prompt_text(self) -> str:
        return json.dumps(self.body)

    @abstractmethod
    def rejection(self) -> web.Response | None:
        """The provider's answer to a request it refuses (wrong key, malformed body), else None."""

    @abstractmethod
    def success(self, content: ReplyContent) -> web.Response: ...

    @abstractmethod
    def empty(self) -> web.Response: ...

    @abstractmethod
    def wrong_shape(self) -> web.Response: ...

    @abstractmethod
    def minute_limit(self) -> web.Response: ...

    @abstractmethod
    def day_limit(self) -> web.Response: ...

    @abstractmethod
    def server(self) -> web.Response: ...

    @abstractmethod
    def auth(self) -> web.Response: ...

    def failure(self, outcome: Outcome) -> web.Response:
        """The reply of an outcome the dialect words itself: an error, a limit or an odd success."""
        replies: dict[str, Callable[[], web.Response]] = {
            "minute_limit": self.minute_limit,
            "day_limit": self.day_limit,
            "server": self.server,
            "auth": self.auth,
            "empty": self.empty,
            "wrong_shape": self.wrong_shape,
        }
        return replies[outcome]()


class FakeProvider:
    def __init__(
        self,
        wire: Wire,
        *,
        reply: Reply = '{"ok": true}',
        script: list[Outcome] | None = None,
        failure_rates: dict[Outcome, float] | None = None,
        latency: float = 0.0,
        seed: int = 0,
        flavour: Flavour = "generic",
        api_key: str = "test-key",
        account_id: str = "test-account",
    ) -> None:
        self.wire = wire
        self.flavour = flavour
        self.api_key = api_key
        self.account_id = account_id
        self.received: list[Received] = []
        self.outcomes: Counter[str] = Counter()
        self._dialect = Dialect.of(wire)
        self._reply = reply
        self._script = list(script or [])
        self._failure_rates = dict(failure_rates or {})
        self._latency = latency
        self._random = random.Random(seed)
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._origin = ""

    @property
    def requests(self) -> list[Any]:
        """Every request body received, in order, whatever was answered."""
        return [received.body for received in self.received]

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def base_url(self) -> str:
        return self._origin + self._dialect.base_path

    async def start(self) -> str:
        app = web.Application()
        for route in self._dialect.routes:
            app.router.add_post(route, self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        listener = socket.socket()
        listener.bind(("127.0.0.1", 0))
        site = web.SockSite(self._runner, listener)
        await site.start()
        self._origin = f"http://127.0.0.1:{listener.getsockname()[1]}"
        return self.base_url

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeProvider:
        await self.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def request_latency(self) -> float:
        """How long to wait before answering one request (a subclass may vary it per request)."""
        return self._latency

    def _next_outcome(self) -> Outcome:
        if self._script:
            return self._script.pop(0)
        draw, threshold = self._random.random(), 0.0
        for outcome, rate in self._failure_rates.items():
            threshold += rate
            if draw < threshold:
                return outcome
        return "ok"

    async def _pause(self, seconds: float) -> None:
        """Sleep, but wake as soon as the fake stops, so stopping never waits for a slow reply."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.text()
        body: Any
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        dialect = self._dialect(self, request, body)
        if (rejection := dialect.rejection()) is not None:
            self._record(request, body, "rejected")
            return rejection
        outcome = self._next_outcome()
        self._record(request, body, outcome)
        await self._pause(self.request_latency())
        if outcome == "slow":
            await self._pause(SLOW_SECONDS)
        if outcome == "down" or self._stopping.is_set():
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPServiceUnavailable()  # never sent: the connection is already gone
        if outcome == "garbage":
            # A reply cut short by a proxy: half of a real success body.
            success = dialect.success(self._reply_text(body))
            whole = success.body
            assert isinstance(whole, bytes)
            return web.Response(body=whole[: len(whole) // 2], headers=success.headers)
        if outcome in ("ok", "slow"):
            return dialect.success(self._reply_text(body))
        return dialect.failure(outcome)

    def _record(self, request: web.Request, body: Any, outcome: str) -> None:
        self.received.append(Received(request.path, dict(request.headers), body, outcome))
        self.outcomes[outcome] += 1

    def _reply_text(self, body: Any) -> ReplyContent:
        return self._reply(body) if callable(self._reply) else self._reply
