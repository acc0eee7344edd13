"""The provider adapters, by the adapter name a catalogue entry gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from core.adapters import cloudflare, gemini, openai_compatible
from core.llm import ChatReply, ChatRequest
from core.provider_config import Slot

Adapter = Callable[[aiohttp.ClientSession, Slot, ChatRequest], Awaitable[ChatReply]]

ADAPTERS: dict[str, Adapter] = {
    "openai": openai_compatible.complete,
    "gemini": gemini.complete,
    "cloudflare": cloudflare.complete,
}
