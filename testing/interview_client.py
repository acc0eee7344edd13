"""A candidate's side of the API, as the tests and the README's example session use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from core.models import Question

GOOD_ANSWER = (
    "At my previous company we had a checkout service that timed out during sales. My task was to make it "
    "reliable before Black Friday. First I added request ids and idempotency keys so retries were safe, then "
    "I set up a queue with retries and a dead-letter queue, and I wrote load tests in k6. Because the database "
    "was the bottleneck, I added a Redis cache with a 5 minute TTL. As a result p95 latency fell from 900 ms "
    "to 180 ms and failed orders dropped by 40%, which saved about $20k that weekend."
)

# What a story without its result lacks, as a follow-up's answer gives it.
RESULT_SENTENCE = "As a result, checkout errors dropped by 40% and we saved about 10 hours a week."


def story_without_result(question: Question) -> str:
    """A STAR story touching every key point of a behavioral question, with no outcome at all."""
    points = " ".join(
        f"I worked on {point.terms[0]}, because {point.text.lower()} mattered here."
        for point in question.key_points
    )
    return (
        "Two years ago at a payments company our team was in a difficult spot. My task was to handle it "
        f"myself. {points}"
    )


@dataclass
class Candidate:
    http: aiohttp.ClientSession
    id: str
    token: str
    created: dict[str, Any]

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def post_turn(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        async with self.http.post(
            f"/api/interviews/{self.id}/turns", json=body, headers=self.auth
        ) as response:
            return response.status, await response.json()

    async def answer(self, turn: int, text: str) -> tuple[int, dict[str, Any]]:
        return await self.post_turn({"turn": turn, "answer": text})

    async def answer_follow_up(self, turn: int, text: str) -> tuple[int, dict[str, Any]]:
        return await self.post_turn({"turn": turn, "answer": text, "follow_up": True})

    async def skip_follow_up(self, turn: int) -> tuple[int, dict[str, Any]]:
        return await self.post_turn({"turn": turn, "skip_follow_up": True})

    async def turn(self, turn: int, wait: float = 0) -> tuple[int, dict[str, Any]]:
        async with self.http.get(
            f"/api/interviews/{self.id}/turns/{turn}?wait={wait}", headers=self.auth
        ) as response:
            return response.status, await response.json()

    async def answer_and_wait(self, turn: int, text: str) -> dict[str, Any]:
        """The turn's result: at once, or by long-polling the URL a 202 points to."""
        return await self.wait_for(turn, *await self.answer(turn, text))

    async def wait_for(self, turn: int, status: int, body: dict[str, Any]) -> dict[str, Any]:
        """The result of a POST to a turn: its body if it was ready, else the turn long-polled until it is."""
        for _ in range(10):
            if status == 200:
                return body
            assert status == 202, body
            status, body = await self.turn(turn, wait=5)
        raise AssertionError(f"turn {turn} still pending: {body}")

    async def state(self) -> dict[str, Any]:
        async with self.http.get(f"/api/interviews/{self.id}", headers=self.auth) as response:
            assert response.status == 200
            state: dict[str, Any] = await response.json()
            return state

    async def report(self, wait: float = 0) -> tuple[int, dict[str, Any]]:
        async with self.http.get(
            f"/api/interviews/{self.id}/report?wait={wait}", headers=self.auth
        ) as response:
            return response.status, await response.json()


async def start_interview(http: aiohttp.ClientSession, **setup: Any) -> Candidate:
    """A new interview. Follow-up questions are off unless asked for: the tests of other things walk
    from question to question (tests/e2e/test_follow_ups.py tests them)."""
    body = {"role": "backend", "level": "mid", "kind": "mixed", "questions": 3, "follow_ups": False} | setup
    async with http.post("/api/interviews", json=body) as response:
        created = await response.json()
        assert response.status == 201, created
    return Candidate(http=http, id=created["id"], token=created["token"], created=created)


def unique_answer(tag: str) -> str:
    """A good answer no other test gives, so it is evaluated rather than served from the cache."""
    return f"{GOOD_ANSWER} (This was project {tag}.)"
