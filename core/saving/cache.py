"""The cache layer: results of provider jobs, keyed by the normalised job, never by the raw request.

A key is a hash of the job's kind, the model class that computes it, the inputs that must match exactly
(its scope: a question id, a level) and the candidate's free text after normalisation. Values are
compressed and every key expires (a TTL per kind of job), so under memory pressure Redis may evict any
of them: the durable record lives in Table storage, never here. Each lookup and each store is one Lua
script, which metered Redis services count as one command.

Keys, per job:
  cache:{kind}:{digest}            the compressed result, with the fingerprint of its text
  near:{kind}:{scope digest}:{band} the cache key of a result whose text has this LSH band
  inflight:{digest}                held by the one caller computing the job (owner token, expires)
"""

from __future__ import annotations

import hashlib
import struct
import uuid
import zlib
from collections.abc import Awaitable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Literal

from core.infra.connections import connections
from core.infra.redis_failover import or_default
from core.infra.signals import channel
from core.saving.similarity import (
    Fingerprint,
    bands,
    fingerprint,
    is_near_duplicate,
    normalise,
    normalise_unordered,
)
from core.settings import get_settings

ResultKind = Literal["evaluate", "questions", "follow_up"]

# KEYS: the exact key, the in-flight key, then the job's band keys. ARGV: claim ("1" or "0"), owner
# token, in-flight ms. Returns {1, value} on an exact hit; otherwise {0, claimed, key, value, ...} with
# the results that share a band. The in-flight claim is taken only when there is no such candidate,
# so a near hit costs one command; band values name other cache keys, which a single Redis allows.
LOOKUP = """
local hit = redis.call('GET', KEYS[1])
if hit then return {1, hit} end
local reply, seen = {0, 0}, {}
for i = 3, #KEYS do
  local candidate = redis.call('GET', KEYS[i])
  if candidate and not seen[candidate] then
    seen[candidate] = true
    local value = redis.call('GET', candidate)
    if value then table.insert(reply, candidate) table.insert(reply, value) end
  end
end
if ARGV[1] == '1' and #reply == 2 and redis.call('SET', KEYS[2], ARGV[2], 'NX', 'PX', ARGV[3]) then
  reply[2] = 1
end
return reply
"""

# KEYS: the in-flight key. ARGV: owner token, in-flight ms. Returns 1 when claimed.
CLAIM = """
return redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""

# KEYS: the exact key, the in-flight key, then the band keys. ARGV: value ("" to store nothing), ttl
# seconds, owner token, channel. Stores, releases the claim if still ours, and wakes the waiters.
STORE = """
if ARGV[1] ~= '' then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  for i = 3, #KEYS do redis.call('SET', KEYS[i], KEYS[1], 'EX', ARGV[2]) end
end
if redis.call('GET', KEYS[2]) == ARGV[3] then redis.call('DEL', KEYS[2]) end
redis.call('PUBLISH', ARGV[4], '1')
return 1
"""

# Longer than any provider call is allowed to take (the pool's deadline), so a live claim never lapses;
# a crashed owner's claim lapses by itself.
INFLIGHT_MS = 30_000


def _sha(*parts: str) -> str:
    return hashlib.sha256("\x00".join(parts).encode()).hexdigest()


@dataclass(frozen=True)
class ResultKey:
    """One cacheable job: `text` is the candidate's free text, compared after normalisation."""

    kind: ResultKind
    model_class: str  # who computes it: results of one class are interchangeable
    scope: str  # inputs that must be equal, e.g. the question id: never matched across scopes
    text: str
    ordered: bool  # word order matters (answers), or not (job titles)
    owner: str = field(default_factory=lambda: uuid.uuid4().hex, compare=False)

    @cached_property
    def normalised(self) -> str:
        return normalise(self.text) if self.ordered else normalise_unordered(self.text)

    @cached_property
    def digest(self) -> str:
        return _sha(self.kind, self.model_class, self.scope, self.normalised)

    @property
    def key(self) -> str:
        return f"cache:{self.kind}:{self.digest}"

    @property
    def inflight_key(self) -> str:
        return f"inflight:{self.digest}"

    @property
    def subject(self) -> str:
        """What its ready signal is about: waiters for this result listen for it."""
        return f"cache:{self.digest}"

    @cached_property
    def fingerprint(self) -> Fingerprint | None:
        return fingerprint(self.text) if self.ordered else None

    @cached_property
    def band_keys(self) -> list[str]:
        if self.fingerprint is None:
            return []
        scope = _sha(self.kind, self.model_class, self.scope)[:32]
        return [f"near:{self.kind}:{scope}:{band}" for band in bands(self.fingerprint)]


@dataclass(frozen=True)
class Lookup:
    value: bytes | None  # the stored result, when found
    near: bool  # found by near-duplicate matching, not by its exact key
    claimed: bool  # this caller now holds the job's in-flight claim


def encode(payload: bytes, text_print: Fingerprint | None) -> bytes:
    fingerprint_bytes = text_print.to_bytes() if text_print is not None else b""
    return zlib.compress(struct.pack(">I", len(fingerprint_bytes)) + fingerprint_bytes + payload, level=6)


def decode(blob: bytes) -> tuple[bytes, Fingerprint | None]:
    raw = zlib.decompress(blob)
    (size,) = struct.unpack(">I", raw[:4])
    try:
        text_print = Fingerprint.from_bytes(raw[4 : 4 + size]) if size else None
    except ValueError:  # stored by an older fingerprint format: still an exact hit, never a near one
        text_print = None
    return raw[4 + size :], text_print


def _ttl(job: ResultKey) -> int:
    return get_settings().cache_ttl_seconds[job.kind]


async def lookup(job: ResultKey, *, claim: bool) -> Lookup:
    """An exact hit, else a verified near-duplicate, else a miss (claiming the job when asked to)."""
    keys = [job.key, job.inflight_key, *job.band_keys]
    args = ["1" if claim else "0", job.owner, INFLIGHT_MS]
    # Without Redis there is no one to wait for: a caller that asked to claim the job computes it.
    unavailable = [0, int(claim)]
    reply = await or_default("cache lookup", connections().redis().script(LOOKUP, keys, args), unavailable)
    if reply[0] == 1:
        return Lookup(decode(reply[1])[0], near=False, claimed=False)
    candidates = reply[2:]
    for index in range(1, len(candidates), 2):
        payload, other = decode(candidates[index])
        if job.fingerprint is not None and other is not None and is_near_duplicate(job.fingerprint, other):
            return Lookup(payload, near=True, claimed=False)
    claimed = bool(reply[1])
    if claim and candidates:  # near candidates that were not near enough: claim now
        claim_call = connections().redis().script(CLAIM, [job.inflight_key], [job.owner, INFLIGHT_MS])
        claimed = bool(await or_default("cache claim", claim_call, 1))
    return Lookup(None, near=False, claimed=claimed)


async def poll(job: ResultKey) -> tuple[bytes | None, bool]:
    """The job's stored result, if any, and whether someone still holds its in-flight claim."""
    # The client returns bytes (no decode_responses); redis-py's types also allow str.
    read: Awaitable[list[bytes | str | None]] = (
        connections().redis().run(lambda redis: redis.mget(job.key, job.inflight_key))
    )
    nothing: list[bytes | str | None] = [None, None]
    blob, holder = await or_default("cache poll", read, nothing)
    return (decode(blob)[0] if isinstance(blob, bytes) else None), holder is not None


async def store(job: ResultKey, payload: bytes | None) -> None:
    """Store the result (None: nothing worth caching), release the claim and wake whoever waits for it."""
    value = encode(payload, job.fingerprint) if payload is not None else b""
    keys = [job.key, job.inflight_key, *job.band_keys]
    args = [value, _ttl(job), job.owner, channel(job.subject)]
    await or_default("cache store", connections().redis().script(STORE, keys, args), None)
