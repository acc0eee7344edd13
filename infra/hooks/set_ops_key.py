"""azd hook of the `api` service (postdeploy): make the ops key the Function App's master key.

The ops endpoints (handlers/ops.py) have auth level ADMIN, which only the host's master key passes, and the
ops dashboard (web/ops.html) sends the key it is given as x-functions-key. Bicep cannot set a master key (it
is a runtime secret of the Functions host, not an ARM property), so this hook sets it with the Azure CLI,
from OPS_KEY in the azd environment (`azd env set OPS_KEY ...`; infra/main.bicep also stores it in Key Vault
as the secret ops-key). Without OPS_KEY, or without the Azure CLI, it does nothing and says so: the key that
Azure generated stays (`az functionapp keys list` shows it).

Standard library only, so it runs wherever azd does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys


def main() -> int:
    key = os.environ.get("OPS_KEY", "")
    app = os.environ.get("SERVICE_API_NAME") or os.environ.get("AZURE_FUNCTION_NAME", "")
    group = os.environ.get("AZURE_RESOURCE_GROUP", "")
    if not key:
        print("set_ops_key: OPS_KEY is not set; the master key stays as Azure generated it")
        return 0
    if not (app and group):
        print(
            "set_ops_key: SERVICE_API_NAME / AZURE_RESOURCE_GROUP unknown: run azd provision first",
            file=sys.stderr,
        )
        return 1
    az = shutil.which("az")
    if az is None:
        print("set_ops_key: the Azure CLI (az) is not installed; set the master key in the portal instead")
        return 0
    command = [az, "functionapp", "keys", "set", "--resource-group", group, "--name", app]
    command += ["--key-type", "masterKey", "--key-name", "_master", "--key-value", key, "--output", "none"]
    result = subprocess.run(command, check=False)
    if result.returncode != 0:
        print("set_ops_key: az functionapp keys set failed (is `az login` done?)", file=sys.stderr)
        return result.returncode
    print(f"set_ops_key: the ops key is now the master key of {app}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
