"""The free-tier limits a fake provider enforces, counted the way the provider counts them.

`Limits` says what is limited: requests a minute (rpm) and a day (rpd), tokens a minute (tpm) and a day
(tpd), daily or monthly budgets of requests, tokens or Cloudflare neurons (with the model's neuron
rates), and who the limits are counted for: every API key alone (`owner="key"`), or one organisation,
project or account that all the keys the fake accepts share.

A `Ledger` keeps the counters and is the one place that admits or refuses a call. A call is checked on
arrival against every limit with what it would spend: one request, its prompt tokens (what the fake
reports as usage) and its completion tokens (the reply it is about to send), or, for a provider that
counts the requested max_tokens on arrival (`counts_max_tokens_on_arrival`, as Cerebras does), the
max_tokens instead, held until the answer is sent. Then it is settled with what it really spent: a 2xx
answer its prompt and what it returned; an error reply or a dropped connection no tokens (the request
still counts). A refused call spends nothing.

Windows: tpm is a sliding 60 s window; rpm is counted per clock minute (as OpenRouter resets it, and as
the pool counts it) unless `rpm_window="sliding"`; days and months are the provider's local ones
(`timezone`, UTC by default). Daily and monthly limits are checked before the per-minute ones, so a
spent day is told as such even when the minute is full too.

`recount(ledger)` goes over every call the ledger admitted, afterwards and apart from the admission code,
and counts the calls at which a limit was exceeded: a check that the fake really held its limits.
"""

from __future__ import annotations

import math
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

Owner = Literal["key", "organisation", "project", "account"]
Unit = Literal["requests", "tokens", "neurons"]
Period = Literal["day", "month"]
Window = Literal["minute", "sliding"]
MINUTE = 60.0
SHARED = "shared"  # the owner id of every key when the limits are not counted per key


@dataclass(frozen=True)
class Budget:
    """A daily or monthly allowance: requests, tokens, or Cloudflare neurons."""

    unit: Unit
    per: Period
    amount: int

    @property
    def name(self) -> str:
        return f"{self.unit}/{self.per}"


@dataclass(frozen=True)
class NeuronRates:
    """What a Cloudflare model charges, in neurons per million input and output tokens."""

    input_per_million: float
    output_per_million: float

    def of(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (prompt_tokens * self.input_per_million + completion_tokens * self.output_per_million) / 1e6


@dataclass(frozen=True)
class Limits:
    rpm: int | None = None
    rpd: int | None = None
    tpm: int | None = None
    tpd: int | None = None
    budgets: tuple[Budget, ...] = ()
    neurons: NeuronRates | None = None
    owner: Owner = "key"
    counts_max_tokens_on_arrival: bool = False
    timezone: str = "UTC"
    rpm_window: Window = "minute"

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)
        if any(budget.unit == "neurons" for budget in self.budgets) and self.neurons is None:
            raise ValueError("a neuron budget needs the model's neuron rates")

    def names(self) -> list[str]:
        """Every limit set, by the name refusals are counted under."""
        plain = [name for name in ("rpm", "rpd", "tpm", "tpd") if getattr(self, name) is not None]
        return plain + [budget.name for budget in self.budgets]


@dataclass
class Charge:
    """One admitted call: when, for which owner, and what it spent (or holds, until it is settled)."""

    at: float
    owner: str
    day: str
    month: str
    prompt_tokens: int
    completion_tokens: int
    neurons: float = 0.0
    settled: bool = False

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class LimitHit:
    """A call a limit refused: which limit, its value, what was used, and what the call asked for."""

    name: str  # "rpm", "rpd", "tpm", "tpd", or a budget's "unit/per" ("neurons/day", "tokens/month")
    unit: Unit
    period: Literal["minute", "day", "month"]
    limit: int
    used: float
    requested: float
    retry_after: float | None = None  # seconds until the call would fit, for per-minute limits


@dataclass
class Use:
    """Requests, tokens and neurons spent in one period."""

    requests: int = 0
    tokens: int = 0
    neurons: float = 0.0

    def of(self, unit: Unit) -> float:
        return self.requests if unit == "requests" else self.tokens if unit == "tokens" else self.neurons


def local_day(at: float, zone: ZoneInfo) -> str:
    return datetime.fromtimestamp(at, zone).date().isoformat()


@dataclass
class Ledger:
    """The counters of one set of limits; fakes that spend one shared limit share one ledger."""

    limits: Limits
    clock: Callable[[], float] = time.time
    charges: list[Charge] = field(default_factory=list)
    _recent: dict[str, deque[Charge]] = field(default_factory=dict)
    _days: dict[tuple[str, str], Use] = field(default_factory=dict)
    _months: dict[tuple[str, str], Use] = field(default_factory=dict)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.limits.timezone)

    def owner_of(self, api_key: str) -> str:
        return api_key if self.limits.owner == "key" else SHARED

    def admit(
        self, api_key: str, prompt_tokens: int, completion_tokens: int, max_tokens: int | None
    ) -> Charge | LimitHit:
        """Take the call's requests and tokens from its owner's counters, or say which limit refuses it."""
        limits, now = self.limits, self.clock()
        held = max_tokens if limits.counts_max_tokens_on_arrival and max_tokens is not None else None
        day = local_day(now, self.zone)
        charge = Charge(
            at=now,
            owner=self.owner_of(api_key),
            day=day,
            month=day[:7],
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens if held is None else max(held, completion_tokens),
        )
        if limits.neurons is not None:
            charge.neurons = limits.neurons.of(charge.prompt_tokens, charge.completion_tokens)
        if (hit := self._refusal(charge, now)) is not None:
            return hit
        self.charges.append(charge)
        self._recent.setdefault(charge.owner, deque()).append(charge)
        self._add(charge, 1, charge.tokens, charge.neurons)
        return charge

    def settle(self, charge: Charge, prompt_tokens: int, completion_tokens: int) -> None:
        """Replace what a call held with what it spent."""
        if charge.settled:
            return
        neurons = self.limits.neurons.of(prompt_tokens, completion_tokens) if self.limits.neurons else 0.0
        self._add(charge, 0, prompt_tokens + completion_tokens - charge.tokens, neurons - charge.neurons)
        charge.prompt_tokens = prompt_tokens
        charge.completion_tokens = completion_tokens
        charge.neurons = neurons
        charge.settled = True

    def used_today(self, api_key: str) -> Use:
        """What the key's owner has spent today."""
        return self._days.get((self.owner_of(api_key), local_day(self.clock(), self.zone)), Use())

    def used_this_month(self, api_key: str) -> Use:
        """What the key's owner has spent this month (its local month)."""
        return self._months.get((self.owner_of(api_key), local_day(self.clock(), self.zone)[:7]), Use())

    def carry_over(self, api_key: str, month: str, unit: Unit, amount: float) -> None:
        """Spending of earlier days of `month` (a simulation's steady state), counted in the month only."""
        use = self._months.setdefault((self.owner_of(api_key), month), Use())
        if unit == "requests":
            use.requests += int(amount)
        elif unit == "tokens":
            use.tokens += int(amount)
        else:
            use.neurons += amount

    def minute_tokens(self, api_key: str) -> int:
        """The tokens the key's owner spent in the last 60 s."""
        since = self.clock() - MINUTE
        return sum(c.tokens for c in self._recent.get(self.owner_of(api_key), ()) if c.at > since)

    def _add(self, charge: Charge, requests: int, tokens: int, neurons: float) -> None:
        for counters, period in ((self._days, charge.day), (self._months, charge.month)):
            use = counters.setdefault((charge.owner, period), Use())
            use.requests += requests
            use.tokens += tokens
            use.neurons += neurons

    def _refusal(self, charge: Charge, now: float) -> LimitHit | None:
        limits = self.limits
        day = self._days.get((charge.owner, charge.day), Use())
        month = self._months.get((charge.owner, charge.month), Use())
        asked = Use(1, charge.tokens, charge.neurons)
        daily: list[tuple[str, Unit, Literal["day", "month"], int | None]] = [
            ("rpd", "requests", "day", limits.rpd),
            ("tpd", "tokens", "day", limits.tpd),
            *((budget.name, budget.unit, budget.per, budget.amount) for budget in limits.budgets),
        ]
        for name, unit, per, limit in daily:
            used = (day if per == "day" else month).of(unit)
            if limit is not None and used + asked.of(unit) > limit:
                return LimitHit(name, unit, per, limit, used, asked.of(unit))
        recent = self._recent.setdefault(charge.owner, deque())
        while recent and recent[0].at <= now - MINUTE:
            recent.popleft()
        if limits.rpm is not None:
            if limits.rpm_window == "sliding":
                in_window = list(recent)
                wait = recent[len(recent) - limits.rpm].at + MINUTE - now if len(recent) >= limits.rpm else 0
            else:
                minute = math.floor(now / MINUTE)
                in_window = [c for c in recent if math.floor(c.at / MINUTE) == minute]
                wait = (minute + 1) * MINUTE - now
            if len(in_window) + 1 > limits.rpm:
                return LimitHit("rpm", "requests", "minute", limits.rpm, len(in_window), 1, max(wait, 0.001))
        if limits.tpm is not None:
            used_tokens = sum(c.tokens for c in recent)
            if used_tokens + charge.tokens > limits.tpm:
                return LimitHit(
                    "tpm", "tokens", "minute", limits.tpm, used_tokens, charge.tokens,
                    _tokens_free_in(recent, used_tokens + charge.tokens - limits.tpm, now),
                )  # fmt: skip
        return None


def _tokens_free_in(recent: Iterable[Charge], excess: int, now: float) -> float:
    """Seconds until enough of the window's tokens leave it to make room for `excess` more."""
    freed = 0
    for charge in recent:
        freed += charge.tokens
        if freed >= excess:
            return max(charge.at + MINUTE - now, 0.001)
    return MINUTE  # the call alone is larger than the limit: it never fits


def recount(ledger: Ledger) -> Counter[str]:
    """Per limit, the admitted calls at which the owner's use exceeded it, recounted from the log."""
    limits, over = ledger.limits, Counter[str]()
    by_owner: dict[str, list[Charge]] = {}
    for charge in sorted(ledger.charges, key=lambda c: c.at):
        by_owner.setdefault(charge.owner, []).append(charge)
    for charges in by_owner.values():
        days: dict[str, Use] = {}
        months: dict[str, Use] = {}
        first = 0  # the oldest call still within 60 s of the one counted
        for index, charge in enumerate(charges):
            for counters, period in ((days, charge.day), (months, charge.month)):
                use = counters.setdefault(period, Use())
                use.requests, use.tokens, use.neurons = (
                    use.requests + 1, use.tokens + charge.tokens, use.neurons + charge.neurons
                )  # fmt: skip
            day, month = days[charge.day], months[charge.month]
            over["rpd"] += limits.rpd is not None and day.requests > limits.rpd
            over["tpd"] += limits.tpd is not None and day.tokens > limits.tpd
            for budget in limits.budgets:
                # Neurons are summed as fractions; a budget is passed only beyond rounding noise.
                used = (day if budget.per == "day" else month).of(budget.unit)
                over[budget.name] += used > budget.amount + 1e-6
            while charges[first].at <= charge.at - MINUTE:
                first += 1
            window = charges[first : index + 1]
            if limits.rpm is not None:
                minute = math.floor(charge.at / MINUTE)
                same = window if limits.rpm_window == "sliding" else [
                    c for c in window if math.floor(c.at / MINUTE) == minute
                ]  # fmt: skip
                over["rpm"] += len(same) > limits.rpm
            over["tpm"] += limits.tpm is not None and sum(c.tokens for c in window) > limits.tpm
    return Counter({name: count for name, count in over.items() if count})
