"""local.settings.json: app settings and the local HTTP options of Core Tools."""

import json
import logging
import os
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from devhost.cors import CorsPolicy
from devhost.startup_error import StartupError

SETTINGS_FILE = "local.settings.json"
EXAMPLE_SETTINGS_FILE = "local.settings.json.example"

logger = logging.getLogger(__name__)


class InvalidSettingsFile(StartupError, ValueError):
    """local.settings.json does not have the shape Core Tools expects."""


@dataclass(frozen=True)
class LocalSettings:
    values: dict[str, str] = field(default_factory=dict)
    local_http_port: int | None = None
    cors: CorsPolicy | None = None

    @classmethod
    def load(cls, script_root: Path) -> "LocalSettings":
        """Read local.settings.json, or the committed example when there is no local copy."""
        for name in (SETTINGS_FILE, EXAMPLE_SETTINGS_FILE):
            path = script_root / name
            if path.exists():
                logger.info("Settings from %s", path)
                return cls.from_json(json.loads(path.read_text(encoding="utf-8")), path)
        logger.warning(
            "No %s or %s in %s; using the process environment only",
            SETTINGS_FILE,
            EXAMPLE_SETTINGS_FILE,
            script_root,
        )
        return cls()

    @classmethod
    def from_json(cls, document: dict[str, Any], source: Path) -> "LocalSettings":
        values = document.get("Values", {})
        for key, value in values.items():
            if not isinstance(value, str):
                raise InvalidSettingsFile(f"{source}: Values.{key} must be a string, got {value!r}")
        host = document.get("Host", {})
        port = host.get("LocalHttpPort")
        cors_origins = host.get("CORS")
        return cls(
            values=dict(values),
            local_http_port=int(port) if port else None,
            cors=CorsPolicy.parse(cors_origins, bool(host.get("CORSCredentials", False)))
            if cors_origins
            else None,
        )

    def apply_to(self, environ: MutableMapping[str, str] = os.environ) -> None:
        """Export Values, leaving variables already set in the environment untouched so callers can override."""
        for key, value in self.values.items():
            environ.setdefault(key, value)
