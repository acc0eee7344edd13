"""Local stand-ins for the LLM providers: an aiohttp server on 127.0.0.1 per fake, speaking one provider's
real wire format, with its real success envelope, error bodies and rate-limit headers.

It checks the key and the shape of each request the way its provider does (a wrong key gets that
provider's 401, a malformed body its 400), and answers each request with an outcome: the next one in
`script`, else one drawn from `failure_rates` with a seeded random generator, else success.

Base URLs, as `start()` returns them and a catalogue entry would hold them:
  openai      http://127.0.0.1:{port}/v1          (POST {base}/chat/completions); Cloudflare's
              OpenAI-compatible form also answers: {origin}/client/v4/accounts/{account_id}/ai/v1
  gemini      http://127.0.0.1:{port}/v1beta      (POST {base}/models/{model}:generateContent)
  cloudflare  http://127.0.0.1:{port}/client/v4   (POST {base}/accounts/{account_id}/ai/run/{model})
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import socket
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from aiohttp import web

Wire = Literal["openai", "gemini", "cloudflare"]
Flavour = Literal["generic", "groq", "openrouter"]
Outcome = Literal[
    "ok", "minute_limit", "day_limit", "server", "slow", "garbage", "wrong_shape", "empty", "auth", "down"
]
ReplyContent = str | dict[str, Any]
Reply = ReplyContent | Callable[[dict[str, Any]], ReplyContent]

SLOW_SECONDS = 30.0
ORGANISATION = "org_01fakeorganisation000000"
GROQ_REQUESTS_PER_DAY = 14400
GEMINI_RETRY_DELAYS = {"minute_limit": "7.5s", "day_limit": "37s"}
OPENAI_FIELDS = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "response_format",
    "stream", "stop", "seed", "n", "user", "tools", "tool_choice", "frequency_penalty", "presence_penalty",
}  # fmt: skip
GEMINI_FIELDS = {
    "contents", "systemInstruction", "system_instruction", "generationConfig", "generation_config",
    "safetySettings", "safety_settings", "tools", "toolConfig", "cachedContent",
}  # fmt: skip
GEMINI_GENERATION_FIELDS = {
    "maxOutputTokens", "temperature", "topP", "topK", "candidateCount", "stopSequences", "seed",
    "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig",
}  # fmt: skip


def estimated_tokens(text: str) -> int:
    """The token count a fake reports for a text: about four characters a token."""
    return max(1, len(text) // 4)


def refusing_base_url() -> str:
    """A base URL on a port nobody listens on: connecting to it is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: Any
    outcome: str


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
        prefix = {"openai": "/v1", "gemini": "/v1beta", "cloudflare": "/client/v4"}[self.wire]
        return self._origin + prefix

    async def start(self) -> str:
        app = web.Application()
        if self.wire == "openai":
            app.router.add_post("/v1/chat/completions", self._handle)
            app.router.add_post("/client/v4/accounts/{account}/ai/v1/chat/completions", self._handle)
        elif self.wire == "gemini":
            app.router.add_post("/v1beta/models/{model}:generateContent", self._handle)
        else:
            app.router.add_post("/client/v4/accounts/{account}/ai/run/{model:.+}", self._handle)
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
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw
        dialect = _DIALECTS[self.wire](self, request, body)
        rejection = dialect.rejection()
        outcome = "rejected" if rejection is not None else self._next_outcome()
        self.received.append(Received(request.path, dict(request.headers), body, outcome))
        self.outcomes[outcome] += 1
        if rejection is not None:
            return rejection
        await self._pause(self._latency)
        if outcome == "slow":
            await self._pause(SLOW_SECONDS)
        if outcome == "down" or self._stopping.is_set():
            assert request.transport is not None
            request.transport.close()
            raise web.HTTPServiceUnavailable()  # never sent: the connection is already gone
        if outcome == "garbage":
            # A reply cut short by a proxy: half of a real success body.
            success = dialect.success(self._reply_text(body))
            return web.Response(body=success.body[: len(success.body) // 2], headers=success.headers)
        if outcome in ("ok", "slow"):
            return dialect.success(self._reply_text(body))
        return getattr(dialect, outcome)()

    def _reply_text(self, body: Any) -> ReplyContent:
        return self._reply(body) if callable(self._reply) else self._reply


def _json(status: int, payload: Any, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(payload, status=status, headers=headers)


def _as_text(content: ReplyContent) -> str:
    return content if isinstance(content, str) else json.dumps(content)


class _Dialect:
    """How one wire format checks a request and words each answer."""

    def __init__(self, fake: FakeProvider, request: web.Request, body: Any) -> None:
        self.fake = fake
        self.request = request
        self.body = body if isinstance(body, dict) else {}
        self.parsed = isinstance(body, dict)

    @property
    def prompt_text(self) -> str:
        return json.dumps(self.body)


class _OpenAiDialect(_Dialect):
    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    def rejection(self) -> web.Response | None:
        account = self.request.match_info.get("account")
        if self.request.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
            return self.auth()
        if account is not None and account != self.fake.account_id:
            return self._invalid(f"Could not route to account {account}", None, status=404)
        if not self.parsed:
            return self._invalid("We could not parse the JSON body of your request.", None)
        if unknown := sorted(set(self.body) - OPENAI_FIELDS):
            return self._invalid(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0])
        if not self.model:
            return self._invalid("you must provide a model parameter", "model")
        messages = self.body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self._invalid("'messages' must be a non-empty array", "messages")
        for message in messages:
            if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant"):
                return self._invalid("each message needs a role of system, user or assistant", "messages")
            if not isinstance(message.get("content"), str):
                return self._invalid("each message needs a string content", "messages")
        if (response_format := self.body.get("response_format")) is not None and (
            not isinstance(response_format, dict)
            or response_format.get("type") not in ("text", "json_object", "json_schema")
        ):
            return self._invalid(
                "'response_format.type' must be text, json_object or json_schema", "response_format"
            )
        return None

    def _invalid(self, message: str, param: str | None, status: int = 400) -> web.Response:
        error = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
        return _json(status, {"error": error}, self._headers())

    def _headers(self, *, day_spent: bool = False) -> dict[str, str]:
        if self.fake.flavour != "groq":
            return {}
        # Groq documents these as always per day for requests and per minute for tokens.
        used = len(self.fake.received)
        return {
            "x-groq-region": "fake-1",
            "x-ratelimit-limit-requests": str(GROQ_REQUESTS_PER_DAY),
            "x-ratelimit-remaining-requests": "0" if day_spent else str(GROQ_REQUESTS_PER_DAY - used),
            "x-ratelimit-reset-requests": "2m59.56s" if day_spent else "6s",
            "x-ratelimit-limit-tokens": "6000",
            "x-ratelimit-remaining-tokens": "5400",
            "x-ratelimit-reset-tokens": "7.66s",
        }

    def success(self, content: ReplyContent) -> web.Response:
        return self._completion(_as_text(content), "stop")

    def _completion(self, text: str, finish_reason: str) -> web.Response:
        prompt, completion = estimated_tokens(self.prompt_text), estimated_tokens(text)
        payload: dict[str, Any] = {
            "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": self.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": text},
                    "logprobs": None,
                    "finish_reason": finish_reason,
                }
            ],
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
            "system_fingerprint": "fp_fake",
        }
        if self.fake.flavour == "groq":
            payload["x_groq"] = {"id": f"req_{uuid.uuid4().hex[:26]}"}
        if self.fake.flavour == "openrouter":
            payload |= {"id": f"gen-{uuid.uuid4().hex[:24]}", "provider": "Fake"}
        return _json(200, payload, self._headers())

    def empty(self) -> web.Response:
        return self._completion("", "stop")

    def wrong_shape(self) -> web.Response:
        # OpenRouter and others sometimes answer 200 with no choices at all.
        return _json(200, {"id": f"gen-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "choices": []})

    def minute_limit(self) -> web.Response:
        if self.fake.flavour == "openrouter":
            return self._openrouter_limit("free-models-per-min. ", limit=20, reset=_next_minute())
        if self.fake.flavour == "groq":
            period, headers = (
                "requests per minute (RPM): Limit 30, Used 30",
                {"retry-after": "2"} | self._headers(),
            )
            return self._rate_limited(period, "2s", headers)
        return self._rate_limited("requests per min (RPM): Limit 3, Used 3", "20s", {"retry-after": "20"})

    def day_limit(self) -> web.Response:
        if self.fake.flavour == "openrouter":
            return self._openrouter_limit(
                "free-models-per-day. Add 10 credits to unlock 1000 free model requests per day",
                limit=50,
                reset=_next_utc_midnight(),
            )
        if self.fake.flavour == "groq":
            period = f"requests per day (RPD): Limit {GROQ_REQUESTS_PER_DAY}, Used {GROQ_REQUESTS_PER_DAY}"
            headers = {"retry-after": "180"} | self._headers(day_spent=True)
            return self._rate_limited(period, "2m59.56s", headers)
        return self._rate_limited("requests per day (RPD): Limit 1000, Used 1000", "1m26.4s", {})

    def _rate_limited(self, period: str, wait: str, headers: dict[str, str]) -> web.Response:
        service_tier = " service tier `on_demand`" if self.fake.flavour == "groq" else ""
        message = (
            f"Rate limit reached for model `{self.model}` in organization `{ORGANISATION}`{service_tier} "
            f"on {period}, Requested 1. Please try again in {wait}."
        )
        error = {"message": message, "type": "requests", "code": "rate_limit_exceeded"}
        return _json(429, {"error": error}, headers)

    def _openrouter_limit(self, which: str, *, limit: int, reset: datetime) -> web.Response:
        rate_limit = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset": str(int(reset.timestamp() * 1000)),
        }
        error = {
            "message": f"Rate limit exceeded: {which}",
            "code": 429,
            "metadata": {"headers": rate_limit, "provider_name": None},
        }
        return _json(429, {"error": error, "user_id": "user_fake"})

    def server(self) -> web.Response:
        if self.fake.flavour == "groq":
            error = {"message": "Service Unavailable", "type": "internal_server_error"}
            return _json(503, {"error": error}, self._headers())
        if self.fake.flavour == "openrouter":
            error = {"message": "Provider returned error", "code": 502, "metadata": {"provider_name": "Fake"}}
            return _json(502, {"error": error, "user_id": "user_fake"})
        error = {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
        return _json(500, {"error": error})

    def auth(self) -> web.Response:
        if self.fake.flavour == "groq":
            error = {"message": "Invalid API Key", "type": "invalid_request_error", "code": "invalid_api_key"}
            return _json(401, {"error": error})
        if self.fake.flavour == "openrouter":
            return _json(401, {"error": {"message": "User not found.", "code": 401}})
        # OpenAI masks the middle of the key it quotes; quoting it whole makes redaction provable.
        sent = self.request.headers.get("Authorization", "").removeprefix("Bearer ")
        error = {
            "message": f"Incorrect API key provided: {sent}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
        return _json(401, {"error": error})


class _GeminiDialect(_Dialect):
    @property
    def model(self) -> str:
        return self.request.match_info["model"]

    def rejection(self) -> web.Response | None:
        sent = self.request.headers.get("x-goog-api-key") or self.request.query.get("key")
        if not sent:
            return self._status(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if sent != self.fake.api_key:
            return self.auth()
        if not self.parsed:
            return self._invalid("Invalid JSON payload received. Unexpected token.")
        unknown = sorted(set(self.body) - GEMINI_FIELDS) + sorted(
            set(self.body.get("generationConfig") or {}) - GEMINI_GENERATION_FIELDS
        )
        if unknown:
            return self._invalid(
                f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.'
            )
        contents = self.body.get("contents")
        if not isinstance(contents, list) or not contents:
            return self._invalid("* GenerateContentRequest.contents: contents is not specified\n")
        instruction = self.body.get("systemInstruction")
        for content in [*contents, *([instruction] if instruction is not None else [])]:
            parts = content.get("parts") if isinstance(content, dict) else None
            if not parts or not all(
                isinstance(part, dict) and isinstance(part.get("text"), str) for part in parts
            ):
                return self._invalid(
                    "* GenerateContentRequest.contents.parts: contents.parts must not be empty.\n"
                )
            if content.get("role") not in (None, "user", "model"):
                return self._invalid(f"Please use a valid role: user, model. Got: {content.get('role')}")
        mime = (self.body.get("generationConfig") or {}).get("responseMimeType", "text/plain")
        if mime not in ("text/plain", "application/json", "text/x.enum"):
            return self._invalid(f"* GenerateContentRequest.generation_config.response_mime_type: {mime}\n")
        return None

    def _status(self, code: int, status: str, message: str, details: list[Any] | None = None) -> web.Response:
        error: dict[str, Any] = {"code": code, "message": message, "status": status}
        if details:
            error["details"] = details
        return _json(code, {"error": error})

    def _invalid(self, message: str) -> web.Response:
        return self._status(400, "INVALID_ARGUMENT", message)

    def _usage(self, text: str) -> dict[str, int]:
        prompt, completion = estimated_tokens(self.prompt_text), estimated_tokens(text)
        return {
            "promptTokenCount": prompt,
            "candidatesTokenCount": completion,
            "totalTokenCount": prompt + completion,
        }

    def _generated(self, candidates: list[dict[str, Any]], text: str) -> web.Response:
        payload = {
            "candidates": candidates,
            "usageMetadata": self._usage(text),
            "modelVersion": self.model,
            "responseId": uuid.uuid4().hex[:22],
        }
        return _json(200, payload)

    def success(self, content: ReplyContent) -> web.Response:
        text = _as_text(content)
        candidate = {
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "STOP",
            "index": 0,
        }
        return self._generated([candidate], text)

    def empty(self) -> web.Response:
        # What a thinking model sends when its thoughts used up maxOutputTokens: no parts at all.
        return self._generated([{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}], "")

    def wrong_shape(self) -> web.Response:
        return _json(200, {"usageMetadata": self._usage(""), "modelVersion": self.model})

    def minute_limit(self) -> web.Response:
        return self._quota_exceeded(
            "minute_limit", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", 15
        )

    def day_limit(self) -> web.Response:
        return self._quota_exceeded("day_limit", "GenerateRequestsPerDayPerProjectPerModel-FreeTier", 1000)

    def _quota_exceeded(self, outcome: str, quota_id: str, limit: int) -> web.Response:
        delay = GEMINI_RETRY_DELAYS[outcome]
        metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
        message = (
            "You exceeded your current quota, please check your plan and billing details. For more "
            "information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n"
            f"* Quota exceeded for metric: {metric}, limit: {limit}, model: {self.model}\n"
            f"Please retry in {delay}."
        )
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": metric,
                        "quotaId": quota_id,
                        "quotaDimensions": {"location": "global", "model": self.model},
                        "quotaValue": str(limit),
                    }
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Learn more about Gemini API quotas",
                        "url": "https://ai.google.dev/gemini-api/docs/rate-limits",
                    }
                ],
            },
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": delay},
        ]
        return self._status(429, "RESOURCE_EXHAUSTED", message, details)

    def server(self) -> web.Response:
        return self._status(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")

    def auth(self) -> web.Response:
        # Gemini answers a wrong key with 400, not 401, and its DebugInfo quotes the key back.
        sent = self.request.headers.get("x-goog-api-key") or self.request.query.get("key", "")
        message = "API key not valid. Please pass a valid API key."
        details = [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
                "metadata": {"service": "generativelanguage.googleapis.com"},
            },
            {
                "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                "locale": "en-US",
                "message": message,
            },
            {"@type": "type.googleapis.com/google.rpc.DebugInfo", "detail": f"Invalid API key: {sent}"},
        ]
        return self._status(400, "INVALID_ARGUMENT", message, details)


class _CloudflareDialect(_Dialect):
    def rejection(self) -> web.Response | None:
        if self.request.headers.get("Authorization") != f"Bearer {self.fake.api_key}":
            return self.auth()
        account = self.request.match_info["account"]
        if account != self.fake.account_id:
            path = self.request.path
            return self._failed(
                400, 7003, f"Could not route to {path}, perhaps your object identifier is invalid?"
            )
        if not self.parsed:
            return self._failed(400, 3003, "AiError: Request is missing headers or body: body")
        messages = self.body.get("messages")
        valid_messages = isinstance(messages, list) and all(
            isinstance(message, dict) and isinstance(message.get("content"), str) and message.get("role")
            for message in messages
        )
        if not (messages and valid_messages) and not isinstance(self.body.get("prompt"), str):
            return self._failed(
                400, 5006, "AiError: Bad input: Error: required properties at '/' are 'messages'"
            )
        if not isinstance(self.body.get("max_tokens", 1), int):
            return self._failed(400, 5006, "AiError: Bad input: Error: at '/max_tokens': not an integer")
        return None

    def _failed(self, status: int, code: int, message: str) -> web.Response:
        payload = {
            "result": None,
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
        }
        return _json(status, payload)

    def _result(self, response: ReplyContent | None, text: str) -> web.Response:
        prompt, completion = estimated_tokens(self.prompt_text), estimated_tokens(text)
        result = {
            "response": response,
            "usage": {
                "prompt_tokens": prompt,
                "completion_tokens": completion,
                "total_tokens": prompt + completion,
            },
        }
        return _json(200, {"result": result, "success": True, "errors": [], "messages": []})

    def success(self, content: ReplyContent) -> web.Response:
        return self._result(content, _as_text(content))

    def empty(self) -> web.Response:
        return self._result("", "")

    def wrong_shape(self) -> web.Response:
        return _json(200, {"result": None, "success": True, "errors": [], "messages": []})

    def minute_limit(self) -> web.Response:
        return self._failed(429, 3021, "AiError: rate limiting: inference request per min rate reached")

    def day_limit(self) -> web.Response:
        return self._failed(
            429,
            3036,
            "AiError: You have used up your daily free allocation of 10,000 neurons. Please upgrade to "
            "Cloudflare's Workers Paid plan if you would like to continue usage.",
        )

    def server(self) -> web.Response:
        return self._failed(500, 3043, "AiError: Internal server error")

    def auth(self) -> web.Response:
        return self._failed(401, 10000, "Authentication error")


_DIALECTS: dict[Wire, type[_OpenAiDialect | _GeminiDialect | _CloudflareDialect]] = {
    "openai": _OpenAiDialect,
    "gemini": _GeminiDialect,
    "cloudflare": _CloudflareDialect,
}


def _next_minute() -> datetime:
    now = datetime.now(UTC)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _next_utc_midnight() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
