"""Cloudflare Workers AI's native run endpoint: POST {base}/accounts/{account_id}/ai/run/{model}, its
reply in Cloudflare's API envelope {"result": ..., "success": ..., "errors": [...], "messages": [...]}."""

from __future__ import annotations

import json
from typing import Any

import aiohttp

from core.providers.adapters.chat import ChatReply, ChatRequest
from core.providers.adapters.http_call import post_chat
from core.providers.catalogue import JsonMode, Slot


def request_body(request: ChatRequest, json_mode: JsonMode = "cloudflare") -> dict[str, Any]:
    body: dict[str, Any] = {
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    # Workers AI's JSON mode: the reply is held to the schema, and comes back as an object.
    if json_mode == "cloudflare":
        body["response_format"] = {"type": "json_schema", "json_schema": request.json_schema}
    return body


def read_reply(body: Any) -> ChatReply:
    if body.get("success") is False:
        raise ValueError(f"success false: {body.get('errors')}")
    result = body["result"]
    response = result["response"]
    usage = result.get("usage") or {}
    return ChatReply(
        # Models in JSON mode hand back the object itself, not its text.
        text=json.dumps(response) if isinstance(response, dict | list) else response or "",
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )


async def complete(session: aiohttp.ClientSession, slot: Slot, request: ChatRequest) -> ChatReply:
    headers = {"Authorization": f"Bearer {slot.api_key}"}
    # Model ids keep their slashes in the path: /ai/run/@cf/meta/llama-3.1-8b-instruct
    path = f"/accounts/{slot.account_id}/ai/run/{slot.entry.model}"
    return await post_chat(
        session, slot, path, headers, request_body(request, slot.entry.json_mode), read_reply
    )
