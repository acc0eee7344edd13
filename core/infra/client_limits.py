"""Limits per client on the write routes, and each client's share of the day's model calls.

A client is the address Azure's front end reports (handlers/http_io.py `client_address`). Redis knows it
only as a keyed hash: HMAC-SHA256 under a salt drawn at random for each UTC day and kept in Redis for that
day, so a hash neither gives the address back (there are too few IPv4 addresses for a plain hash) nor
links a client across days. The limits:

  - a token bucket on every write (POST /interviews, POST .../turns): RATE_LIMIT_PER_MINUTE tokens a
    minute, RATE_LIMIT_BURST at most. The bucket lives in this process, not in Redis: a Redis command on
    every answer would double the Redis commands of an interview (measured: 4.1 -> 11 a completed
    interview in `make simulate`), for a limit whose job is only to slow a script down. So each instance
    of the app holds its own buckets: with n instances a client may write up to n times the rate; the
    daily caps below are global and bound what that can cost;
  - interviews started in a UTC day (DAILY_INTERVIEWS_PER_CLIENT) and, of them, interviews for a custom
    role (DAILY_CUSTOM_ROLES_PER_CLIENT): one Lua script (one command) per new interview, over keys that
    expire the day after their day (the ops view can still show yesterday);
  - remote jobs (a custom role's questions, a report) the client's interviews cause in a day, against a
    budget the caller gives (its share of the day's model calls); past it the job is done locally. One
    command per remote job.

A refusal by the bucket is counted in Redis for the ops view at most once per REFUSALS_WRITTEN_EVERY
seconds a client (the refusals between are added to the next), so a flood costs Redis next to nothing.

A limit only saves effort, so it never fails a request: when Redis fails (even both servers) the request
is let through (fail open), with one warning in the log. A setting of 0 turns its limit off; with every
limit off nothing here touches Redis.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal, get_args

from core.infra.connections import connections
from core.infra.redis_failover import or_default
from core.settings import get_settings

LimitCode = Literal["rate_limited", "daily_interviews", "daily_custom_roles"]
_CODES: dict[str, LimitCode] = {code: code for code in get_args(LimitCode)}
PREFIX = "climits"
# How long the client of an interview is remembered, for the share of its report (written at the end).
OWNER_TTL_SECONDS = 3 * 24 * 3600
SALT_BYTES = 16
HASH_HEX_CHARS = 16
DAY_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Refused:
    """A request over a limit: which one, when to try again (seconds), and both in words."""

    code: LimitCode
    retry_after: int
    message: str


def _day_prefix(day: date) -> str:
    return f"{PREFIX}:{day.isoformat()}"


def _client_key(day: date, client: str) -> str:
    return f"{_day_prefix(day)}:c:{client}"


def owner_key(interview_id: str) -> str:
    """The key naming the client of one interview (its keyed hash), for its share of model calls."""
    return f"{PREFIX}:owner:{interview_id}"


def _until_midnight(now: datetime) -> int:
    """Whole seconds until the next 00:00 UTC, when every daily limit starts again."""
    midnight = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    return max(1, math.ceil((midnight - now).total_seconds()))


def _ttl(now: datetime) -> int:
    return _until_midnight(now) + DAY_SECONDS


# KEYS: the day's salt. ARGV: a fresh random salt, its expiry. The first caller of the day sets it.
SALT = """
redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2])
return redis.call('GET', KEYS[1])
"""
_salts: dict[date, bytes] = {}


async def _client_id(address: str, now: datetime) -> str | None:
    """The client's hash for today, or None when Redis cannot give today's salt (the limits then let
    the request through)."""
    day = now.date()
    salt = _salts.get(day)
    if salt is None:
        script = (
            connections()
            .redis()
            .script(SALT, [f"{_day_prefix(day)}:salt"], [secrets.token_hex(SALT_BYTES), _ttl(now)])
        )
        found = await or_default("client limits (salt)", script, None)
        if not isinstance(found, bytes | str):
            return None
        salt = found.encode() if isinstance(found, str) else found
        _salts.clear()  # only today's
        _salts[day] = salt
    return hmac.new(salt, address.encode(), hashlib.sha256).hexdigest()[:HASH_HEX_CHARS]


@dataclass
class _Bucket:
    tokens: float
    at: float  # time.monotonic() of the last refill
    refused: int = 0  # refusals not yet counted in Redis
    refusals_written_at: float = -math.inf


REFUSALS_WRITTEN_EVERY = 10.0
# Buckets kept at most; past it the full ones (clients quiet for a while) are dropped, which loses nothing.
MAX_BUCKETS = 50_000
_buckets: dict[str, _Bucket] = {}


def _drop_full_buckets(now: float, rate: float, burst: float) -> None:
    for address in [a for a, b in _buckets.items() if b.tokens + (now - b.at) * rate >= burst]:
        del _buckets[address]
    if len(_buckets) >= MAX_BUCKETS:  # all busy: the oldest go
        for address in list(_buckets)[: len(_buckets) // 2]:
            del _buckets[address]


def _take_token(address: str) -> tuple[float, _Bucket | None]:
    """One token of this client's bucket in this process: (0, None) when there was one, else the
    seconds until there is, and the bucket (for its refusal count)."""
    settings = get_settings()
    rate = settings.rate_limit_per_minute / 60  # tokens a second
    if rate <= 0:
        return 0.0, None
    burst = float(max(1, settings.rate_limit_burst))
    now = time.monotonic()
    bucket = _buckets.get(address)
    if bucket is None:
        if len(_buckets) >= MAX_BUCKETS:
            _drop_full_buckets(now, rate, burst)
        bucket = _buckets[address] = _Bucket(burst, now)
    bucket.tokens, bucket.at = min(burst, bucket.tokens + (now - bucket.at) * rate), now
    if bucket.tokens >= 1:
        bucket.tokens -= 1
        return 0.0, None
    return (1 - bucket.tokens) / rate, bucket


# Refusals by a bucket, for the ops view. KEYS: the client's day hash, the day's limited clients.
# ARGV: 1 client hash, 2 refusals, 3 expiry of the day's keys.
REFUSED = """
redis.call('HINCRBY', KEYS[1], 'limited:rate_limited', ARGV[2])
redis.call('ZINCRBY', KEYS[2], ARGV[2], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[3])
return 1
"""


async def _count_refusals(address: str, bucket: _Bucket) -> None:
    bucket.refused += 1
    if time.monotonic() - bucket.refusals_written_at < REFUSALS_WRITTEN_EVERY:
        return
    refused, bucket.refused, bucket.refusals_written_at = bucket.refused, 0, time.monotonic()
    now = datetime.now(UTC)
    client = await _client_id(address, now)
    if client is None:
        return
    day = now.date()
    keys = [_client_key(day, client), f"{_day_prefix(day)}:limited"]
    script = connections().redis().script(REFUSED, keys, [client, refused, _ttl(now)])
    await or_default("client limits (refusals)", script, None)


async def _bucket(address: str) -> Refused | None:
    wait, bucket = _take_token(address)
    if bucket is None:
        return None
    await _count_refusals(address, bucket)
    return _refusal("rate_limited", math.ceil(wait * 1000), datetime.now(UTC))


# A new interview by one client: the daily caps, and counts for the ops view.
# KEYS: the client's day hash, the day's top clients (interviews started), the day's limited clients, the
# new interview's owner key.
# ARGV: 1 client hash, 2 expiry of the day's keys, 3 interviews a day (0: no cap), 4 custom roles a day
# (-1: not a custom role, 0: no cap), 5 expiry of the owner key.
# Returns the code of the limit that refuses it, '' when it may go ahead.
NEW_INTERVIEW = """
local client, ttl = ARGV[1], ARGV[2]
local interviews_cap, custom_cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local function refuse(code)
  redis.call('HINCRBY', KEYS[1], 'limited:' .. code, 1)
  redis.call('EXPIRE', KEYS[1], ttl)
  redis.call('ZINCRBY', KEYS[3], 1, client)
  redis.call('EXPIRE', KEYS[3], ttl)
  return code
end
local started = tonumber(redis.call('HGET', KEYS[1], 'interviews') or '0')
if interviews_cap > 0 and started >= interviews_cap then
  return refuse('daily_interviews')
end
if custom_cap >= 0 then
  local custom = tonumber(redis.call('HGET', KEYS[1], 'custom_roles') or '0')
  if custom_cap > 0 and custom >= custom_cap then
    return refuse('daily_custom_roles')
  end
  redis.call('HINCRBY', KEYS[1], 'custom_roles', 1)
end
redis.call('HINCRBY', KEYS[1], 'interviews', 1)
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZINCRBY', KEYS[2], 1, client)
redis.call('EXPIRE', KEYS[2], ttl)
redis.call('SET', KEYS[4], client, 'EX', ARGV[5])
return ''
"""


def _refusal(code: LimitCode, wait_ms: int, now: datetime) -> Refused:
    settings = get_settings()
    if code == "rate_limited":
        seconds = max(1, math.ceil(wait_ms / 1000))
        per_minute = f"{settings.rate_limit_per_minute:g}"
        return Refused(
            code,
            seconds,
            f"too many requests from your address: the limit is {per_minute} new interviews and answers"
            f" a minute, {max(1, settings.rate_limit_burst)} at once; it lets you in again in {seconds} s",
        )
    seconds = _until_midnight(now)
    resets = f"it resets at 00:00 UTC, in {seconds // 3600} h {seconds % 3600 // 60} min"
    if code == "daily_interviews":
        return Refused(
            code,
            seconds,
            f"your address has started {settings.daily_interviews_per_client} interviews today, the daily"
            f" limit; {resets}",
        )
    return Refused(
        code,
        seconds,
        f"your address has started {settings.daily_custom_roles_per_client} interviews for a custom role"
        f" today, the daily limit; the roles of the list are still open, and {resets}",
    )


async def _new_interview(address: str, interview_id: str, custom: bool) -> Refused | None:
    settings = get_settings()
    if not (
        settings.daily_interviews_per_client
        or settings.daily_custom_roles_per_client
        or settings.model_call_share_per_client
    ):
        return None
    now = datetime.now(UTC)
    client = await _client_id(address, now)
    if client is None:
        return None
    day = now.date()
    keys = [
        _client_key(day, client),
        f"{_day_prefix(day)}:top",
        f"{_day_prefix(day)}:limited",
        owner_key(interview_id),
    ]
    args = [
        client,
        _ttl(now),
        settings.daily_interviews_per_client,
        settings.daily_custom_roles_per_client if custom else -1,
        OWNER_TTL_SECONDS,
    ]
    script = connections().redis().script(NEW_INTERVIEW, keys, args)
    decided = await or_default("client limits", script, None)
    if not isinstance(decided, bytes | str):
        return None
    code = _CODES.get(_text(decided))
    return _refusal(code, 0, now) if code else None


# An admitted interview whose record could not be stored: its places under the daily caps are given back,
# so a client retrying through a storage outage is not locked out for the day by interviews that never
# existed. Only an interview the caps counted (its owner key names this client) gives anything back.
# KEYS: the client's day hash, the day's top clients, the interview's owner key.
# ARGV: 1 client hash, 2 '1' for a custom role. Returns 1 when something was given back.
RELEASE_INTERVIEW = """
if redis.call('GET', KEYS[3]) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[3])
if tonumber(redis.call('HGET', KEYS[1], 'interviews') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'interviews', -1)
end
if ARGV[2] == '1' and tonumber(redis.call('HGET', KEYS[1], 'custom_roles') or '0') > 0 then
  redis.call('HINCRBY', KEYS[1], 'custom_roles', -1)
end
if tonumber(redis.call('ZSCORE', KEYS[2], ARGV[1]) or '0') > 0 then
  redis.call('ZINCRBY', KEYS[2], -1, ARGV[1])
end
return 1
"""


async def release_interview(address: str, interview_id: str, custom: bool) -> None:
    """Give back what admit_interview counted for an interview that was never stored."""
    now = datetime.now(UTC)
    client = await _client_id(address, now)
    if client is None:
        return
    day = now.date()
    keys = [_client_key(day, client), f"{_day_prefix(day)}:top", owner_key(interview_id)]
    script = connections().redis().script(RELEASE_INTERVIEW, keys, [client, "1" if custom else "0"])
    await or_default("client limits (release)", script, 0)


async def admit_answer(address: str) -> Refused | None:
    """An answer (POST .../turns): a token of the client's bucket, or why not."""
    return await _bucket(address)


async def admit_interview(address: str, interview_id: str, custom: bool) -> Refused | None:
    """A new interview: a token of the client's bucket and a place under its daily caps, or why not.
    Remembers the interview's client, for its share of model calls."""
    return await _bucket(address) or await _new_interview(address, interview_id, custom)


# One remote job of an interview: within its client's budget for the day, or not.
# KEYS: the interview's owner key. ARGV: 1 the day's key prefix, 2 the budget, 3 expiry of the day's keys.
# Returns 1 (a model may do it; counted), 0 (over the budget; counted as limited), -1 (no known client).
MODEL_CALL = """
local client = redis.call('GET', KEYS[1])
if not client then
  return -1
end
local key, limited = ARGV[1] .. ':c:' .. client, ARGV[1] .. ':limited'
local used = tonumber(redis.call('HGET', key, 'model_calls') or '0')
redis.call('EXPIRE', key, ARGV[3])
if used >= tonumber(ARGV[2]) then
  redis.call('HINCRBY', key, 'limited:model_calls', 1)
  redis.call('ZINCRBY', limited, 1, client)
  redis.call('EXPIRE', limited, ARGV[3])
  return 0
end
redis.call('HINCRBY', key, 'model_calls', 1)
return 1
"""


async def take_model_call(interview_id: str, budget: int) -> bool:
    """Whether a remote model may do one job of this interview: True and counted while its client is
    within `budget` jobs today (or unknown, or Redis fails); False once the client has spent it."""
    now = datetime.now(UTC)
    script = (
        connections()
        .redis()
        .script(MODEL_CALL, [owner_key(interview_id)], [_day_prefix(now.date()), budget, _ttl(now)])
    )
    allowed = await or_default("client limits (model calls)", script, 1)
    return bool(allowed != 0)


# The day's top clients by interviews started and the clients limited, each with its counts.
# KEYS: the day's top clients, the day's limited clients. ARGV: 1 the day's key prefix, 2 how many.
VIEW = """
local top = redis.call('ZREVRANGE', KEYS[1], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local limited = redis.call('ZREVRANGE', KEYS[2], 0, tonumber(ARGV[2]) - 1, 'WITHSCORES')
local seen, counts = {}, {}
for _, list in ipairs({top, limited}) do
  for i = 1, #list, 2 do
    local client = list[i]
    if not seen[client] then
      seen[client] = true
      table.insert(counts, client)
      table.insert(counts, redis.call('HGETALL', ARGV[1] .. ':c:' .. client))
    end
  end
end
return {top, limited, counts}
"""
_COUNTED = ("interviews", "custom_roles", "model_calls")


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _client_row(client: str, raw: list[Any]) -> dict[str, Any]:
    fields = {_text(raw[i]): _text(raw[i + 1]) for i in range(0, len(raw) - 1, 2)}
    row: dict[str, Any] = {"client": client, **{name: int(fields.get(name, 0)) for name in _COUNTED}}
    row["limited"] = {
        name.removeprefix("limited:"): int(value)
        for name, value in sorted(fields.items())
        if name.startswith("limited:")
    }
    return row


def limits_in_force() -> dict[str, float | int]:
    settings = get_settings()
    return {
        "writes_per_minute": settings.rate_limit_per_minute,
        "burst": max(1, settings.rate_limit_burst) if settings.rate_limit_per_minute else 0,
        "interviews_per_day": settings.daily_interviews_per_client,
        "custom_roles_per_day": settings.daily_custom_roles_per_client,
        "model_call_share": settings.model_call_share_per_client,
    }


async def day_view(day: date, top: int = 10) -> dict[str, Any]:
    """For ops: the day's clients (hashed) that started the most interviews, and every client limited (up to `top`),
    with what each did and which limits refused it."""
    prefix = _day_prefix(day)
    found = await connections().redis().script(VIEW, [f"{prefix}:top", f"{prefix}:limited"], [prefix, top])
    top_list, limited_list, counts = found
    rows = {_text(counts[i]): _client_row(_text(counts[i]), counts[i + 1]) for i in range(0, len(counts), 2)}
    return {
        "date": day.isoformat(),
        "limits": limits_in_force(),
        "top": [rows[_text(top_list[i])] for i in range(0, len(top_list), 2)],
        "limited": [rows[_text(limited_list[i])] for i in range(0, len(limited_list), 2)],
    }
