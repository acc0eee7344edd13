"""`make bench-pool`: a few thousand jobs through the provider pool against ten local fake providers that
enforce free-tier limits (requests and tokens per minute and per day, a monthly token and a monthly
request budget, a daily Cloudflare neuron budget; limits per key, and per organisation, project or
account shared by two or three keys) and inject failures, over a real Redis. Two pool instances share the
quotas, as two Functions instances would. Jobs arrive at a steady rate over `--seconds`, so the run
crosses minute windows and spends the day's and month's allowances.

Prints jobs completed remotely, fallen to local, and lost (must be 0); overruns of every limit (must be
0): the calls each fake refused by its limits (`limit_refusals`: calls the pool should not have sent;
failures the fakes inject at random, 429s included, are not overruns), and a recount of what each fake
accepted against its limits; and the pool's own overhead per job (time outside the provider calls).
Exits 1 if a job was lost or a limit overrun."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import random
import statistics
import tempfile
import time
from collections import Counter
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from redis.asyncio import Redis

from bench.fleet import Profile, limits_of
from core.infra.redis_failover import FailoverRedis
from core.interview.question_bank import question_bank
from core.models import CRITERIA
from core.providers.adapters import ADAPTERS, Adapter
from core.providers.adapters.chat import ChatReply, ChatRequest
from core.providers.catalogue import Budget, NeuronRates, ProviderEntry, Slot
from core.providers.pool import Pool
from core.providers.prompts import LlmEvaluation, evaluation_request
from core.providers.quota import Quota
from devhost.stack import start_redis
from testing.fakes import FakeProvider, Flavour, Outcome, Wire, recount

REPLY = json.dumps(
    {c: {"score": 4, "reason": "ok"} for c in CRITERIA}
    | {"evidence": [], "improvement": "Quantify the result.", "covered_points": [], "missed_points": []}
)
# Cloudflare's rates for @cf/meta/llama-3.1-8b-instruct-fp8-fast.
NEURON_RATES = NeuronRates(input_per_million=4119, output_per_million=34868)
# Every limit a fake can refuse by, in the order the summary lists them.
LIMITS = ["rpm", "rpd", "tpm", "tpd", "requests/day", "requests/month", "tokens/day", "tokens/month",
          "neurons/day", "neurons/month"]  # fmt: skip


@dataclass(frozen=True)
class Spec:
    """One fake provider: its wire, keys and limits (as a catalogue entry states them), its failures."""

    name: str
    wire: Wire
    limits: dict[str, Any]
    latency: float
    failures: dict[Outcome, float]
    keys: int = 1
    flavour: Flavour = "generic"
    counts_max_tokens_on_arrival: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    def entry(self, base_url: str) -> ProviderEntry:
        return ProviderEntry(
            name=self.name,
            adapter=self.wire,
            base_url=base_url,
            model="m",
            key_settings=[f"KEY_{i}" for i in range(self.keys)],
            timeout_seconds=2.0,
            **self.limits,
        )


# An evaluation call is about 380 prompt tokens and a reply of about 80 (the pool reserves about 375
# estimated + 450 max_tokens), so the token limits below bind within the run.
FLEET: list[Spec] = [
    Spec("groq-org", "openai", {"limit_owner": "organisation", "rpm": 30, "rpd": 1000, "tpm": 6000,
         "tpd": 10_000}, 0.02, {"minute_limit": 0.01, "server": 0.01}, keys=2, flavour="groq"),
    Spec("cerebras-arrival", "openai", {"limit_owner": "organisation", "rpm": 30, "tpm": 5000,
         "tpd": 20_000}, 0.03, {"minute_limit": 0.01, "server": 0.01}, counts_max_tokens_on_arrival=True),
    Spec("mistral-month", "openai", {"limit_owner": "organisation", "rpm": 60, "tpm": 20_000,
         "budgets": [Budget(unit="tokens", per="month", amount=15_000)]}, 0.03,
         {"minute_limit": 0.02, "server": 0.01, "garbage": 0.01}),
    Spec("gemini-project", "gemini", {"limit_owner": "project", "rpm": 15, "rpd": 40, "tpm": 250_000,
         "reset_timezone": "America/Los_Angeles"}, 0.04,
         {"minute_limit": 0.02, "server": 0.02, "empty": 0.01}, keys=3),
    Spec("gemini-keys", "gemini", {"limit_owner": "key", "rpm": 10, "rpd": 20,
         "reset_timezone": "America/Los_Angeles"}, 0.04, {"day_limit": 0.004, "down": 0.01}, keys=2),
    Spec("cloudflare-neurons", "cloudflare", {"limit_owner": "account", "rpm": 300, "neurons": NEURON_RATES,
         "budgets": [Budget(unit="neurons", per="day", amount=150)]}, 0.03,
         {"server": 0.02, "wrong_shape": 0.01}),
    Spec("openrouter-free", "openai", {"limit_owner": "account", "rpm": 20, "rpd": 50}, 0.05,
         {"minute_limit": 0.06, "server": 0.03, "wrong_shape": 0.01}, flavour="openrouter"),
    Spec("cohere-month", "openai", {"limit_owner": "account", "rpm": 20,
         "budgets": [Budget(unit="requests", per="month", amount=60)]}, 0.03,
         {"server": 0.01, "garbage": 0.01, "down": 0.005}),
    Spec("sambanova-tpd", "openai", {"limit_owner": "account", "rpm": 20, "rpd": 100, "tpd": 8000}, 0.02,
         {"slow": 0.01, "server": 0.01, "auth": 0.005}),
    Spec("down-all-day", "openai", {"rpm": 20, "rpd": 50}, 0.08, {"server": 1.0}),
]  # fmt: skip


def _timed(adapter: Adapter, spent: dict[int, float]) -> Adapter:
    async def call(session: aiohttp.ClientSession, slot: Slot, request: ChatRequest) -> ChatReply:
        started = time.perf_counter()
        try:
            return await adapter(session, slot, request)
        finally:
            task = id(asyncio.current_task())
            spent[task] = spent.get(task, 0.0) + time.perf_counter() - started

    return call


async def start_fakes(stack: AsyncExitStack, seed: int) -> tuple[list[FakeProvider], list[Slot]]:
    """Each spec's fake, started, with its limits; and one pool slot per key of each."""
    fakes: list[FakeProvider] = []
    slots: list[Slot] = []
    for index, spec in enumerate(FLEET):
        keys = [f"{spec.name}-key-{i}" for i in range(spec.keys)]
        limits = limits_of(
            spec.entry("http://unused"),
            Profile(spec.latency, spec.failures, spec.flavour, spec.counts_max_tokens_on_arrival),
        )
        fake = FakeProvider(
            spec.wire,
            reply=REPLY,
            failure_rates=spec.failures,
            latency=spec.latency,
            seed=seed * 100 + index,
            flavour=spec.flavour,
            api_key=keys[0],
            extra_keys=keys[1:],
            account_id=f"{spec.name}-account",
            limits=limits,
        )
        url = await fake.start()
        stack.push_async_callback(fake.stop)
        entry = spec.entry(url)
        slots += [Slot(entry, i, key, fake.account_id) for i, key in enumerate(keys)]
        fakes.append(fake)
    return fakes, slots


async def run(redis_url: str, jobs: int, concurrency: int, seconds: float, seed: int) -> bool:
    spent: dict[int, float] = {}
    adapters = {name: _timed(adapter, spent) for name, adapter in ADAPTERS.items()}
    async with AsyncExitStack() as stack:
        fakes, slots = await start_fakes(stack, seed)
        redis = await stack.enter_async_context(Redis.from_url(redis_url))
        await redis.flushdb()
        pools = []
        for pool_seed in (1, 2):
            session = await stack.enter_async_context(aiohttp.ClientSession())
            client = await stack.enter_async_context(Redis.from_url(redis_url))
            quota = Quota(FailoverRedis(client), random.Random(seed * 10 + pool_seed))
            pools.append(Pool(slots, quota, session, deadline_seconds=10, adapters=adapters))
        questions = question_bank().all_questions()
        gate = asyncio.Semaphore(concurrency)
        overheads: list[float] = []
        outcomes: Counter[str] = Counter()
        started = time.perf_counter()

        async def job(index: int) -> None:
            await asyncio.sleep(max(0.0, started + index * seconds / jobs - time.perf_counter()))
            question = questions[index % len(questions)]
            request = evaluation_request(question, f"Answer number {index}: we cut latency by {index % 90}%.")
            async with gate:
                began = time.perf_counter()
                try:
                    asked = await pools[index % 2].ask(request, LlmEvaluation)
                except Exception as error:  # counted as lost: the pool must never raise for a provider
                    outcomes[f"lost: {type(error).__name__}"] += 1
                    return
                total = time.perf_counter() - began
                overheads.append(total - spent.pop(id(asyncio.current_task()), 0.0))
                outcomes["remote" if asked else "local fallback"] += 1

        await asyncio.gather(*(asyncio.create_task(job(i)) for i in range(jobs)))
        elapsed = time.perf_counter() - started
    return report(jobs, concurrency, seconds, elapsed, outcomes, overheads, fakes)


def report(
    jobs: int,
    concurrency: int,
    seconds: float,
    elapsed: float,
    outcomes: Counter[str],
    overheads: list[float],
    fakes: list[FakeProvider],
) -> bool:
    """Print the run's figures; True when no job was lost and no limit was overrun."""
    refused: Counter[str] = Counter()
    recounted: Counter[str] = Counter()
    injected: Counter[str] = Counter()
    for fake in fakes:
        refused.update(fake.limit_refusals)
        if fake.ledger is not None:
            recounted.update(recount(fake.ledger))
        injected.update({o: n for o, n in fake.outcomes.items() if o not in ("ok", "rejected")})
    injected = Counter({o: n for o, n in injected.items() if not o.startswith("limit:")})
    lost = sum(n for name, n in outcomes.items() if name.startswith("lost"))
    print(
        f"{jobs} jobs over {seconds:.0f} s, {concurrency} at a time, two pool instances, {len(fakes)} fake "
        f"providers enforcing their limits: {elapsed:.1f} s"
    )
    print(f"  completed by a remote provider: {outcomes['remote']}")
    print(
        f"  fell to the local evaluator:    {outcomes['local fallback']} (no quota left, or every provider failing)"
    )
    print(f"  lost:                           {lost} {dict(outcomes) if lost else ''}".rstrip())
    print(f"  overruns (calls a fake refused by a limit): {sum(refused.values())}")
    print("    by limit: " + ", ".join(f"{name} {refused[name]}" for name in LIMITS))
    for spec, fake in zip(FLEET, fakes, strict=True):
        for received in fake.received:
            if (hit := received.refusal) is not None:
                fits = f", would have fit {hit.retry_after * 1000:.0f} ms later" if hit.retry_after else ""
                print(
                    f"    {spec.name}: {hit.name} {hit.limit:,}, used {hit.used:,.0f}, "
                    f"asked {hit.requested:,.0f}{fits}"
                )
    print(
        f"  overruns recounted from the calls the fakes accepted: {sum(recounted.values())} {dict(recounted) or ''}"
    )
    print(f"  injected failures (not overruns): {dict(injected.most_common())}")
    ordered = sorted(overheads)
    if ordered:
        print(
            f"  pool overhead per job (outside provider calls): median {statistics.median(ordered) * 1000:.2f} ms, "
            f"p95 {ordered[int(0.95 * len(ordered))] * 1000:.2f} ms"
        )
    print(f"  {'fake':20s} {'owner':12s} keys  {'limits':52s} accepted  {'spent':17s} refused by limit")
    for spec, fake in zip(FLEET, fakes, strict=True):
        assert fake.limits is not None and fake.ledger is not None
        charges = fake.ledger.charges
        spent = f"{sum(charge.tokens for charge in charges):,} tokens"
        if fake.limits.neurons is not None:
            spent = f"{sum(charge.neurons for charge in charges):.1f} neurons"
        print(
            f"  {spec.name:20s} {fake.limits.owner:12s} {spec.keys:4d}  {_limits_text(spec):52s} "
            f"{len(charges):8d}  {spent:17s} {dict(fake.limit_refusals) or '-'}"
        )
    return lost == 0 and not refused and not recounted


def _limits_text(spec: Spec) -> str:
    parts = [f"{name} {spec.limits[name]:,}" for name in ("rpm", "rpd", "tpm", "tpd") if name in spec.limits]
    parts += [f"{b.unit}/{b.per} {b.amount:,}" for b in spec.limits.get("budgets", [])]
    return ", ".join(parts) + (" (on arrival)" if spec.counts_max_tokens_on_arrival else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=150.0, help="spread the jobs' arrivals over this")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    # One warning per failover would be thousands of lines; the injected failures are summed instead.
    logging.getLogger("core.providers.pool").setLevel(logging.ERROR)
    # Its own Redis always: the run flushes the database it uses.
    with tempfile.TemporaryDirectory() as workdir, start_redis(Path(workdir)) as redis:
        os.environ["REDIS_URL"] = redis.url  # the pool counts its calls in the usage counters there
        clean = asyncio.run(run(redis.url, args.jobs, args.concurrency, args.seconds, args.seed))
    raise SystemExit(0 if clean else 1)


if __name__ == "__main__":
    os.environ.setdefault("AzureWebJobsStorage", "")  # settings require it; the pool never touches storage
    main()
