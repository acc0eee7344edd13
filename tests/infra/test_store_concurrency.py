"""Writers racing on one interview over real Azurite: the record's ETag guards make exactly one of two
writes from the same read win, and the loser decides again on fresh data, so no answer and no feedback
is lost and nothing is applied twice.

The races are forced, not hoped for: both writers are held after their first read of the interview until
both have read it, so both write against the same version. Without the ETag condition on the interview
row (core/infra/store.py `_replace_if_unchanged`) both writes land and one silently undoes the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from core.infra import store
from core.interview import service, worker
from core.models import AnswerIn, EvaluateJob, InterviewSetup, TurnRecord
from core.settings import get_settings
from testing.app_stack import Services
from testing.interview_client import GOOD_ANSWER


class Race:
    """Holds the first `writers` reads of an interview until all of them have read it, and notes how each
    guarded write ended."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, writers: int = 2) -> None:
        self._barrier = asyncio.Barrier(writers)
        self._held = writers
        self.outcomes: list[str] = []
        load = store.load_interview

        async def load_together(interview_id: str) -> store.Versioned | None:
            loaded = await load(interview_id)
            if self._held > 0:
                self._held -= 1
                await asyncio.wait_for(self._barrier.wait(), timeout=10)
            return loaded

        monkeypatch.setattr(store, "load_interview", load_together)
        for name in ("add_turn", "save_feedback"):
            monkeypatch.setattr(store, name, self._noting(getattr(store, name)))

    def _noting(self, write: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
        async def noted(*args: Any) -> None:
            try:
                await write(*args)
            except store.StaleWrite:
                self.outcomes.append(f"{write.__name__}: stale")
                raise
            self.outcomes.append(f"{write.__name__}: stored")

        return noted


@pytest.fixture
def local_feedback(services: Services, monkeypatch: pytest.MonkeyPatch) -> None:
    # Answers are scored at once by the local evaluator: nothing goes to the queue the devhost polls.
    monkeypatch.setattr(get_settings(), "remote_jobs", frozenset({"questions", "report"}))


async def _interview_with_a_pending_first_turn(tag: str) -> tuple[str, str]:
    """An interview whose turn 1 is answered and waits for its feedback, as a queued evaluation does."""
    # Without follow-ups: an answer missing a key point would hold the next question back, and which
    # questions an interview draws is random.
    setup = InterviewSetup(role="backend", level="mid", kind="mixed", questions=3, follow_ups=False)
    created = await service.create(setup)
    current = await store.load_interview(created.id)
    assert current is not None
    record = current.record
    turn = TurnRecord(
        turn=1,
        question_id=record.question_ids[0],
        answer=f"{GOOD_ANSWER} ({tag} {created.id})",
        answered_at=datetime.now(UTC),
    )
    await store.add_turn(current, record.model_copy(update={"answered": 1}), turn)
    return created.id, created.token


async def test_an_answer_and_a_workers_feedback_from_the_same_read_both_land(
    local_feedback: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    interview_id, token = await _interview_with_a_pending_first_turn("race-answer")
    race = Race(monkeypatch)
    second = f"{GOOD_ANSWER} (the second answer of {interview_id})"

    answered, _ = await asyncio.gather(
        service.answer(interview_id, token, AnswerIn(turn=2, answer=second)),
        worker.evaluate(EvaluateJob(interview_id=interview_id, turn=1)),
    )

    loaded = await store.load_interview(interview_id)
    assert loaded is not None
    assert (loaded.record.answered, loaded.record.evaluated) == (2, 2)
    turns = {turn.turn: turn for turn in await store.load_turns(interview_id)}
    assert turns[2].answer == second and answered.turn == 2
    assert turns[1].feedback is not None and turns[2].feedback is not None
    state = await service.state(interview_id, token)
    assert [entry.status for entry in state.transcript] == ["done", "done", "unanswered"]
    assert state.current_question is not None and state.current_question.turn == 3
    # Exactly one of the two writes from the same read won; the other was refused and decided again.
    assert sorted(race.outcomes) in (
        ["add_turn: stale", "add_turn: stored", "save_feedback: stored"],
        ["add_turn: stored", "save_feedback: stale", "save_feedback: stored"],
    ), race.outcomes


async def test_two_workers_saving_one_turns_feedback_at_once_apply_it_once(
    local_feedback: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A redelivered job running beside the first delivery: one stores the feedback, the other finds it
    stored and stops, and the interview counts one evaluation, not two."""
    interview_id, token = await _interview_with_a_pending_first_turn("race-feedback")
    race = Race(monkeypatch)
    job = EvaluateJob(interview_id=interview_id, turn=1)

    await asyncio.gather(worker.evaluate(job), worker.evaluate(job))

    loaded = await store.load_interview(interview_id)
    assert loaded is not None
    assert (loaded.record.answered, loaded.record.evaluated) == (1, 1)
    state = await service.state(interview_id, token)
    assert [entry.status for entry in state.transcript] == ["done", "unanswered", "unanswered"]
    assert sorted(race.outcomes) == ["save_feedback: stale", "save_feedback: stored"], race.outcomes
