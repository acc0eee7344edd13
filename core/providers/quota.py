"""Quotas, cool-downs and circuit breakers of the provider pool, shared by every instance through Redis.

Each decision is one Lua script, so two instances can never both take the last request of a quota.
Daily counters are keyed by the provider's own local date: a new day starts with a fresh key even if
the reset timer never ran, so no provider stays locked out by a missed run.

Keys, per slot (one provider key) and per provider:
  quota:{slot}:day:{local date}   requests reserved that day
  quota:{slot}:min:{epoch minute} requests reserved that minute
  slot:{slot}                     hash: cool_until, exhausted_until (ms since the epoch)
  breaker:{provider}              hash: failures, opens, open_until, probe_until
  stats:{slot}:{local date}       hash: calls, errors, latency_ms (moving average)
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from core.infra.redis_failover import FailoverRedis
from core.providers.adapters.chat import FailureKind
from core.providers.catalogue import Slot

DAY_TTL_SECONDS = 3 * 24 * 3600
BREAKER_THRESHOLD = 5
BREAKER_BASE_OPEN_MS = 30_000
BREAKER_MAX_OPEN_MS = 15 * 60_000
DEFAULT_COOL_MS = 60_000
# A half-open breaker lets one probe through; if that probe never reports, another may go after this.
PROBE_MS = 30_000

# KEYS: 4 per candidate (day, minute, slot state, breaker). ARGV: now_ms, random in [0,1), then rpd and
# rpm per candidate, then day ttl, breaker threshold, probe ms. Returns the 1-based candidate or 0.
RESERVE = """
local now = tonumber(ARGV[1])
local n = #KEYS / 4
local day_ttl = tonumber(ARGV[3 + 2 * n])
local threshold = tonumber(ARGV[4 + 2 * n])
local probe_ms = tonumber(ARGV[5 + 2 * n])
local weights, probes, total = {}, {}, 0
for i = 1, n do
  local day_key, minute_key, slot_key, breaker_key = KEYS[4*i-3], KEYS[4*i-2], KEYS[4*i-1], KEYS[4*i]
  local rpd, rpm = tonumber(ARGV[1 + 2*i]), tonumber(ARGV[2 + 2*i])
  local used_day = tonumber(redis.call('GET', day_key) or '0')
  local used_minute = tonumber(redis.call('GET', minute_key) or '0')
  local slot = redis.call('HMGET', slot_key, 'cool_until', 'exhausted_until')
  local breaker = redis.call('HMGET', breaker_key, 'failures', 'open_until', 'probe_until')
  local weight = 0
  local resting = tonumber(slot[1] or '0') > now or tonumber(slot[2] or '0') > now
  local open = tonumber(breaker[2] or '0') > now
  local half_open = (not open) and tonumber(breaker[1] or '0') >= threshold
  if half_open and tonumber(breaker[3] or '0') > now then open = true end
  if not resting and not open and used_day < rpd and used_minute < rpm then weight = rpd - used_day end
  weights[i], probes[i], total = weight, half_open, total + weight
end
if total == 0 then return 0 end
local point = tonumber(ARGV[2]) * total
local chosen = n
for i = 1, n do
  if point < weights[i] then chosen = i break end
  point = point - weights[i]
end
redis.call('INCR', KEYS[4*chosen-3])
redis.call('EXPIRE', KEYS[4*chosen-3], day_ttl)
redis.call('INCR', KEYS[4*chosen-2])
redis.call('EXPIRE', KEYS[4*chosen-2], 120)
if probes[chosen] then redis.call('HSET', KEYS[4*chosen], 'probe_until', now + probe_ms) end
return chosen
"""

# KEYS: slot state, breaker, stats. ARGV: now_ms, outcome, until_ms (cool-down or exhaustion end),
# latency_ms, threshold, base_open_ms, max_open_ms, stats ttl.
RECORD_OUTCOME = """
local now, outcome, rest_until = tonumber(ARGV[1]), ARGV[2], tonumber(ARGV[3])
local latency, threshold = tonumber(ARGV[4]), tonumber(ARGV[5])
local base_open, max_open, stats_ttl = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local function extend(key, field, value)
  -- a later, longer rest is never shortened by an earlier, shorter one
  if tonumber(redis.call('HGET', key, field) or '0') < value then redis.call('HSET', key, field, value) end
end
redis.call('HINCRBY', KEYS[3], 'calls', 1)
redis.call('EXPIRE', KEYS[3], stats_ttl)
if outcome == 'ok' then
  local previous = tonumber(redis.call('HGET', KEYS[3], 'latency_ms') or latency)
  redis.call('HSET', KEYS[3], 'latency_ms', math.floor(previous * 0.8 + latency * 0.2))
  redis.call('DEL', KEYS[2])
  return 'ok'
end
redis.call('HINCRBY', KEYS[3], 'errors', 1)
if outcome == 'minute_limit' then extend(KEYS[1], 'cool_until', rest_until) return 'cooling' end
if outcome == 'day_limit' or outcome == 'auth' then extend(KEYS[1], 'exhausted_until', rest_until) return 'exhausted' end
local failures = redis.call('HINCRBY', KEYS[2], 'failures', 1)
if failures >= threshold then
  local opens = tonumber(redis.call('HGET', KEYS[2], 'opens') or '0')
  extend(KEYS[2], 'open_until', math.floor(now + math.min(base_open * 2 ^ opens, max_open)))
  redis.call('HINCRBY', KEYS[2], 'opens', 1)
  redis.call('HDEL', KEYS[2], 'probe_until')
  return 'open'
end
return 'failed'
"""

# KEYS: slot states. ARGV: now_ms. Clears marks whose time has passed; a newer, future one stays.
CLEAR_PASSED = """
local cleared = 0
for i = 1, #KEYS do
  for _, field in ipairs({'cool_until', 'exhausted_until'}) do
    local value = redis.call('HGET', KEYS[i], field)
    if value and tonumber(value) <= tonumber(ARGV[1]) then redis.call('HDEL', KEYS[i], field) cleared = cleared + 1 end
  end
end
return cleared
"""


def now_ms() -> int:
    return int(time.time() * 1000)


def local_date(slot: Slot, at_ms: int) -> str:
    return datetime.fromtimestamp(at_ms / 1000, slot.entry.zone).date().isoformat()


def next_reset_ms(slot: Slot, at_ms: int) -> int:
    """The provider's next local midnight, when its daily quota comes back."""
    local = datetime.fromtimestamp(at_ms / 1000, slot.entry.zone)
    midnight = datetime.combine(local.date() + timedelta(days=1), datetime.min.time(), tzinfo=slot.entry.zone)
    return int(midnight.timestamp() * 1000)


def day_key(slot: Slot, day: str) -> str:
    return f"quota:{slot.id}:day:{day}"


def slot_key(slot: Slot) -> str:
    return f"slot:{slot.id}"


def breaker_key(provider: str) -> str:
    return f"breaker:{provider}"


def stats_key(slot: Slot, day: str) -> str:
    return f"stats:{slot.id}:{day}"


@dataclass(frozen=True)
class BreakerTimings:
    threshold: int = BREAKER_THRESHOLD
    base_open_ms: int = BREAKER_BASE_OPEN_MS
    max_open_ms: int = BREAKER_MAX_OPEN_MS
    probe_ms: int = PROBE_MS


class Quota:
    def __init__(
        self,
        redis: FailoverRedis,
        rng: random.Random,
        breaker: BreakerTimings = BreakerTimings(),
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self._rng = rng
        self._clock = clock
        self._breaker = breaker
        self._redis = redis

    async def reserve(self, candidates: list[Slot]) -> Slot | None:
        """Take one request of quota from a candidate, chosen at random weighted by what it has left."""
        if not candidates:
            return None
        at = self._clock()
        keys: list[str] = []
        limits: list[int] = []
        for slot in candidates:
            keys += [day_key(slot, local_date(slot, at)), f"quota:{slot.id}:min:{at // 60_000}"]
            keys += [slot_key(slot), breaker_key(slot.entry.name)]
            limits += [slot.entry.rpd, slot.entry.rpm]
        args = [
            at,
            self._rng.random(),
            *limits,
            DAY_TTL_SECONDS,
            self._breaker.threshold,
            self._breaker.probe_ms,
        ]
        chosen = int(await self._redis.script(RESERVE, keys, args))
        return candidates[chosen - 1] if chosen else None

    async def record_outcome(
        self, slot: Slot, outcome: FailureKind | str, latency_ms: int, retry_after: float | None = None
    ) -> str:
        """Record how a call on `slot` ended: its latency, and a cool-down, exhaustion or breaker count.
        Returns the slot's state after it: ok, cooling, exhausted, failed or open."""
        at = self._clock()
        if outcome in ("day_limit", "auth"):
            until = next_reset_ms(slot, at)
        else:
            until = at + int(retry_after * 1000) if retry_after else at + DEFAULT_COOL_MS
        keys = [slot_key(slot), breaker_key(slot.entry.name), stats_key(slot, local_date(slot, at))]
        breaker = self._breaker
        args = [at, outcome, until, latency_ms, breaker.threshold, breaker.base_open_ms, breaker.max_open_ms]
        result = await self._redis.script(RECORD_OUTCOME, keys, [*args, DAY_TTL_SECONDS])
        return result.decode() if isinstance(result, bytes) else str(result)

    async def clear_passed(self, slots: list[Slot]) -> int:
        """Drop cool-down and exhaustion marks that have run out; returns how many."""
        if not slots:
            return 0
        return int(
            await self._redis.script(CLEAR_PASSED, [slot_key(slot) for slot in slots], [self._clock()])
        )
