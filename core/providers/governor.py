"""The day's budget of model calls: per job, a model now or the built-in evaluator now.

The free tiers give a fixed number of calls a day (core/providers/capacity.py, per limit owner). The
governor spends them in order of need: reports and custom roles' questions first (a report's review
call also scores every answer only the built-in evaluator scored), then follow-up questions (each
forecast for the rest of the day is held in reserve for it and the kinds before it), then the
evaluation of single answers, those the built-in evaluator is least sure of first. It paces every kind
over the rest of the day by a forecast of its demand, so the pool is not run dry before the providers'
reset, and as the day runs out the forecast shrinks and what is left goes to less uncertain answers, so
little is left unused at the reset.

Units: milli-calls of report size (a call of `REPORT_CALL`'s tokens), so that an answer's share of a
batch can be less than one call. Capacity is the configured keys' calls a day at that size, summed over
owners (the pool picks the owner per call, weighted by what each has left of its day, so owners drain
together).

What has been used: per owner, the share of its day spent by its tightest limit, times its calls a day:
requests against rpd (or rpm x 1,440), tokens against tpd (or tpm x 1,440), a budget's use today against
its day (a monthly budget's: its 30th), read from quota.py's own per-owner counters (never written
here), which count retries and failovers too. So a token-bound owner's small calls (an answer's
evaluation is a third of a report's tokens) spend a third of a call, not a whole one, while a
request-bound owner's spend one. Plus the grants of the last 15-30 s, which are on their way to the
pool and not yet in its counters. A grant never spent (a cache hit, a fallback) drops
out after that; one spent is counted twice for at most that long, which errs on the safe side. (A queued
job reaches the pool within the queue's polling back-off, 0.5 s at most, and a batch's quarter second.)

What a grant costs is learnt from the day: the owners' spending per grant no longer in flight (a
follow-up question spends a few hundred tokens, a fifth of a report-size call on a token-bound owner but
a whole request on a request-bound one). Counting every grant as a whole call held back up to a quarter
of the day's capacity unused at the reset in `make simulate --day 300`; the reserve and the forecast are
counted at the learnt cost, within PER_GRANT_BOUNDS.

The forecast of a kind's rest of the day is its demand so far today scaled by the share of a day's demand
that came after this time on earlier days (up to `HISTORY_DAYS` of hourly counts); with no history, the
share of the day still ahead.

One Redis script per decision: it counts the demand (by kind, hour and uncertainty band), reads what was
used, decides, and takes the grant, atomically, so two instances can never both spend the last unit.
Keys: governor:{day} a hash per governor day (UTC by default; GOVERNOR_DAY_SECONDS compresses it for a
simulation) with fields d:{kind} (demand today), d:evaluate:{band}, h:{hour}:{kind} (hourly demand, the
history of later days), granted (milli-calls), m:{bucket} (grants in flight), c:{kind}:{reason} (decisions
by reason). Earlier days' hourly demand is read once per process and day (one pipeline)."""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal, get_args

from pydantic import BaseModel, Field
from redis.asyncio.client import Pipeline

from core.infra.connections import connections
from core.infra.redis_failover import FailoverRedis
from core.providers.capacity import DAYS_PER_MONTH, MINUTES_PER_DAY, REPORT_CALL, capacity, configured_keys
from core.providers.catalogue import Slot, configured_slots
from core.providers.quota import (
    MAX_BUDGETS,
    budget_key,
    budget_today_key,
    day_key,
    local_date,
    tokens_day_key,
)
from core.settings import get_settings

GovernedKind = Literal["evaluate", "report", "questions", "follow_up", "example"]
RESERVED_KINDS: tuple[GovernedKind, ...] = ("report", "questions", "follow_up")
MILLI = 1000
BANDS = 4  # uncertainty bands of answers: 3 is the built-in evaluator's least sure
HOURS = 24
HISTORY_DAYS = 7
IN_FLIGHT_SECONDS = 15  # grants are counted as used until the pool's counters have them: 15-30 s
DAY_TTL_SECONDS = (HISTORY_DAYS + 2) * 24 * 3600
# Below this share of the day's demand seen, the forecast is not scaled further: one early answer must not
# forecast a day of millions. Half an hour of a flat day.
MIN_SHARE = 1 / 48
# Answers one evaluation call carries on average: 1, as a real day's traffic rarely fills a batch within
# its quarter-second window; batching that does happen is caught by the pool's own counters.
ANSWERS_PER_CALL = 1
COST: dict[str, int] = {
    "report": MILLI,
    "questions": MILLI,
    "follow_up": MILLI,
    "evaluate": MILLI // ANSWERS_PER_CALL,
    "example": MILLI,
}
# The lowest tier, quota that would otherwise expire: shareable work (an example answer per bank question)
# is granted only what is left after the reserve and every band of answers' forecast for the rest of the
# day, and only once this share of the day's demand has come (the hours before the reset).
SPARE_KINDS: frozenset[GovernedKind] = frozenset({"example"})
SPARE_BAND = -2
SPARE_AFTER_SHARE = 0.75
# What a grant costs is learnt from the day once this many report-size calls' grants have settled, and
# kept within these bounds: a grant is never expected to cost less than a quarter of a report-size call
# (a misread day must not let the forecast spend four times the capacity) or more than two (retries).
PER_GRANT_AFTER = 5 * MILLI
PER_GRANT_BOUNDS = (0.25, 2.0)

# What the owners spent today, in milli-calls of report size: per owner, its calls a day times the share
# of its day its tightest limit has spent. KEYS from `first_key`, 4 per owner: requests today, tokens
# today, 2 budgets' use today (quota.py's counters); ARGV from `first_arg`, 5 per owner: calls a day,
# requests a day, tokens a day, the 2 budgets' day amounts (0: no such limit). Not capped at its day: a
# daily limit cannot be passed, but a monthly budget past its 30th (the pool's last resort) spends later
# days' share, and counted as one day it let the governor grant on while Mistral spent 12 days' share in
# one (`make simulate --day 300`, 2026-12-01).
SPENT = """
local function owner_spent(k, a)
  local share = 0
  for j = 0, 3 do
    local limit = tonumber(ARGV[a + 1 + j])
    if limit > 0 then share = math.max(share, tonumber(redis.call('GET', KEYS[k + j]) or '0') / limit) end
  end
  return tonumber(ARGV[a]) * 1000 * share
end
local function owners_spent(first_key, first_arg)
  local spent = 0
  for i = 0, (#KEYS - first_key + 1) / 4 - 1 do spent = spent + owner_spent(first_key + 4 * i, first_arg + 5 * i) end
  return spent
end
"""

# KEYS: 1 the day's hash, then 4 per owner (SPENT's). ARGV: kind, band (-1 unless an evaluation), hour,
# cost, capacity, margin, share of the day's demand seen, ttl, random in [0,1), the in-flight bucket
# (epoch seconds / IN_FLIGHT_SECONDS), the spare tier's share of the day (band -2), PER_GRANT_AFTER and
# PER_GRANT_BOUNDS (milli-calls, shares), then 5 per owner (SPENT's). Returns {granted 0|1, reason, used,
# free, reserve} (milli-calls, as integers).
TAKE = (
    SPENT
    + """
local kind, band, hour = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local cost, capacity, margin = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local share, ttl, draw, minute = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9]), tonumber(ARGV[10])
local h = KEYS[1]
redis.call('HINCRBY', h, 'd:' .. kind, 1)
redis.call('HINCRBY', h, 'h:' .. hour .. ':' .. kind, 1)
if band >= 0 then redis.call('HINCRBY', h, 'd:evaluate:' .. band, 1) end
redis.call('EXPIRE', h, ttl)
local spent = owners_spent(2, 15)
-- grants of this bucket and the last are on their way to the pool, not yet in its counters
local recent = tonumber(redis.call('HGET', h, 'm:' .. minute) or '0') + tonumber(redis.call('HGET', h, 'm:' .. (minute - 1)) or '0')
redis.call('HDEL', h, 'm:' .. (minute - 2))
local used = spent + recent
-- What a grant has cost today: the owners' spending per grant no longer in flight, once there are
-- PER_GRANT_AFTER of them (a follow-up or an answer on a token-bound owner is a fraction of a report-size
-- call; retries and failovers make it more), within PER_GRANT_BOUNDS. Grants are counted at `cost`.
local settled = tonumber(redis.call('HGET', h, 'granted') or '0') - recent
local per_grant = 1
if settled >= tonumber(ARGV[12]) then
  per_grant = math.min(tonumber(ARGV[14]), math.max(tonumber(ARGV[13]), spent / settled))
end
local unit = cost * per_grant
-- the rest of today's demand of a field: what came so far, scaled by the share still to come
local function rest(field)
  return tonumber(redis.call('HGET', h, field) or '0') * (1 - share) / share
end
-- reports and custom roles' questions first (a report's review scores every answer the built-in
-- evaluator scored), then follow-ups, then answers
local first = (rest('d:report') + rest('d:questions')) * 1000 * per_grant
local follow = rest('d:follow_up') * 1000 * per_grant
local reserve = first + follow
local free = capacity - used - margin
local ahead, own
if band == -2 then
  -- the spare tier: only what every other kind's forecast leaves, late in the day
  ahead = reserve
  for b = 0, 3 do ahead = ahead + unit * rest('d:evaluate:' .. b) end
  own = unit
elseif kind == 'follow_up' then
  ahead = first
  own = unit + follow
elseif band < 0 then
  ahead = 0
  own = unit + first
else
  ahead = reserve
  for b = band + 1, 3 do ahead = ahead + unit * rest('d:evaluate:' .. b) end
  own = unit * (1 + rest('d:evaluate:' .. band))
end
local room = free - ahead
local reason
if band == -2 and share < tonumber(ARGV[11]) then
  reason = 'not_yet'
elseif free < unit then
  reason = 'capacity_spent'
elseif room < unit then
  reason = (band == -1 and kind ~= 'follow_up') and 'capacity_spent' or 'reserved'
elseif room >= own or draw < room / own then
  reason = 'granted'
else
  reason = 'paced'
end
redis.call('HINCRBY', h, 'c:' .. kind .. ':' .. reason, 1)
if reason ~= 'granted' then
  return {0, reason, math.floor(used), math.floor(free), math.floor(reserve)}
end
redis.call('HINCRBY', h, 'granted', cost)
redis.call('HINCRBY', h, 'm:' .. minute, cost)
return {1, reason, math.floor(used + cost), math.floor(free - cost), math.floor(reserve)}
"""
)

# The ops view in one command. KEYS: 1 the day's hash, then 4 per owner (SPENT's); ARGV: 5 per owner.
# Returns {the hash's fields and values, then per owner {spent in milli-calls, requests, tokens}}.
READ_STATE = (
    SPENT
    + """
local found = {redis.call('HGETALL', KEYS[1])}
for i = 0, (#KEYS - 1) / 4 - 1 do
  local k = 2 + 4 * i
  found[i + 2] = {
    math.floor(owner_spent(k, 1 + 5 * i)),
    tonumber(redis.call('GET', KEYS[k]) or '0'),
    tonumber(redis.call('GET', KEYS[k + 1]) or '0'),
  }
end
return found
"""
)

REASONS = {
    "granted": "within the day's budget after the reserve and the forecast",
    "paced": "the forecast says the day would run short: this share of the kind is spent evenly over it",
    "reserved": "what is left is held for reports, custom roles, follow-ups and less certain answers",
    "capacity_spent": "the day's free capacity is spent (less the safety margin)",
    "not_yet": "spare work (example answers) waits for the hours before the reset, when what is left would expire",
}


@dataclass(frozen=True)
class Decision:
    model: bool
    reason: str  # a key of REASONS


@dataclass(frozen=True)
class OwnerBudget:
    owner: str
    calls_per_day: int  # of report size
    binding: str
    rpd: int | None
    tpd: int | None
    slot: Slot  # one of its slots: where quota.py keeps the owner's counters

    def day_limits(self) -> list[float]:
        """Its day in each counter's unit (0: no such limit): requests, tokens, and its budgets' days (a
        monthly budget's 30th, as capacity.py counts it)."""
        entry = self.slot.entry
        requests = min(limit for limit in (entry.rpd, entry.rpm * MINUTES_PER_DAY) if limit)
        tokens = min((limit for limit in (entry.tpd, (entry.tpm or 0) * MINUTES_PER_DAY) if limit), default=0)
        budgets = [
            budget.amount / (1 if budget.per == "day" else DAYS_PER_MONTH)
            for budget in entry.budgets[:MAX_BUDGETS]
        ]
        return [requests, tokens, *budgets, *[0.0] * (MAX_BUDGETS - len(budgets))]

    def counter_keys(self, at_ms: int) -> list[str]:
        """quota.py's counters of its day, in `day_limits`' order."""
        slot, day = self.slot, local_date(self.slot, at_ms)
        budgets = slot.entry.budgets[:MAX_BUDGETS]
        used = [
            budget_key(slot, b, at_ms) if b.per == "day" else budget_today_key(slot, b, at_ms)
            for b in budgets
        ]
        placeholder = budget_today_key(slot, None, at_ms)
        return [
            day_key(slot, day),
            tokens_day_key(slot, day),
            *used,
            *[placeholder] * (MAX_BUDGETS - len(used)),
        ]

    def spent_args(self) -> list[object]:
        return [self.calls_per_day, *(f"{limit:.3f}" for limit in self.day_limits())]


def band_of(uncertainty: float) -> int:
    return min(BANDS - 1, max(0, int(uncertainty * BANDS)))


def _owners(slots: Sequence[Slot]) -> tuple[OwnerBudget, ...]:
    """The owners of these slots with their calls a day; computed once per set of slots."""
    key = tuple(slot.id for slot in slots)
    if (cached := _owners_by_slots.get(key)) is not None:
        return cached
    by_owner = {slot.owner_id: slot for slot in slots}
    found = []
    for row in capacity(configured_keys(slots), REPORT_CALL):
        if (slot := by_owner.get(row.owner)) is not None:
            entry = slot.entry
            found.append(OwnerBudget(row.owner, row.calls_per_day, row.binding, entry.rpd, entry.tpd, slot))
    _owners_by_slots[key] = tuple(found)
    return _owners_by_slots[key]


@dataclass(frozen=True)
class DayClock:
    """The governor's day: UTC days by default; a shorter one, from an origin, compresses a simulated day."""

    seconds: float = 86_400.0
    origin: float = 0.0

    def day(self, at: float) -> int:
        return math.floor((at - self.origin) / self.seconds)

    def fraction(self, at: float) -> float:
        """How much of the governor's day has passed at `at`, in [0, 1)."""
        return ((at - self.origin) % self.seconds) / self.seconds

    def label(self, day: int) -> str:
        if self.seconds == 86_400.0 and self.origin == 0.0:
            return datetime.fromtimestamp(day * 86_400, UTC).date().isoformat()
        return f"sim{day}"


def day_hash(label: str) -> str:
    return f"governor:{label}"


class OwnerState(BaseModel):
    owner: str
    binding: str = Field(description="The limit that allows the fewest report-size calls a day.")
    calls_per_day: int
    requests_per_day: int | None
    tokens_per_day: int | None
    requests_spent: int = Field(description="Requests the pool reserved today (quota.py's counter).")
    tokens_spent: int
    calls_spent: float = Field(
        description="Report-size calls spent: its calls a day times the share of its day its tightest "
        "limit (requests, tokens or a budget) has spent."
    )


class GovernorState(BaseModel):
    """The governor's view of the day, for GET /api/ops/summary and the ops page."""

    mode: Literal["governor", "fixed"]
    day: str
    hour: float = Field(description="Hours of the governor's day passed.")
    share_seen: float = Field(description="The share of a day's demand that came by now on earlier days.")
    capacity_calls: float
    margin_calls: float
    used_calls: float = Field(
        description="The owners' report-size calls spent (by their tightest limits), and grants on their way "
        "to the pool."
    )
    granted_calls: float
    reserve_calls: float = Field(
        description="Forecast reports, questions and follow-ups for the rest of the day."
    )
    left_calls: float
    cost_per_grant: float = Field(
        description="What a grant has cost today, in report-size calls (the owners' spending per settled "
        "grant; 1 until enough have settled): the reserve and the forecast are counted at it."
    )
    demand_today: dict[str, int]
    forecast_rest: dict[str, float] = Field(description="Forecast demand for the rest of the day, by kind.")
    decisions: dict[str, dict[str, int]] = Field(description="Today's decisions by kind and reason.")
    reasons: dict[str, str]
    owners: list[OwnerState]


class Governor:
    def __init__(
        self,
        redis: FailoverRedis,
        slots: Sequence[Slot],
        *,
        margin: float = 0.03,
        day: DayClock = DayClock(),
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self._redis = redis
        self._owners = _owners(slots)
        self._margin = margin
        self._day = day
        self._clock = clock
        self._rng = rng or random.Random()

    @property
    def capacity_milli(self) -> int:
        return sum(owner.calls_per_day for owner in self._owners) * MILLI

    def _margin_milli(self) -> int:
        return math.ceil(self.capacity_milli * self._margin)

    async def decide(self, kind: GovernedKind, uncertainty: float = 0.0) -> Decision:
        """Whether this job goes to a model now; counts its demand, and takes its cost if it does."""
        if not self._owners:
            return Decision(False, "capacity_spent")
        now = self._clock()
        day = self._day.day(now)
        share = await self._share_seen(day, self._day.fraction(now))
        hour = int(self._day.fraction(now) * HOURS)
        keys = [day_hash(self._day.label(day)), *self._counter_keys(now)]
        band = band_of(uncertainty) if kind == "evaluate" else SPARE_BAND if kind in SPARE_KINDS else -1
        args = [kind, band, hour, COST[kind], self.capacity_milli, self._margin_milli(), f"{share:.6f}",
                DAY_TTL_SECONDS, f"{self._rng.random():.6f}", int(now // IN_FLIGHT_SECONDS), SPARE_AFTER_SHARE,
                PER_GRANT_AFTER, *PER_GRANT_BOUNDS]  # fmt: skip
        result = await self._redis.script(TAKE, keys, [*args, *self._spent_args()])
        reason = result[1].decode() if isinstance(result[1], bytes) else str(result[1])
        return Decision(bool(int(result[0])), reason)

    def _counter_keys(self, now: float) -> list[str]:
        at_ms = int(now * 1000)
        return [key for owner in self._owners for key in owner.counter_keys(at_ms)]

    def _spent_args(self) -> list[object]:
        return [arg for owner in self._owners for arg in owner.spent_args()]

    async def _share_seen(self, day: int, fraction: float) -> float:
        """The share of a day's demand that had come by `fraction` of the day on earlier days (a flat day
        when there is no history), never below MIN_SHARE."""
        profile = await self._profile(day)
        total = sum(profile)
        if total <= 0:
            seen = fraction
        else:
            hour = min(HOURS - 1, int(fraction * HOURS))
            within = fraction * HOURS - hour
            seen = (sum(profile[:hour]) + profile[hour] * within) / total
        return min(1.0, max(MIN_SHARE, seen))

    async def _profile(self, day: int) -> list[float]:
        """Demand by hour summed over the earlier days kept; read once per day and process."""
        cached = _profiles.get((id(self._redis), self._day, day))
        if cached is not None:
            return cached
        labels = [day_hash(self._day.label(day - back)) for back in range(1, HISTORY_DAYS + 1)]

        def build(pipe: Pipeline) -> None:
            for label in labels:
                pipe.hgetall(label)

        rows = await self._redis.pipeline(build)
        profile = [0.0] * HOURS
        for row in rows:
            for field, value in row.items():
                name = field.decode() if isinstance(field, bytes) else str(field)
                parts = name.split(":")
                if parts[0] == "h" and len(parts) == 3:
                    profile[int(parts[1]) % HOURS] += float(value)
        _profiles.clear()  # one day's profile per process is all that is ever needed
        _profiles[(id(self._redis), self._day, day)] = profile
        return profile

    async def state(self, mode: Literal["governor", "fixed"]) -> GovernorState:
        now = self._clock()
        day = self._day.day(now)
        fraction = self._day.fraction(now)
        share = await self._share_seen(day, fraction)
        label = self._day.label(day)
        keys = [day_hash(label), *self._counter_keys(now)]
        found = await self._redis.script(READ_STATE, keys, self._spent_args())
        values = found[0]
        fields = {
            (name.decode() if isinstance(name, bytes) else str(name)): int(value)
            for name, value in zip(values[::2], values[1::2], strict=True)
        }
        owners = []
        for owner, (milli, requests, tokens) in zip(self._owners, found[1:], strict=True):
            owners.append(
                OwnerState(
                    owner=owner.owner,
                    binding=owner.binding,
                    calls_per_day=owner.calls_per_day,
                    requests_per_day=owner.rpd,
                    tokens_per_day=owner.tpd,
                    requests_spent=int(requests),
                    tokens_spent=int(tokens),
                    calls_spent=round(int(milli) / MILLI, 1),
                )
            )
        spent_total = sum(int(milli) for milli, _, _ in found[1:])
        kinds = get_args(GovernedKind)
        demand = {kind: fields.get(f"d:{kind}", 0) for kind in kinds}
        rest = {kind: demand[kind] * (1 - share) / share for kind in kinds}
        granted = fields.get("granted", 0)
        minute = int(now // IN_FLIGHT_SECONDS)
        recent = fields.get(f"m:{minute}", 0) + fields.get(f"m:{minute - 1}", 0)
        used = spent_total + recent
        settled = granted - recent
        low, high = PER_GRANT_BOUNDS
        per_grant = min(high, max(low, spent_total / settled)) if settled >= PER_GRANT_AFTER else 1.0
        reserve = sum(rest[kind] for kind in RESERVED_KINDS)
        decisions: dict[str, dict[str, int]] = {}
        for name, value in fields.items():
            if name.startswith("c:"):
                _, kind, reason = name.split(":", 2)
                decisions.setdefault(kind, {})[reason] = value
        return GovernorState(
            mode=mode,
            day=label,
            hour=round(fraction * HOURS, 2),
            share_seen=round(share, 4),
            capacity_calls=self.capacity_milli / MILLI,
            margin_calls=self._margin_milli() / MILLI,
            used_calls=used / MILLI,
            granted_calls=granted / MILLI,
            reserve_calls=round(reserve * per_grant, 1),
            cost_per_grant=round(per_grant, 3),
            left_calls=round((self.capacity_milli - used) / MILLI, 1),
            demand_today=demand,
            forecast_rest={kind: round(value, 1) for kind, value in rest.items()},
            decisions=decisions,
            reasons=REASONS,
            owners=owners,
        )


_owners_by_slots: dict[tuple[str, ...], tuple[OwnerBudget, ...]] = {}
_profiles: dict[tuple[int, DayClock, int], list[float]] = {}


def app_governor() -> Governor:
    """The governor of the configured keys, with the settings' margin and day, on this loop's Redis."""
    settings = get_settings()
    day = DayClock(settings.governor_day_seconds, settings.governor_day_origin)
    return Governor(connections().redis(), configured_slots(), margin=settings.governor_margin, day=day)
