"""Signing callbacks the Standard Webhooks way (https://www.standardwebhooks.com/), as Svix and others do.

Each POST carries `Webhook-Id` (the event's id, the same on every retry: the receiver's idempotency key),
`Webhook-Timestamp` (Unix seconds of this attempt) and `Webhook-Signature: v1,<base64 HMAC-SHA256 of
"{id}.{timestamp}.{body}">`, made with the interview's secret. A receiver recomputes it with the
secret, compares in constant time, and refuses timestamps far from its clock (replays).

The secret of an interview is derived from CALLBACK_SIGNING_KEY and the interview's id, so none is stored:
it is shown once, in the create response, and re-derived to sign each event."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Mapping

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
ID_HEADER = "Webhook-Id"
TIMESTAMP_HEADER = "Webhook-Timestamp"
SIGNATURE_HEADER = "Webhook-Signature"
# What Standard Webhooks recommends a receiver allows between its clock and the timestamp.
TOLERANCE_SECONDS = 5 * 60


def interview_secret(signing_key: str, interview_id: str) -> str:
    """The interview's callback secret, 'whsec_' and the base64 of 32 bytes: HMAC-SHA256 of the id under
    the app's signing key, so a secret says nothing of the key or of another interview's secret."""
    derived = hmac.new(signing_key.encode(), f"callback-secret:{interview_id}".encode(), hashlib.sha256)
    return SECRET_PREFIX + base64.b64encode(derived.digest()).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def signature(secret: str, event_id: str, timestamp: int, body: bytes) -> str:
    """The Webhook-Signature header's value for one attempt."""
    signed = f"{event_id}.{timestamp}.".encode() + body
    digest = hmac.new(_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode()}"


def signed_headers(secret: str, event_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        ID_HEADER: event_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, event_id, timestamp, body),
    }


def verify(secret: str, headers: Mapping[str, str], body: bytes, now: int) -> bool:
    """What a receiver does (the README's example is this, stdlib only): the timestamp within
    TOLERANCE_SECONDS of `now`, and one of the space-separated signatures equal to ours."""
    lowered = {name.lower(): value for name, value in headers.items()}
    event_id = lowered.get(ID_HEADER.lower(), "")
    raw_timestamp = lowered.get(TIMESTAMP_HEADER.lower(), "")
    if not event_id or not raw_timestamp.isascii() or not raw_timestamp.isdigit():
        return False
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = signature(secret, event_id, timestamp, body)
    presented = lowered.get(SIGNATURE_HEADER.lower(), "").split()
    return any(hmac.compare_digest(expected.encode(), candidate.encode()) for candidate in presented)
