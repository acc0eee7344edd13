"""The app indexes with the real azure.functions indexing given only the settings Bicep sets on Azure:
no local-only setting (a connection string, devhost keys, local.settings.json) is needed to load it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

from tests.infra.test_bicep_settings import ROOT, bicep_app_settings

INDEX = """
import json, function_app
print(json.dumps(sorted(
    (f.get_function_name(), [b["type"] for b in f.get_bindings_dict()["bindings"]])
    for f in function_app.app.get_functions()
)))
"""


def test_the_app_indexes_with_only_the_settings_azure_has() -> None:
    # Every app setting Bicep declares: its literal where it is one, else a placeholder (expressions and
    # Key Vault references resolve on Azure).
    settings = {
        name: value.strip("'") if re.fullmatch(r"'[^'$]*'", value) else "placeholder"
        for name, value in bicep_app_settings().items()
    }
    assert settings["PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY"] == "true"  # the worker configures it
    settings["AzureWebJobsStorage__queueServiceUri"] = "https://st.queue.core.windows.net"
    settings["AzureWebJobsStorage__tableServiceUri"] = "https://st.table.core.windows.net"
    env = {"PATH": os.environ["PATH"], "PYTHONPATH": str(ROOT), **settings}
    assert "AzureWebJobsStorage" not in env and not any(name.startswith("DEVHOST_") for name in env)
    result = subprocess.run(
        [sys.executable, "-c", INDEX], cwd="/", env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    functions = dict(json.loads(result.stdout))
    assert functions["dispatch_job"] == ["queueTrigger"]
    assert functions["deliver_callback"] == ["queueTrigger"]
    assert {"record_daily_usage", "roll_over_provider_quotas", "delete_expired_interviews"} <= set(functions)
    assert sum(bindings[0] == "httpTrigger" for bindings in functions.values()) >= 10
