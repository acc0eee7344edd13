"""The fake provider server every wire dialect runs in: an aiohttp server on 127.0.0.1 per fake, started
and stopped by the test, that answers each request with an outcome and lets its dialect word the answer.

It first lets the dialect check the key and the shape of the request the way its provider does (a wrong
key gets that provider's 401, a malformed body its 400); then, if the fake has `limits` (limits.py), lets
its ledger admit the call or refuse it the way the provider refuses it (a per-minute limit with the
dialect's minute-limit 429 and a retry hint, a daily or monthly one with the daily-limit reply each adapter
reads as day_limit), counting each such refusal in `limit_refusals` by limit; then answers with the next
outcome in `script`, else one drawn from `failure_rates` with a seeded random generator, else success.
A reply never has more completion tokens than the request's max_tokens: a longer one is cut, as a real
provider cuts it (finish reason "length" / MAX_TOKENS). The outcomes this
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
import time
from abc import ABC, abstractmethod
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from aiohttp import web

from testing.fakes.limits import Charge, Ledger, LimitHit, Limits

Wire = Literal["openai", "gemini", "cloudflare"]
Flavour = Literal["generic", "groq", "openrouter"]
Outcome = Literal[
    "ok", "minute_limit", "day_limit", "server", "slow", "garbage", "wrong_shape", "empty", "auth", "down"
]
ReplyContent = str | dict[str, Any]
Reply = ReplyContent | Callable[[dict[str, Any]], ReplyContent]

SLOW_SECONDS = 30.0
# Outcomes whose 2xx reply spends the prompt and the completion the fake generated; a reply with no
# answer (empty, wrong_shape) spends the prompt; an error reply or a dropped connection spends nothing.
ANSWERED: frozenset[str] = frozenset({"ok", "slow", "garbage"})
UNANSWERED_2XX: frozenset[str] = frozenset({"empty", "wrong_shape"})


TOKEN_CHARS = 4


def estimated_tokens(text: str) -> int:
    """The token count a fake reports for a text: about four characters a token."""
    return max(1, len(text) // TOKEN_CHARS)


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
    outcome: str  # an Outcome, "rejected", or "limit:{name}" for a call a limit refused
    charge: Charge | None = None  # what an admitted call spent, if the fake has limits
    refusal: LimitHit | None = None  # the limit a refused call would have passed
    at: float = 0.0  # when it arrived, by the fake's clock


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

    @property
    def sent_key(self) -> str:
        """The API key the request carries (a bearer token, unless the wire says otherwise)."""
        return self.request.headers.get("Authorization", "").removeprefix("Bearer ")

    @property
    def max_tokens(self) -> int | None:
        """The completion tokens the request allows, if it says."""
        found = self.body.get("max_tokens")
        return found if isinstance(found, int) else None

    @abstractmethod
    def rejection(self) -> web.Response | None:
        """The provider's answer to a request it refuses (wrong key, malformed body), else None."""

    @abstractmethod
    def success(self, content: ReplyContent, cut: bool = False) -> web.Response:
        """A completion; `cut` when it stopped at the request's max_tokens."""

    @abstractmethod
    def empty(self) -> web.Response: ...

    @abstractmethod
    def wrong_shape(self) -> web.Response: ...

    @abstractmethod
    def minute_limit(self, hit: LimitHit | None = None) -> web.Response:
        """A per-minute 429; with `hit`, naming that limit and when the call would fit."""

    @abstractmethod
    def day_limit(self, hit: LimitHit | None = None) -> web.Response:
        """The daily-limit 429 the adapters read as day_limit; with `hit`, naming that limit."""

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
        extra_keys: Sequence[str] = (),
        limits: Limits | None = None,
        ledger: Ledger | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """`extra_keys`: more keys the fake accepts besides `api_key`. `limits`: what it enforces, on a
        ledger of its own, or `ledger`: one shared with other fakes that spend the same limits."""
        self.wire = wire
        self.flavour = flavour
        self.api_key = api_key
        self.api_keys = (api_key, *extra_keys)
        self.account_id = account_id
        self.received: list[Received] = []
        self.outcomes: Counter[str] = Counter()
        self.ledger = ledger if ledger is not None else Ledger(limits, clock) if limits is not None else None
        self._clock = self.ledger.clock if self.ledger is not None else clock
        self.limit_refusals: Counter[str] = Counter()
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
    def limits(self) -> Limits | None:
        return self.ledger.limits if self.ledger is not None else None

    def accepts(self, key: str) -> bool:
        return key in self.api_keys

    @property
    def bearer_tokens(self) -> set[str]:
        """The Authorization headers the fake accepts."""
        return {f"Bearer {key}" for key in self.api_keys}

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
        reply: tuple[ReplyContent, bool] | None = None
        charge: Charge | None = None
        prompt = completion = 0
        if self.ledger is not None:
            reply = self._reply_to(dialect, body)
            prompt, completion = estimated_tokens(dialect.prompt_text), estimated_tokens(as_text(reply[0]))
            admitted = self.ledger.admit(dialect.sent_key, prompt, completion, dialect.max_tokens)
            if isinstance(admitted, LimitHit):
                self.limit_refusals[admitted.name] += 1
                self._record(request, body, f"limit:{admitted.name}", refusal=admitted)
                if admitted.period == "minute":
                    return dialect.minute_limit(admitted)
                return dialect.day_limit(admitted)
            charge = admitted
        outcome = self._next_outcome()
        self._record(request, body, outcome, charge)
        if charge is None:
            return await self._answer(request, body, dialect, outcome, reply)
        # What the call spends is known once its outcome is; a provider that counted max_tokens on
        # arrival holds them until it has answered.
        spent = (
            (prompt, completion)
            if outcome in ANSWERED
            else (prompt, estimated_tokens(""))
            if outcome in UNANSWERED_2XX
            else (0, 0)
        )
        assert self.ledger is not None
        if not self.ledger.limits.counts_max_tokens_on_arrival:
            self.ledger.settle(charge, *spent)
        try:
            return await self._answer(request, body, dialect, outcome, reply)
        finally:
            self.ledger.settle(charge, *spent)

    async def _answer(
        self,
        request: web.Request,
        body: Any,
        dialect: Dialect,
        outcome: Outcome,
        reply: tuple[ReplyContent, bool] | None,
    ) -> web.StreamResponse:
        await self._pause(self.request_latency())
        if outcome == "slow":
            await self._pause(SLOW_SECONDS)
        if outcome == "down" or self._stopping.is_set():
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPServiceUnavailable()  # never sent: the connection is already gone
        if outcome == "garbage":
            # A reply cut short by a proxy: half of a real success body.
            success = dialect.success(*(reply or self._reply_to(dialect, body)))
            whole = success.body
            assert isinstance(whole, bytes)
            return web.Response(body=whole[: len(whole) // 2], headers=success.headers)
        if outcome in ("ok", "slow"):
            return dialect.success(*(reply or self._reply_to(dialect, body)))
        return dialect.failure(outcome)

    def _record(
        self,
        request: web.Request,
        body: Any,
        outcome: str,
        charge: Charge | None = None,
        refusal: LimitHit | None = None,
    ) -> None:
        received = Received(
            request.path, dict(request.headers), body, outcome, charge, refusal, self._clock()
        )
        self.received.append(received)
        self.outcomes[outcome] += 1

    def _reply_to(self, dialect: Dialect, body: Any) -> tuple[ReplyContent, bool]:
        """The reply's content, and whether it was cut at the request's max_tokens."""
        content = self._reply(body) if callable(self._reply) else self._reply
        limit, text = dialect.max_tokens, as_text(content)
        if limit is not None and estimated_tokens(text) > limit:
            return text[: max(limit, 1) * TOKEN_CHARS], True
        return content, False
