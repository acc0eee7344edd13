"""Follow-up questions through the real path (HTTP -> devhost -> Table storage -> queue -> worker): an
answer that misses its result is asked one follow-up, whose answer is scored with it and shown in the
transcript and the report; it can be skipped; the next question waits for either; `follow_ups: false`
never asks. On the shared stack every answer is queued (the follow-up is decided by the worker); the
`local_host` stack scores at once (the follow-up comes with the answer's 200)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import pytest

from core.interview.follow_ups import STRONG_OVERALL
from core.interview.question_bank import question_bank
from core.models import InterviewSetup, Question
from core.rubric.evaluator import evaluate_answer
from devhost.stack import start_azurite, start_devhost
from testing.app_stack import NO_CLIENT_LIMITS, ROOT, Services
from testing.interview_client import RESULT_SENTENCE, Candidate, start_interview, story_without_result

BEHAVIORAL = {"role": "backend", "level": "mid", "kind": "behavioral", "questions": 3}


def _question(text: str) -> Question:
    return next(question for question in question_bank().all_questions() if question.text == text)


def _misses_only_its_result(question: Question) -> bool:
    """Whether the story for this question scores high on relevance and low on impact (the rubric's
    view): then its gap is the result. Checked here so the test never depends on which question came."""
    evaluation = evaluate_answer(question, story_without_result(question))
    return (
        evaluation.relevance.score >= 4
        and evaluation.impact.score <= 2
        and evaluation.overall < STRONG_OVERALL
    )


async def _interview_missing_a_result(
    http: aiohttp.ClientSession, every_turn: bool = False, **setup: Any
) -> tuple[Candidate, Question]:
    """An interview whose first question's story (or every question's) lacks only its result. The bank
    draws an interview's questions from its id, so the test can tell which will come."""
    for _ in range(100):
        candidate = await start_interview(http, **(BEHAVIORAL | setup))
        question = _question(candidate.created["question"]["text"])
        drawn = question_bank().pick(InterviewSetup.model_validate(BEHAVIORAL | setup), candidate.id)
        assert drawn[0] == question
        if all(_misses_only_its_result(asked) for asked in (drawn if every_turn else drawn[:1])):
            return candidate, question
    raise AssertionError("no interview drew questions whose stories miss only their result")


async def test_an_answer_without_its_result_is_asked_a_follow_up_scored_with_it(
    http: aiohttp.ClientSession,
) -> None:
    candidate, question = await _interview_missing_a_result(http, every_turn=True, follow_ups=True)
    story = story_without_result(question)

    first = await candidate.answer_and_wait(1, story)

    follow_up = first["follow_up"]
    assert follow_up and follow_up["gap"] == "result" and follow_up["text"]
    assert "result" in follow_up["reason"]
    assert first["follow_up_status"] == "open" and first["follow_up_answer"] is None
    # The next question waits for the follow-up.
    assert first["next_question"] is None and first["transition"] is None
    state = await candidate.state()
    assert state["current_question"] is None and state["open_follow_up"] == 1
    assert state["transcript"][0]["follow_up"] == follow_up

    # Turn order stays strict: no next answer, no follow-up of another turn, no second answer to turn 1.
    for body, code in [
        ({"turn": 2, "answer": story}, "follow_up_open"),
        ({"turn": 1, "answer": story}, "follow_up_open"),
        ({"turn": 2, "skip_follow_up": True}, "no_follow_up_open"),
        ({"turn": 2, "answer": RESULT_SENTENCE, "follow_up": True}, "no_follow_up_open"),
    ]:
        status, refused = await candidate.post_turn(body)
        assert status == 409 and refused["error"]["code"] == code, (body, refused)

    answered = await candidate.wait_for(1, *await candidate.answer_follow_up(1, RESULT_SENTENCE))

    assert answered["follow_up"] == follow_up and answered["follow_up_status"] == "answered"
    assert answered["follow_up_answer"] == RESULT_SENTENCE and answered["answer"] == story
    assert answered["answer_feedback"] == first["feedback"]
    assert answered["feedback"]["impact"]["score"] > first["feedback"]["impact"]["score"]
    assert answered["feedback"]["overall"] > first["feedback"]["overall"]
    assert answered["next_question"]["turn"] == 2 and answered["transition"]
    # At most one follow-up per question: turn 1 is done.
    for body in (
        {"turn": 1, "answer": RESULT_SENTENCE, "follow_up": True},
        {"turn": 1, "skip_follow_up": True},
    ):
        status, refused = await candidate.post_turn(body)
        assert status == 409 and refused["error"]["code"] == "no_follow_up_open", refused

    for turn in (2, 3):
        result = await candidate.answer_and_wait(
            turn, story_without_result(_question(answered["next_question"]["text"]))
        )
        assert result["follow_up"] and result["follow_up_status"] == "open"
        answered = await candidate.wait_for(turn, *await candidate.skip_follow_up(turn))
        assert answered["follow_up_status"] == "skipped" and answered["feedback"] == result["feedback"]

    status, report = await candidate.report(wait=10)
    assert status == 200, report
    summary = report["answers"][0]
    assert summary["follow_up"] == follow_up["text"] and summary["follow_up_answer"] == RESULT_SENTENCE
    assert summary["overall"] == (await candidate.turn(1))[1]["feedback"]["overall"]
    state = await candidate.state()
    assert state["transcript"][0]["follow_up_answer"] == RESULT_SENTENCE
    assert state["transcript"][0]["follow_up_status"] == "answered"


async def test_follow_ups_false_never_asks_one(http: aiohttp.ClientSession) -> None:
    candidate, _ = await _interview_missing_a_result(http, follow_ups=False)
    text = candidate.created["question"]["text"]
    for turn in (1, 2, 3):
        result = await candidate.answer_and_wait(turn, story_without_result(_question(text)))
        assert result["follow_up"] is None and result["follow_up_status"] is None
        if turn < 3:
            text = result["next_question"]["text"]
    status, report = await candidate.report(wait=10)
    assert status == 200 and all(answer["follow_up"] is None for answer in report["answers"])


async def test_a_strong_answer_gets_no_follow_up(http: aiohttp.ClientSession) -> None:
    candidate, question = await _interview_missing_a_result(http, follow_ups=True)
    story = f"{story_without_result(question)} {RESULT_SENTENCE}"
    assert evaluate_answer(question, story).overall >= STRONG_OVERALL
    result = await candidate.answer_and_wait(1, story)
    assert result["follow_up"] is None and result["next_question"]["turn"] == 2


async def test_a_follow_up_needs_an_answer_or_a_skip_and_a_skip_takes_no_answer(
    http: aiohttp.ClientSession,
) -> None:
    candidate, _ = await _interview_missing_a_result(http, follow_ups=True)
    for body in (
        {"turn": 1},
        {"turn": 1, "skip_follow_up": True, "answer": "text"},
        {"turn": 1, "follow_up": True},
    ):
        status, refused = await candidate.post_turn(body)
        assert status == 422 and refused["error"]["code"] == "invalid_body", refused


@pytest.fixture(scope="module")
def local_host(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An app instance that scores every answer at once with the built-in evaluator (no REMOTE_JOBS),
    with its own storage and Redis database."""
    workdir = tmp_path_factory.mktemp("follow-ups")
    with start_azurite(workdir / "azurite", in_memory=True) as azurite:
        env = {
            "REDIS_URL": services.redis_url.rsplit("/", 1)[0] + "/7",
            "AzureWebJobsStorage": azurite.url,
            "REMOTE_JOBS": "",
            **NO_CLIENT_LIMITS,
        }
        with start_devhost(ROOT, env) as host:
            yield host.url


@pytest.fixture
async def local_http(local_host: str) -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(base_url=local_host) as session:
        yield session


async def test_scored_at_once_a_follow_up_comes_with_the_answer_and_the_last_one_holds_the_report(
    local_http: aiohttp.ClientSession,
) -> None:
    candidate, question = await _interview_missing_a_result(local_http, every_turn=True, follow_ups=True)
    text = question.text
    for turn in (1, 2, 3):
        status, result = await candidate.answer(turn, story_without_result(_question(text)))
        assert status == 200, result
        assert result["source"] == "local" and result["follow_up"]["gap"] == "result"
        assert result["next_question"] is None and result["closing"] is None
        if turn == 3:
            status, refused = await candidate.report()
            assert status == 409 and refused["error"]["code"] == "interview_not_finished", refused
            assert "follow-up" in refused["error"]["message"]
        if turn == 1:
            status, answered = await candidate.answer_follow_up(1, RESULT_SENTENCE)
            assert status == 200 and answered["source"] == "local", answered
            assert answered["feedback"]["overall"] > result["feedback"]["overall"]
        else:
            status, answered = await candidate.skip_follow_up(turn)
            assert status == 200 and answered["follow_up_status"] == "skipped", answered
            # A skip leaves the answer's own score.
            assert answered["feedback"] == result["feedback"] and answered["answer_feedback"] is None
        if turn < 3:
            text = answered["next_question"]["text"]
        else:
            assert answered["closing"] and answered["report_url"]
    status, report = await candidate.report(wait=10)
    assert status == 200, report
    assert report["answers"][0]["follow_up_answer"] == RESULT_SENTENCE


async def test_a_declined_follow_up_keeps_the_answers_score_and_its_words(
    local_http: aiohttp.ClientSession,
) -> None:
    candidate, question = await _interview_missing_a_result(local_http, follow_ups=True)
    status, first = await candidate.answer(1, story_without_result(question))
    assert status == 200 and first["follow_up"], first
    status, declined = await candidate.answer_follow_up(1, "I don't know")
    assert status == 200, declined
    assert declined["follow_up_answer"] == "I don't know" and declined["follow_up_status"] == "answered"
    assert declined["feedback"] == first["feedback"] and declined["next_question"]["turn"] == 2
