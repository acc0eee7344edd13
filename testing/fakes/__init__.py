"""In-process stand-ins for the services the app calls out to.

`FakeProvider(wire)`: a local LLM provider speaking one provider's real wire format, with its real
success envelope, error bodies and rate-limit headers (provider_server; one module per wire dialect,
mirroring core/providers/adapters/: openai_compatible, gemini, cloudflare), optionally enforcing a free
tier's limits (`FakeProvider(wire, limits=Limits(...))`, limits.py: rpm, rpd, tpm, tpd, daily or monthly
budgets of requests, tokens or neurons, per key or per shared owner) and refusing past them in the
provider's own words, each refusal counted in `fake.limit_refusals` by limit. `tcp_proxy.Proxy`: a TCP
proxy in front of a real server, to simulate its outages.

Base URLs, as `FakeProvider.start()` returns them and a catalogue entry would hold them:
  openai      http://127.0.0.1:{port}/v1          (POST {base}/chat/completions); Cloudflare's
              OpenAI-compatible form also answers: {origin}/client/v4/accounts/{account_id}/ai/v1
  gemini      http://127.0.0.1:{port}/v1beta      (POST {base}/models/{model}:generateContent)
  cloudflare  http://127.0.0.1:{port}/client/v4   (POST {base}/accounts/{account_id}/ai/run/{model})
"""

# Each dialect registers itself under its wire when imported; FakeProvider(wire) looks it up.
from testing.fakes import cloudflare, gemini, openai_compatible  # noqa: F401
from testing.fakes.limits import Budget, Charge, Ledger, LimitHit, Limits, NeuronRates, recount
from testing.fakes.provider_server import (
    SLOW_SECONDS,
    FakeProvider,
    Flavour,
    Outcome,
    Received,
    Reply,
    ReplyContent,
    Wire,
    estimated_tokens,
    refusing_base_url,
)

__all__ = [
    "SLOW_SECONDS",
    "Budget",
    "Charge",
    "FakeProvider",
    "Flavour",
    "Ledger",
    "LimitHit",
    "Limits",
    "NeuronRates",
    "Outcome",
    "Received",
    "Reply",
    "ReplyContent",
    "Wire",
    "estimated_tokens",
    "recount",
    "refusing_base_url",
]
