"""A whole interview scored by remote providers through the real path (HTTP -> devhost -> queue -> pool
-> local servers speaking Groq's and Gemini's wire formats), then an outage that falls to local."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from core.models import CRITERIA
from devhost.stack import start_azurite, start_devhost
from tests.app_stack import MASTER_KEY, ROOT, Services
from tests.fakes.provider_servers import FakeProvider
from tests.interview_client import start_interview, unique_answer

EVALUATION = {c: {"score": 4, "reason": "Solid."} for c in CRITERIA} | {
    "evidence": ["we cut latency"],
    "improvement": "Say what the cache cost you.",
    "covered_points": [],
    "missed_points": [],
}
NARRATIVE = {
    "summary": "A steady interview.",
    "strengths": ["Numbers in turn 1"],
    "improvements": ["Trade-offs"],
}


def reply_for(body: dict[str, Any]) -> str:
    """The report's prompt asks for closing feedback; anything else is one answer's evaluation."""
    return json.dumps(NARRATIVE if "closing feedback" in json.dumps(body) else EVALUATION)


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[dict[str, FakeProvider]]:
    running = {
        "fake-groq": FakeProvider("openai", flavour="groq", reply=reply_for, api_key="groq-key"),
        "fake-gemini": FakeProvider("gemini", reply=reply_for, api_key="gemini-key"),
    }
    for fake in running.values():
        await fake.start()
    yield running
    for fake in running.values():
        await fake.stop()


@pytest.fixture(scope="module")
def pooled_host(
    services: Services, fakes: dict[str, FakeProvider], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second app instance with its own storage (so its queue is its own) and a provider list."""
    workdir = tmp_path_factory.mktemp("pooled")
    entries = [
        {"name": "fake-groq", "adapter": "openai", "base_url": fakes["fake-groq"].base_url, "model": "llama",
         "key_settings": ["FAKE_GROQ_KEY"], "rpm": 100, "rpd": 1000},
        {"name": "fake-gemini", "adapter": "gemini", "base_url": fakes["fake-gemini"].base_url, "model": "gemini",
         "key_settings": ["FAKE_GEMINI_KEY"], "rpm": 100, "rpd": 1000, "reset_timezone": "America/Los_Angeles"},
        {"name": "keyless", "adapter": "openai", "base_url": "http://127.0.0.1:9/v1", "model": "m",
         "key_settings": ["NOT_SET_ANYWHERE"], "rpm": 1, "rpd": 1},
        {"name": "local", "adapter": "local", "rpm": 1000000, "rpd": 1000000000},
    ]  # fmt: skip
    providers = Path(workdir / "providers.json")
    providers.write_text(json.dumps({"providers": entries}))
    with start_azurite(workdir / "azurite", in_memory=True) as azurite:
        env = {
            "REDIS_URL": services.redis_url.rsplit("/", 1)[0] + "/3",
            "AzureWebJobsStorage": azurite.url,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "PROVIDERS_FILE": str(providers),
            "FAKE_GROQ_KEY": "groq-key",
            "FAKE_GEMINI_KEY": "gemini-key",
        }
        with start_devhost(ROOT, env) as host:
            yield host.url


async def test_remote_providers_score_and_report_then_an_outage_falls_to_local(
    pooled_host: str, fakes: dict[str, FakeProvider]
) -> None:
    async with aiohttp.ClientSession(base_url=pooled_host) as http:
        candidate = await start_interview(http, questions=3)
        for turn in (1, 2, 3):
            result = await candidate.answer_and_wait(turn, unique_answer(f"pooled-{candidate.id}-{turn}"))
            assert result["feedback"]["scored_by"] in fakes
            assert result["feedback"]["relevance"]["score"] == 4
        status, report = await candidate.report(wait=15)
        assert status == 200, report
        assert report["written_by"] in fakes and report["summary"] == NARRATIVE["summary"]
        assert report["scored_locally"] == []

        async with http.get("/api/ops/providers", headers={"x-functions-key": MASTER_KEY}) as response:
            providers = {row["provider"]: row for row in (await response.json())["providers"]}
        assert sum(providers[name]["used_today"] for name in fakes) == 4
        assert providers["keyless"]["state"] == "no key"
        assert all(providers[name]["state"] == "ok" for name in fakes)

        for fake in fakes.values():
            await fake.stop()  # every remote provider goes down mid-interview
        second = await start_interview(http, questions=3)
        first = await second.answer_and_wait(1, unique_answer(f"outage-{second.id}-1"))
        assert first["feedback"]["scored_by"] == "local"
        for turn in (2, 3):
            await second.answer_and_wait(turn, unique_answer(f"outage-{second.id}-{turn}"))
        status, report = await second.report(wait=15)
        assert status == 200 and report["scored_locally"] == [1, 2, 3] and report["written_by"] == "local"
