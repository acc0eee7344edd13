"""What the tests know of the running stack: where it is, and the keys it was started with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = "test-master-key"
FUNCTION_KEY = "test-function-key"
# The ops endpoints' own key (OPS_KEY), sent as X-Ops-Key.
OPS_KEY = "test-ops-key"
OPS_HEADERS = {"X-Ops-Key": OPS_KEY}
# Every client of a test stack is the test process (127.0.0.1), which starts far more interviews a minute
# and a day than any candidate may: the per-client limits are off on the shared stacks, and
# tests/e2e/test_client_limits.py runs its own hosts with them on.
NO_CLIENT_LIMITS = {
    "RATE_LIMIT_PER_MINUTE": "0",
    "DAILY_INTERVIEWS_PER_CLIENT": "0",
    "DAILY_CUSTOM_ROLES_PER_CLIENT": "0",
    "MODEL_CALL_SHARE_PER_CLIENT": "0",
}


@dataclass
class Services:
    redis_url: str
    storage: str


@dataclass
class Stack:
    base_url: str
    redis_url: str
    storage: str
