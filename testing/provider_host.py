"""A second app instance for the tests that need remote providers: its own Azurite, its own Redis
database, and a provider list of two local servers speaking Groq's and Gemini's wire formats."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from devhost.stack import start_azurite, start_devhost
from testing.app_stack import MASTER_KEY, NO_CLIENT_LIMITS, OPS_KEY, ROOT, Services
from testing.fakes import FakeProvider


@asynccontextmanager
async def groq_and_gemini(reply: Callable[[dict[str, Any]], str]) -> AsyncIterator[dict[str, FakeProvider]]:
    running = {
        "fake-groq": FakeProvider("openai", flavour="groq", reply=reply, api_key="groq-key"),
        "fake-gemini": FakeProvider("gemini", reply=reply, api_key="gemini-key"),
    }
    for fake in running.values():
        await fake.start()
    try:
        yield running
    finally:
        for fake in running.values():
            await fake.stop()


@contextmanager
def host_with_providers(
    services: Services, fakes: dict[str, FakeProvider], workdir: Path, redis_db: int, env: dict[str, str]
) -> Iterator[str]:
    entries = [
        {"name": "fake-groq", "adapter": "openai", "base_url": fakes["fake-groq"].base_url, "model": "llama",
         "key_settings": ["FAKE_GROQ_KEY"], "rpm": 100, "rpd": 1000},
        {"name": "fake-gemini", "adapter": "gemini", "base_url": fakes["fake-gemini"].base_url, "model": "gemini",
         "key_settings": ["FAKE_GEMINI_KEY"], "rpm": 100, "rpd": 1000, "reset_timezone": "America/Los_Angeles"},
        {"name": "keyless", "adapter": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
         "key_settings": ["NOT_SET_ANYWHERE"], "rpm": 1, "rpd": 1},
        {"name": "local", "adapter": "local", "rpm": 1000000, "rpd": 1000000000},
    ]  # fmt: skip
    providers = workdir / "providers.json"
    providers.write_text(json.dumps({"providers": entries}))
    with start_azurite(workdir / "azurite", in_memory=True) as azurite:
        host_env = {
            "REDIS_URL": services.redis_url.rsplit("/", 1)[0] + f"/{redis_db}",
            "AzureWebJobsStorage": azurite.url,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "OPS_KEY": OPS_KEY,
            **NO_CLIENT_LIMITS,
            "PROVIDERS_FILE": str(providers),
            "FAKE_GROQ_KEY": "groq-key",
            "FAKE_GEMINI_KEY": "gemini-key",
        }
        with start_devhost(ROOT, host_env | env) as host:
            yield host.url
