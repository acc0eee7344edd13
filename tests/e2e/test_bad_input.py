"""Bad input gets a clear 4xx JSON error and changes nothing."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from testing.interview_client import Candidate, start_interview, unique_answer


async def _error(response: aiohttp.ClientResponse) -> dict[str, Any]:
    body = await response.json()
    assert set(body) == {"error"} and body["error"]["code"] and body["error"]["message"], body
    return body["error"]


@pytest.mark.parametrize(
    ("setup", "code"),
    [
        ({"role": "astronaut", "level": "mid", "kind": "mixed"}, "invalid_body"),
        ({"role": "backend", "level": "mid", "kind": "mixed", "questions": 2}, "invalid_body"),
        ({"role": "backend", "level": "mid", "kind": "mixed", "questions": 16}, "invalid_body"),
        ({"role": "backend", "level": "guru", "kind": "mixed"}, "invalid_body"),
        ({"role": "backend", "level": "mid", "kind": "mixed", "extra": 1}, "invalid_body"),
    ],
)
async def test_a_bad_setup_is_refused(http: aiohttp.ClientSession, setup: dict[str, Any], code: str) -> None:
    async with http.post("/api/interviews", json=setup) as response:
        assert response.status == 422
        assert (await _error(response))["code"] == code


async def test_malformed_json_is_refused(http: aiohttp.ClientSession) -> None:
    async with http.post(
        "/api/interviews", data=b"{not json", headers={"Content-Type": "application/json"}
    ) as response:
        assert response.status == 400
        assert (await _error(response))["code"] == "invalid_json"


async def _post_turn(
    candidate: Candidate, body: Any, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    return await candidate.http.post(
        f"/api/interviews/{candidate.id}/turns",
        json=body,
        headers=candidate.auth if headers is None else headers,
    )


async def test_turn_errors_change_nothing(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    before = await candidate.state()
    answer = {"turn": 1, "answer": "A real answer about caching and retries."}
    cases = [
        (await _post_turn(candidate, answer, headers={}), 401, "missing_token"),
        (await _post_turn(candidate, answer, headers={"Authorization": "Bearer nope"}), 403, "wrong_token"),
        (await _post_turn(candidate, {"turn": 1, "answer": "x" * 8193}), 422, "invalid_body"),
        (await _post_turn(candidate, {"turn": 1, "answer": ""}), 422, "invalid_body"),
        (await _post_turn(candidate, {"turn": 2, "answer": "skipping ahead to turn two"}), 409, "wrong_turn"),
        (await _post_turn(candidate, {"answer": "no turn number"}), 422, "invalid_body"),
        (await _post_turn(candidate, ["not", "an", "object"]), 400, "invalid_json"),
    ]
    for response, status, code in cases:
        assert response.status == status, await response.text()
        assert (await _error(response))["code"] == code
    async with http.post("/api/interviews/0000/turns", json=answer, headers=candidate.auth) as response:
        assert response.status == 404
        assert (await _error(response))["code"] == "not_found"
    assert await candidate.state() == before


async def test_a_turn_posted_twice_is_refused_and_keeps_the_first_answer(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    first = unique_answer(f"twice-{candidate.id}")
    status, _ = await candidate.answer(1, first)
    assert status in (200, 202)
    response = await _post_turn(candidate, {"turn": 1, "answer": "a different second try at turn one"})
    assert response.status == 409
    assert (await _error(response))["code"] == "turn_already_answered"
    state = await candidate.state()
    assert state["transcript"][0]["answer"] == first
    assert state["current_question"]["turn"] == 2


async def test_a_finished_interview_takes_no_more_turns(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http, questions=3)
    for turn in (1, 2, 3):
        await candidate.answer_and_wait(turn, "I don't know")
    response = await _post_turn(candidate, {"turn": 4, "answer": "one more answer after the end"})
    assert response.status == 409
    assert (await _error(response))["code"] == "interview_finished"
    assert len((await candidate.state())["transcript"]) == 3


async def test_the_report_waits_for_the_last_answer(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    async with http.get(f"/api/interviews/{candidate.id}/report", headers=candidate.auth) as response:
        assert response.status == 409
        assert (await _error(response))["code"] == "interview_not_finished"


async def test_unanswered_turns_and_bad_numbers_are_not_found(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    for path in ("turns/1", "turns/0", "turns/abc", "turns/99"):
        async with http.get(f"/api/interviews/{candidate.id}/{path}", headers=candidate.auth) as response:
            assert response.status == 404, path
            await _error(response)
    async with http.get(
        f"/api/interviews/{candidate.id}/turns/1?wait=soon", headers=candidate.auth
    ) as response:
        assert response.status == 400
        assert (await _error(response))["code"] == "invalid_wait"


async def _raw_turn(
    candidate: Candidate, body: bytes, headers: dict[str, str] | None = None
) -> aiohttp.ClientResponse:
    return await candidate.http.post(
        f"/api/interviews/{candidate.id}/turns",
        data=body,
        headers={**candidate.auth, "Content-Type": "application/json", **(headers or {})},
    )


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b'{"turn": 1, "answer": "a control \\u0007 character inside the answer"}', 422, "invalid_body"),
        (b'{"turn": 1, "answer": "a lone surrogate \\ud800 inside the answer"}', 422, "invalid_body"),
        (b'{"turn": true, "answer": "a boolean where the turn number belongs"}', 422, "invalid_body"),
        (b'{"turn": "1", "answer": "a string where the turn number belongs"}', 422, "invalid_body"),
        (b'{"turn": 1000000000000000000000000000001, "answer": "a huge number"}', 400, "invalid_json"),
        (b'{"turn": 1, "answer": "NaN is not JSON", "x": NaN}', 400, "invalid_json"),
        (b'{"turn": 1, "answer": "deep", "x": ' + b"[" * 50 + b"]" * 50 + b"}", 400, "invalid_json"),
        (
            b'{"turn": 1, "answer": "deeper", "x": ' + b"[" * 100_00 + b"]" * 100_00 + b"}",
            400,
            "invalid_json",
        ),
        (b"\xff\xfe not even UTF-8", 400, "invalid_json"),
    ],
    ids=["control", "surrogate", "bool", "string", "huge", "nan", "deep", "deeper", "bytes"],
)
async def test_malformed_or_dangerous_bodies_are_4xx_and_change_nothing(
    http: aiohttp.ClientSession, body: bytes, status: int, code: str
) -> None:
    candidate = await start_interview(http)
    before = await candidate.state()
    response = await _raw_turn(candidate, body)
    assert response.status == status, await response.text()
    assert (await _error(response))["code"] == code
    assert await candidate.state() == before


async def test_a_body_declared_too_large_is_refused_on_its_header(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    body = b'{"turn": 1, "answer": "' + b"a" * 70_000 + b'"}'
    response = await _raw_turn(candidate, body)
    assert response.status == 413
    assert (await _error(response))["code"] == "body_too_large"


async def test_non_ascii_digits_and_odd_waits_are_4xx(http: aiohttp.ClientSession) -> None:
    candidate = await start_interview(http)
    await candidate.answer(1, "I don't know")
    for path in ("turns/\u0661", "turns/\u00b2", "turns/1" + "0" * 40):
        async with http.get(f"/api/interviews/{candidate.id}/{path}", headers=candidate.auth) as response:
            assert response.status == 404, path
            await _error(response)
    for wait in ("nan", "inf", "-inf", "1e400"):
        async with http.get(
            f"/api/interviews/{candidate.id}/turns/1?wait={wait}", headers=candidate.auth
        ) as response:
            assert response.status == 400, wait
            assert (await _error(response))["code"] == "invalid_wait"
