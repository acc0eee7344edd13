"""HTTP triggers of the candidate-facing interview API."""

from __future__ import annotations

import azure.functions as func

from core.interview import service
from core.interview.openapi import openapi_document
from core.models import AnswerIn, InterviewSetup, ReportPending, TurnPending
from handlers.http_io import (
    bearer_token,
    client_address,
    json_endpoint,
    json_response,
    parse_body,
    route_int,
    wait_seconds,
)

bp = func.Blueprint()


def _accepted(body: TurnPending | ReportPending, location: str | None = None) -> func.HttpResponse:
    headers = {"Retry-After": str(body.retry_after)}
    if location:
        headers["Location"] = location
    return json_response(body, 202, headers)


@bp.route(route="roles", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def list_roles(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(service.roles())


@bp.route(route="interviews", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def create_interview(req: func.HttpRequest) -> func.HttpResponse:
    # Held to the caller's limits (core/infra/client_limits.py) once the body is known to be valid.
    created = await service.create(parse_body(req, InterviewSetup), client_address(req))
    return json_response(created, 201)


@bp.route(route="interviews/{id}/turns", methods=["POST"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def answer_turn(req: func.HttpRequest) -> func.HttpResponse:
    token = bearer_token(req)
    body = parse_body(req, AnswerIn)
    result = await service.answer(req.route_params["id"], token, body, client_address(req))
    return _accepted(result, result.poll_url) if isinstance(result, TurnPending) else json_response(result)


@bp.route(route="interviews/{id}/turns/{n}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def get_turn(req: func.HttpRequest) -> func.HttpResponse:
    token = bearer_token(req)
    result = await service.turn_result(req.route_params["id"], token, route_int(req, "n"), wait_seconds(req))
    return _accepted(result) if isinstance(result, TurnPending) else json_response(result)


@bp.route(route="interviews/{id}", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def get_interview(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(await service.state(req.route_params["id"], bearer_token(req)))


@bp.route(route="interviews/{id}", methods=["DELETE"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def delete_interview(req: func.HttpRequest) -> func.HttpResponse:
    await service.delete(req.route_params["id"], bearer_token(req))
    return func.HttpResponse(status_code=204)


@bp.route(route="interviews/{id}/report", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
@json_endpoint
async def get_report(req: func.HttpRequest) -> func.HttpResponse:
    result = await service.report(req.route_params["id"], bearer_token(req), wait_seconds(req))
    return _accepted(result) if isinstance(result, ReportPending) else json_response(result)


@bp.route(route="openapi.json", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
async def get_openapi(req: func.HttpRequest) -> func.HttpResponse:
    return json_response(openapi_document())
