"""The OpenAI chat-completions wire format, spoken by Groq, OpenRouter, Cerebras, Mistral, Together, the
Hugging Face router, GitHub Models, and the OpenAI-compatible endpoints of Gemini and Cloudflare."""

from __future__ import annotations

from typing import Any

import aiohttp

from core.providers.adapters.chat import ChatReply, ChatRequest
from core.providers.adapters.http_call import post_chat
from core.providers.catalogue import JsonMode, Slot


def request_body(model: str, request: ChatRequest, json_mode: JsonMode = "json_object") -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": "system", "content": request.system},
            {"role": "user", "content": request.user},
        ],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
    }
    # JSON mode where the endpoint has it; elsewhere the prompt's own "Reply with JSON only" must do.
    if json_mode == "json_object":
        body["response_format"] = {"type": "json_object"}
    return body


def read_reply(body: Any) -> ChatReply:
    usage = body.get("usage") or {}
    return ChatReply(
        text=body["choices"][0]["message"]["content"] or "",
        prompt_tokens=usage.get("prompt_tokens"),
        completion_tokens=usage.get("completion_tokens"),
    )


async def complete(session: aiohttp.ClientSession, slot: Slot, request: ChatRequest) -> ChatReply:
    headers = {"Authorization": f"Bearer {slot.api_key}"}
    payload = request_body(slot.entry.model, request, slot.entry.json_mode)
    return await post_chat(session, slot, "/chat/completions", headers, payload, read_reply)
