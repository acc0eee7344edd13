"""`make chaos`: `make simulate`'s replay with one fault injected mid-run, a fresh stack per fault.

Each scenario starts its own stack: a primary and a backup Redis (REDIS_BACKUP_URL), Azurite on disk (so
a restart keeps the record) with its queue endpoint behind a TCP proxy (testing/fakes/tcp_proxy.py), the
catalogue's fake providers (bench/fleet.py) each behind a proxy of its own, and the devhost, with
REMOTE_JOBS=evaluate,questions,report (every answer goes through the queue and a provider). It drives
`--interviews` interviews of the day mix (bench/workload.py), started evenly over `--spread` seconds, each
from a loopback address of its own, and `--fault-at` seconds in injects one fault:

  baseline              none (the control: what the counts are without a fault)
  redis-primary-killed  the primary redis-server is killed (SIGKILL) and started again, empty, on its port
                        `--fault-seconds` later; the app fails over to the backup meanwhile
  azurite-restarted     Azurite is stopped and started again on its ports and its data `--fault-seconds` later
  host-killed           the devhost is killed (SIGKILL on its process group) with jobs in flight, and a new
                        one is started at once on the same port with the same settings
  provider-stalls       the provider that had taken the most calls so far accepts connections and never
                        answers, for `--fault-seconds`
  queue-send-fails      the queue endpoint refuses connections for `--fault-seconds`: answers are stored
                        but their jobs cannot be sent

The client is patient, as a browser that retries is: a refused connection, a timeout, a 5xx or a 429 is
retried (after Retry-After, else 1 s) until the step's deadline (`--step-deadline`). After the run, once
the jobs queue is empty, every interview is read back (GET /api/interviews/{id}) and compared with what the
app acknowledged (bench/chaos_accounting.py). Per scenario it prints:

  completed / failed  interviews that reached their last step / gave up at a step's deadline
  answers acked       answers the app answered 200 or 202 (or 409 "already answered" to a retry) for
  lost                acked answers missing from the final transcript or never scored (must be 0)
  jobs twice          jobs (an answer's evaluation, a report, a custom role's questions) that a provider
                      answered more than once, from the fakes' request logs
  model calls twice   provider calls answered for a job already answered (the surplus calls)
  redelivered         the app's duplicate_deliveries counter: a job delivered after its result was stored
  recovery s          from the fault's end (a kill: its moment) until no request fails any more and
                      everything a candidate was waiting for at that moment has arrived

The exit code is 1 if any answer was lost or a scenario could not run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from bench.chaos_accounting import Acked, Attempt, Row, Wait, calls_twice, losses, recovery_seconds, render
from bench.driver import client_address, settled, summary
from bench.fleet import Fleet, start_fleet
from bench.workload import Plan, answer_text, plan
from devhost.stack import Service, free_port, start_azurite, start_devhost, start_redis
from testing.fakes.tcp_proxy import Proxy

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = "chaos-master-key"
OPS_KEY = "chaos-ops-key"
SCENARIOS = (
    "baseline",
    "redis-primary-killed",
    "azurite-restarted",
    "host-killed",
    "provider-stalls",
    "queue-send-fails",
)
REQUEST_TIMEOUT = 30.0
RETRYABLE = frozenset({429, 500, 502, 503, 504})


class GaveUp(Exception):
    pass


@dataclass
class Record:
    """What the client saw in one scenario."""

    clock_zero: float = field(default_factory=time.perf_counter)
    started: int = 0
    completed: int = 0
    failed: int = 0
    attempts: list[Attempt] = field(default_factory=list)
    waits: list[Wait] = field(default_factory=list)
    acked: list[Acked] = field(default_factory=list)
    interviews: dict[str, str] = field(default_factory=dict)  # id -> token
    failures: Counter[str] = field(default_factory=Counter)

    def now(self) -> float:
        return time.perf_counter() - self.clock_zero


class Candidate:
    """One interview's client: every step retried through outages until its deadline."""

    def __init__(self, http: aiohttp.ClientSession, record: Record, deadline: float) -> None:
        self.http = http
        self.record = record
        self.deadline = deadline

    async def call(
        self, method: str, path: str, accept: tuple[int, ...], what: str, **kwargs: Any
    ) -> tuple[int, Any]:
        record = self.record
        give_up = record.now() + self.deadline
        while True:
            started = record.now()
            retry_after = 1.0
            try:
                timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
                async with self.http.request(method, path, timeout=timeout, **kwargs) as response:
                    status, body = response.status, await response.json(content_type=None)
                    retry_after = float(response.headers.get("Retry-After", "1") or 1)
            except (aiohttp.ClientError, TimeoutError, ValueError) as error:
                status, body = 0, {"error": {"code": type(error).__name__}}
            ok = status in accept
            record.attempts.append(Attempt(started, record.now(), ok))
            if ok:
                return status, body
            code = body.get("error", {}).get("code", "") if isinstance(body, dict) else ""
            reason = f"{what}: {status or 'no answer'} {code}".strip()
            if status and status not in RETRYABLE:
                record.failures[reason] += 1
                return status, body
            if record.now() + retry_after > give_up:
                record.failures[f"{reason} (gave up)"] += 1
                raise GaveUp(reason)
            await asyncio.sleep(min(max(retry_after, 0.2), 5.0))

    async def interview(self, plan: Plan) -> None:
        record = self.record
        record.started += 1
        try:
            await self._interview(plan)
        except GaveUp:
            record.failed += 1
            return
        record.completed += 1

    async def _interview(self, plan: Plan) -> None:
        record = self.record
        started = record.now()
        status, created = await self.call("POST", "/api/interviews", (201,), "create", json=plan.setup)
        if status != 201:
            raise GaveUp("create refused")
        record.waits.append(Wait(started, record.now()))
        interview_id, token = created["id"], created["token"]
        record.interviews[interview_id] = token
        base, auth = f"/api/interviews/{interview_id}", {"Authorization": f"Bearer {token}"}
        question, total = created["question"]["text"], created["question"]["of"]
        for turn in range(1, len(plan.answers) + 1):
            text, _ = answer_text(plan, turn, question)
            started = record.now()
            status, body = await self.call(
                "POST",
                f"{base}/turns",
                (200, 202),
                "answer",
                json={"turn": turn, "answer": text},
                headers=auth,
            )
            # A retry of an answer the app had stored (the reply to the first attempt was lost).
            already = status == 409 and body.get("error", {}).get("code") in (
                "turn_already_answered",
                "interview_finished" if turn == total else "turn_already_answered",
            )
            if status not in (200, 202) and not already:
                raise GaveUp(f"answer refused: {status}")
            record.acked.append(Acked(interview_id, token, turn, text))
            while status != 200:
                status, body = await self.call(
                    "GET", f"{base}/turns/{turn}?wait=10", (200, 202), "poll turn", headers=auth
                )
                if status not in (200, 202):
                    raise GaveUp(f"poll refused: {status}")
            record.waits.append(Wait(started, record.now()))
            if turn < total:
                question = body["next_question"]["text"]
        if plan.abandon_after is not None:
            return
        started = record.now()
        status = 202
        while status == 202:
            status, _ = await self.call("GET", f"{base}/report?wait=15", (200, 202), "report", headers=auth)
            if status not in (200, 202):
                raise GaveUp(f"report refused: {status}")
        record.waits.append(Wait(started, record.now()))


@dataclass
class Stack:
    """One scenario's services; every fault below acts on it."""

    workdir: Path
    args: argparse.Namespace
    services: dict[str, Service] = field(default_factory=dict)
    proxies: dict[str, Proxy] = field(default_factory=dict)
    fleet: Fleet | None = None
    env: dict[str, str] = field(default_factory=dict)
    ports: dict[str, Any] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return self.services["host"].url

    async def start(self) -> None:
        redis_port, backup_port = free_port(), free_port()
        self.ports |= {"redis": redis_port}
        primary = await asyncio.to_thread(start_redis, self.workdir / "redis", redis_port)
        self.services["redis"] = primary
        self.services["backup"] = await asyncio.to_thread(start_redis, self.workdir / "backup", backup_port)
        azurite = await asyncio.to_thread(start_azurite, self.workdir / "azurite")
        self.services["azurite"] = azurite
        queue_port = int(azurite.url.split("QueueEndpoint=http://127.0.0.1:")[1].split("/")[0])
        self.ports["azurite"] = tuple(
            int(azurite.url.split(f"{name}Endpoint=http://127.0.0.1:")[1].split("/")[0])
            for name in ("Blob", "Queue", "Table")
        )
        queue = self.proxies["queue"] = Proxy(queue_port)
        await queue.start()
        storage = azurite.url.replace(f"127.0.0.1:{queue_port}/", f"127.0.0.1:{queue.port}/")
        self.fleet = fleet = await start_fleet(self.args.seed)
        for entry in fleet.entries:
            if "base_url" not in entry:
                continue
            parts = urlsplit(entry["base_url"])
            assert parts.port is not None
            proxy = self.proxies["provider:" + entry["name"]] = Proxy(parts.port)
            await proxy.start()
            entry["base_url"] = urlunsplit(parts._replace(netloc=f"127.0.0.1:{proxy.port}"))
        providers = self.workdir / "providers.json"
        providers.write_text(json.dumps(fleet.catalogue(), indent=2))
        self.env = {
            "REDIS_URL": primary.url,
            "REDIS_BACKUP_URL": self.services["backup"].url,
            "REDIS_TIMEOUT_SECONDS": "0.5",
            "REDIS_RETRY_PRIMARY_SECONDS": "2",
            "AzureWebJobsStorage": storage,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "OPS_KEY": OPS_KEY,
            "PROVIDERS_FILE": str(providers),
            "REMOTE_JOBS": self.args.remote_jobs,
            **fleet.env,
        }
        self.ports["host"] = free_port()
        await self.start_host()

    async def start_host(self) -> None:
        self.services["host"] = await asyncio.to_thread(
            start_devhost,
            ROOT,
            self.env,
            self.ports["host"],
            "function_app:app",
            self.workdir / "devhost.log",
        )

    def kill(self, name: str) -> None:
        """SIGKILL to the service's whole process group: no clean-up, no drain, as a crash."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.services[name].process.pid, signal.SIGKILL)
        self.services[name].process.wait()

    async def stop(self) -> None:
        if self.fleet is not None:
            await self.fleet.stop()
        for proxy in self.proxies.values():
            with contextlib.suppress(Exception):
                await proxy.stop()
        for service in reversed(list(self.services.values())):
            await asyncio.to_thread(service.stop)


# --- faults: each returns the moment recovery is measured from, on the record's clock ------------------


async def baseline(stack: Stack, record: Record, seconds: float) -> tuple[float, str]:
    return record.now(), "no fault"


async def redis_primary_killed(stack: Stack, record: Record, seconds: float) -> tuple[float, str]:
    stack.kill("redis")
    killed = record.now()
    await asyncio.sleep(seconds)
    stack.services["redis"] = await asyncio.to_thread(
        start_redis, stack.workdir / "redis-again", stack.ports["redis"]
    )
    return killed, f"primary Redis killed at {killed:.1f} s, started again (empty) at {record.now():.1f} s"


async def azurite_restarted(stack: Stack, record: Record, seconds: float) -> tuple[float, str]:
    stopped = record.now()
    await asyncio.to_thread(stack.services["azurite"].stop)
    await asyncio.sleep(seconds)
    stack.services["azurite"] = await asyncio.to_thread(
        start_azurite, stack.workdir / "azurite", stack.ports["azurite"]
    )
    back = record.now()
    return back, f"Azurite stopped at {stopped:.1f} s, answering again at {back:.1f} s"


async def host_killed(stack: Stack, record: Record, seconds: float) -> tuple[float, str]:
    stack.kill("host")
    killed = record.now()
    await stack.start_host()
    return killed, f"devhost killed at {killed:.1f} s, the new one answering at {record.now():.1f} s"


async def provider_stalls(stack: Stack, record: Record, seconds: float) -> tuple[float, str]:
    assert stack.fleet is not None
    busiest = max(
        stack.fleet.fakes, key=lambda name: len(stack.fleet.fakes[name].received) if stack.fleet else 0
    )
    proxy = stack.proxies["provider:" + busiest]
    proxy.blackhole()
    began = record.now()
    await asyncio.sleep(seconds)
    await proxy.restore()
    return record.now(), f"{busiest} accepted and never answered from {began:.1f} s to {record.now():.1f} s"


async def queue_send_fails(stack: Stack, record: Record, seconds: float) -> tuple[float, str]:
    proxy = stack.proxies["queue"]
    await proxy.refuse()
    began = record.now()
    await asyncio.sleep(seconds)
    await proxy.restore()
    return record.now(), f"queue endpoint refused connections from {began:.1f} s to {record.now():.1f} s"


Fault = Callable[[Stack, Record, float], Awaitable[tuple[float, str]]]
FAULTS: dict[str, Fault] = {
    "baseline": baseline,
    "redis-primary-killed": redis_primary_killed,
    "azurite-restarted": azurite_restarted,
    "host-killed": host_killed,
    "provider-stalls": provider_stalls,
    "queue-send-fails": queue_send_fails,
}


async def transcripts(base_url: str, record: Record) -> dict[str, list[dict[str, Any]] | None]:
    found: dict[str, list[dict[str, Any]] | None] = {}
    async with aiohttp.ClientSession(base_url=base_url) as http:
        reader = Candidate(http, Record(), 60.0)
        for interview_id, token in record.interviews.items():
            try:
                status, body = await reader.call(
                    "GET",
                    f"/api/interviews/{interview_id}",
                    (200,),
                    "state",
                    headers={"Authorization": f"Bearer {token}"},
                )
            except GaveUp:
                status, body = 0, None
            found[interview_id] = body["transcript"] if status == 200 else None
    return found


async def run_scenario(name: str, args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    stack = Stack(workdir, args)
    try:
        await stack.start()
        plans = [plan(index, args.seed, args.custom_share) for index in range(args.interviews)]
        record = Record()
        gate = asyncio.Semaphore(args.concurrency)

        async def one(item: Plan) -> None:
            async with gate:
                own = aiohttp.TCPConnector(local_addr=(client_address(item.index), 0))
                async with aiohttp.ClientSession(base_url=stack.url, connector=own) as http:
                    await Candidate(http, record, args.step_deadline).interview(item)

        async def starts() -> None:
            tasks = []
            for number, item in enumerate(plans):
                await asyncio.sleep(max(0.0, number * args.spread / len(plans) - record.now()))
                tasks.append(asyncio.create_task(one(item)))
            await asyncio.gather(*tasks)

        async def fault() -> tuple[float, str]:
            await asyncio.sleep(args.fault_at)
            return await FAULTS[name](stack, record, args.fault_seconds)

        async def progress() -> None:
            while True:
                await asyncio.sleep(30)
                print(
                    f"  {record.now():.0f} s: {record.completed} completed, {record.failed} failed, "
                    f"{record.started - record.completed - record.failed} in flight",
                    flush=True,
                )

        ticker = asyncio.create_task(progress())
        try:
            (since, what), _ = await asyncio.gather(fault(), starts())
        finally:
            ticker.cancel()
        elapsed = record.now()
        async with aiohttp.ClientSession(base_url=stack.url) as ops:
            # Not until the queue is empty: a message whose deletion failed in the fault stays invisible
            # for the host's 10 minutes. The clients waited for every answer they sent already.
            await settled(ops, OPS_KEY, timeout=15.0)
            counters: dict[str, int] = (await summary(ops, OPS_KEY)).get("counters", {})
        lost = losses(record.acked, await transcripts(stack.url, record))
        assert stack.fleet is not None
        answered = [r.body for fake in stack.fleet.fakes.values() for r in fake.received if r.outcome == "ok"]
        twice = calls_twice(answered)
        row = Row(
            scenario=name,
            started=record.started,
            completed=record.completed,
            failed=record.failed,
            acked=len(record.acked),
            lost=lost.lost,
            jobs_twice=twice.jobs,
            calls_twice=twice.calls,
            redelivered=counters.get("duplicate_deliveries", 0),
            recovery=recovery_seconds(record.attempts, record.waits, since),
        )
        failed_requests = sum(not attempt.ok for attempt in record.attempts)
        print(
            f"  {what}; {elapsed:.0f} s; {failed_requests} failed requests of {len(record.attempts)}; "
            f"lost: {lost.missing} missing, {lost.unscored} unscored",
            flush=True,
        )
        return {
            "row": asdict(row),
            "fault": what,
            "seconds": round(elapsed, 1),
            "requests": len(record.attempts),
            "failed_requests": failed_requests,
            "missing": lost.missing,
            "unscored": lost.unscored,
            "failures": dict(record.failures.most_common(12)),
            "provider_calls_answered": len(answered),
            "model_calls_twice_by_kind": twice.calls_by_kind,
            "counters": counters,
        }
    finally:
        await stack.stop()


async def chaos(args: argparse.Namespace) -> int:
    rows: list[Row] = []
    details: dict[str, Any] = {}
    broken: list[str] = []
    for name in args.scenario or SCENARIOS:
        print(f"{name}: {args.interviews} interviews over {args.spread:.0f} s ...", flush=True)
        with tempfile.TemporaryDirectory(prefix=f"chaos-{name}-") as workdir:
            try:
                found = await run_scenario(name, args, Path(workdir))
            except Exception as error:
                log = Path(workdir) / "devhost.log"
                tail = log.read_text("utf-8", errors="replace").splitlines()[-40:] if log.exists() else []
                print(f"{name} failed: {type(error).__name__}: {error}", *tail, sep="\n", file=sys.stderr)
                broken.append(name)
                continue
        details[name] = found
        rows.append(Row(**found["row"]))
    print(render(rows))
    if args.json:
        options = {key: value for key, value in vars(args).items() if key != "json"}
        Path(args.json).write_text(json.dumps({"options": options, "scenarios": details}, indent=2))
    return 1 if broken or any(row.lost for row in rows) else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scenario", action="append", choices=SCENARIOS, help="run only this one (repeatable; default: all)"
    )
    parser.add_argument("--interviews", type=int, default=60, help="interviews per scenario (default 60)")
    parser.add_argument(
        "--concurrency", type=int, default=30, help="interviews in flight at most (default 30)"
    )
    parser.add_argument(
        "--spread", type=float, default=40.0, help="seconds over which they start (default 40)"
    )
    parser.add_argument("--fault-at", type=float, default=15.0, help="seconds into the run (default 15)")
    parser.add_argument(
        "--fault-seconds", type=float, default=15.0, help="how long an outage lasts (default 15)"
    )
    parser.add_argument(
        "--step-deadline", type=float, default=240.0, help="seconds a client retries one step (default 240)"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the mix and the fakes (default 7)")
    parser.add_argument(
        "--custom-share", type=float, default=0.10, help="share of custom roles (default 0.10)"
    )
    parser.add_argument(
        "--remote-jobs", default="evaluate,questions,report", help="REMOTE_JOBS (default: all three kinds)"
    )
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args()
    # SIGTERM as Ctrl-C: the running scenario's stack is stopped on the way out, not left behind.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(asyncio.run(chaos(args)))


if __name__ == "__main__":
    main()
