"""Each client's share of the day's model calls, through the real path (HTTP -> devhost -> queue -> pool ->
local servers speaking Groq's and Gemini's formats): past its share, a client's reports and custom-role
questions are the built-in evaluator's; and an interview of nothing but non-answers never costs a call.

Clients are told apart by the loopback address the test connects from (127.0.0.x), which the devhost
appends to X-Forwarded-For as Azure's front end does."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from core.providers.capacity import capacity_view
from core.providers.catalogue import ProviderEntry
from testing.app_stack import OPS_HEADERS, Services
from testing.fakes import FakeProvider
from testing.interview_client import Candidate, start_interview, unique_answer
from testing.provider_host import groq_and_gemini, host_with_providers

GENERATED = [
    {
        "kind": kind,
        "text": f"Generated {kind} question {n} about Spark pipelines: how would you handle it?",
        "key_points": [{"text": "Partitioning", "terms": ["partition", "shuffle"]}],
    }
    for n in range(1, 9)
    for kind in ("technical", "behavioral")
]
# Each of the two fake providers allows 1,000 calls a day (testing/provider_host.py): 2,000 in all, and a
# share of 1/2,000 is one remote job per client a day.
DAY_MODEL_CALLS = 2000
SHARE = 1 / DAY_MODEL_CALLS


def reply_for(body: dict[str, Any]) -> str:
    text = json.dumps(body)
    if "LlmQuestions" in text:
        return json.dumps({"questions": GENERATED})
    turns = sorted({int(n) for n in re.findall(r"Turn (\d+):", text)})
    return json.dumps(
        {
            "summary": "A steady interview.",
            "strengths": ["Numbers in turn 1"],
            "improvements": ["Trade-offs"],
            "answers": [{"turn": turn, "comment": f"Note on answer {turn}."} for turn in turns],
        }
    )


def calls_for(fakes: dict[str, FakeProvider], schema: str) -> int:
    return sum(schema in json.dumps(received.body) for fake in fakes.values() for received in fake.received)


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[dict[str, FakeProvider]]:
    async with groq_and_gemini(reply_for) as running:
        yield running


@pytest.fixture(scope="module")
def share_host(
    services: Services, fakes: dict[str, FakeProvider], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """The fixed policy of reports and custom roles' questions by a model (REMOTE_JOBS, the override of the
    governor), one model call per client a day."""
    env = {"MODEL_CALL_SHARE_PER_CLIENT": str(SHARE), "REMOTE_JOBS": "questions,report"}
    with host_with_providers(services, fakes, tmp_path_factory.mktemp("share"), 5, env) as url:
        yield url


def client(url: str, number: int) -> aiohttp.ClientSession:
    connector = aiohttp.TCPConnector(local_addr=(f"127.0.0.{number}", 0))
    return aiohttp.ClientSession(base_url=url, connector=connector)


async def finish(candidate: Candidate, answers: list[str]) -> dict[str, Any]:
    for turn, text in enumerate(answers, start=1):
        await candidate.answer_and_wait(turn, text)
    status, report = await candidate.report(wait=15)
    assert status == 200, report
    return report


def test_the_share_is_of_what_the_fakes_allow_a_day() -> None:
    entries = [
        (ProviderEntry.model_validate({"name": name, "adapter": "openai", "rpm": 100, "rpd": 1000}), 1)
        for name in ("fake-groq", "fake-gemini")
    ]
    assert capacity_view(entries).reports_per_day == DAY_MODEL_CALLS


async def test_past_its_share_a_clients_reports_are_written_locally(
    share_host: str, fakes: dict[str, FakeProvider]
) -> None:
    reviews = calls_for(fakes, "LlmReview")
    async with client(share_host, 21) as http:
        first = await finish(await start_interview(http), [unique_answer(f"share-a-{n}") for n in (1, 2, 3)])
        assert first["written_by"] in fakes
        assert calls_for(fakes, "LlmReview") == reviews + 1

        second = await finish(await start_interview(http), [unique_answer(f"share-b-{n}") for n in (1, 2, 3)])
        assert second["written_by"] == "local", "over its share: the built-in evaluator writes the report"
        assert second["answers"] and second["overall"] >= 1
        assert calls_for(fakes, "LlmReview") == reviews + 1

    async with client(share_host, 22) as other:  # another client has its own share
        third = await finish(await start_interview(other), [unique_answer(f"share-c-{n}") for n in (1, 2, 3)])
        assert third["written_by"] in fakes
    assert calls_for(fakes, "LlmReview") == reviews + 2

    async with client(share_host, 21) as http, http.get("/api/ops/summary", headers=OPS_HEADERS) as response:
        clients = (await response.json())["clients"]
    limited = [row for row in clients["limited"] if row["limited"].get("model_calls")]
    assert len(limited) == 1 and limited[0]["model_calls"] == 1


async def test_past_its_share_a_custom_role_keeps_the_bank_questions(
    share_host: str, fakes: dict[str, FakeProvider]
) -> None:
    generated = calls_for(fakes, "LlmQuestions")
    custom = {"role": "custom", "custom_role": "Spark data engineer"}
    async with client(share_host, 23) as http:
        await finish(await start_interview(http), [unique_answer(f"spent-{n}") for n in (1, 2, 3)])
        candidate = await start_interview(http, **custom)
        await asyncio.sleep(3)  # time for a questions job, had one been queued
        assert calls_for(fakes, "LlmQuestions") == generated
        state = await candidate.state()
        assert not any(entry["question"].startswith("Generated") for entry in state["transcript"])

    async with client(share_host, 24) as fresh:  # within its share: the questions are generated
        candidate = await start_interview(fresh, **custom | {"custom_role": "Kafka streaming engineer"})

        async def generated_now() -> bool:
            return calls_for(fakes, "LlmQuestions") > generated

        for _ in range(100):
            if await generated_now():
                break
            await asyncio.sleep(0.1)
        assert await generated_now()


async def test_an_interview_of_non_answers_never_calls_a_model(
    share_host: str, fakes: dict[str, FakeProvider]
) -> None:
    calls = sum(len(fake.received) for fake in fakes.values())
    async with client(share_host, 25) as http:  # a client well within its share
        report = await finish(await start_interview(http), ["I don't know", "skip", "no idea"])
    assert report["written_by"] == "local"
    assert sum(len(fake.received) for fake in fakes.values()) == calls
