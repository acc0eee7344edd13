"""Cloudflare Workers AI's own dialect: every reply in the `{"result", "success", "errors", "messages"}`
envelope, errors by Cloudflare's numeric codes.

Base URL: http://127.0.0.1:{port}/client/v4 (POST {base}/accounts/{account_id}/ai/run/{model})."""

from __future__ import annotations

import math

from aiohttp import web

from testing.fakes.limits import LimitHit
from testing.fakes.provider_server import Dialect, ReplyContent, as_text, estimated_tokens, json_reply


class CloudflareDialect(Dialect, wire="cloudflare"):
    base_path = "/client/v4"
    routes = ("/client/v4/accounts/{account}/ai/run/{model:.+}",)

    def rejection(self) -> web.Response | None:
        if self.request.headers.get("Authorization") not in self.fake.bearer_tokens:
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

    def _failed(
        self, status: int, code: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        payload = {
            "result": None,
            "success": False,
            "errors": [{"code": code, "message": message}],
            "messages": [],
        }
        return json_reply(status, payload, headers)

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
        return json_reply(200, {"result": result, "success": True, "errors": [], "messages": []})

    def success(self, content: ReplyContent, cut: bool = False) -> web.Response:
        # Workers AI's run endpoint says nothing of a cut reply: the text simply ends.
        return self._result(content, as_text(content))

    def empty(self) -> web.Response:
        return self._result("", "")

    def wrong_shape(self) -> web.Response:
        return json_reply(200, {"result": None, "success": True, "errors": [], "messages": []})

    def minute_limit(self, hit: LimitHit | None = None) -> web.Response:
        if hit is None:
            return self._failed(429, 3021, "AiError: rate limiting: inference request per min rate reached")
        what = "request" if hit.unit == "requests" else "tokens"
        retry = {"Retry-After": str(math.ceil(hit.retry_after or 60.0))}
        return self._failed(
            429, 3021, f"AiError: rate limiting: inference {what} per min rate reached", retry
        )

    def day_limit(self, hit: LimitHit | None = None) -> web.Response:
        # Code 3036 is what the adapter reads as the day's allocation spent, whatever the limit was.
        allocation = "daily free allocation of 10,000 neurons"
        if hit is not None:
            period = "daily" if hit.period == "day" else "monthly"
            allocation = f"{period} free allocation of {hit.limit:,} {hit.unit}"
        return self._failed(
            429,
            3036,
            f"AiError: You have used up your {allocation}. Please upgrade to "
            "Cloudflare's Workers Paid plan if you would like to continue usage.",
        )

    def server(self) -> web.Response:
        return self._failed(500, 3043, "AiError: Internal server error")

    def auth(self) -> web.Response:
        return self._failed(401, 10000, "Authentication error")
