"""FailoverRedis over two real Redis servers. Each client reaches its server through a TCP proxy in this
file that can refuse connections or swallow traffic, so outages are simulated without stopping the
servers; the tests look at the servers directly to see where each write landed."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.asyncio.client import Pipeline
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from core.infra.redis_failover import FailoverRedis
from devhost.stack import LOCALHOST, Service, start_redis
from testing.fakes.tcp_proxy import Proxy

# Starts its own redis-servers: not in the fast tier.
pytestmark = [pytest.mark.service, pytest.mark.asyncio(loop_scope="session")]

SOCKET_TIMEOUT = 0.5
RETRY_AFTER = 5.0


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Service, Service]]:
    workdir: Path = tmp_path_factory.mktemp("failover")
    with start_redis(workdir / "primary") as primary, start_redis(workdir / "backup") as backup:
        yield primary, backup


@pytest.fixture
async def direct(servers: tuple[Service, Service]) -> AsyncIterator[tuple[Redis, Redis]]:
    """Clients straight to the primary and backup servers, which start empty, with no scripts or stats."""
    clients = (Redis.from_url(servers[0].url), Redis.from_url(servers[1].url))
    for client in clients:
        await client.flushall()
        await client.script_flush()
        await client.config_resetstat()
    yield clients
    for client in clients:
        await client.aclose()


@pytest.fixture
async def proxies(servers: tuple[Service, Service]) -> AsyncIterator[tuple[Proxy, Proxy]]:
    found = (Proxy.in_front_of(servers[0].url), Proxy.in_front_of(servers[1].url))
    for proxy in found:
        await proxy.start()
    yield found
    for proxy in found:
        await proxy.stop()


def client(proxy: Proxy, *, from_url: bool = True) -> Redis:
    # Redis.from_url makes connections that never retry, Redis(...) keeps redis-py's default of 10
    # retries with backoff: the primary is built the second way to show that FailoverRedis overrides it.
    timeouts = {"socket_timeout": SOCKET_TIMEOUT, "socket_connect_timeout": SOCKET_TIMEOUT}
    if from_url:
        return Redis.from_url(proxy.url, **timeouts)
    return Redis(host=LOCALHOST, port=proxy.port, **timeouts)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def failover(
    direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy], clock: Clock
) -> AsyncIterator[FailoverRedis]:
    redis = FailoverRedis(
        client(proxies[0], from_url=False), client(proxies[1]), retry_primary_after=RETRY_AFTER, clock=clock
    )
    yield redis
    await redis.aclose()


def port_of(redis: Redis) -> int:
    return int(redis.connection_pool.connection_kwargs["port"])


def failover_warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [
        r for r in caplog.records if r.name == "core.infra.redis_failover" and r.levelno == logging.WARNING
    ]


async def test_refused_primary_moves_reads_and_writes_to_the_backup(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy],
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    primary, backup = direct
    assert await failover.run(lambda r: r.set("before", "1"))
    await proxies[0].refuse()
    caplog.set_level(logging.INFO, logger="core.infra.redis_failover")
    for i in range(5):
        assert await failover.run(lambda r, i=i: r.set(f"k{i}", i))
        assert await failover.run(lambda r, i=i: r.get(f"k{i}")) == str(i).encode()
    assert failover.on_backup and port_of(failover.active()) == proxies[1].port
    assert await backup.mget([f"k{i}" for i in range(5)]) == [str(i).encode() for i in range(5)]
    assert await primary.exists(*[f"k{i}" for i in range(5)]) == 0
    assert await primary.get("before") == b"1" and await backup.get("before") is None
    assert failover.take_counts() == {"redis_commands": 11, "redis_backup_commands": 10, "redis_failovers": 1}
    assert len(failover_warnings(caplog)) == 1


async def test_timed_out_primary_costs_one_timeout_then_is_skipped(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy]
) -> None:
    assert await failover.run(lambda r: r.set("warm", "1"))  # a pooled connection to the primary
    proxies[0].blackhole()
    before = proxies[0].chunks
    assert await failover.run(lambda r: r.incr("n")) == 1
    # One attempt reached the primary (one socket timeout), not redis-py's default retries of it: each
    # retry reconnects and sends again, through the proxy, which counts what it is sent.
    reached = proxies[0].chunks
    assert reached - before == 1
    for _ in range(5):
        await failover.run(lambda r: r.incr("n"))
    assert proxies[0].chunks == reached  # skipped while down: not even tried
    assert await direct[1].get("n") == b"6" and await direct[0].get("n") is None


async def test_moves_back_once_the_primary_answers_after_the_window(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy], clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    primary, backup = direct
    caplog.set_level(logging.INFO, logger="core.infra.redis_failover")
    await proxies[0].refuse()
    await failover.run(lambda r: r.set("during", "1"))
    await proxies[0].restore()
    clock.now += RETRY_AFTER - 1  # still inside the window: the primary is not tried yet
    await failover.run(lambda r: r.set("still", "1"))
    assert proxies[0].chunks == 0 and await backup.get("still") == b"1"
    assert port_of(failover.active()) == proxies[1].port
    clock.now += 1
    to_backup = proxies[1].chunks
    for i in range(3):
        await failover.run(lambda r, i=i: r.set(f"after{i}", "1"))
    assert not failover.on_backup and port_of(failover.active()) == proxies[0].port
    assert await primary.exists("after0", "after1", "after2") == 3
    assert await backup.exists("after0", "after1", "after2") == 0
    assert proxies[1].chunks == to_backup
    assert [r.getMessage() for r in caplog.records if r.name == "core.infra.redis_failover"].count(
        "primary Redis answers again; back from the backup"
    ) == 1


async def test_a_failed_probe_rearms_the_window(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy], clock: Clock,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    await proxies[0].refuse()
    await failover.run(lambda r: r.set("a", "1"))
    clock.now += RETRY_AFTER
    assert await failover.run(lambda r: r.set("b", "1"))  # probes the refused primary, then the backup
    clock.now += RETRY_AFTER - 1
    await proxies[0].restore()
    await failover.run(lambda r: r.set("c", "1"))
    assert await direct[1].exists("a", "b", "c") == 3 and proxies[0].chunks == 0
    assert failover.take_counts()["redis_failovers"] == 1 and len(failover_warnings(caplog)) == 1


async def test_a_dead_backup_is_never_touched_while_the_primary_is_fine(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy]
) -> None:
    await proxies[1].refuse()
    for i in range(5):
        await failover.run(lambda r, i=i: r.set(f"k{i}", i))
    assert await failover.pipeline(lambda p: p.get("k1").get("k2")) == [b"1", b"2"]
    assert await direct[0].exists(*[f"k{i}" for i in range(5)]) == 5
    assert proxies[1].chunks == 0 and not failover.on_backup
    assert failover.take_counts() == {"redis_commands": 7}


async def test_both_down_raises_the_backups_error(
    failover: FailoverRedis, proxies: tuple[Proxy, Proxy]
) -> None:
    await proxies[0].refuse()
    await proxies[1].refuse()
    with pytest.raises(RedisConnectionError, match=f":{proxies[1].port}"):
        await failover.run(lambda r: r.get("x"))
    await proxies[1].restore()
    proxies[1].blackhole()
    with pytest.raises(RedisTimeoutError):  # primary skipped (down), backup times out, primary refused
        await failover.run(lambda r: r.get("x"))


async def test_a_marked_down_primary_is_tried_when_the_backup_fails(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy]
) -> None:
    await proxies[0].refuse()
    await failover.run(lambda r: r.set("a", "1"))
    await proxies[1].refuse()
    await proxies[0].restore()
    assert await failover.run(lambda r: r.set("b", "1"))  # inside the window, but the primary is back
    assert not failover.on_backup and await direct[0].get("b") == b"1"


async def test_without_a_backup_primary_errors_propagate(proxies: tuple[Proxy, Proxy]) -> None:
    redis = FailoverRedis(client(proxies[0]))
    try:
        assert await redis.run(lambda r: r.ping())
        await proxies[0].refuse()
        with pytest.raises(RedisConnectionError):
            await redis.run(lambda r: r.ping())
        assert not redis.on_backup and redis.take_counts() == {"redis_commands": 2}
    finally:
        await redis.aclose()


async def test_scripts_and_pipelines_fail_over(
    failover: FailoverRedis, direct: tuple[Redis, Redis], proxies: tuple[Proxy, Proxy], clock: Clock
) -> None:
    primary, backup = direct
    script = primary.register_script("return redis.call('INCRBY', KEYS[1], ARGV[1])")
    assert await failover.run(lambda r: script(keys=["s"], args=[2], client=r)) == 2
    await proxies[0].refuse()
    # The backup has never seen the script: EVALSHA gets NOSCRIPT and redis-py loads it there.
    assert await failover.run(lambda r: script(keys=["s"], args=[3], client=r)) == 3
    assert "cmdstat_script" in await backup.info("commandstats")
    assert await primary.get("s") == b"2" and await backup.get("s") == b"3"

    built: list[Pipeline] = []

    def build(pipe: Pipeline) -> None:
        built.append(pipe)
        pipe.set("p", "1").incr("q").get("p")

    await proxies[0].restore()
    clock.now += RETRY_AFTER
    await failover.run(lambda r: r.ping())  # back on the primary, so that the pipeline starts there
    await proxies[0].refuse()
    failover.take_counts()
    assert await failover.pipeline(build) == [True, 1, b"1"]
    assert len(built) == 2 and built[0] is not built[1]
    assert await backup.mget(["p", "q"]) == [b"1", b"1"] and await primary.exists("p", "q") == 0
    assert failover.take_counts() == {"redis_commands": 3, "redis_backup_commands": 3, "redis_failovers": 1}


async def test_take_counts_reports_and_resets(failover: FailoverRedis, proxies: tuple[Proxy, Proxy]) -> None:
    assert failover.take_counts() == {}
    await failover.run(lambda r: r.set("a", "1"))
    await failover.pipeline(lambda p: p.get("a").get("a"))
    assert failover.take_counts() == {"redis_commands": 3}
    assert failover.take_counts() == {}
    await proxies[0].refuse()
    await failover.run(lambda r: r.get("a"))
    await failover.run(lambda r: r.get("a"))
    assert failover.take_counts() == {"redis_commands": 2, "redis_backup_commands": 2, "redis_failovers": 1}
    assert failover.take_counts() == {}


async def test_response_errors_propagate_without_a_failover(
    failover: FailoverRedis, proxies: tuple[Proxy, Proxy]
) -> None:
    await failover.run(lambda r: r.set("text", "abc"))
    with pytest.raises(ResponseError):
        await failover.run(lambda r: r.incr("text"))
    assert not failover.on_backup and proxies[1].chunks == 0
    assert "redis_failovers" not in failover.take_counts()
