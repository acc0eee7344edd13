"""HTTP triggers for operators: the poison queue, failed callbacks, usage counters, the day's summary, providers.

They are behind their own key, OPS_KEY, sent only in the X-Ops-Key header: never in a query string (which
ends up in logs and browser history) and never the host's master key. The routes are anonymous to the
Functions host and check the header themselves: 401 without it, 403 with another key, and 503 on an app
whose OPS_KEY is not set (ops disabled)."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable
from datetime import date

import azure.functions as func

from core.infra import client_limits, usage
from core.infra.redis_failover import or_default
from core.interview.errors import ApiError
from core.ops import callback_failures, poison
from core.ops.summary import summary
from core.providers.status import slot_statuses
from core.settings import get_settings
from handlers.http_io import json_endpoint, json_response

OPS_KEY_HEADER = "x-ops-key"
bp = func.Blueprint()


def check_ops_key(req: func.HttpRequest) -> None:
    expected = get_settings().ops_key.get_secret_value()
    if not expected:
        raise ApiError(503, "ops_disabled", "ops disabled: OPS_KEY is not set on this app")
    presented = req.headers.get(OPS_KEY_HEADER) or ""
    if not presented:
        raise ApiError(401, "missing_ops_key", "send the ops key in the X-Ops-Key header")
    if not hmac.compare_digest(presented.encode(), expected.encode()):
        raise ApiError(403, "wrong_ops_key", "the X-Ops-Key header does not hold the ops key")


def ops_endpoint(
    handler: Callable[[func.HttpRequest], Awaitable[func.HttpResponse]],
) -> Callable[[func.HttpRequest], Awaitable[func.HttpResponse]]:
    """A JSON endpoint that answers only to the ops key."""

    @functools.wraps(handler)
    async def checked(req: func.HttpRequest) -> func.HttpResponse:
        check_ops_key(req)
        return await handler(req)

    return json_endpoint(checked)


@bp.route(route="ops/poison", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def list_poison(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"messages": [message.model_dump() for message in await poison.list_poison()]})


@bp.route(route="ops/poison/replay", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def replay_poison(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(await poison.replay_poison())


@bp.route(route="ops/callbacks/failed", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def list_failed_callbacks(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(await callback_failures.list_failed())


@bp.route(route="ops/callbacks/replay", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def replay_failed_callbacks(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(await callback_failures.replay_failed())


def _day(req: func.HttpRequest) -> date:
    raw = req.params.get("date")
    try:
        return date.fromisoformat(raw) if raw else usage.today()
    except ValueError as error:
        raise ApiError(400, "invalid_date", f"date must be YYYY-MM-DD, not {raw!r}") from error


@bp.route(route="ops/usage", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def get_usage(req: func.HttpRequest) -> func.HttpResponse:
    day = _day(req)
    return json_response({"date": day.isoformat(), "counters": await usage.totals(day)})


@bp.route(route="ops/summary", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def get_summary(req: func.HttpRequest) -> func.HttpResponse:
    day = _day(req)
    # The day's clients (hashed) that started the most interviews, and those a limit refused: null when Redis fails.
    clients = await or_default("ops view of clients", client_limits.day_view(day), None)
    return json_response({**await summary(day), "clients": clients})


@bp.route(route="ops/providers", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@ops_endpoint
async def get_providers(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"providers": [status.model_dump() for status in await slot_statuses()]})
