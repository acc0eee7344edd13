"""Admin-key HTTP triggers for operators: the poison queue, usage counters, the day's summary, providers."""

from __future__ import annotations

from datetime import date

import azure.functions as func

from core.infra import usage
from core.interview.errors import ApiError
from core.ops import poison
from core.ops.summary import summary
from core.providers.status import slot_statuses
from handlers.http_io import json_endpoint, json_response

bp = func.Blueprint()


@bp.route(route="ops/poison", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
@json_endpoint
async def list_poison(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"messages": [message.model_dump() for message in await poison.list_poison()]})


@bp.route(route="ops/poison/replay", methods=["POST"], auth_level=func.AuthLevel.ADMIN)
@json_endpoint
async def replay_poison(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(await poison.replay_poison())


def _day(req: func.HttpRequest) -> date:
    raw = req.params.get("date")
    try:
        return date.fromisoformat(raw) if raw else usage.today()
    except ValueError as error:
        raise ApiError(400, "invalid_date", f"date must be YYYY-MM-DD, not {raw!r}") from error


@bp.route(route="ops/usage", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
@json_endpoint
async def get_usage(req: func.HttpRequest) -> func.HttpResponse:
    day = _day(req)
    return json_response({"date": day.isoformat(), "counters": await usage.totals(day)})


@bp.route(route="ops/summary", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
@json_endpoint
async def get_summary(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(await summary(_day(req)))


@bp.route(route="ops/providers", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
@json_endpoint
async def get_providers(req: func.HttpRequest) -> func.HttpResponse:
    return json_response({"providers": [status.model_dump() for status in await slot_statuses()]})
