"""The provider adapters, by the adapter name a catalogue entry gives."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import aiohttp

from core.providers.adapters import cloudflare, gemini, openai_compatible
from core.providers.adapters.chat import ChatReply, ChatRequest
from core.providers.catalogue import Slot

Adapter = Callable[[aiohttp.ClientSession, Slot, ChatRequest], Awaitable[ChatReply]]

ADAPTERS: dict[str, Adapter] = {
    "openai": openai_compatible.complete,
    "gemini": gemini.complete,
    "cloudflare": cloudflare.complete,
}
