"""The OpenAI chat-completions dialect, as OpenAI, Groq, OpenRouter and the other compatible services
speak it; `flavour` picks Groq's or OpenRouter's own rate-limit headers and error bodies.

Base URL: http://127.0.0.1:{port}/v1 (POST {base}/chat/completions). Cloudflare's OpenAI-compatible form
also answers: {origin}/client/v4/accounts/{account_id}/ai/v1 (POST {base}/chat/completions)."""

from __future__ import annotations

import math
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from testing.fakes.limits import LimitHit
from testing.fakes.provider_server import Dialect, ReplyContent, as_text, estimated_tokens, json_reply

ORGANISATION = "org_01fakeorganisation000000"
GROQ_REQUESTS_PER_DAY = 14400
OPENAI_FIELDS = {
    "model", "messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "response_format",
    "stream", "stop", "seed", "n", "user", "tools", "tool_choice", "frequency_penalty", "presence_penalty",
}  # fmt: skip


class OpenAiDialect(Dialect, wire="openai"):
    base_path = "/v1"
    routes = ("/v1/chat/completions", "/client/v4/accounts/{account}/ai/v1/chat/completions")

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def max_tokens(self) -> int | None:
        found = self.body.get("max_completion_tokens", self.body.get("max_tokens"))
        return found if isinstance(found, int) else None

    def rejection(self) -> web.Response | None:
        account = self.request.match_info.get("account")
        if self.request.headers.get("Authorization") not in self.fake.bearer_tokens:
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
        return json_reply(status, {"error": error}, self._headers())

    def _headers(self, *, day_spent: bool = False) -> dict[str, str]:
        if self.fake.flavour != "groq":
            return {}
        # Groq documents these as always per day for requests and per minute for tokens.
        per_day, used = GROQ_REQUESTS_PER_DAY, len(self.fake.received)
        per_minute, tokens_left = 6000, 5400
        if (ledger := self.fake.ledger) is not None:
            per_day = ledger.limits.rpd or per_day
            used = ledger.used_today(self.sent_key).requests
            if ledger.limits.tpm:
                per_minute = ledger.limits.tpm
                tokens_left = max(0, per_minute - ledger.minute_tokens(self.sent_key))
        return {
            "x-groq-region": "fake-1",
            "x-ratelimit-limit-requests": str(per_day),
            "x-ratelimit-remaining-requests": "0" if day_spent else str(max(0, per_day - used)),
            "x-ratelimit-reset-requests": "2m59.56s" if day_spent else "6s",
            "x-ratelimit-limit-tokens": str(per_minute),
            "x-ratelimit-remaining-tokens": str(tokens_left),
            "x-ratelimit-reset-tokens": "7.66s",
        }

    def success(self, content: ReplyContent, cut: bool = False) -> web.Response:
        return self._completion(as_text(content), "length" if cut else "stop")

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
        return json_reply(200, payload, self._headers())

    def empty(self) -> web.Response:
        return self._completion("", "stop")

    def wrong_shape(self) -> web.Response:
        # OpenRouter and others sometimes answer 200 with no choices at all.
        return json_reply(
            200, {"id": f"gen-{uuid.uuid4().hex[:24]}", "object": "chat.completion", "choices": []}
        )

    def minute_limit(self, hit: LimitHit | None = None) -> web.Response:
        if hit is not None:
            return self._limit_hit(hit)
        if self.fake.flavour == "openrouter":
            return self._openrouter_limit("free-models-per-min. ", limit=20, reset=_next_minute())
        if self.fake.flavour == "groq":
            period, headers = (
                "requests per minute (RPM): Limit 30, Used 30",
                {"retry-after": "2"} | self._headers(),
            )
            return self._rate_limited(period, "2s", headers)
        return self._rate_limited("requests per min (RPM): Limit 3, Used 3", "20s", {"retry-after": "20"})

    def day_limit(self, hit: LimitHit | None = None) -> web.Response:
        if hit is not None:
            return self._limit_hit(hit)
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

    def _limit_hit(self, hit: LimitHit) -> web.Response:
        """The same replies, worded for the limit the fake's ledger refused the call by."""
        per_minute = hit.period == "minute"
        if self.fake.flavour == "openrouter":
            which = "free-models-per-min. " if per_minute else "free-models-per-day. "
            reset = (
                datetime.now(UTC) + timedelta(seconds=hit.retry_after or 60.0)
                if per_minute
                else _next_utc_midnight()
            )
            return self._openrouter_limit(which, limit=hit.limit, reset=reset)
        period = f"{_label(hit)}: Limit {hit.limit}, Used {_number(hit.used)}"
        requested, kind = _number(hit.requested), "requests" if hit.unit == "requests" else "tokens"
        if per_minute:
            wait = hit.retry_after or 60.0
            headers = {"retry-after": str(math.ceil(wait))} | self._headers()
            return self._rate_limited(period, f"{wait:.2f}s", headers, requested, kind)
        if self.fake.flavour == "groq":
            headers = {"retry-after": "180"} | self._headers(day_spent=True)
            return self._rate_limited(period, "2m59.56s", headers, requested, kind)
        return self._rate_limited(period, "1m26.4s", {}, requested, kind)

    def _rate_limited(
        self, period: str, wait: str, headers: dict[str, str], requested: str = "1", kind: str = "requests"
    ) -> web.Response:
        service_tier = " service tier `on_demand`" if self.fake.flavour == "groq" else ""
        message = (
            f"Rate limit reached for model `{self.model}` in organization `{ORGANISATION}`{service_tier} "
            f"on {period}, Requested {requested}. Please try again in {wait}."
        )
        error = {"message": message, "type": kind, "code": "rate_limit_exceeded"}
        return json_reply(429, {"error": error}, headers)

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
        return json_reply(429, {"error": error, "user_id": "user_fake"})

    def server(self) -> web.Response:
        error: dict[str, Any]
        if self.fake.flavour == "groq":
            error = {"message": "Service Unavailable", "type": "internal_server_error"}
            return json_reply(503, {"error": error}, self._headers())
        if self.fake.flavour == "openrouter":
            error = {"message": "Provider returned error", "code": 502, "metadata": {"provider_name": "Fake"}}
            return json_reply(502, {"error": error, "user_id": "user_fake"})
        error = {
            "message": "The server had an error while processing your request. Sorry about that!",
            "type": "server_error",
            "param": None,
            "code": None,
        }
        return json_reply(500, {"error": error})

    def auth(self) -> web.Response:
        error: dict[str, Any]
        if self.fake.flavour == "groq":
            error = {"message": "Invalid API Key", "type": "invalid_request_error", "code": "invalid_api_key"}
            return json_reply(401, {"error": error})
        if self.fake.flavour == "openrouter":
            return json_reply(401, {"error": {"message": "User not found.", "code": 401}})
        # OpenAI masks the middle of the key it quotes; quoting it whole makes redaction provable.
        sent = self.request.headers.get("Authorization", "").removeprefix("Bearer ")
        error = {
            "message": f"Incorrect API key provided: {sent}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
        return json_reply(401, {"error": error})


def _label(hit: LimitHit) -> str:
    """How OpenAI and Groq name a limit in a 429: "tokens per day (TPD)", "requests per min (RPM)"."""
    if hit.period == "minute":
        return "requests per min (RPM)" if hit.unit == "requests" else "tokens per min (TPM)"
    if hit.name in ("rpd", "tpd"):
        return f"{hit.unit} per day ({hit.name.upper()})"
    if hit.period == "day":
        return f"{hit.unit} per day"
    # The adapters know no monthly wording (http_call.DAILY_WORDING), so a spent monthly budget is told
    # in the daily-limit shape: its message keeps a daily word.
    return f"{hit.unit} per month (no daily allowance left this month)"


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"


def _next_minute() -> datetime:
    now = datetime.now(UTC)
    return now.replace(second=0, microsecond=0) + timedelta(minutes=1)


def _next_utc_midnight() -> datetime:
    now = datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
