"""The OpenAPI document served by the app is valid OpenAPI 3.1 and describes every route."""

from __future__ import annotations

import aiohttp
from openapi_spec_validator import validate


async def test_the_openapi_document_is_valid_and_complete(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/openapi.json") as response:
        assert response.status == 200
        document = await response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    assert set(document["paths"]) == {
        "/roles",
        "/interviews",
        "/interviews/{id}/turns",
        "/interviews/{id}/turns/{n}",
        "/interviews/{id}",
        "/interviews/{id}/report",
    }
    setup = document["components"]["schemas"]["InterviewSetup"]
    assert len(setup["properties"]["role"]["enum"]) >= 8
    # Callbacks: the field on create, the secret in its answer, and the events with their signed headers.
    assert {"maxLength": 2048, "type": "string"} in setup["properties"]["callback_url"]["anyOf"]
    assert "callback_secret" in document["components"]["schemas"]["InterviewCreated"]["properties"]
    assert set(document["webhooks"]) == {"turn.ready", "report.ready"}
    for webhook in document["webhooks"].values():
        headers = {parameter["name"] for parameter in webhook["post"]["parameters"]}
        assert headers == {"Webhook-Id", "Webhook-Timestamp", "Webhook-Signature"}
        assert webhook["post"]["requestBody"]["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/CallbackEvent"
        }
