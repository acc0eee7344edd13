"""What the tests know of the running stack: where it is, and the keys it was started with."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MASTER_KEY = "test-master-key"
FUNCTION_KEY = "test-function-key"


@dataclass
class Services:
    redis_url: str
    storage: str


@dataclass
class Stack:
    base_url: str
    redis_url: str
    storage: str
