"""Callback signatures (core/infra/webhook_signature.py): the Standard Webhooks scheme, checked against
the specification's own example, and what a receiver's check refuses."""

from __future__ import annotations

from core.infra.webhook_signature import (
    SECRET_PREFIX,
    TOLERANCE_SECONDS,
    interview_secret,
    signature,
    signed_headers,
    verify,
)

# The example of the Standard Webhooks specification (and of Svix, which wrote it): secret, id, timestamp,
# body and the signature every conforming library computes from them.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="


def test_the_signature_is_the_specifications() -> None:
    assert signature(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


def test_a_receiver_accepts_what_was_signed_and_nothing_else() -> None:
    headers = signed_headers(SPEC_SECRET, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY)
    assert verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP)
    # Header names are case-insensitive, and several signatures (a rotation) may be given.
    lowered = {name.lower(): value for name, value in headers.items()}
    lowered["webhook-signature"] = f"v1,bm90IGl0 {headers['Webhook-Signature']}"
    assert verify(SPEC_SECRET, lowered, SPEC_BODY, now=SPEC_TIMESTAMP)

    assert not verify(SPEC_SECRET, headers, SPEC_BODY + b" ", now=SPEC_TIMESTAMP)  # body changed
    assert not verify(SPEC_SECRET, headers | {"Webhook-Id": "msg_other"}, SPEC_BODY, now=SPEC_TIMESTAMP)
    other_secret = interview_secret("key", "another interview")
    assert not verify(other_secret, headers, SPEC_BODY, now=SPEC_TIMESTAMP)
    # A timestamp outside the tolerance is refused (a replay), and so is a signed but moved one.
    assert not verify(SPEC_SECRET, headers, SPEC_BODY, now=SPEC_TIMESTAMP + TOLERANCE_SECONDS + 1)
    assert not verify(
        SPEC_SECRET, headers | {"Webhook-Timestamp": str(SPEC_TIMESTAMP + 1)}, SPEC_BODY, now=SPEC_TIMESTAMP
    )
    assert not verify(SPEC_SECRET, headers | {"Webhook-Timestamp": "soon"}, SPEC_BODY, now=SPEC_TIMESTAMP)
    assert not verify(SPEC_SECRET, {}, SPEC_BODY, now=SPEC_TIMESTAMP)


def test_each_interview_has_its_own_secret_derived_from_the_key() -> None:
    first = interview_secret("signing key", "interview-1")
    assert first.startswith(SECRET_PREFIX)
    assert first == interview_secret("signing key", "interview-1")  # re-derived, never stored
    assert first != interview_secret("signing key", "interview-2")
    assert first != interview_secret("another key", "interview-1")
    assert "signing key" not in first
