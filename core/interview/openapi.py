"""The API's OpenAPI 3.1 document, built from the same pydantic models that validate the requests."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from core.infra.webhook_signature import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER
from core.models import (
    AnswerIn,
    CallbackEvent,
    ErrorOut,
    InterviewCreated,
    InterviewSetup,
    InterviewState,
    Report,
    ReportPending,
    RolesOut,
    TurnPending,
    TurnResult,
)
from core.settings import get_settings

REF = "#/components/schemas/{model}"
_BEARER: list[dict[str, list[str]]] = [{"interviewToken": []}]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": REF.format(model=model.__name__)}


def _content(model: type[BaseModel]) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": _ref(model)}}}


_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again", "schema": {"type": "integer"}}
}
_WHY = {
    429: "A per-client limit refused it (the error's code names which); try again after Retry-After",
    503: "Storage or Redis is unreachable for now; nothing was changed, try again after Retry-After",
}


def _errors(*statuses: int) -> dict[str, Any]:
    """Error responses: every operation that reads storage may also answer 503, with Retry-After."""
    found: dict[str, Any] = {}
    for status in (*statuses, 503):
        response: dict[str, Any] = {"description": _WHY.get(status, "Error"), **_content(ErrorOut)}
        if status in _WHY:
            response["headers"] = _RETRY_AFTER
        found[str(status)] = response
    return found


def _path_param(name: str, kind: str = "string") -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": kind}}


_WAIT = {
    "name": "wait",
    "in": "query",
    "required": False,
    "description": "Long-poll: wait up to this many seconds for the result (at most MAX_WAIT_SECONDS, 25 by "
    "default; 0 or less answers at once).",
    # No minimum: a negative wait is taken as 0, not refused (tests/e2e/test_api_fuzz.py).
    "schema": {"type": "number"},
}


_SIGNED_HEADERS = [
    {
        "name": ID_HEADER,
        "in": "header",
        "required": True,
        "description": "The event's id, the same on every attempt and replay: take each id once.",
        "schema": {"type": "string"},
    },
    {
        "name": TIMESTAMP_HEADER,
        "in": "header",
        "required": True,
        "description": "Unix seconds of this attempt; refuse one more than 5 minutes from your clock.",
        "schema": {"type": "string"},
    },
    {
        "name": SIGNATURE_HEADER,
        "in": "header",
        "required": True,
        "description": "'v1,' and the base64 of HMAC-SHA256 over '{Webhook-Id}.{Webhook-Timestamp}.{body}', keyed "
        "with the base64-decoded part of the interview's callback_secret after 'whsec_' (Standard Webhooks); "
        "compare in constant time.",
        "schema": {"type": "string"},
    },
]


def _webhook(summary: str) -> dict[str, Any]:
    return {
        "post": {
            "summary": summary,
            "description": "POSTed to the interview's callback_url through a queue: at least once (take each "
            "Webhook-Id once), retried on anything but a 2xx after 1 s, 5 s, 30 s, 2 min and 10 min, then kept "
            "for ops to replay. An event is sent once every earlier event of its interview was delivered or "
            "given up (unless one is still not ready 15 minutes later); order by data.sequence. Redirects are "
            "not followed; answer within 5 s.",
            "parameters": _SIGNED_HEADERS,
            "requestBody": {"required": True, **_content(CallbackEvent)},
            "responses": {"200": {"description": "Any 2xx: taken; anything else is retried"}},
        }
    }


@lru_cache(maxsize=1)
def openapi_document() -> dict[str, Any]:
    models: list[type[BaseModel]] = [
        AnswerIn,
        CallbackEvent,
        ErrorOut,
        InterviewCreated,
        InterviewSetup,
        InterviewState,
        Report,
        ReportPending,
        RolesOut,
        TurnPending,
        TurnResult,
    ]
    _, schemas = models_json_schema([(model, "validation") for model in models], ref_template=REF)
    interview_id = _path_param("id")
    return {
        "openapi": "3.1.0",
        "info": {"title": "Mock interviews API", "version": "1.0.0"},
        "servers": [{"url": get_settings().public_api_base}],
        "components": {
            "schemas": schemas["$defs"],
            "securitySchemes": {"interviewToken": {"type": "http", "scheme": "bearer"}},
        },
        "webhooks": {
            "turn.ready": _webhook("A turn's feedback is ready: GET data.url with the interview's token"),
            "report.ready": _webhook("The report is ready: GET data.url with the interview's token"),
        },
        "paths": {
            "/roles": {
                "get": {
                    "summary": "The roles of the question bank, with their titles",
                    "responses": {"200": {"description": "Roles", **_content(RolesOut)}},
                }
            },
            "/interviews": {
                "post": {
                    "summary": "Start an interview: its id, token, greeting and first question",
                    "requestBody": {"required": True, **_content(InterviewSetup)},
                    "description": "With callback_url: 422 invalid_callback_url when it is not an https URL "
                    "whose host resolves only to public addresses (or is not on the app's allow-list), and 422 "
                    "callbacks_disabled on an app that sends none; nothing is created either way.",
                    "responses": {
                        "201": {"description": "Created", **_content(InterviewCreated)},
                        **_errors(400, 413, 422, 429),
                    },
                }
            },
            "/interviews/{id}/turns": {
                "post": {
                    "summary": "Answer the current question, or answer or skip its follow-up",
                    "description": "A turn whose answer misses a STAR part, a key point or its result may "
                    "come back with `follow_up` (status 'open'): the next question is shown only once it is "
                    "answered (`{turn, answer, follow_up: true}`: scored together with the answer, the "
                    "turn's `feedback` then being the combined score) or skipped (`{turn, skip_follow_up: "
                    "true}`). At most one per question; `follow_ups: false` on create turns them off. A "
                    "post out of order (another turn, or a follow-up that is not open) answers 409.",
                    "parameters": [interview_id],
                    "security": _BEARER,
                    "requestBody": {"required": True, **_content(AnswerIn)},
                    "responses": {
                        "200": {
                            "description": "Feedback ready at once (templates, the built-in evaluator or "
                            "the cache); provisional: true while a model's score is on its way",
                            **_content(TurnResult),
                        },
                        "202": {"description": "Queued; poll the Location", **_content(TurnPending)},
                        **_errors(400, 401, 403, 404, 409, 413, 422, 429),
                    },
                }
            },
            "/interviews/{id}/turns/{n}": {
                "get": {
                    "summary": "One turn's feedback (long-poll with ?wait= for it, or for the final one "
                    "while it is provisional)",
                    "parameters": [interview_id, _path_param("n", "integer"), _WAIT],
                    "security": _BEARER,
                    "responses": {
                        "200": {
                            "description": "Ready (provisional: true if the wait ended before the model's "
                            "score came)",
                            **_content(TurnResult),
                        },
                        "202": {"description": "Still being evaluated", **_content(TurnPending)},
                        **_errors(400, 401, 403, 404),
                    },
                }
            },
            "/interviews/{id}": {
                "get": {
                    "summary": "The interview's state and transcript",
                    "parameters": [interview_id],
                    "security": _BEARER,
                    "responses": {
                        "200": {"description": "State", **_content(InterviewState)},
                        **_errors(401, 403, 404),
                    },
                },
                "delete": {
                    "summary": "Delete the interview: its record, answers, feedback and report (results "
                    "shared between candidates, such as cached evaluations, stay until they expire)",
                    "parameters": [interview_id],
                    "security": _BEARER,
                    "responses": {
                        "204": {"description": "Deleted; every route of this id now answers 404"},
                        **_errors(401, 403, 404),
                    },
                },
            },
            "/interviews/{id}/report": {
                "get": {
                    "summary": "The final report, once the interview is finished (long-poll with ?wait=)",
                    "parameters": [interview_id, _WAIT],
                    "security": _BEARER,
                    "responses": {
                        "200": {"description": "Ready", **_content(Report)},
                        "202": {"description": "Being written", **_content(ReportPending)},
                        **_errors(400, 401, 403, 404, 409),
                    },
                }
            },
        },
    }
