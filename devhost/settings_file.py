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
# Keys are never taken from the committed example, whose values everyone knows: a key counts only when it
# is in local.settings.json or the process environment. Without one, routes that need it refuse every call.
EXAMPLE_SECRETS = ("DEVHOST_MASTER_KEY", "DEVHOST_FUNCTION_KEY", "OPS_KEY")
ANY_ORIGIN = "*"

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
        """Read local.settings.json, or the committed example when there is no local copy (without its
        keys, and without a CORS wildcard)."""
        path = script_root / SETTINGS_FILE
        if path.exists():
            logger.info("Settings from %s", path)
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")), path)
        path = script_root / EXAMPLE_SETTINGS_FILE
        if path.exists():
            logger.info("Settings from %s (no %s)", path, SETTINGS_FILE)
            return cls.from_json(json.loads(path.read_text(encoding="utf-8")), path).without_example_secrets()
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

    def without_example_secrets(self) -> "LocalSettings":
        """The example's settings as far as they are safe to use: its keys are public, so they are left
        out, and so is a CORS wildcard (the host then allows localhost origins only)."""
        ignored = [name for name in EXAMPLE_SECRETS if self.values.get(name)]
        if ignored:
            logger.warning(
                "%s from %s not used: keys count only in %s or the environment",
                ", ".join(ignored),
                EXAMPLE_SETTINGS_FILE,
                SETTINGS_FILE,
            )
        cors = self.cors
        if cors is not None and ANY_ORIGIN in cors.allowed_origins:
            logger.info("CORS '*' of %s not used: localhost origins only", EXAMPLE_SETTINGS_FILE)
            cors = None
        values = {name: value for name, value in self.values.items() if name not in EXAMPLE_SECRETS}
        return LocalSettings(values=values, local_http_port=self.local_http_port, cors=cors)

    def apply_to(self, environ: MutableMapping[str, str] = os.environ) -> None:
        """Export Values, leaving variables already set in the environment untouched so callers can override."""
        for key, value in self.values.items():
            environ.setdefault(key, value)
