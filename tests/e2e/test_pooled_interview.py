"""A whole interview scored by remote providers through the real path (HTTP -> devhost -> queue -> pool
-> local servers speaking Groq's and Gemini's wire formats), then an outage that falls to local."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from core.models import CRITERIA
from testing.app_stack import OPS_HEADERS, Services
from testing.fakes import FakeProvider
from testing.interview_client import start_interview, unique_answer
from testing.model_replies import with_batches
from testing.provider_host import groq_and_gemini, host_with_providers

EVALUATION = {c: {"score": 4, "reason": "Solid."} for c in CRITERIA} | {
    "evidence": ["we cut latency"],
    "improvement": "Say what the cache cost you.",
    "covered_points": [],
    "missed_points": [],
}
REVIEW = {
    "summary": "A steady interview.",
    "strengths": ["Numbers in turn 1"],
    "improvements": ["Trade-offs"],
    "answers": [{"turn": turn, "comment": f"Note on answer {turn}."} for turn in (1, 2, 3)],
}


def _single(body: dict[str, Any]) -> str:
    """The report's prompt asks for the LlmReview shape; anything else is one answer's evaluation."""
    return json.dumps(REVIEW if "LlmReview" in json.dumps(body) else EVALUATION)


# Answers evaluated at the same time on the host are batched into one call.
reply_for = with_batches(_single, lambda answer: EVALUATION)


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[dict[str, FakeProvider]]:
    async with groq_and_gemini(reply_for) as running:
        yield running


@pytest.fixture(scope="module")
def pooled_host(
    services: Services, fakes: dict[str, FakeProvider], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A second app instance with its own storage (so its queue is its own) and a provider list."""
    with host_with_providers(
        services, fakes, tmp_path_factory.mktemp("pooled"), 3, {"REMOTE_JOBS": "evaluate,report"}
    ) as url:
        yield url


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
        assert report["written_by"] in fakes and report["summary"] == REVIEW["summary"]
        assert [answer["comment"] for answer in report["answers"]] == [
            f"Note on answer {t}." for t in (1, 2, 3)
        ]
        assert report["scored_locally"] == []

        async with http.get("/api/ops/providers", headers=OPS_HEADERS) as response:
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


async def test_the_ops_summary_shows_the_configured_keys_capacity_per_owner(pooled_host: str) -> None:
    async with (
        aiohttp.ClientSession(base_url=pooled_host) as http,
        http.get("/api/ops/summary", headers=OPS_HEADERS) as response,
    ):
        assert response.status == 200
        capacity = (await response.json())["capacity"]
    assert capacity["catalogue_checked_on"]
    assert capacity["owners"] and all(owner["binding"] for owner in capacity["owners"])
    assert capacity["reports_per_day"] == sum(owner["report_calls_per_day"] for owner in capacity["owners"])
