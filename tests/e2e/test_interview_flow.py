"""Whole interviews through the real path: HTTP -> devhost -> Table storage -> queue -> worker -> Redis."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass

import aiohttp
import pytest
from redis.asyncio import Redis

from devhost.stack import start_azurite, start_devhost, start_redis
from testing.app_stack import NO_CLIENT_LIMITS, OPS_HEADERS, ROOT
from testing.interview_client import start_interview, unique_answer


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


async def _counters(http: aiohttp.ClientSession) -> dict[str, int]:
    async with http.get("/api/ops/summary", headers=OPS_HEADERS) as response:
        return (await response.json())["counters"]


async def test_the_same_answer_to_the_same_question_is_served_from_the_cache(
    http: aiohttp.ClientSession,
) -> None:
    setup = {"role": "qa", "level": "junior", "kind": "technical", "questions": 3}
    first = await start_interview(http, **setup)
    others = []
    for _ in range(200):
        other = await start_interview(http, **setup)
        if other.created["question"]["text"] == first.created["question"]["text"]:
            others.append(other)
        if len(others) == 2:
            break
    else:
        raise AssertionError("no three interviews drew the same first question")
    answer = unique_answer(f"cache-{first.id}")
    before = await _counters(http)

    evaluated = await first.answer_and_wait(1, answer)
    assert evaluated["source"] == "provider"
    # Case and white space do not make it another answer.
    shouted = answer.upper().replace(" ", "  ")
    status, served = await others[0].answer(1, shouted)
    assert status == 200, served
    assert served["source"] == "cache"
    assert served["feedback"]["overall"] == evaluated["feedback"]["overall"]
    # Evidence is quoted from the answer at hand, never from the one the evaluation was written for.
    assert evaluated["feedback"]["evidence"] and served["feedback"]["evidence"] == []
    # Nor does a pasted preamble: a near-duplicate, matched by its fingerprint.
    status, near = await others[1].answer(1, f"Sure, here's my answer: {answer}")
    assert status == 200, near
    assert near["source"] == "cache" and near["feedback"] == evaluated["feedback"]

    after = await _counters(http)
    counted = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    # One lookup per answer, when it arrives; the first was a miss, then scored in the worker.
    assert counted["cache_lookups"] == 3
    assert counted["cache_hits"] == 2 and counted["near_duplicate_hits"] == 1


@dataclass
class OwnStack:
    base_url: str
    redis_url: str


@pytest.fixture(scope="module")
def own_redis_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OwnStack]:
    """A host with a Redis of its own (and its own Azurite, so its worker polls its own queue): a test
    that flushes Redis must never flush what REDIS_URL points at, which may be a developer's server."""
    workdir = tmp_path_factory.mktemp("own-redis")
    with (
        start_redis(workdir / "redis") as redis_server,
        start_azurite(workdir / "azurite", in_memory=True) as azurite,
    ):
        env = {
            "REDIS_URL": redis_server.url,
            "AzureWebJobsStorage": azurite.url,
            "REMOTE_JOBS": "evaluate,questions,report",
            **NO_CLIENT_LIMITS,
        }
        with start_devhost(ROOT, env) as host:
            yield OwnStack(base_url=host.url, redis_url=redis_server.url)


@pytest.mark.service  # starts its own redis-server, Azurite and host
async def test_redis_is_not_the_record_an_interview_survives_a_flush(own_redis_stack: OwnStack) -> None:
    async with aiohttp.ClientSession(base_url=own_redis_stack.base_url) as http:
        candidate = await start_interview(http, questions=3)
        await candidate.answer_and_wait(1, unique_answer(f"flush-{candidate.id}-1"))
        async with Redis.from_url(own_redis_stack.redis_url) as redis:
            assert await redis.dbsize() > 0  # what the host keeps there: counters, cache, guards
            await redis.flushdb()
        for turn in (2, 3):
            await candidate.answer_and_wait(turn, unique_answer(f"flush-{candidate.id}-{turn}"))
        status, report = await candidate.report(wait=10)
        assert status == 200, report
        state = await candidate.state()
    assert [entry["answer"] for entry in state["transcript"]] == [
        unique_answer(f"flush-{candidate.id}-{turn}") for turn in (1, 2, 3)
    ]


async def test_the_roles_are_the_question_banks_with_its_titles(http: aiohttp.ClientSession) -> None:
    async with http.get("/api/roles") as response:
        assert response.status == 200
        roles = (await response.json())["roles"]
    bank = json.loads((ROOT / "data" / "questions" / "devops-sre.json").read_text("utf-8"))
    assert {"role": "devops-sre", "title": bank["title"]} in roles
    assert len(roles) == len(list((ROOT / "data" / "questions").glob("*.json")))
