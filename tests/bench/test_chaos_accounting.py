"""The loss accounting, job fingerprints and recovery time of `make chaos` (bench/chaos_accounting.py)."""

from __future__ import annotations

from typing import Any

from bench.chaos_accounting import (
    Acked,
    Attempt,
    Row,
    Wait,
    calls_twice,
    job_fingerprints,
    losses,
    recovery_seconds,
    render,
)
from core.models import KeyPoint, Question
from core.providers.prompts import BatchItem, batch_evaluation_request, evaluation_request

QUESTION = Question(
    id="q1",
    kind="technical",
    levels=["mid"],
    text="How would you design a rate limiter for a public API?",
    key_points=[KeyPoint(text="Names an algorithm", terms=["bucket"])],
    follow_ups=[],
)


def openai_body(system: str, user: str, model: str = "m-1") -> dict[str, Any]:
    return {
        "model": model,
        "messages": [{"role": "system", "content": system}, {"role": "user", "content": user}],
    }


def gemini_body(system: str, user: str) -> dict[str, Any]:
    return {
        "systemInstruction": {"parts": [{"text": system}]},
        "contents": [{"role": "user", "parts": [{"text": user}]}],
        "generationConfig": {"responseMimeType": "application/json"},
    }


def done(turn: int, answer: str) -> dict[str, Any]:
    return {"turn": turn, "answer": answer, "status": "done", "feedback": {"overall": 3}}


def test_an_answer_in_the_transcript_and_scored_is_not_lost() -> None:
    acked = [Acked("i1", "t", 1, "first"), Acked("i1", "t", 2, "second")]
    found = losses(acked, {"i1": [done(1, "first"), done(2, "second")]})
    assert (found.missing, found.unscored, found.lost) == (0, 0, 0)


def test_missing_replaced_unscored_and_unreadable_answers_are_lost() -> None:
    acked = [
        Acked("i1", "t", 1, "first"),
        Acked("i1", "t", 2, "second"),  # another text stored in its place
        Acked("i1", "t", 3, "third"),  # not in the transcript at all
        Acked("i2", "t", 1, "pending"),  # stored, never scored
        Acked("i3", "t", 1, "gone"),  # the interview cannot be read
    ]
    transcripts = {
        "i1": [done(1, "first"), done(2, "other"), {"turn": 3, "answer": None, "status": "unanswered"}],
        "i2": [{"turn": 1, "answer": "pending", "status": "pending", "feedback": None}],
        "i3": None,
    }
    found = losses(acked, transcripts)
    assert (found.missing, found.unscored, found.lost) == (3, 1, 4)


def test_one_evaluation_has_one_fingerprint_alone_or_batched_on_any_wire() -> None:
    single = evaluation_request(QUESTION, "I would use a token bucket per client.")
    batched = batch_evaluation_request(
        [
            BatchItem("A1", QUESTION, "I would use a token bucket per client."),
            BatchItem("A2", QUESTION, "A sliding window in Redis."),
        ],
        nonce="n0nce",
    )
    alone = job_fingerprints(openai_body(single.system, single.user))
    assert alone == job_fingerprints(gemini_body(single.system, single.user))
    assert len(alone) == 1 and alone[0].startswith("evaluate:")
    in_batch = job_fingerprints(openai_body(batched.system, batched.user))
    assert len(in_batch) == 2 and in_batch[0] == alone[0] and in_batch[1] != alone[0]


def test_a_report_has_one_fingerprint_whichever_model_writes_it() -> None:
    first = openai_body(
        "You review an interview (LlmReview) " + "x" * 40, "Turn 1: a long enough answer line " * 2
    )
    again = openai_body(first["messages"][0]["content"], first["messages"][1]["content"], model="m-2")
    assert job_fingerprints(first) == job_fingerprints(again)
    assert job_fingerprints(first)[0].startswith("report:")


def test_calls_twice_counts_the_surplus_calls_per_job() -> None:
    one = evaluation_request(QUESTION, "answer one")
    two = evaluation_request(QUESTION, "answer two")
    bodies = [openai_body(one.system, one.user)] * 3 + [openai_body(two.system, two.user)]
    twice = calls_twice(bodies)
    assert (twice.jobs, twice.calls, twice.calls_by_kind) == (1, 2, {"evaluate": 2})
    assert calls_twice([openai_body(one.system, one.user)]).calls == 0


def test_recovery_runs_to_the_last_failure_after_the_fault() -> None:
    attempts = [
        Attempt(1.0, 2.0, False),
        Attempt(10.0, 11.0, False),
        Attempt(12.0, 15.5, False),
        Attempt(16, 17, True),
    ]
    assert recovery_seconds(attempts, [], since=10.0) == 5.5


def test_recovery_waits_for_what_candidates_were_owed_at_the_fault() -> None:
    waits = [Wait(8.0, 40.0), Wait(11.0, 60.0), Wait(1.0, 2.0)]  # only the first was pending at 10 s
    assert recovery_seconds([Attempt(3.0, 4.0, False)], waits, since=10.0) == 30.0


def test_no_failure_and_nothing_owed_is_no_recovery() -> None:
    assert recovery_seconds([Attempt(1.0, 2.0, True)], [Wait(1.0, 2.0)], since=10.0) == 0.0


def test_render_writes_one_markdown_row_per_scenario() -> None:
    table = render(
        [
            Row("baseline", 60, 60, 0, 400, 0, 1, 2, 0, 2.14),
            Row("host-killed", 60, 59, 1, 390, 0, 0, 0, 9, 71.0),
        ]
    )
    lines = table.splitlines()
    assert len(lines) == 4 and lines[0].startswith("| scenario")
    assert lines[2].split("|")[1].strip() == "baseline" and lines[2].split("|")[-2].strip() == "2.1"
