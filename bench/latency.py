"""`make bench`: turn latency and provider calls per interview, over the real path on this machine.

Starts its own stack (embedded Redis or REDIS_URL, in-memory Azurite, the devhost), runs complete
interviews concurrently through the HTTP API, and prints percentiles by where each turn's feedback came
from. Template turns are declined answers; the others are unique answers, scored at once by the local
evaluator under the default REMOTE_JOBS, or queued (`--remote-jobs evaluate,report`) and timed from the
POST to the long-polled result."""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

import aiohttp

from core.infra.counters import LOCAL_PROVIDER, provider_calls, remote_calls
from devhost.stack import Service, start_azurite, start_devhost, start_redis
from testing.interview_client import Candidate, start_interview, unique_answer

ROOT = Path(__file__).resolve().parent.parent

MASTER_KEY = "bench-master-key"
OPS_KEY = "bench-ops-key"


def _percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return f"n={len(ordered):4d}  p50={pick(0.50):7.1f} ms  p95={pick(0.95):7.1f} ms  max={ordered[-1] * 1000:7.1f} ms"


async def _timed_turn(candidate: Candidate, turn: int, text: str) -> tuple[float, str]:
    started = time.perf_counter()
    result = await candidate.answer_and_wait(turn, text)
    return time.perf_counter() - started, result["source"]


async def _interview(
    http: aiohttp.ClientSession, index: int, questions: int, samples: dict[str, list[float]]
) -> None:
    started = time.perf_counter()
    candidate = await start_interview(http, questions=questions)
    samples["create"].append(time.perf_counter() - started)
    for turn in range(1, questions + 1):
        # Every third answer is declined, so the template path is timed under the same load.
        text = "I don't know" if turn % 3 == 0 else unique_answer(f"bench-{index}-{turn}")
        elapsed, source = await _timed_turn(candidate, turn, text)
        samples[source].append(elapsed)
    started = time.perf_counter()
    status, _ = await candidate.report(wait=20)
    assert status == 200
    samples["report"].append(time.perf_counter() - started)


async def _counters(http: aiohttp.ClientSession) -> dict[str, int]:
    async with http.get("/api/ops/usage", headers={"X-Ops-Key": OPS_KEY}) as response:
        counters: dict[str, int] = (await response.json())["counters"]
        return counters


async def run(base_url: str, interviews: int, concurrency: int, questions: int) -> None:
    samples: dict[str, list[float]] = {
        "create": [],
        "template": [],
        "local": [],
        "cache": [],
        "provider": [],
        "report": [],
    }
    async with aiohttp.ClientSession(base_url=base_url) as http:
        before = await _counters(http)
        gate = asyncio.Semaphore(concurrency)

        async def one(index: int) -> None:
            async with gate:
                await _interview(http, index, questions, samples)

        started = time.perf_counter()
        await asyncio.gather(*(one(index) for index in range(interviews)))
        elapsed = time.perf_counter() - started
        await asyncio.sleep(1)
        after = await _counters(http)
    spent = {name: after.get(name, 0) - before.get(name, 0) for name in after}
    print(f"{interviews} interviews of {questions} questions, {concurrency} at a time, in {elapsed:.1f} s")
    for name, values in samples.items():
        if values:
            print(f"  {name:9s} {_percentiles(values)}")
    local, remote = spent.get(provider_calls(LOCAL_PROVIDER), 0), remote_calls(spent)
    print(
        f"  provider calls per interview: remote {remote / interviews:.2f}, built-in local {local / interviews:.2f}"
    )
    print(f"  counters: {dict(sorted(spent.items()))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--interviews", type=int, default=40)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--questions", type=int, default=6)
    parser.add_argument("--remote-jobs", default=None, help="REMOTE_JOBS for the app (default: the app's)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        started: list[Service] = []
        try:
            redis_url = os.environ.get("REDIS_URL")
            if not redis_url:
                started.append(start_redis(Path(workdir) / "redis"))
                redis_url = started[-1].url
            started.append(start_azurite(Path(workdir) / "azurite", in_memory=True))
            env = {
                "REDIS_URL": redis_url,
                "AzureWebJobsStorage": started[-1].url,
                "DEVHOST_MASTER_KEY": MASTER_KEY,
                "OPS_KEY": OPS_KEY,
                # Every interview comes from this one process: the per-client limits (which make simulate
                # keeps on, one address an interview) would refuse most of them.
                "RATE_LIMIT_PER_MINUTE": "0",
                "DAILY_INTERVIEWS_PER_CLIENT": "0",
                "DAILY_CUSTOM_ROLES_PER_CLIENT": "0",
                "MODEL_CALL_SHARE_PER_CLIENT": "0",
            }
            if args.remote_jobs is not None:
                env["REMOTE_JOBS"] = args.remote_jobs
            started.append(start_devhost(ROOT, env))
            asyncio.run(run(started[-1].url, args.interviews, args.concurrency, args.questions))
        finally:
            for service in reversed(started):
                service.stop()


if __name__ == "__main__":
    main()
