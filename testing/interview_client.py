"""A candidate's side of the API, as the tests and the README's example session use it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

GOOD_ANSWER = (
    "At my previous company we had a checkout service that timed out during sales. My task was to make it "
    "reliable before Black Friday. First I added request ids and idempotency keys so retries were safe, then "
    "I set up a queue with retries and a dead-letter queue, and I wrote load tests in k6. Because the database "
    "was the bottleneck, I added a Redis cache with a 5 minute TTL. As a result p95 latency fell from 900 ms "
    "to 180 ms and failed orders dropped by 40%, which saved about $20k that weekend."
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

    async def answer(self, turn: int, text: str) -> tuple[int, dict[str, Any]]:
        async with self.http.post(
            f"/api/interviews/{self.id}/turns", json={"turn": turn, "answer": text}, headers=self.auth
        ) as response:
            return response.status, await response.json()

    async def turn(self, turn: int, wait: float = 0) -> tuple[int, dict[str, Any]]:
        async with self.http.get(
            f"/api/interviews/{self.id}/turns/{turn}?wait={wait}", headers=self.auth
        ) as response:
            return response.status, await response.json()

    async def answer_and_wait(self, turn: int, text: str) -> dict[str, Any]:
        """The turn's result: at once, or by long-polling the URL a 202 points to."""
        status, body = await self.answer(turn, text)
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
    body = {"role": "backend", "level": "mid", "kind": "mixed", "questions": 3} | setup
    async with http.post("/api/interviews", json=body) as response:
        created = await response.json()
        assert response.status == 201, created
    return Candidate(http=http, id=created["id"], token=created["token"], created=created)


def unique_answer(tag: str) -> str:
    """A good answer no other test gives, so it is evaluated rather than served from the cache."""
    return f"{GOOD_ANSWER} (This was project {tag}.)"
