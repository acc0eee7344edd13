"""Telemetry to Application Insights with OpenTelemetry, as the Functions Python worker expects it:
host.json sets `"telemetryMode": "OpenTelemetry"` and the app configures the Azure Monitor distro once at
import. Locally, and wherever no connection string is set, nothing is configured and core's spans and
metrics (provider calls as dependencies, the saving layers as counters) cost nothing."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def configure() -> bool:
    """Export traces, metrics and logs to Application Insights when its connection string is set,
    unless the Python worker does it (PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY, set on Azure)."""
    if not os.environ.get("APPLICATIONINSIGHTS_CONNECTION_STRING"):
        return False
    if os.environ.get("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY", "").lower() == "true":
        return False  # configured once, by the worker
    # Imported only when used: the distro is large, and the local host and tests do without it.
    from azure.monitor.opentelemetry import configure_azure_monitor

    configure_azure_monitor(logger_name="core")
    log.info("telemetry: exporting to Application Insights")
    return True
