"""Quotas, cool-downs and circuit breakers of the provider pool, shared by every instance through Redis.

Each decision is one Lua script, so two instances can never both take the last request or token of a
quota. Limits are counted per owner (a key alone, or an organisation, project or account that all its
keys share), never multiplied by the keys that share them. A call reserves its requests and its
estimated tokens (the prompt's, plus the max_tokens it asks for, which some providers count on
arrival) before it is sent, and is reconciled with the usage the reply reports after it.

A monthly budget is paced: the pool weighs its owner by today's even share of what the month had left
this morning (what is left over the days left, today included), not by the whole month's rest, so it is
spent with the daily owners rather than before them (a budget weighed by the month's rest took several
days' share by mid-morning in `make simulate --day`). Past its share the owner is a last resort, taken
only when no other candidate has room: a job is never refused while a provider could take it, and a
share unspent today is the next days' to spend. In the same way every owner keeps room for one report
(`Quota(kept=...)`): down to it, an owner is a last resort until every other owner is too, so owners run
low together and none runs dry while another has plenty (`make simulate --day`: a 15-call owner ran dry
at the simulated hour 17.9 while two others kept 7 calls). Of the last resorts a monthly budget past
today's share goes first: the pacing gives its later days less, while a kept call once taken leaves its
owner dry until the reset.

Daily counters are keyed by the provider's own local date and monthly ones by its local month: a new
day starts with a fresh key even if the reset timer never ran, so no provider stays locked out by a
missed run, and a spent budget means "exhausted until reset" without any mark to clear.

Keys, per owner (what a limit is counted for), per slot (one provider key) and per provider:
  quota:{owner}:day:{local date}          requests reserved that day
  quota:{owner}:min:{epoch minute}        requests reserved that minute
  quota:{owner}:tday:{local date}         tokens reserved or used that day
  quota:{owner}:tmin                      sorted set: reservations of the last minute, "id:tokens" by ms
  quota:{owner}:budget:{unit}:{period}    a daily or monthly budget's use (requests, tokens, neurons)
  quota:{owner}:budget:{unit}:{month}:{local date}
                                          a monthly budget's use that day (its pacing, below)
  slot:{slot}                             hash: cool_until, exhausted_until (ms since the epoch)
  breaker:{provider}                      hash: failures, opens, open_until, probe_until
  stats:{slot}:{local date}               hash: calls, errors, invalid_content (errors that were the
                                          model's text, not the provider), latency_ms, prompt_tokens,
                                          completion_tokens
"""

from __future__ import annotations

import math
import random
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from core.infra.redis_failover import FailoverRedis
from core.providers.adapters.chat import ChatRequest, FailureKind
from core.providers.catalogue import Budget, ProviderEntry, Slot

DAY_TTL_SECONDS = 3 * 24 * 3600
MONTH_TTL_SECONDS = 35 * 24 * 3600
BREAKER_THRESHOLD = 5
BREAKER_BASE_OPEN_MS = 30_000
BREAKER_MAX_OPEN_MS = 15 * 60_000
DEFAULT_COOL_MS = 60_000
# A half-open breaker lets one probe through; if that probe never reports, another may go after this.
PROBE_MS = 30_000
# Characters per token when a prompt is estimated before it is sent: English runs about 4 per token in
# the tokenizers of the catalogue's models; 3.5 errs on the side of reserving too much.
CHARS_PER_TOKEN = 3.5
# Tokens of chat framing (roles, separators) on top of the text.
FRAMING_TOKENS = 16
MAX_BUDGETS = 2
KEYS_PER_CANDIDATE = 6 + 2 * MAX_BUDGETS
ARGS_PER_CANDIDATE = 6 + 6 * MAX_BUDGETS
# The share of its max_tokens a typical valid reply uses, for a request that does not say its own
# (`ChatRequest.expected_output_tokens`; every prompt of the app does): output budgets are sized to the
# longest valid reply with room to spare. Weights use it (see RESERVE).
TYPICAL_REPLY_SHARE = 0.5

# KEYS: 10 per candidate (day requests, minute requests, day tokens, minute tokens, 2 budgets, 2 budgets'
# use today, slot state, breaker). ARGV: now_ms, random in [0,1), reservation id, then per candidate:
# rpd, rpm, tpd, tpm, tokens reserved, tokens expected, and per budget: limit, cost reserved, cost
# expected, ttl seconds, days left in its month with today (0 where there is no such limit, or no pacing:
# a daily budget), cost of the kept call; then day ttl, breaker threshold, probe ms, and the kept call's
# requests (0 or 1) and tokens. Returns the 1-based candidate or 0.
# A candidate needs room for the call as reserved (its max_tokens counted); its weight is the number of
# calls of the expected size (a typical reply) it has left today by its tightest limit beyond one kept
# call (a report's, see `Quota`), a monthly budget counting only today's share. (Weighed by the
# reserved size, an owner bound by tokens or neurons would be picked as if each call cost what it
# reserves, while reconciling gives back the unused part, so owners bound by requests ran dry first.)
# A candidate with no weight but room is a last resort, chosen only when no candidate has weight: first
# those past a monthly budget's share of today with room beyond their kept call, then those down to it.
RESERVE = """
local now = tonumber(ARGV[1])
local id = ARGV[3]
local per_key, per_arg, budgets = 10, 18, 2
local n = #KEYS / per_key
local tail = 3 + per_arg * n
local day_ttl, threshold, probe_ms = tonumber(ARGV[tail + 1]), tonumber(ARGV[tail + 2]), tonumber(ARGV[tail + 3])
local kept_requests, kept_tokens = tonumber(ARGV[tail + 4]), tonumber(ARGV[tail + 5])
local weights, spares, kepts, probes, total, spare_total, kept_total = {}, {}, {}, {}, 0, 0, 0
local function minute_tokens(key)
  -- 61 s, not 60: a second's margin for the provider's clock and the call's way there
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - 61000)
  local sum = 0
  for _, member in ipairs(redis.call('ZRANGE', key, 0, -1)) do
    sum = sum + tonumber(string.match(member, ':(%d+)$'))
  end
  return sum
end
for i = 1, n do
  local k, a = per_key * (i - 1), 3 + per_arg * (i - 1)
  local rpd, rpm, tpd, tpm, tokens = tonumber(ARGV[a+1]), tonumber(ARGV[a+2]), tonumber(ARGV[a+3]), tonumber(ARGV[a+4]), tonumber(ARGV[a+5])
  local expected = tonumber(ARGV[a+6])
  local slot = redis.call('HMGET', KEYS[k+9], 'cool_until', 'exhausted_until')
  local breaker = redis.call('HMGET', KEYS[k+10], 'failures', 'open_until', 'probe_until')
  local resting = tonumber(slot[1] or '0') > now or tonumber(slot[2] or '0') > now
  local open = tonumber(breaker[2] or '0') > now
  local half_open = (not open) and tonumber(breaker[1] or '0') >= threshold
  if half_open and tonumber(breaker[3] or '0') > now then open = true end
  -- calls left today by the tightest limit; a huge number where a limit does not exist
  -- left: calls as reserved; worth: calls of the expected size; beyond: the latter after the kept call;
  -- paced: calls of the expected size within today's share
  local left, worth, beyond, paced = 1e15, 1e15, 1e15, 1e15
  local used_minute = tonumber(redis.call('GET', KEYS[k+2]) or '0')
  if used_minute >= rpm then left = 0 end
  if rpd > 0 then
    left = math.min(left, rpd - tonumber(redis.call('GET', KEYS[k+1]) or '0'))
    worth, beyond = math.min(worth, left), math.min(beyond, left - kept_requests)
  end
  if tpd > 0 then
    local free = tpd - tonumber(redis.call('GET', KEYS[k+3]) or '0')
    left, worth = math.min(left, math.floor(free / tokens)), math.min(worth, math.floor(free / expected))
    beyond = math.min(beyond, math.floor((free - kept_tokens) / expected))
  end
  if tpm > 0 and minute_tokens(KEYS[k+4]) + tokens > tpm then left = 0 end
  for b = 1, budgets do
    local o = a + 6 + 6 * (b - 1)
    local limit, cost, typical = tonumber(ARGV[o+1]), math.max(tonumber(ARGV[o+2]), 1), math.max(tonumber(ARGV[o+3]), 1)
    local days_left, kept = tonumber(ARGV[o+5]), tonumber(ARGV[o+6])
    if limit > 0 then
      local spent = tonumber(redis.call('GET', KEYS[k+4+b]) or '0')
      left, worth = math.min(left, math.floor((limit - spent) / cost)), math.min(worth, math.floor((limit - spent) / typical))
      beyond = math.min(beyond, math.floor((limit - spent - kept) / typical))
      if days_left > 0 then
        -- today's even share of what the month had left when today began
        local today = tonumber(redis.call('GET', KEYS[k+6+b]) or '0')
        paced = math.min(paced, math.floor(((limit - spent + today) / days_left - today) / typical))
      end
    end
  end
  -- weight: within its share and beyond its kept call; spare: past a monthly share, beyond its kept call;
  -- kept: any room at all
  local weight, spare, kept = 0, 0, 0
  if not resting and not open and left > 0 then
    weight, spare, kept = math.max(0, math.min(beyond, paced)), math.max(0, beyond), worth
  end
  weights[i], spares[i], kepts[i], probes[i] = weight, spare, kept, half_open
  total, spare_total, kept_total = total + weight, spare_total + spare, kept_total + kept
end
if total == 0 then
  -- The last resorts: first a monthly budget past today's share (later days' share, which the pacing
  -- gives back over the month), then the kept calls (an owner taken there runs dry).
  if spare_total > 0 then
    weights, total = spares, spare_total
  elseif kept_total > 0 then
    weights, total = kepts, kept_total
  else
    return 0
  end
end
local point = tonumber(ARGV[2]) * total
local chosen = n
for i = 1, n do
  if point < weights[i] then chosen = i break end
  point = point - weights[i]
end
local k, a = per_key * (chosen - 1), 3 + per_arg * (chosen - 1)
local tokens = tonumber(ARGV[a+5])
redis.call('INCR', KEYS[k+1])
redis.call('EXPIRE', KEYS[k+1], day_ttl)
redis.call('INCR', KEYS[k+2])
redis.call('EXPIRE', KEYS[k+2], 120)
redis.call('INCRBY', KEYS[k+3], tokens)
redis.call('EXPIRE', KEYS[k+3], day_ttl)
redis.call('ZADD', KEYS[k+4], now, id .. ':' .. tokens)
redis.call('EXPIRE', KEYS[k+4], 120)
for b = 1, budgets do
  local o = a + 6 + 6 * (b - 1)
  local limit, cost, ttl, days_left = tonumber(ARGV[o+1]), tonumber(ARGV[o+2]), tonumber(ARGV[o+4]), tonumber(ARGV[o+5])
  if limit > 0 then
    redis.call('INCRBY', KEYS[k+4+b], cost)
    redis.call('EXPIRE', KEYS[k+4+b], ttl)
    if days_left > 0 then
      redis.call('INCRBY', KEYS[k+6+b], cost)
      redis.call('EXPIRE', KEYS[k+6+b], day_ttl)
    end
  end
end
if probes[chosen] then redis.call('HSET', KEYS[k+10], 'probe_until', now + probe_ms) end
return chosen
"""

# KEYS: day tokens, minute tokens, 2 budgets, the slot's stats, 2 budgets' use today. ARGV: reservation
# id, reserved tokens, used tokens, per budget its limit (0: none) and the difference to apply, the
# reply's prompt and completion tokens (for the stats), the stats' ttl, now (ms), and per budget 1 if
# it is paced (a monthly budget: its use today is kept too). Replaces a reservation's estimate with
# what the reply reports (or with nothing, for a call the provider refused before doing any work).
RECONCILE = """
local id, reserved, used = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('INCRBY', KEYS[1], used - reserved)
local member = id .. ':' .. reserved
if redis.call('ZREM', KEYS[2], member) == 1 and used > 0 then
  -- Counted from when the reply came back: the provider counted the call when it arrived, after the
  -- reservation, so the reservation's own time would let the tokens go before the provider does.
  redis.call('ZADD', KEYS[2], ARGV[11], id .. ':' .. used)
end
for b = 1, 2 do
  if tonumber(ARGV[2 + 2*b]) > 0 then
    redis.call('INCRBY', KEYS[2 + b], tonumber(ARGV[3 + 2*b]))
    if ARGV[11 + b] == '1' then redis.call('INCRBY', KEYS[5 + b], tonumber(ARGV[3 + 2*b])) end
  end
end
if tonumber(ARGV[8]) + tonumber(ARGV[9]) > 0 then
  redis.call('HINCRBY', KEYS[5], 'prompt_tokens', ARGV[8])
  redis.call('HINCRBY', KEYS[5], 'completion_tokens', ARGV[9])
  redis.call('EXPIRE', KEYS[5], ARGV[10])
end
return 1
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
if outcome == 'invalid_content' then
  -- The provider answered in its own format; the model's text failed the schema. Counted in the stats,
  -- never in the breaker, and no rest: other jobs keep the provider. If this call was a half-open
  -- breaker's probe, the probe is over: the next job may probe again.
  redis.call('HINCRBY', KEYS[3], 'invalid_content', 1)
  redis.call('HDEL', KEYS[2], 'probe_until')
  return 'invalid_content'
end
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


def _shifted(script: str, keys: dict[int, int], argv_offset: int) -> str:
    """`script` with its KEYS renumbered and its ARGV moved up, to run after another in one script."""
    script = re.sub(r"KEYS\[(\d+)\]", lambda m: f"KEYS[{keys[int(m.group(1))]}]", script)
    return re.sub(r"ARGV\[(\d+)\]", lambda m: f"ARGV[{int(m.group(1)) + argv_offset}]", script)


# One call's end in one command: RECONCILE (KEYS 1-7, ARGV 1-13), then RECORD_OUTCOME with its slot
# state, breaker and stats at KEYS 8, 9 and 5, and its ARGV from 14. Returns the outcome's state.
FINISH = (
    RECONCILE.strip().removesuffix("return 1").rstrip()
    + "\n"
    + _shifted(RECORD_OUTCOME, {1: 8, 2: 9, 3: 5}, 13)
)

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


def local_month(slot: Slot, at_ms: int) -> str:
    return local_date(slot, at_ms)[:7]


def day_key(slot: Slot, day: str) -> str:
    """Requests reserved on `day` by the slot's owner (every key of a shared owner counts here)."""
    return f"quota:{slot.owner_id}:day:{day}"


def tokens_day_key(slot: Slot, day: str) -> str:
    return f"quota:{slot.owner_id}:tday:{day}"


def budget_key(slot: Slot, budget: Budget, at_ms: int) -> str:
    period = local_date(slot, at_ms) if budget.per == "day" else local_month(slot, at_ms)
    return f"quota:{slot.owner_id}:budget:{budget.unit}:{period}"


def budget_today_key(slot: Slot, budget: Budget | None, at_ms: int) -> str:
    """A monthly budget's use on the provider's local day (its pacing); a placeholder for other budgets,
    never written."""
    if budget is None or budget.per != "month":
        return f"quota:{slot.owner_id}:budget:none"
    return f"quota:{slot.owner_id}:budget:{budget.unit}:{local_month(slot, at_ms)}:{local_date(slot, at_ms)}"


def days_to_month_end(day: date) -> int:
    """Days from `day` to the end of its month, `day` included."""
    first_of_next = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return (first_of_next - day).days


def days_left_in_month(slot: Slot, at_ms: int) -> int:
    """Days of the provider's local month from today to its end, today included."""
    return days_to_month_end(datetime.fromtimestamp(at_ms / 1000, slot.entry.zone).date())


def pacing_days(slot: Slot, budget: Budget, at_ms: int) -> int:
    """What a budget's share of today is divided by: the days left in its month; 0, no pacing, for a
    daily budget (the day is its period)."""
    return days_left_in_month(slot, at_ms) if budget.per == "month" else 0


@dataclass(frozen=True)
class CallSize:
    """What one call is expected to spend: prompt tokens estimated from its text, and the output it
    may produce (its max_tokens), which some providers count on arrival."""

    prompt_tokens: int
    max_output_tokens: int
    # A typical valid reply's tokens, as the request says; None: TYPICAL_REPLY_SHARE of max_tokens.
    typical_output_tokens: int | None = None

    @classmethod
    def of(cls, request: ChatRequest) -> CallSize:
        chars = len(request.system) + len(request.user)
        prompt = math.ceil(chars / CHARS_PER_TOKEN) + FRAMING_TOKENS
        return cls(prompt, request.max_tokens, request.expected_output_tokens)

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.max_output_tokens

    @property
    def expected_output_tokens(self) -> int:
        """A typical valid reply's tokens: what the call will likely spend once reconciled (never more
        than it may produce)."""
        if self.typical_output_tokens is not None:
            return max(1, min(self.typical_output_tokens, self.max_output_tokens))
        return max(1, math.ceil(self.max_output_tokens * TYPICAL_REPLY_SHARE))

    @property
    def expected_tokens(self) -> int:
        return self.prompt_tokens + self.expected_output_tokens


def budget_cost(entry: ProviderEntry, budget: Budget, prompt_tokens: int, output_tokens: int) -> int:
    """What a call of this many tokens spends of a budget, in the budget's unit."""
    if budget.unit == "requests":
        return 1
    if budget.unit == "tokens":
        return prompt_tokens + output_tokens
    assert entry.neurons is not None  # the catalogue refuses a neuron budget without rates
    rates = entry.neurons
    return math.ceil(
        prompt_tokens * rates.input_per_million / 1e6 + output_tokens * rates.output_per_million / 1e6
    )


@dataclass(frozen=True)
class Reservation:
    """Quota taken for one call on `slot`, to be reconciled with the reply's usage."""

    slot: Slot
    size: CallSize
    at_ms: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:16])


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
        kept: CallSize | None = None,
    ) -> None:
        """`kept`: a call every owner keeps room for while another owner has more (the app keeps a
        report's, the job it reserves first): an owner down to it is a last resort, taken only when no
        other has room beyond its own, so owners run low together and none runs dry while another has
        plenty (which also keeps every provider in the failover's reach until the day's end)."""
        self._rng = rng
        self._clock = clock
        self._breaker = breaker
        self._redis = redis
        self._kept = kept

    async def reserve(self, candidates: list[Slot], size: CallSize) -> Reservation | None:
        """Take one request and `size` of every limit from a candidate, chosen at random weighted by how
        many calls of this size it has left today; None when no candidate has room."""
        if not candidates:
            return None
        at = self._clock()
        reservation_id = uuid.uuid4().hex[:16]
        keys: list[str] = []
        args: list[object] = []
        for slot in candidates:
            entry, today = slot.entry, local_date(slot, at)
            keys += [
                day_key(slot, today),
                f"quota:{slot.owner_id}:min:{at // 60_000}",
                tokens_day_key(slot, today),
                f"quota:{slot.owner_id}:tmin",
            ]
            budgets = entry.budgets[:MAX_BUDGETS]
            keys += [budget_key(slot, budget, at) for budget in budgets]
            keys += [f"quota:{slot.owner_id}:budget:none"] * (MAX_BUDGETS - len(budgets))
            keys += [budget_today_key(slot, budget, at) for budget in budgets]
            keys += [budget_today_key(slot, None, at)] * (MAX_BUDGETS - len(budgets))
            keys += [slot_key(slot), breaker_key(entry.name)]
            args += [
                entry.rpd or 0,
                entry.rpm,
                entry.tpd or 0,
                entry.tpm or 0,
                size.tokens,
                size.expected_tokens,
            ]
            for budget in budgets:
                cost = budget_cost(entry, budget, size.prompt_tokens, size.max_output_tokens)
                typical = budget_cost(entry, budget, size.prompt_tokens, size.expected_output_tokens)
                ttl = DAY_TTL_SECONDS if budget.per == "day" else MONTH_TTL_SECONDS
                kept = self._kept_cost(entry, budget)
                args += [budget.amount, cost, typical, ttl, pacing_days(slot, budget, at), kept]
            args += [0, 0, 0, 0, 0, 0] * (MAX_BUDGETS - len(budgets))
        kept_call = (1, self._kept.expected_tokens) if self._kept else (0, 0)
        tail = [DAY_TTL_SECONDS, self._breaker.threshold, self._breaker.probe_ms, *kept_call]
        # RESERVE reads its candidates by these strides (per_key, per_arg): the layout must match them.
        assert len(keys) == KEYS_PER_CANDIDATE * len(candidates)
        assert len(args) == ARGS_PER_CANDIDATE * len(candidates)
        script_args = [at, self._rng.random(), reservation_id, *args, *tail]
        chosen = int(await self._redis.script(RESERVE, keys, script_args))
        if not chosen:
            return None
        return Reservation(candidates[chosen - 1], size, at, reservation_id)

    def _kept_cost(self, entry: ProviderEntry, budget: Budget) -> int:
        if self._kept is None:
            return 0
        return budget_cost(entry, budget, self._kept.prompt_tokens, self._kept.expected_output_tokens)

    async def reconcile(
        self, reservation: Reservation, prompt_tokens: int | None, completion_tokens: int | None
    ) -> None:
        """Replace the reservation's estimate with the tokens the reply reports. A reply without usage
        keeps the estimate; pass 0 and 0 for a call refused before any work (nothing was spent)."""
        if prompt_tokens is None or completion_tokens is None:
            return
        keys, args = self._reconcile_call(reservation, prompt_tokens, completion_tokens)
        await self._redis.script(RECONCILE, keys, args)

    def _reconcile_call(
        self, reservation: Reservation, prompt_tokens: int, completion_tokens: int
    ) -> tuple[list[str], list[object]]:
        size, slot = reservation.size, reservation.slot
        used = prompt_tokens + completion_tokens
        keys = [tokens_day_key(slot, local_date(slot, reservation.at_ms)), f"quota:{slot.owner_id}:tmin"]
        budgets = slot.entry.budgets[:MAX_BUDGETS]
        keys += [budget_key(slot, budget, reservation.at_ms) for budget in budgets]
        keys += [f"quota:{slot.owner_id}:budget:none"] * (MAX_BUDGETS - len(budgets))
        keys.append(stats_key(slot, local_date(slot, reservation.at_ms)))
        keys += [budget_today_key(slot, budget, reservation.at_ms) for budget in budgets]
        keys += [budget_today_key(slot, None, reservation.at_ms)] * (MAX_BUDGETS - len(budgets))
        args: list[object] = [reservation.id, size.tokens, used]
        for budget in budgets:
            reserved = budget_cost(slot.entry, budget, size.prompt_tokens, size.max_output_tokens)
            spent = budget_cost(slot.entry, budget, prompt_tokens, completion_tokens) if used else 0
            # A request budget is spent by the request itself, whatever its tokens.
            args += [budget.amount, 0 if budget.unit == "requests" else spent - reserved]
        args += [0, 0] * (MAX_BUDGETS - len(budgets))
        args += [prompt_tokens, completion_tokens, DAY_TTL_SECONDS, self._clock()]
        args += [1 if budget.per == "month" else 0 for budget in budgets]
        args += [0] * (MAX_BUDGETS - len(budgets))
        return keys, args

    async def finish(
        self,
        reservation: Reservation,
        outcome: FailureKind | str,
        latency_ms: int,
        retry_after: float | None,
        prompt_tokens: int | None,
        completion_tokens: int | None,
    ) -> str:
        """`reconcile` and `record_outcome` in one command: how a call ended, and what it spent."""
        if prompt_tokens is None or completion_tokens is None:
            # No usage to reconcile: the estimate stands, and only the outcome is recorded.
            return await self.record_outcome(reservation.slot, outcome, latency_ms, retry_after)
        reconcile_keys, reconcile_args = self._reconcile_call(reservation, prompt_tokens, completion_tokens)
        outcome_keys, outcome_args = self._outcome_call(reservation.slot, outcome, latency_ms, retry_after)
        keys = [*reconcile_keys, outcome_keys[0], outcome_keys[1]]
        result = await self._redis.script(FINISH, keys, [*reconcile_args, *outcome_args])
        return result.decode() if isinstance(result, bytes) else str(result)

    async def record_outcome(
        self, slot: Slot, outcome: FailureKind | str, latency_ms: int, retry_after: float | None = None
    ) -> str:
        """Record how a call on `slot` ended: its latency, and a cool-down, exhaustion or breaker count.
        Returns the slot's state after it: ok, cooling, exhausted, failed or open; invalid_content for
        a reply the model's text spoiled, which leaves the slot and its provider's breaker as they were."""
        keys, args = self._outcome_call(slot, outcome, latency_ms, retry_after)
        result = await self._redis.script(RECORD_OUTCOME, keys, args)
        return result.decode() if isinstance(result, bytes) else str(result)

    def _outcome_call(
        self, slot: Slot, outcome: FailureKind | str, latency_ms: int, retry_after: float | None
    ) -> tuple[list[str], list[object]]:
        at = self._clock()
        if outcome in ("day_limit", "auth"):
            until = next_reset_ms(slot, at)
        else:
            until = at + int(retry_after * 1000) if retry_after else at + DEFAULT_COOL_MS
        keys = [slot_key(slot), breaker_key(slot.entry.name), stats_key(slot, local_date(slot, at))]
        breaker = self._breaker
        args: list[object] = [at, outcome, until, latency_ms, breaker.threshold, breaker.base_open_ms]
        return keys, [*args, breaker.max_open_ms, DAY_TTL_SECONDS]

    async def clear_passed(self, slots: list[Slot]) -> int:
        """Drop cool-down and exhaustion marks that have run out; returns how many."""
        if not slots:
            return 0
        return int(
            await self._redis.script(CLEAR_PASSED, [slot_key(slot) for slot in slots], [self._clock()])
        )
