"""Admin-key HTTP triggers for operators: the poison queue and the usage counters."""

from __future__ import annotations

from datetime import date

import azure.functions as func

from core import poison, usage
from core.errors import ApiError
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


@bp.route(route="ops/usage", methods=["GET"], auth_level=func.AuthLevel.ADMIN)
@json_endpoint
async def get_usage(req: func.HttpRequest) -> func.HttpResponse:
    raw = req.params.get("date")
    try:
        day = date.fromisoformat(raw) if raw else usage.today()
    except ValueError as error:
        raise ApiError(400, "invalid_date", f"date must be YYYY-MM-DD, not {raw!r}") from error
    return json_response({"date": day.isoformat(), "counters": await usage.totals(day)})
