"""Drives `make simulate`'s interviews through the app's HTTP API, `concurrency` at a time (optionally
started at `rate` interviews a second), and reads the app's own counters from GET /api/ops/summary before
and after.

Per turn: POST .../turns; a 200 is an answered turn (latency = the POST); a 202 is queued and long-polled
with GET .../turns/{n}?wait=10 until 200 (latency = POST to feedback). A follow-up question is answered
(FOLLOW_UP_ANSWER_SHARE of them) or skipped the same way; a 429 rate_limited is sent again after its
Retry-After (counted, not a failure). After the last turn GET .../report?wait=15 until 200. An interview
fails if any step does.

Each interview comes from a loopback address of its own (127.x.y.z: Linux answers on all of 127/8), as
candidates come from addresses of their own, so the app's per-client limits apply as they would in
production and their Redis commands are counted, without one client's limits refusing the whole day.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, NoReturn

import aiohttp

from bench.workload import Plan, answer_text, follow_up_answer

REQUEST_TIMEOUT = 40.0
TURN_DEADLINE = 90.0
REPORT_DEADLINE = 120.0
# The share of follow-up questions the simulated candidates answer; they skip the others.
FOLLOW_UP_ANSWER_SHARE = 0.5
RATE_LIMITED_TRIES = 5


class StepFailed(Exception):
    pass


@dataclass
class Stats:
    started: int = 0
    completed: int = 0
    abandoned: int = 0
    failed: int = 0
    steps: int = 0
    failed_steps: int = 0
    answered_ms: list[float] = field(default_factory=list)
    queued_ms: list[float] = field(default_factory=list)
    report_ms: list[float] = field(default_factory=list)
    # Every HTTP step's duration: the cost model's sample of how long an execution keeps an instance busy.
    step_seconds: list[float] = field(default_factory=list)
    sources: Counter[str] = field(default_factory=Counter)
    answers: Counter[str] = field(default_factory=Counter)
    roles: Counter[str] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    follow_ups: Counter[str] = field(default_factory=Counter)
    rate_limited_waits: int = 0
    # The first feedback a candidate reads, by its source; and, after a provisional score, the model's.
    first_ms_by_source: defaultdict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    final_ms: list[float] = field(default_factory=list)
    # Who gave each answer's final score (the report's for a completed interview): model, built-in,
    # template.
    final_scorers: Counter[str] = field(default_factory=Counter)
    last_summary: dict[str, Any] = field(default_factory=dict)


class Driver:
    def __init__(self, http: aiohttp.ClientSession, stats: Stats) -> None:
        self.http = http
        self.stats = stats
        self.retry_after = 1.0

    async def step(
        self, method: str, path: str, expect: tuple[int, ...], what: str, **kwargs: Any
    ) -> tuple[int, Any]:
        self.stats.steps += 1
        timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
        started = time.perf_counter()
        try:
            async with self.http.request(method, path, timeout=timeout, **kwargs) as response:
                status, body = response.status, await response.json(content_type=None)
                self.retry_after = float(response.headers.get("Retry-After", "1") or 1)
        except (aiohttp.ClientError, TimeoutError, ValueError) as error:
            self._fail(f"{what}: {type(error).__name__} {error}")
        finally:
            self.stats.step_seconds.append(time.perf_counter() - started)
        if status not in expect:
            code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
            self._fail(f"{what}: HTTP {status} {code}".strip())
        return status, body

    def _fail(self, reason: str) -> NoReturn:
        self.stats.failed_steps += 1
        self.stats.failures[reason] += 1
        raise StepFailed(reason)

    async def interview(self, plan: Plan) -> None:
        stats = self.stats
        stats.started += 1
        stats.roles["custom" if plan.setup["role"] == "custom" else plan.setup["role"]] += 1
        try:
            await self._interview(plan)
        except StepFailed:
            stats.failed += 1
            return
        if plan.abandon_after is not None:
            stats.abandoned += 1
        else:
            stats.completed += 1

    async def _interview(self, plan: Plan) -> None:
        _, created = await self.step("POST", "/api/interviews", (201,), "create", json=plan.setup)
        base, auth = f"/api/interviews/{created['id']}", {"Authorization": f"Bearer {created['token']}"}
        question = created["question"]["text"]
        total = created["question"]["of"]
        turn_scorers: list[str] = []
        for turn in range(1, len(plan.answers) + 1):
            text, how = answer_text(plan, turn, question)
            self.stats.answers[how] += 1
            body = await self._turn(base, auth, turn, {"turn": turn, "answer": text})
            if body.get("follow_up_status") == "open":
                # Some candidates answer the follow-up (with the outcome it mostly asks for), the rest skip it.
                if plan.rng.random() < FOLLOW_UP_ANSWER_SHARE:
                    self.stats.follow_ups["answered"] += 1
                    reply = {"turn": turn, "answer": follow_up_answer(plan, turn), "follow_up": True}
                else:
                    self.stats.follow_ups["skipped"] += 1
                    reply = {"turn": turn, "skip_follow_up": True}
                # A skip is not a turn's feedback: it is left out of the latencies and the sources.
                body = await self._turn(base, auth, turn, reply, counted="answer" in reply)
            turn_scorers.append(((body.get("feedback") or {}).get("scorer") or {}).get("kind", "?"))
            if turn < total:
                if not body.get("next_question"):
                    self._fail("turn result without next_question")
                question = body["next_question"]["text"]
        if plan.abandon_after is not None:
            self.stats.final_scorers.update(turn_scorers)
            return
        started = time.perf_counter()
        status = 202
        while status == 202:
            if time.perf_counter() - started > REPORT_DEADLINE:
                self._fail(f"report still pending after {REPORT_DEADLINE:.0f} s")
            status, report = await self.step(
                "GET", f"{base}/report?wait=15", (200, 202), "report", headers=auth
            )
        self.stats.report_ms.append((time.perf_counter() - started) * 1000)
        # The report's per-answer scores are the final ones: a review may have scored built-in answers.
        self.stats.final_scorers.update(
            (answer.get("scorer") or {}).get("kind", "?") for answer in report.get("answers", [])
        )

    async def _turn(
        self, base: str, auth: dict[str, str], turn: int, sent: dict[str, Any], counted: bool = True
    ) -> Any:
        """POST a turn (an answer, or a follow-up's answer or skip), long-polling a 202 until the result."""
        # A candidate answering at machine speed, a follow-up on every turn, may outrun the per-client write
        # rate (30 a minute, bursts of 10): like any polite client it waits Retry-After and sends again.
        for _ in range(RATE_LIMITED_TRIES):
            started = time.perf_counter()
            status, body = await self.step(
                "POST", f"{base}/turns", (200, 202, 429), "answer", json=sent, headers=auth
            )
            if status != 429:
                break
            self.stats.rate_limited_waits += 1
            await asyncio.sleep(self.retry_after)
        else:
            self._fail("answer: HTTP 429 rate_limited, after waiting Retry-After")
        queued = status == 202
        while status == 202:
            if time.perf_counter() - started > TURN_DEADLINE:
                self._fail(f"turn still pending after {TURN_DEADLINE:.0f} s")
            status, body = await self.step(
                "GET", f"{base}/turns/{turn}?wait=10", (200, 202), "poll turn", headers=auth
            )
        first_ms = (time.perf_counter() - started) * 1000
        if counted:
            (self.stats.queued_ms if queued else self.stats.answered_ms).append(first_ms)
            self.stats.first_ms_by_source["queued" if queued else body.get("source", "?")].append(first_ms)
        while body.get("provisional"):  # the model's score is on its way: wait for it
            if time.perf_counter() - started > TURN_DEADLINE:
                self._fail(f"turn still provisional after {TURN_DEADLINE:.0f} s")
            _, body = await self.step(
                "GET", f"{base}/turns/{turn}?wait=10", (200,), "poll final", headers=auth
            )
            if not body.get("provisional"):
                self.stats.final_ms.append((time.perf_counter() - started) * 1000)
        if counted:
            self.stats.sources[body.get("source", "?")] += 1
        return body


def client_address(index: int) -> str:
    """The loopback address interview `index` comes from: one of 254 * 256 * 256, never 127.0.0.1 (the
    ops calls') nor a .0 or .255 host."""
    number = index % (254 * 256 * 254)
    return f"127.{1 + number // (256 * 254)}.{number // 254 % 256}.{1 + number % 254}"


async def summary(http: aiohttp.ClientSession, ops_key: str) -> dict[str, Any]:
    """GET /api/ops/summary, with the ops key (X-Ops-Key) the stack was started with."""
    async with http.get("/api/ops/summary", headers={"X-Ops-Key": ops_key}) as response:
        if response.status != 200:
            raise RuntimeError(f"GET /api/ops/summary answered {response.status}: {await response.text()}")
        found: dict[str, Any] = await response.json()
        return found


async def settled(http: aiohttp.ClientSession, ops_key: str, timeout: float = 30.0) -> dict[str, Any]:
    """The summary once the jobs queue is empty and the counters stopped moving (or after `timeout`)."""
    deadline = time.monotonic() + timeout
    last: dict[str, Any] = {}
    while True:
        current = await summary(http, ops_key)
        drained = current.get("queues", {}).get("jobs", 0) == 0
        quiet = drained and current.get("counters") == last.get("counters")
        if quiet or time.monotonic() > deadline:
            return current
        last = current
        await asyncio.sleep(1.0)


async def drive(
    base_url: str,
    ops_key: str,
    plans: list[Plan],
    concurrency: int,
    rate: float | None,
    arrivals: list[float] | None = None,
    start_at: float | None = None,
) -> tuple[Stats, dict[str, int], dict[str, int], float]:
    """Every plan's interview; the stats, the app's counters before and after, and the seconds it took.
    With `arrivals`, interview i starts `arrivals[i]` seconds after `start_at` (epoch seconds)."""
    stats = Stats()
    async with aiohttp.ClientSession(base_url=base_url) as http:
        before: dict[str, int] = (await summary(http, ops_key)).get("counters", {})
        gate = asyncio.Semaphore(concurrency)
        tasks: list[asyncio.Task[None]] = []
        started = time.perf_counter()

        async def one(plan: Plan) -> None:
            own = aiohttp.TCPConnector(local_addr=(client_address(plan.index), 0))
            try:
                async with aiohttp.ClientSession(base_url=base_url, connector=own) as candidate:
                    await Driver(candidate, stats).interview(plan)
            finally:
                gate.release()

        for number, plan in enumerate(plans):
            if arrivals is not None and start_at is not None:
                await asyncio.sleep(max(0.0, start_at + arrivals[number] - time.time()))
            elif rate:
                await asyncio.sleep(max(0.0, started + number / rate - time.perf_counter()))
            await gate.acquire()
            tasks.append(asyncio.create_task(one(plan)))
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        stats.last_summary = await settled(http, ops_key)
        after: dict[str, int] = stats.last_summary.get("counters", {})
    return stats, before, after, elapsed
