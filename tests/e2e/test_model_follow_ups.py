"""Model-written follow-ups (REMOTE_JOBS with `follow_up`) through the real path, against local servers
speaking Groq's and Gemini's formats: the first answer to a question that misses its result is asked the
bank's follow-up at once and a queued job has a model write one for that question and gap; the next such
answer gets the model's from the cache, with no second model call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from core.interview.follow_ups import GAP_WORDS, choose_follow_up
from core.interview.question_bank import question_bank
from core.providers.answerer import REMOTE_CLASS
from core.rubric.evaluator import evaluate_answer
from core.saving.cache import ResultKey
from testing.app_stack import Services
from testing.fakes import FakeProvider
from testing.interview_client import start_interview, story_without_result
from testing.provider_host import groq_and_gemini, host_with_providers

MODEL_FOLLOW_UP = "And what changed for your customers once it was over, in numbers if you have them?"
REDIS_DB = 8


def reply_for(body: dict[str, Any]) -> str:
    if "LlmFollowUp" in json.dumps(body):
        return json.dumps({"question": MODEL_FOLLOW_UP})
    raise AssertionError(f"only follow-ups go to a model here, not {json.dumps(body)[:200]}")


def follow_up_calls(fakes: dict[str, FakeProvider]) -> int:
    return sum(
        "LlmFollowUp" in json.dumps(received.body) for fake in fakes.values() for received in fake.received
    )


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[dict[str, FakeProvider]]:
    async with groq_and_gemini(reply_for) as running:
        yield running


@pytest.fixture(scope="module")
def model_host(
    services: Services, fakes: dict[str, FakeProvider], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {"REMOTE_JOBS": "follow_up"}
    with host_with_providers(
        services, fakes, tmp_path_factory.mktemp("model-follow-ups"), REDIS_DB, env
    ) as url:
        yield url


async def test_a_models_follow_up_is_written_once_per_question_and_gap_then_served_from_the_cache(
    model_host: str, fakes: dict[str, FakeProvider], services: Services
) -> None:
    setup = {"role": "backend", "level": "mid", "kind": "behavioral", "questions": 3, "follow_ups": True}
    bank = {question.text: question for question in question_bank().all_questions()}
    async with aiohttp.ClientSession(base_url=model_host) as http:
        for _ in range(100):  # a first question whose story the rubric finds a gap in
            first = await start_interview(http, **setup)
            question = bank[first.created["question"]["text"]]
            story = story_without_result(question)
            if choose_follow_up(question, story, evaluate_answer(question, story)):
                break
        status, asked = await first.answer(1, story)
        assert status == 200, asked
        follow_up = asked["follow_up"]
        assert follow_up and follow_up["written_by"] in ("bank", "template"), asked

        # The queued job has the model write the follow-up for this question and gap, into the cache.
        gap = f"the key point “{follow_up['point']}”" if follow_up["point"] else GAP_WORDS[follow_up["gap"]]
        key = ResultKey("follow_up", REMOTE_CLASS, question.id, gap, ordered=True).key
        async with Redis.from_url(services.redis_url.rsplit("/", 1)[0] + f"/{REDIS_DB}") as redis:
            for _ in range(100):
                if await redis.exists(key):
                    break
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the model's follow-up never reached the cache")
        assert follow_up_calls(fakes) == 1

        # The next answer to the same question missing the same thing gets the model's, at once.
        for _ in range(300):
            second = await start_interview(http, **setup)
            if second.created["question"]["text"] == question.text:
                break
        else:
            raise AssertionError("no interview drew the same first question again")
        status, again = await second.answer(1, story)
        assert status == 200, again
        assert again["follow_up"]["written_by"] == "model" and again["follow_up"]["text"] == MODEL_FOLLOW_UP
        assert (
            again["follow_up"]["reason"] == follow_up["reason"]
            and again["follow_up"]["gap"] == follow_up["gap"]
        )
        assert follow_up_calls(fakes) == 1
        # It is answered like any follow-up.
        status, answered = await second.answer_follow_up(1, "It cut failed payments by 30% within a week.")
        assert status == 200 and answered["follow_up_status"] == "answered", answered
