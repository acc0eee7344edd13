"""What every provider adapter speaks: one chat request in, the reply text or a classified failure out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

FailureKind = Literal[
    "minute_limit",  # per-minute (or per-second) limit: cool down for retry_after
    "day_limit",  # daily quota spent: exhausted until the provider's reset
    "server",  # 5xx
    "timeout",
    "connection",
    "bad_reply",  # 2xx whose body is not the provider's format (or too large or deep), or empty text
    # The provider answered in its format, but the model's text is not JSON or breaks the reply's schema:
    # the model's fault on this prompt, not the provider's, so it counts in stats, never in the breaker.
    "invalid_content",
    "auth",  # 401/403: the key is wrong or revoked
    "bad_request",  # other 4xx: this request will not work on this provider
]


@dataclass(frozen=True)
class ChatRequest:
    system: str
    user: str
    json_schema: dict[str, Any]
    max_tokens: int = 800
    temperature: float = 0.2
    # A typical valid reply's tokens (each prompt knows its own, from `make bench-tokens`); the pool
    # weighs keys by calls of this size. None: half of max_tokens.
    expected_output_tokens: int | None = None


@dataclass(frozen=True)
class ChatReply:
    text: str
    prompt_tokens: int | None = None
    completion_tokens: int | None = None


class ProviderFailure(Exception):
    def __init__(
        self, kind: FailureKind, detail: str, status: int | None = None, retry_after: float | None = None
    ):
        super().__init__(f"{kind}: {detail}")
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after = retry_after
