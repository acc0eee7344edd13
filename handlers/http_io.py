"""Turning HTTP requests into typed calls and typed results (or ApiErrors) into JSON responses."""

from __future__ import annotations

import functools
import json
import logging
import math
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from core.infra import usage
from core.interview.errors import ApiError
from core.models import ErrorBody, ErrorOut

MAX_BODY_BYTES = 64 * 1024
# No body of this API nests or counts that far; past these it is a client's mistake or an attack.
MAX_DEPTH = 8
MAX_INT_DIGITS = 9
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
    return json_response(body, error.status)


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
    """ApiErrors become their JSON error; anything else a logged 500 that shows no internals."""

    @functools.wraps(handler)
    async def wrapped(req: func.HttpRequest) -> func.HttpResponse:
        usage.note(function_executions=1)
        try:
            return await handler(req)
        except ApiError as error:
            return error_response(error)
        except Exception:
            log.exception("%s %s failed", req.method, req.url)
            return error_response(
                ApiError(500, "internal_error", "something went wrong on our side; try again")
            )

    return wrapped
