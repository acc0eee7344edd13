"""Whole interviews through the real path: HTTP -> devhost -> Table storage -> queue -> worker -> Redis."""

from __future__ import annotations

import aiohttp
from redis.asyncio import Redis

from tests.app_stack import Stack
from tests.interview_client import start_interview, unique_answer


async def test_a_whole_interview_ends_in_a_report(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http, role="data-scientist", level="senior", kind="mixed", questions=4)
    first = candidate.created["question"]
    assert candidate.created["greeting"] and "4" in candidate.created["greeting"]
    assert first == {"turn": 1, "of": 4, "text": first["text"], "kind": "technical"}

    seen_questions = [first["text"]]
    for turn in range(1, 5):
        result = await candidate.answer_and_wait(turn, unique_answer(f"flow-{candidate.id}-{turn}"))
        assert result["turn"] == turn and result["status"] == "done"
        assert result["source"] == "provider"
        feedback = result["feedback"]
        assert feedback["scored_by"] == "local"
        assert all(
            1 <= feedback[c]["score"] <= 5
            for c in ("relevance", "structure", "specificity", "impact", "clarity")
        )
        assert feedback["evidence"] and all(quote in result["answer"] for quote in feedback["evidence"])
        assert feedback["improvement"]
        if turn < 4:
            assert result["next_question"]["turn"] == turn + 1 and result["transition"]
            seen_questions.append(result["next_question"]["text"])
        else:
            assert result["next_question"] is None and result["closing"]
            assert result["report_url"].endswith(f"/interviews/{candidate.id}/report")

    assert len(set(seen_questions)) == 4
    assert [q["kind"] for q in [first]] == ["technical"]

    status, report = await candidate.report(wait=10)
    assert status == 200, report
    assert [answer["turn"] for answer in report["answers"]] == [1, 2, 3, 4]
    assert set(report["criteria"]) == {"relevance", "structure", "specificity", "impact", "clarity"}
    assert report["strengths"] and report["improvements"] and report["summary"]
    assert report["written_by"] == "local" and report["scored_locally"] == [1, 2, 3, 4]

    state = await candidate.state()
    assert state["status"] == "finished" and state["report_status"] == "done"
    assert [entry["status"] for entry in state["transcript"]] == ["done"] * 4
    assert state["current_question"] is None


async def test_a_declined_question_is_answered_by_templates_at_once(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    status, result = await candidate.answer(1, "I don't know")
    assert status == 200, result
    assert result["source"] == "template" and result["feedback"]["scored_by"] == "template"
    assert result["feedback"]["overall"] == 1.0 and result["feedback"]["missed_points"]
    assert result["next_question"]["turn"] == 2


async def test_the_same_answer_to_the_same_question_is_served_from_the_cache(
    http: aiohttp.ClientSession,
) -> None:
    setup = {"role": "qa", "level": "junior", "kind": "technical", "questions": 3}
    first = await start_interview(http, **setup)
    for _ in range(80):
        second = await start_interview(http, **setup)
        if second.created["question"]["text"] == first.created["question"]["text"]:
            break
    else:
        raise AssertionError("no two interviews drew the same first question")
    answer = unique_answer(f"cache-{first.id}")

    evaluated = await first.answer_and_wait(1, answer)
    assert evaluated["source"] == "provider"
    # White space differences do not make it another answer.
    status, served = await second.answer(1, "  " + answer.replace(" ", "\n", 3))
    assert status == 200, served
    assert served["source"] == "cache"
    assert served["feedback"] == evaluated["feedback"]


async def test_redis_is_not_the_record_an_interview_survives_a_flush(
    http: aiohttp.ClientSession, stack: Stack
) -> None:
    candidate = await start_interview(http, questions=3)
    await candidate.answer_and_wait(1, unique_answer(f"flush-{candidate.id}-1"))
    async with Redis.from_url(stack.redis_url) as redis:
        await redis.flushdb()
    for turn in (2, 3):
        await candidate.answer_and_wait(turn, unique_answer(f"flush-{candidate.id}-{turn}"))
    status, report = await candidate.report(wait=10)
    assert status == 200, report
    state = await candidate.state()
    assert [entry["answer"] for entry in state["transcript"]] == [
        unique_answer(f"flush-{candidate.id}-{turn}") for turn in (1, 2, 3)
    ]
