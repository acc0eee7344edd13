"""The default policy through the real path (HTTP -> devhost -> queue -> pool -> local servers speaking
Groq's and Gemini's formats): answers scored at once by the local rubric, one model call reviewing the
whole interview, and a custom role's questions generated once for every wording of its title."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from testing.app_stack import OPS_HEADERS, Services
from testing.fakes import FakeProvider
from testing.interview_client import start_interview, unique_answer
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
GENERATED_TEXTS = {question["text"] for question in GENERATED}


def reply_for(body: dict[str, Any]) -> str:
    """Answers by the JSON Schema the request asks for, as a model would."""
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
def default_policy_host(
    services: Services, fakes: dict[str, FakeProvider], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """An app instance with the fixed policy that was the default before the governor (REMOTE_JOBS
    questions,report), its own storage and Redis database."""
    env = {"REMOTE_JOBS": "questions,report"}
    with host_with_providers(services, fakes, tmp_path_factory.mktemp("saving"), 4, env) as url:
        yield url


async def counters(http: aiohttp.ClientSession) -> dict[str, int]:
    async with http.get("/api/ops/summary", headers=OPS_HEADERS) as response:
        assert response.status == 200
        return (await response.json())["counters"]


async def test_answers_are_scored_at_once_and_one_call_reviews_the_whole_interview(
    default_policy_host: str, fakes: dict[str, FakeProvider]
) -> None:
    async with aiohttp.ClientSession(base_url=default_policy_host) as http:
        before = await counters(http)
        reviews_before = calls_for(fakes, "LlmReview")
        candidate = await start_interview(http, questions=4)
        for turn in range(1, 5):
            status, result = await candidate.answer(turn, unique_answer(f"saving-{candidate.id}-{turn}"))
            assert status == 200, result
            assert result["source"] == "local" and result["feedback"]["scored_by"] == "local"
        status, report = await candidate.report(wait=15)
        assert status == 200, report
        assert report["written_by"] in fakes
        assert [answer["comment"] for answer in report["answers"]] == [
            f"Note on answer {t}." for t in range(1, 5)
        ]
        assert calls_for(fakes, "LlmReview") == reviews_before + 1
        assert calls_for(fakes, "LlmEvaluation") == 0

        after = await counters(http)
        assert after["batched_jobs"] - before.get("batched_jobs", 0) == 4
        assert after["provider_calls_local"] - before.get("provider_calls_local", 0) >= 4
        # Greeting and four bank questions: what a naive build would have asked a model to write.
        assert after["template_answers"] - before.get("template_answers", 0) == 5
        assert after["function_executions"] > before.get("function_executions", 0)
        assert after["queue_messages"] > before.get("queue_messages", 0)
        assert after["redis_commands"] > before.get("redis_commands", 0)


async def _current_questions(http: aiohttp.ClientSession, candidate: Any) -> list[str]:
    return [entry["question"] for entry in (await candidate.state())["transcript"]]


async def test_a_custom_roles_questions_are_generated_once_for_every_wording_of_it(
    default_policy_host: str, fakes: dict[str, FakeProvider]
) -> None:
    async with aiohttp.ClientSession(base_url=default_policy_host) as http:
        first = await start_interview(
            http, role="custom", custom_role="Senior Data Engineer (Spark)", level="senior", questions=4
        )
        # The candidate starts at once on the nearest bank role's question...
        assert first.created["question"]["text"] not in GENERATED_TEXTS
        # ...and the generated questions replace the ones not yet shown when they come.
        for _ in range(50):
            questions = await _current_questions(http, first)
            if questions[1] in GENERATED_TEXTS:
                break
            await asyncio.sleep(0.2)
        assert questions[0] == first.created["question"]["text"]
        assert all(text in GENERATED_TEXTS for text in questions[1:])
        assert calls_for(fakes, "LlmQuestions") == 1

        result = await first.answer_and_wait(1, unique_answer(f"custom-{first.id}-1"))
        assert result["next_question"]["text"] == questions[1]

        # Another wording of the same title: generated questions from the first turn, no new call.
        second = await start_interview(
            http, role="custom", custom_role="spark data engineer, SENIOR", level="senior", questions=4
        )
        assert second.created["question"]["text"] in GENERATED_TEXTS
        assert all(text in GENERATED_TEXTS for text in await _current_questions(http, second))
        assert calls_for(fakes, "LlmQuestions") == 1

        # Another level is another job.
        await start_interview(http, role="custom", custom_role="Senior Data Engineer (Spark)", level="junior")
        for _ in range(50):
            if calls_for(fakes, "LlmQuestions") == 2:
                break
            await asyncio.sleep(0.2)
        assert calls_for(fakes, "LlmQuestions") == 2


@pytest.mark.parametrize(
    "setup",
    [
        {"role": "custom"},
        {"role": "custom", "custom_role": "  "},
        {"role": "backend", "custom_role": "Data engineer"},
        {"role": "custom", "custom_role": "x" * 81},
    ],
)
async def test_a_custom_role_needs_its_title_and_only_with_role_custom(
    default_policy_host: str, setup: dict[str, Any]
) -> None:
    async with aiohttp.ClientSession(base_url=default_policy_host) as http:
        body = {"level": "mid", "kind": "mixed"} | setup
        async with http.post("/api/interviews", json=body) as response:
            assert response.status == 422
            assert (await response.json())["error"]["code"]


JOB_AD = """Senior Data Engineer

Build Spark and Airflow pipelines on AWS; SQL, dbt and a data warehouse; 6 years of experience."""


async def test_a_job_ads_questions_are_written_once_and_ask_a_few_of_the_interviews_questions(
    default_policy_host: str, fakes: dict[str, FakeProvider]
) -> None:
    setup = {"role": "data-analyst", "level": "senior", "kind": "mixed", "questions": 6}
    async with aiohttp.ClientSession(base_url=default_policy_host) as http:
        calls = calls_for(fakes, "LlmQuestions")
        first = await start_interview(http, **setup, job_description=JOB_AD)
        assert first.created["job_ad"]["role"] == "data-analyst"
        # The bank's question, drawn for the ad's skills, comes at once; the ad's arrive for later turns.
        assert first.created["question"]["text"] not in GENERATED_TEXTS
        for _ in range(50):
            questions = await _current_questions(http, first)
            if any(text in GENERATED_TEXTS for text in questions):
                break
            await asyncio.sleep(0.2)
        # A third of the interview's questions at most (two of six) are the ad's; the bank asks the rest.
        assert sum(text in GENERATED_TEXTS for text in questions) == 2
        assert calls_for(fakes, "LlmQuestions") == calls + 1
        assert any(
            "Spark and Airflow" in json.dumps(received.body)
            for fake in fakes.values()
            for received in fake.received
        )

        # The same ad, in other case and spacing, another role: its questions at once, no second call.
        same_ad = "  " + JOB_AD.upper().replace("\n", "\n\n ")
        second = await start_interview(http, **(setup | {"role": "backend"}), job_description=same_ad)
        assert second.created["question"]["text"] in GENERATED_TEXTS
        assert sum(text in GENERATED_TEXTS for text in await _current_questions(http, second)) == 2
        assert calls_for(fakes, "LlmQuestions") == calls + 1
