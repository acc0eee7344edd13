"""The parts of host.json that the devhost honours, with the Functions host's defaults."""

import json
import re
from dataclasses import dataclass
from datetime import timedelta
from enum import Enum
from pathlib import Path
from typing import Any

from devhost.startup_error import StartupError

# .NET TimeSpan text: [d.]hh:mm:ss[.fffffff]
_TIMESPAN = re.compile(r"^(?:(?P<days>\d+)\.)?(?P<hours>\d+):(?P<minutes>\d+):(?P<seconds>\d+(?:\.\d+)?)$")
_MAX_BATCH_SIZE = 32
MIN_POLLING_INTERVAL = timedelta(milliseconds=100)


class InvalidHostConfig(StartupError, ValueError):
    """host.json holds a value the Functions host would refuse."""


class MessageEncoding(Enum):
    BASE64 = "base64"
    NONE = "none"


def parse_timespan(text: str) -> timedelta:
    """Parse a .NET TimeSpan such as "00:00:30" or "1.02:00:00"."""
    match = _TIMESPAN.match(text.strip())
    if not match:
        raise InvalidHostConfig(f"{text!r} is not a timespan like 'hh:mm:ss'")
    return timedelta(
        days=int(match["days"] or 0),
        hours=int(match["hours"]),
        minutes=int(match["minutes"]),
        seconds=float(match["seconds"]),
    )


@dataclass(frozen=True)
class QueueOptions:
    """extensions.queues: how queue triggers fetch, retry and poison messages."""

    batch_size: int = 16
    new_batch_threshold: int = 8
    max_polling_interval: timedelta = timedelta(minutes=1)
    visibility_timeout: timedelta = timedelta(0)
    max_dequeue_count: int = 5
    message_encoding: MessageEncoding = MessageEncoding.BASE64

    @classmethod
    def from_json(cls, section: dict[str, Any]) -> "QueueOptions":
        batch_size = int(section.get("batchSize", cls.batch_size))
        if not 1 <= batch_size <= _MAX_BATCH_SIZE:
            raise InvalidHostConfig(
                f"extensions.queues.batchSize must be 1-{_MAX_BATCH_SIZE}, got {batch_size}"
            )
        new_batch_threshold = int(section.get("newBatchThreshold", batch_size // 2))
        if new_batch_threshold < 0:
            raise InvalidHostConfig("extensions.queues.newBatchThreshold must not be negative")
        max_dequeue_count = int(section.get("maxDequeueCount", cls.max_dequeue_count))
        if max_dequeue_count < 1:
            raise InvalidHostConfig("extensions.queues.maxDequeueCount must be at least 1")
        encoding = str(section.get("messageEncoding", cls.message_encoding.value)).lower()
        try:
            message_encoding = MessageEncoding(encoding)
        except ValueError:
            raise InvalidHostConfig(
                f"extensions.queues.messageEncoding must be 'base64' or 'none', got {encoding!r}"
            ) from None
        max_polling_interval = _timespan_setting(section, "maxPollingInterval", cls.max_polling_interval)
        if max_polling_interval < MIN_POLLING_INTERVAL:
            raise InvalidHostConfig("extensions.queues.maxPollingInterval must be at least 00:00:00.1")
        return cls(
            batch_size=batch_size,
            new_batch_threshold=new_batch_threshold,
            max_polling_interval=max_polling_interval,
            visibility_timeout=_timespan_setting(section, "visibilityTimeout", cls.visibility_timeout),
            max_dequeue_count=max_dequeue_count,
            message_encoding=message_encoding,
        )


@dataclass(frozen=True)
class HostConfig:
    route_prefix: str = "api"
    queues: QueueOptions = QueueOptions()

    @classmethod
    def load(cls, script_root: Path) -> "HostConfig":
        """Read host.json from the script root; a missing file means all defaults."""
        path = script_root / "host.json"
        if not path.exists():
            return cls()
        document = json.loads(path.read_text(encoding="utf-8"))
        extensions = document.get("extensions", {})
        return cls(
            route_prefix=str(extensions.get("http", {}).get("routePrefix", cls.route_prefix)).strip("/"),
            queues=QueueOptions.from_json(extensions.get("queues", {})),
        )


def _timespan_setting(section: dict[str, Any], key: str, default: timedelta) -> timedelta:
    return parse_timespan(section[key]) if key in section else default
