"""`make bench-pool`: a few thousand jobs through the provider pool against ten local fake providers
with injected failures, over a real Redis. Prints jobs completed remotely, fallen to local, lost
(must be 0), quota overruns (must be 0), and the pool's own overhead per job (time outside the calls).

Two pool instances share the quotas, as two Functions instances would."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from pathlib import Path

import aiohttp
from redis.asyncio import Redis

from core.infra.redis_failover import FailoverRedis
from core.interview.question_bank import question_bank
from core.models import CRITERIA
from core.providers.adapters import ADAPTERS, Adapter
from core.providers.adapters.chat import ChatReply, ChatRequest
from core.providers.catalogue import ProviderEntry, Slot
from core.providers.pool import Pool
from core.providers.prompts import LlmEvaluation, evaluation_request
from core.providers.quota import Quota
from devhost.stack import start_redis
from testing.fakes import FakeProvider, Outcome, Wire

REPLY = json.dumps(
    {c: {"score": 4, "reason": "ok"} for c in CRITERIA}
    | {"evidence": [], "improvement": "Quantify the result.", "covered_points": [], "missed_points": []}
)
# (wire, rpm, rpd, latency s, failure rates): quotas and failure mixes in the spirit of the free tiers.
FLEET: list[tuple[Wire, int, int, float, dict[Outcome, float]]] = [
    ("openai", 30, 400, 0.02, {"minute_limit": 0.02, "server": 0.02}),
    ("openai", 30, 400, 0.03, {"server": 0.05, "garbage": 0.02}),
    ("openai", 20, 150, 0.05, {"minute_limit": 0.05, "day_limit": 0.005}),
    ("openai", 60, 500, 0.01, {"slow": 0.01, "server": 0.01}),
    ("gemini", 15, 300, 0.04, {"minute_limit": 0.03, "server": 0.02}),
    ("gemini", 15, 300, 0.04, {"empty": 0.02, "down": 0.02}),
    ("gemini", 15, 300, 0.04, {"day_limit": 0.004}),
    ("cloudflare", 300, 400, 0.03, {"server": 0.03, "wrong_shape": 0.02}),
    ("openai", 30, 100, 0.02, {"auth": 0.01}),
    ("openai", 20, 50, 0.08, {"server": 1.0}),  # a provider that is down all day
]


def _timed(adapter: Adapter, spent: dict[int, float], calls: Counter[tuple[str, int]]) -> Adapter:
    async def call(session: aiohttp.ClientSession, slot: Slot, request: ChatRequest) -> ChatReply:
        started = time.perf_counter()
        calls[(slot.id, int(time.time() // 60))] += 1
        try:
            return await adapter(session, slot, request)
        finally:
            task = id(asyncio.current_task())
            spent[task] = spent.get(task, 0.0) + time.perf_counter() - started

    return call


async def run(redis_url: str, jobs: int, concurrency: int) -> None:
    fakes = [
        FakeProvider(wire, reply=REPLY, failure_rates=rates, latency=latency, seed=index)
        for index, (wire, _, _, latency, rates) in enumerate(FLEET)
    ]
    spent: dict[int, float] = {}
    calls: Counter[tuple[str, int]] = Counter()
    adapters = {name: _timed(adapter, spent, calls) for name, adapter in ADAPTERS.items()}
    async with AsyncExitStack() as stack:
        slots = []
        for index, (fake, (wire, rpm, rpd, _, _)) in enumerate(zip(fakes, FLEET, strict=True)):
            url = await fake.start()
            stack.push_async_callback(fake.stop)
            entry = ProviderEntry(
                name=f"fake-{index}-{wire}",
                adapter=wire,
                base_url=url,
                model="m",
                rpm=rpm,
                rpd=rpd,
                timeout_seconds=2.0,
            )
            slots.append(Slot(entry=entry, key_index=0, api_key=fake.api_key, account_id="test-account"))
        redis = await stack.enter_async_context(Redis.from_url(redis_url))
        await redis.flushdb()
        pools = []
        for seed in (1, 2):
            session = await stack.enter_async_context(aiohttp.ClientSession())
            client = await stack.enter_async_context(Redis.from_url(redis_url))
            pools.append(
                Pool(
                    slots,
                    Quota(FailoverRedis(client), random.Random(seed)),
                    session,
                    deadline_seconds=10,
                    adapters=adapters,
                )
            )
        question = question_bank().all_questions()[0]
        gate = asyncio.Semaphore(concurrency)
        overheads: list[float] = []
        outcomes: Counter[str] = Counter()

        async def job(index: int) -> None:
            request = evaluation_request(question, f"Answer number {index}: we cut latency by {index % 90}%.")
            async with gate:
                started = time.perf_counter()
                try:
                    asked = await pools[index % 2].ask(request, LlmEvaluation)
                except Exception as error:  # counted as lost: the pool must never raise for a provider
                    outcomes[f"lost: {type(error).__name__}"] += 1
                    return
                total = time.perf_counter() - started
                overheads.append(total - spent.pop(id(asyncio.current_task()), 0.0))
                outcomes["remote" if asked else "local fallback"] += 1

        started = time.perf_counter()
        await asyncio.gather(*(asyncio.create_task(job(i)) for i in range(jobs)))
        elapsed = time.perf_counter() - started
    received = {slot.id: len(fake.received) for slot, fake in zip(slots, fakes, strict=True)}
    day_overruns = {s.id: received[s.id] - s.entry.rpd for s in slots if received[s.id] > s.entry.rpd}
    minute_overruns = {k: n for k, n in calls.items() if n > next(s.entry.rpm for s in slots if s.id == k[0])}
    lost = sum(n for name, n in outcomes.items() if name.startswith("lost"))
    print(f"{jobs} jobs, {concurrency} at a time, two pool instances, ten fake providers: {elapsed:.1f} s")
    print(f"  completed by a remote provider: {outcomes['remote']}")
    print(
        f"  fell to the local evaluator:    {outcomes['local fallback']} (quota spent or every provider failing)"
    )
    print(f"  lost:                           {lost}")
    print(f"  daily quota overruns:           {len(day_overruns)} {day_overruns or ''}")
    print(f"  per-minute quota overruns:      {len(minute_overruns)} {minute_overruns or ''}")
    ordered = sorted(overheads)
    print(
        f"  pool overhead per job (outside provider calls): median {statistics.median(ordered) * 1000:.2f} ms, "
        f"p95 {ordered[int(0.95 * len(ordered))] * 1000:.2f} ms"
    )
    for slot, fake in zip(slots, fakes, strict=True):
        print(
            f"  {slot.id:22s} requests {received[slot.id]:4d} / rpd {slot.entry.rpd:4d}  outcomes {dict(fake.outcomes)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=40)
    args = parser.parse_args()
    # Its own Redis always: the run flushes the database it uses.
    with tempfile.TemporaryDirectory() as workdir, start_redis(Path(workdir)) as redis:
        os.environ["REDIS_URL"] = redis.url  # the pool counts its calls in the usage counters there
        asyncio.run(run(redis.url, args.jobs, args.concurrency))


if __name__ == "__main__":
    os.environ.setdefault("AzureWebJobsStorage", "")  # settings require it; the pool never touches storage
    main()
