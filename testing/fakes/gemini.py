"""Google's Gemini generateContent dialect: google.rpc status errors with their details (QuotaFailure,
RetryInfo), a wrong key answered with 400, and the empty candidate of a thinking model out of tokens.

Base URL: http://127.0.0.1:{port}/v1beta (POST {base}/models/{model}:generateContent)."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from testing.fakes.limits import LimitHit
from testing.fakes.provider_server import Dialect, ReplyContent, as_text, estimated_tokens, json_reply

GEMINI_RETRY_DELAYS = {"minute_limit": "7.5s", "day_limit": "37s"}
METRIC = "generativelanguage.googleapis.com/generate_content_free_tier_"
# The quota (quotaId, metric) Google names for each limit a ledger refuses by. Gemini has no monthly
# quota; a monthly budget keeps the daily shape (a quotaId with "PerDay", which the adapter reads).
GEMINI_QUOTAS = {
    "rpm": ("GenerateRequestsPerMinutePerProjectPerModel-FreeTier", "requests"),
    "tpm": ("GenerateContentInputTokensPerModelPerMinute-FreeTier", "input_token_count"),
    "rpd": ("GenerateRequestsPerDayPerProjectPerModel-FreeTier", "requests"),
    "tpd": ("GenerateContentInputTokensPerModelPerDay-FreeTier", "input_token_count"),
}
GEMINI_FIELDS = {
    "contents", "systemInstruction", "system_instruction", "generationConfig", "generation_config",
    "safetySettings", "safety_settings", "tools", "toolConfig", "cachedContent",
}  # fmt: skip
GEMINI_GENERATION_FIELDS = {
    "maxOutputTokens", "temperature", "topP", "topK", "candidateCount", "stopSequences", "seed",
    "responseMimeType", "responseSchema", "responseJsonSchema", "thinkingConfig",
}  # fmt: skip


class GeminiDialect(Dialect, wire="gemini"):
    base_path = "/v1beta"
    routes = ("/v1beta/models/{model}:generateContent",)

    @property
    def model(self) -> str:
        return self.request.match_info["model"]

    @property
    def sent_key(self) -> str:
        return self.request.headers.get("x-goog-api-key") or self.request.query.get("key") or ""

    @property
    def max_tokens(self) -> int | None:
        found = (self.body.get("generationConfig") or {}).get("maxOutputTokens")
        return found if isinstance(found, int) else None

    def rejection(self) -> web.Response | None:
        sent = self.sent_key
        if not sent:
            return self._status(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established identity). "
                "Please use API Key or other form of API consumer identity to call this API.",
            )
        if not self.fake.accepts(sent):
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
        return json_reply(code, {"error": error})

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
        return json_reply(200, payload)

    def success(self, content: ReplyContent, cut: bool = False) -> web.Response:
        text = as_text(content)
        candidate = {
            "content": {"parts": [{"text": text}], "role": "model"},
            "finishReason": "MAX_TOKENS" if cut else "STOP",
            "index": 0,
        }
        return self._generated([candidate], text)

    def empty(self) -> web.Response:
        # What a thinking model sends when its thoughts used up maxOutputTokens: no parts at all.
        return self._generated([{"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}], "")

    def wrong_shape(self) -> web.Response:
        return json_reply(200, {"usageMetadata": self._usage(""), "modelVersion": self.model})

    def minute_limit(self, hit: LimitHit | None = None) -> web.Response:
        if hit is not None:
            return self._limit_hit(hit)
        return self._quota_exceeded(
            "minute_limit", "GenerateRequestsPerMinutePerProjectPerModel-FreeTier", 15
        )

    def day_limit(self, hit: LimitHit | None = None) -> web.Response:
        if hit is not None:
            return self._limit_hit(hit)
        return self._quota_exceeded("day_limit", "GenerateRequestsPerDayPerProjectPerModel-FreeTier", 1000)

    def _limit_hit(self, hit: LimitHit) -> web.Response:
        """The same 429, naming the quota the fake's ledger refused the call by."""
        unit = {"requests": "Requests", "tokens": "ContentTokens", "neurons": "ContentNeurons"}[hit.unit]
        quota_id, metric = GEMINI_QUOTAS.get(
            hit.name, (f"Generate{unit}PerDayPerProjectPerModel-FreeTier", f"{hit.unit}_per_{hit.period}")
        )
        if hit.period == "minute":
            delay = f"{max(hit.retry_after or 60.0, 0.1):.2f}s"
            return self._quota_exceeded("minute_limit", quota_id, hit.limit, METRIC + metric, delay)
        return self._quota_exceeded("day_limit", quota_id, hit.limit, METRIC + metric)

    def _quota_exceeded(
        self, outcome: str, quota_id: str, limit: int, metric: str = METRIC + "requests", delay: str = ""
    ) -> web.Response:
        delay = delay or GEMINI_RETRY_DELAYS[outcome]
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
