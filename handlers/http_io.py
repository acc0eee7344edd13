"""Turning HTTP requests into typed calls and typed results (or ApiErrors) into JSON responses."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import azure.functions as func
from pydantic import BaseModel, ValidationError

from core.infra import usage
from core.interview.errors import ApiError
from core.models import ErrorBody, ErrorOut

MAX_BODY_BYTES = 64 * 1024
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


def parse_body(req: func.HttpRequest, model: type[Model]) -> Model:
    raw = req.get_body()
    if len(raw) > MAX_BODY_BYTES:
        raise ApiError(413, "body_too_large", f"the request body is over {MAX_BODY_BYTES} bytes")
    try:
        data = json.loads(raw or b"null")
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, "invalid_json", f"the body is not valid JSON: {error}") from error
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "the body must be a JSON object")
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
        return float(raw)
    except ValueError as error:
        raise ApiError(400, "invalid_wait", f"wait must be a number of seconds, not {raw!r}") from error


def route_int(req: func.HttpRequest, name: str) -> int:
    raw = req.route_params.get(name, "")
    if not raw.isdigit():
        raise ApiError(404, "not_found", f"{name} must be a positive whole number, not {raw!r}")
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
