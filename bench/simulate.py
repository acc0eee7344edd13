"""`make simulate`: replay a day of interviews through the real HTTP API of the devhost.

Starts its own stack (Redis, in-memory Azurite, one fake provider per enabled catalogue entry from
bench/fleet.py, each enforcing the entry's limits, a providers.json pointing at them, the devhost), drives
N complete interviews of the day mix (bench/workload.py) through the API (bench/driver.py), `--concurrency`
at a time (optionally started at `--rate` interviews a second), reads the app's own counters from GET
/api/ops/summary before and after, and prints what the saving layers did, the calls the fakes refused by
their limits, and the catalogue's free capacity per limit owner (bench/figures.py). The exit code is 1 if
any interview failed.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

from redis.asyncio import Redis

from bench import day, driver, workload
from bench.day import (
    DryWatch,
    arrivals,
    day_figures,
    read_day,
    render_day,
    scale_catalogue,
    seed_earlier_days_of_the_month,
    watched_owners,
    write_history,
)
from bench.driver import drive
from bench.figures import figures, render
from bench.fleet import CATALOGUE, Fleet, start_fleet
from bench.workload import plan
from core.providers.governor import DayClock
from devhost.stack import Service, start_azurite, start_devhost, start_redis

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = "simulate-master-key"
# How long the devhost takes to start, at most, on this machine: the simulated day starts after it.
DEVHOST_START_SECONDS = 25.0
OPS_KEY = "simulate-ops-key"


async def redis_memory(url: str) -> int:
    async with Redis.from_url(url) as redis:
        return int((await redis.info("memory"))["used_memory"])


async def simulate(args: argparse.Namespace, workdir: Path) -> int:
    services: list[Service] = []
    fleet: Fleet | None = None
    log_path = workdir / "devhost.log"
    try:
        services.append(await asyncio.to_thread(start_redis, workdir / "redis"))
        services.append(await asyncio.to_thread(start_azurite, workdir / "azurite", None, True))
        catalogue, factors = CATALOGUE, {}
        if args.day:
            args.interviews = args.day
            catalogue = workdir / "scaled-catalogue.json"
            factors = scale_catalogue(CATALOGUE, catalogue, args.day, args.day_seconds, args.day_of)
        fleet = await start_fleet(args.seed, catalogue)
        providers = workdir / "providers.json"
        providers.write_text(json.dumps(fleet.catalogue(), indent=2))
        env = {
            "REDIS_URL": services[0].url,
            "AzureWebJobsStorage": services[1].url,
            "DEVHOST_MASTER_KEY": MASTER_KEY,
            "OPS_KEY": OPS_KEY,
            "PROVIDERS_FILE": str(providers),
            **fleet.env,
        }
        if args.remote_jobs is not None:
            env["REMOTE_JOBS"] = args.remote_jobs
        clock = DayClock()
        if args.day:
            # The governor's day starts just before the first arrival and lasts --day-seconds.
            clock = DayClock(args.day_seconds, time.time() + day.START_DELAY_SECONDS + DEVHOST_START_SECONDS)
            env |= {"GOVERNOR_DAY_SECONDS": str(clock.seconds), "GOVERNOR_DAY_ORIGIN": f"{clock.origin:.3f}"}
        services.append(await asyncio.to_thread(start_devhost, ROOT, env, None, "function_app:app", log_path))
        owners = watched_owners(fleet, catalogue)
        if args.day and not args.no_history:
            await write_history(services[0].url, clock, args.day)
        if args.day:
            seeded = await seed_earlier_days_of_the_month(services[0].url, owners)
            print(f"monthly budgets: the earlier days' shares of this month counted as spent: {seeded}")
        plans = [plan(index, args.seed, args.custom_share) for index in range(args.interviews)]
        print(
            f"simulating {args.interviews} interviews, {args.concurrency} at a time, against "
            f"{len(fleet.fakes)} fake providers ...",
            flush=True,
        )
        memory_before = await redis_memory(services[0].url)
        watch = DryWatch(owners, clock, args.day_seconds / 96)
        watching = asyncio.create_task(watch.run()) if args.day else None
        stats, before, after, elapsed = await drive(
            services[-1].url,
            OPS_KEY,
            plans,
            args.concurrency,
            args.rate,
            arrivals(args.day, args.day_seconds) if args.day else None,
            clock.origin + day.START_DELAY_SECONDS if args.day else None,
        )
        if watching is not None:
            watching.cancel()
        memory = {"used_bytes": await redis_memory(services[0].url) - memory_before}
        options = {
            "interviews": args.interviews,
            "concurrency": args.concurrency,
            "rate": args.rate,
            "seed": args.seed,
            "custom_share": args.custom_share,
            "remote_jobs": args.remote_jobs or "(unset: the governor decides)",
        }
        if args.day:
            options |= {"day_seconds": args.day_seconds, "history": not args.no_history, "scaled_by": factors}
        result = figures(options, stats, before, after, elapsed, fleet) | {"redis_memory": memory}
        print(render(result))
        if args.day:
            governed = await read_day(services[0].url, clock)
            result["day"] = day_figures(stats, fleet, stats.completed + stats.abandoned, watch, governed)
            print(render_day(result["day"]))
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2))
        failed = stats.failed > 0
    except Exception as error:
        print(f"simulation failed: {type(error).__name__}: {error}", file=sys.stderr)
        failed = True
    finally:
        if fleet is not None:
            await fleet.stop()
        for service in reversed(services):
            await asyncio.to_thread(service.stop)
    if failed and log_path.exists():
        tail = log_path.read_text("utf-8", errors="replace").splitlines()[-60:]
        print("--- the devhost's log, last lines ---", *tail, sep="\n", file=sys.stderr)
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(
        description="\n".join(doc or "" for doc in (__doc__, workload.__doc__, driver.__doc__, day.__doc__)),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--interviews", type=int, default=200, help="interviews to start (default 200)")
    parser.add_argument(
        "--concurrency", type=int, default=16, help="interviews in flight at once (default 16)"
    )
    parser.add_argument(
        "--rate", type=float, default=None, help="start at most this many interviews a second"
    )
    parser.add_argument("--seed", type=int, default=7, help="seed of the mix and the fakes (default 7)")
    parser.add_argument(
        "--custom-share", type=float, default=0.10, help="share of custom roles (default 0.10)"
    )
    parser.add_argument(
        "--remote-jobs",
        default=None,
        help="REMOTE_JOBS for the app, e.g. questions,report (default: the app's)",
    )
    parser.add_argument(
        "--day",
        type=int,
        default=0,
        metavar="N",
        help="a day of 10,000 interviews scaled to N (limits scaled by N / 10,000; see bench/day.py)",
    )
    parser.add_argument(
        "--day-of",
        type=int,
        default=day.DAY_INTERVIEWS,
        metavar="M",
        help="the day's interviews the N stand for (default 10,000): limits are scaled by N / M",
    )
    parser.add_argument(
        "--day-seconds", type=float, default=600.0, help="the compressed day's length (default 600)"
    )
    parser.add_argument(
        "--no-history", action="store_true", help="no earlier day for the governor's forecast"
    )
    parser.add_argument("--json", default=None, metavar="PATH", help="also write the figures as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="simulate-") as workdir:
        code = asyncio.run(simulate(args, Path(workdir)))
    sys.exit(code)


if __name__ == "__main__":
    main()
