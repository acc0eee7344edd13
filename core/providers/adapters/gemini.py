"""Gemini's native generateContent wire format."""

from __future__ import annotations

from typing import Any

import aiohttp

from core.providers.adapters.chat import ChatReply, ChatRequest
from core.providers.adapters.http_call import post_chat
from core.providers.catalogue import Slot

# Any other finishReason (SAFETY, RECITATION, BLOCKLIST, PROHIBITED_CONTENT, ...) means the text was
# withheld or cut for policy, so whatever came back is not an answer.
ANSWERED = frozenset({"STOP", "MAX_TOKENS"})


def request_body(request: ChatRequest) -> dict[str, Any]:
    return {
        "systemInstruction": {"parts": [{"text": request.system}]},
        "contents": [{"role": "user", "parts": [{"text": request.user}]}],
        "generationConfig": {
            "maxOutputTokens": request.max_tokens,
            "temperature": request.temperature,
            "responseMimeType": "application/json",
        },
    }


def read_reply(body: Any) -> ChatReply:
    if block_reason := (body.get("promptFeedback") or {}).get("blockReason"):
        raise ValueError(f"prompt blocked: {block_reason}")
    candidate = body["candidates"][0]
    finish_reason = candidate.get("finishReason", "STOP")
    if finish_reason not in ANSWERED:
        raise ValueError(f"reply withheld: finishReason {finish_reason}")
    parts = (candidate.get("content") or {}).get("parts") or []
    usage = body.get("usageMetadata") or {}
    return ChatReply(
        text="".join(part.get("text", "") for part in parts),
        prompt_tokens=usage.get("promptTokenCount"),
        completion_tokens=usage.get("candidatesTokenCount"),
    )


async def complete(session: aiohttp.ClientSession, slot: Slot, request: ChatRequest) -> ChatReply:
    headers = {"x-goog-api-key": slot.api_key}
    path = f"/models/{slot.entry.model}:generateContent"
    return await post_chat(session, slot, path, headers, request_body(request), read_reply)
