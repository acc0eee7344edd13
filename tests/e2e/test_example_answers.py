"""Example answers through the real path. Never before a candidate has answered (not in the create
response, not on the state's current question); after the feedback, an outline from the key points; with
REMOTE_JOBS including `example` and providers (local servers speaking Groq's and Gemini's formats), a
queued job has one model write an example from the question alone, stored and shown instead of the outline
to every candidate who answers that question, with no further model call."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from core.interview.example_answers import OUTLINE_LABEL, outline
from core.interview.question_bank import question_bank
from testing.app_stack import Services
from testing.fakes import FakeProvider
from testing.interview_client import start_interview, unique_answer
from testing.provider_host import groq_and_gemini, host_with_providers

MODEL_EXAMPLE = (
    "I would make the operation idempotent with a key the client sends, store the first result under it, "
    "and return that result to every retry, so a timeout never charges a customer twice."
)
REDIS_DB = 9
SETUP = {"role": "backend", "level": "mid", "kind": "technical", "questions": 3}


def reply_for(body: dict[str, Any]) -> str:
    if "LlmExample" in json.dumps(body):
        return json.dumps({"answer": MODEL_EXAMPLE})
    raise AssertionError(f"only example answers go to a model here, not {json.dumps(body)[:200]}")


def example_requests(fakes: dict[str, FakeProvider]) -> list[str]:
    return [
        json.dumps(received.body)
        for fake in fakes.values()
        for received in fake.received
        if "LlmExample" in json.dumps(received.body)
    ]


def _bank_outline(question_text: str) -> dict[str, Any]:
    question = next(q for q in question_bank().all_questions() if q.text == question_text)
    return outline(question).model_dump()


async def test_the_outline_is_shown_after_the_feedback_and_never_before_the_answer(
    http: aiohttp.ClientSession,
) -> None:
    candidate = await start_interview(http, **SETUP)
    assert "example_answer" not in json.dumps(candidate.created)
    state = await candidate.state()
    assert "example_answer" not in state["current_question"]
    assert all(entry["example_answer"] is None for entry in state["transcript"])

    question = candidate.created["question"]["text"]
    result = await candidate.answer_and_wait(1, unique_answer(f"example-{candidate.id}"))
    # No provider is configured on this stack: the outline, whatever REMOTE_JOBS says.
    assert result["example_answer"] == _bank_outline(question)
    assert (
        result["example_answer"]["label"] == OUTLINE_LABEL and result["example_answer"]["written_by"] is None
    )
    state = await candidate.state()
    assert state["transcript"][0]["example_answer"] == _bank_outline(question)
    assert all(entry["example_answer"] is None for entry in state["transcript"][1:])  # not answered yet
    assert "example_answer" not in state["current_question"]


@pytest.fixture(scope="module")
async def fakes() -> AsyncIterator[dict[str, FakeProvider]]:
    async with groq_and_gemini(reply_for) as running:
        yield running


@pytest.fixture(scope="module")
def model_host(
    services: Services, fakes: dict[str, FakeProvider], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    env = {"REMOTE_JOBS": "example"}
    with host_with_providers(
        services, fakes, tmp_path_factory.mktemp("example-answers"), REDIS_DB, env
    ) as url:
        yield url


async def test_one_model_call_writes_the_example_that_every_later_candidate_gets(
    model_host: str, fakes: dict[str, FakeProvider]
) -> None:
    async with aiohttp.ClientSession(base_url=model_host) as http:
        first = await start_interview(http, **SETUP)
        question = first.created["question"]["text"]
        answer = unique_answer(f"private-{first.id}")
        assert "example_answer" not in json.dumps(first.created)
        status, answered = await first.answer(1, answer)
        # Scored at once (answers stay local): the example read before its job was queued, the outline.
        assert status == 200, answered
        assert answered["example_answer"] == _bank_outline(question)

        # The queued job has a model write the example; the turn shows it once it is stored.
        for _ in range(100):
            status, again = await first.turn(1)
            assert status == 200, again
            if again["example_answer"]["kind"] == "model":
                break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the model's example never replaced the outline")
        example = again["example_answer"]
        assert example["text"] == MODEL_EXAMPLE
        provider = example["written_by"]["provider"]
        assert provider in fakes and example["written_by"]["model"] in ("llama", "gemini")
        assert example["label"] == f"Written by a model ({provider}): one way to answer, not the only one"
        sent = example_requests(fakes)
        assert len(sent) == 1
        # Written from the question and its key points, never from a candidate's answer.
        assert json.dumps(question)[1:-1] in sent[0] and answer not in sent[0]

        # Another candidate answering the same question gets the stored example, with no model call.
        for _ in range(300):
            second = await start_interview(http, **SETUP)
            if second.created["question"]["text"] == question:
                break
        else:
            raise AssertionError("no interview drew the same first question again")
        assert "example_answer" not in json.dumps(second.created)
        status, theirs = await second.answer(1, unique_answer(f"second-{second.id}"))
        assert status == 200, theirs
        assert theirs["example_answer"] == example
        assert (await second.state())["transcript"][0]["example_answer"] == example
        assert len(example_requests(fakes)) == 1
