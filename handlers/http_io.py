"""Turning HTTP requests into typed calls and typed results (or ApiErrors) into JSON responses."""

from __future__ import annotations

import functools
import ipaddress
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import aiohttp
import azure.functions as func
from azure.core.exceptions import ServiceRequestError, ServiceResponseError
from pydantic import BaseModel, ValidationError

from core.infra import usage
from core.interview.errors import ApiError
from core.models import ErrorBody, ErrorOut

MAX_BODY_BYTES = 64 * 1024
# No body of this API nests or counts that far; past these it is a client's mistake or an attack.
MAX_DEPTH = 8
MAX_INT_DIGITS = 9
# What a request answers while storage cannot be reached, and how long the client is asked to wait.
STORAGE_RETRY_AFTER_SECONDS = 5
# The storage SDK's "could not reach it" (connection refused, DNS, timeouts, a dropped connection).
STORAGE_UNREACHABLE = (
    ServiceRequestError,
    ServiceResponseError,
    aiohttp.ClientConnectionError,
    ConnectionError,
)
UNKNOWN_CLIENT = "unknown"
# IPv6 clients are held to limits by their /64: one subscriber usually has the whole prefix.
IPV6_CLIENT_PREFIX = 64
log = logging.getLogger(__name__)
Model = TypeVar("Model", bound=BaseModel)


def json_response(
    body: BaseModel | dict[str, Any], status: int = 200, headers: dict[str, str] | None = None
) -> func.HttpResponse:
    text = body.model_dump_json() if isinstance(body, BaseModel) else json.dumps(body)
    return func.HttpResponse(
        text, status_code=status, headers=headers, mimetype="application/json", charset="utf-8"
    )


def error_response(error: ApiError) -> func.HttpResponse:
    body = ErrorOut(error=ErrorBody(code=error.code, message=error.message))
    return json_response(body, error.status, error.headers or None)


def _address(entry: str) -> str | None:
    """An address of X-Forwarded-For, without the port Azure's front end may add ("1.2.3.4:5678",
    "[2001:db8::1]:443"), normalised; None for anything that is not an IP address."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1:].partition("]")[0]
    elif text.count(":") == 1:
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_CLIENT_PREFIX}", strict=False))
    return str(address)


def client_address(req: func.HttpRequest) -> str:
    """The client as Azure's front end reports it: the LAST entry of X-Forwarded-For, which the platform
    appends (the devhost appends the socket peer the same way). Entries before it are whatever the
    client sent, so they are never read: a spoofed header only adds entries in front of the real one.
    Without the header (a request that did not come through a front end), or with an entry that is not
    an address, every such request is one client, "unknown"."""
    forwarded = req.headers.get("x-forwarded-for") or ""
    last = forwarded.rsplit(",", 1)[-1]
    return _address(last) or UNKNOWN_CLIENT


def loggable_url(req: func.HttpRequest) -> str:
    """The request's path without its query string, which may carry a key or a token."""
    return urlsplit(req.url).path or "/"


def _declared_length(req: func.HttpRequest) -> int | None:
    raw = req.headers.get("content-length")
    return int(raw) if raw and raw.isascii() and raw.isdigit() else None


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"a number of over {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed body (iteratively: no recursion to exhaust)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is not None:
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in children)
    return deepest


def parse_body(req: func.HttpRequest, model: type[Model]) -> Model:
    declared = _declared_length(req)
    if declared is not None and declared > MAX_BODY_BYTES:  # refused on the header, before the body
        raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    raw = req.get_body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null", parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError as error:
        raise ApiError(400, "invalid_json", "the body nests too deeply") from error
    except (UnicodeDecodeError, ValueError) as error:  # JSONDecodeError is a ValueError
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
    if _depth(data) > MAX_DEPTH:
        raise ApiError(400, "invalid_json", f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, issue['loc'])) or 'body'}: {issue['msg']}" for issue in error.errors()
        )
        raise ApiError(422, "invalid_body", problems) from error


def bearer_token(req: func.HttpRequest) -> str:
    header: str = req.headers.get("authorization") or ""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing_token", "send the interview's token as 'Authorization: Bearer <token>'")
    return token.strip()


def wait_seconds(req: func.HttpRequest) -> float:
    raw = req.params.get("wait", "0")
    try:
        seconds = float(raw) if raw.isascii() and len(raw) <= 16 else math.nan
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds):
        raise ApiError(400, "invalid_wait", f"wait must be a number of seconds, not {raw[:40]!r}")
    return seconds


def route_int(req: func.HttpRequest, name: str) -> int:
    raw = req.route_params.get(name, "")
    # ASCII digits only: str.isdigit() also takes "²" and "٣", which int() then reads or refuses.
    if not (raw.isascii() and raw.isdigit() and len(raw) <= MAX_INT_DIGITS):
        raise ApiError(404, "not_found", f"{name} must be a positive whole number, not {raw[:40]!r}")
    return int(raw)


def json_endpoint(
    handler: Callable[[func.HttpRequest], Awaitable[func.HttpResponse]],
) -> Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]:
    """ApiErrors become their JSON error; storage out of reach a 503 with Retry-After; anything else a
    logged 500 that shows no internals. Logged URLs never carry their query string."""

    @functools.wraps(handler)
    async def wrapped(req: func.HttpRequest) -> func.HttpResponse:
        usage.note(function_executions=1)
        try:
            return await handler(req)
        except ApiError as error:
            return error_response(error)
        except STORAGE_UNREACHABLE as error:
            log.warning(
                "%s %s: storage unreachable (%s); answered 503",
                req.method,
                loggable_url(req),
                type(error).__name__,
            )
            return error_response(
                ApiError(
                    503,
                    "storage_unavailable",
                    "our storage cannot be reached right now; try again in a few seconds",
                    {"Retry-After": str(STORAGE_RETRY_AFTER_SECONDS)},
                )
            )
        except Exception:
            log.exception("%s %s failed", req.method, loggable_url(req))
            return error_response(
                ApiError(500, "internal_error", "something went wrong on our side; try again")
            )

    return wrapped
