"""One HTTP call to a provider, and every way it can fail turned into a classified ProviderFailure.

The three wire formats fail in their own words, but each signal below is unique to its provider, so
one classification serves them all:
  429 daily, not per-minute, when
    - Gemini's google.rpc.QuotaFailure names a quotaId with "PerDay"
      (GenerateRequestsPerDayPerProjectPerModel-FreeTier);
    - Cloudflare Workers AI answers error code 3036 ("daily free allocation of 10,000 neurons");
    - the error message names a daily limit: OpenRouter "free-models-per-day" and "limit_rpd",
      Groq and OpenAI "requests per day (RPD)" / "tokens per day (TPD)", GitHub Models "UserByModelByDay";
    - Groq's x-ratelimit-remaining-requests is 0: Groq documents its *-requests headers as "always
      Requests Per Day (RPD)". Other OpenAI-compatible providers use the same header for a per-minute
      window, so it is only read so on a response Groq signed with its x-groq-region header.
  When to come back: Retry-After (seconds or an HTTP date), Gemini's RetryInfo.retryDelay ("37s"),
  OpenRouter's rate-limit metadata (X-RateLimit-Reset, epoch milliseconds), and for Groq's daily limit
  x-ratelimit-reset-requests ("2m59.56s").
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime
from typing import Any

import aiohttp

from core.providers.adapters.bounded_json import MAX_BODY_BYTES, MAX_BODY_DEPTH, loads_bounded
from core.providers.adapters.chat import ChatReply, FailureKind, ProviderFailure
from core.providers.catalogue import Slot

DETAIL_CHARS = 300
CLOUDFLARE_DAILY_ALLOCATION_SPENT = 3036
DAILY_WORDING = re.compile(r"per[-_ ]?day|by[-_ ]?day|\bRPD\b|\bTPD\b|limit_rpd|daily", re.IGNORECASE)
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
SECONDS_PER_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
READ_CHUNK_BYTES = 64 * 1024

ReadReply = Callable[[Any], ChatReply]


def _failure(
    slot: Slot, kind: FailureKind, detail: str, status: int | None = None, retry_after: float | None = None
) -> ProviderFailure:
    """A failure whose detail is safe to log: short, and without the key even if the provider echoed it."""
    safe = detail.replace(slot.api_key, "***") if slot.api_key else detail
    return ProviderFailure(kind, f"{slot.id}: {safe[:DETAIL_CHARS]}", status=status, retry_after=retry_after)


def _endpoint(slot: Slot, path: str) -> str:
    # Cloudflare's OpenAI-compatible base URL carries the account: .../accounts/{account_id}/ai/v1
    base = slot.entry.base_url.replace("{account_id}", slot.account_id or "")
    return base.rstrip("/") + path


async def post_chat(
    session: aiohttp.ClientSession,
    slot: Slot,
    path: str,
    headers: Mapping[str, str],
    payload: dict[str, Any],
    read_reply: ReadReply,
) -> ChatReply:
    """POST the payload, read a 2xx body with read_reply; anything else raises a ProviderFailure. A body
    over MAX_BODY_BYTES is not read past the limit, and a 2xx one is a bad_reply, as is one whose JSON
    nests deeper than MAX_BODY_DEPTH."""
    timeout = aiohttp.ClientTimeout(total=slot.entry.timeout_seconds)
    try:
        async with session.post(
            _endpoint(slot, path), json=payload, headers=headers, timeout=timeout
        ) as response:
            status, reply_headers = response.status, response.headers
            raw, oversized = await _read_limited(response, MAX_BODY_BYTES)
    except TimeoutError:
        # Before ClientError: aiohttp's own timeouts are also connection errors.
        raise _failure(slot, "timeout", f"no reply within {slot.entry.timeout_seconds}s") from None
    except aiohttp.ClientError as error:
        raise _failure(slot, "connection", f"{type(error).__name__}: {error}") from None
    text = raw.decode("utf-8", errors="replace")
    if not 200 <= status < 300:
        # Classified by its status and what could be read of it: an oversized error body is cut short.
        raise failure_from_error_reply(slot, status, reply_headers, text)
    if oversized:
        raise _failure(slot, "bad_reply", f"body over {MAX_BODY_BYTES} bytes: {text}", status)
    try:
        chat_reply = read_reply(loads_bounded(text, MAX_BODY_BYTES, MAX_BODY_DEPTH))
        if not chat_reply.text.strip():
            raise ValueError("empty text")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
        raise _failure(slot, "bad_reply", f"{type(error).__name__} {error}: {text}", status) from None
    return chat_reply


async def _read_limited(response: aiohttp.ClientResponse, limit: int) -> tuple[bytes, bool]:
    """The body, read no further than `limit` bytes (decompressed), and whether it went on past them.
    A Content-Length over the limit is believed without reading anything."""
    if response.content_length is not None and response.content_length > limit:
        return b"", True
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.content.iter_chunked(READ_CHUNK_BYTES):
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            return b"".join(chunks)[:limit], True
    return b"".join(chunks), False


def failure_from_error_reply(
    slot: Slot, status: int, headers: Mapping[str, str], text: str
) -> ProviderFailure:
    body = _json_or_none(text)
    detail = f"HTTP {status}: {_message_of(body) or text}"
    if status == 429:
        daily = _is_daily_limit(headers, body)
        retry_after = _retry_after(headers, body, daily)
        return _failure(slot, "day_limit" if daily else "minute_limit", detail, status, retry_after)
    if status in (401, 403) or "API_KEY_INVALID" in _error_reasons(body):
        # Gemini answers a wrong key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
        return _failure(slot, "auth", detail, status)
    if status == 408:
        return _failure(slot, "timeout", detail, status)
    if status >= 500:
        return _failure(slot, "server", detail, status)
    return _failure(slot, "bad_request", detail, status)


def parse_duration(value: str) -> float | None:
    """Go-style and protobuf durations: "2m59.56s", "7.66s", "37s", "1.5s", "250ms", "1h2m"."""
    text = value.strip()
    parts = DURATION_PART.findall(text)
    if not parts or "".join(number + unit for number, unit in parts) != text:
        return None
    return sum(float(number) * SECONDS_PER_UNIT[unit] for number, unit in parts)


def parse_retry_after(value: str, now: float | None = None) -> float | None:
    """Retry-After is delay-seconds or an HTTP date (RFC 9110, 10.2.3)."""
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _json_or_none(text: str) -> Any:
    try:
        return loads_bounded(text, MAX_BODY_BYTES, MAX_BODY_DEPTH)
    except ValueError:
        return None


def _error_objects(body: Any) -> list[dict[str, Any]]:
    """The error objects of any of the formats: {"error": {...}}, Gemini's OpenAI-compatible
    [{"error": {...}}], and Cloudflare's {"errors": [{...}]}."""
    bodies = body if isinstance(body, list) else [body]
    found: list[dict[str, Any]] = []
    for item in bodies:
        if not isinstance(item, dict):
            continue
        if isinstance(item.get("error"), dict):
            found.append(item["error"])
        found.extend(error for error in item.get("errors") or [] if isinstance(error, dict))
    return found


def _message_of(body: Any) -> str:
    return " | ".join(str(error["message"]) for error in _error_objects(body) if error.get("message"))


def _details(body: Any, type_suffix: str) -> list[dict[str, Any]]:
    """google.rpc.Status details of one type, e.g. "google.rpc.QuotaFailure"."""
    return [
        detail
        for error in _error_objects(body)
        for detail in error.get("details") or []
        if isinstance(detail, dict) and str(detail.get("@type", "")).endswith(type_suffix)
    ]


def _error_reasons(body: Any) -> set[str]:
    return {str(detail.get("reason")) for detail in _details(body, "google.rpc.ErrorInfo")}


def _is_daily_limit(headers: Mapping[str, str], body: Any) -> bool:
    errors = _error_objects(body)
    quota_ids = [
        str(violation.get("quotaId", ""))
        for failure in _details(body, "google.rpc.QuotaFailure")
        for violation in failure.get("violations") or []
    ]
    # OpenRouter passes an upstream provider's own 429 along in metadata.raw.
    raws = [str((error.get("metadata") or {}).get("raw", "")) for error in errors]
    return (
        any("PerDay" in quota_id for quota_id in quota_ids)
        or any(error.get("code") == CLOUDFLARE_DAILY_ALLOCATION_SPENT for error in errors)
        or any(DAILY_WORDING.search(text) for text in [_message_of(body), *raws])
        or ("x-groq-region" in headers and headers.get("x-ratelimit-remaining-requests") == "0")
    )


def _retry_after(headers: Mapping[str, str], body: Any, daily: bool) -> float | None:
    if daily and "x-groq-region" in headers and (reset := headers.get("x-ratelimit-reset-requests")):
        return parse_duration(reset)
    if header := headers.get("Retry-After"):
        return parse_retry_after(header)
    for retry_info in _details(body, "google.rpc.RetryInfo"):
        if (delay := parse_duration(str(retry_info.get("retryDelay", "")))) is not None:
            return delay
    for error in _error_objects(body):
        rate_limit = ((error.get("metadata") or {}).get("headers")) or {}
        if str(reset_ms := rate_limit.get("X-RateLimit-Reset", "")).isdigit():
            return max(0.0, int(reset_ms) / 1000 - time.time())
    return None
