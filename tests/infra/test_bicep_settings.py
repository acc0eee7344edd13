"""The infrastructure (infra/, Bicep) against the code: every setting the app reads is set on the Function
App, the secrets reach it only from Key Vault, and every secret parameter is @secure().

Fast tier: it reads files only (no Bicep compiler, no Azure). The Bicep is read with regular expressions, so
infra/app/api.bicep keeps its contract simple: the settings the code reads are the keys of `var appSettings`,
one a line, names spelled out (no loops, no computed names).

What "the code reads" means here:
  - the literal names in core/, handlers/ and function_app.py passed to `_env("NAME"`, `os.environ.get("NAME"`,
    `os.environ["NAME"]` or `os.getenv("NAME"`;
  - key_settings and account_setting of the enabled entries of data/providers.json.
Names built at run time are not seen: the PROVIDER_<NAME>_<FIELD> overrides of core/providers/catalogue.py,
which are optional (the catalogue's values apply without them).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
INFRA = ROOT / "infra"
API_BICEP = INFRA / "app" / "api.bicep"
MAIN_BICEP = INFRA / "main.bicep"
KEYVAULT_BICEP = INFRA / "app" / "keyvault.bicep"

# Settings the code reads that Bicep need not set, each with why. Keep it short: anything else the code
# reads must be set in infra/app/api.bicep (`var appSettings`).
ALLOWED_UNSET = {
    "AzureWebJobsStorage": (
        "the connection string of Azurite or of a keyed account; in Azure, with shared keys off, the"
        " identity-based AzureWebJobsStorage__* settings replace it (core/settings.py reads it only when"
        " AzureWebJobsStorage__queueServiceUri is unset; see test_storage_is_reached_by_identity)"
    ),
    "PROVIDERS_FILE": "a local and test override of data/providers.json; the deployed app uses the shipped file",
    "CALLBACK_INSECURE_ORIGINS": (
        "test and development only (a local http receiver); core/settings.py refuses it on Azure, so Bicep"
        " must never set it"
    ),
    "GOVERNOR_DAY_SECONDS": "only to compress a simulated day (make simulate --day); deployed: UTC days",
    "GOVERNOR_DAY_ORIGIN": "only to compress a simulated day (make simulate --day); deployed: UTC days",
}

READ_PATTERNS = tuple(
    re.compile(pattern)
    for pattern in (
        r"\b_env\(\s*[\"']([^\"']+)[\"']",
        r"\bos\.environ\.get\(\s*[\"']([^\"']+)[\"']",
        r"\bos\.environ\[\s*[\"']([^\"']+)[\"']\s*\]",
        r"\bos\.getenv\(\s*[\"']([^\"']+)[\"']",
    )
)
CODE_SOURCES = (ROOT / "core", ROOT / "handlers", ROOT / "function_app.py")

# A parameter whose name says it holds a secret must be @secure() even if it is not (yet) stored in Key Vault.
SECRET_NAME = re.compile(r"(?i)(key|token|secret|password|credential|connectionstring|redis\w*url)$")
KV_REFERENCE = re.compile(r"'\$\{kvPrefix\}([a-z0-9-]+)\)'")


def _python_files() -> list[Path]:
    files: list[Path] = []
    for source in CODE_SOURCES:
        files.extend(sorted(source.rglob("*.py")) if source.is_dir() else [source])
    return files


@cache
def settings_read_by_code() -> dict[str, str]:
    """Setting name -> the first file (relative) that reads it."""
    found: dict[str, str] = {}
    for path in _python_files():
        text = path.read_text("utf-8")
        for pattern in READ_PATTERNS:
            for name in pattern.findall(text):
                found.setdefault(name, str(path.relative_to(ROOT)))
    return found


@cache
def provider_settings() -> dict[str, str]:
    """Key and account settings of the enabled providers -> the entry that needs them."""
    found: dict[str, str] = {}
    for entry in _enabled_providers():
        for name in [*entry.get("key_settings", []), entry.get("account_setting") or ""]:
            if name:
                found.setdefault(name, f"data/providers.json ({entry['name']})")
    return found


def _enabled_providers() -> list[dict[str, Any]]:
    catalogue = json.loads((ROOT / "data" / "providers.json").read_text("utf-8"))["providers"]
    return [entry for entry in catalogue if entry.get("enabled", True) and entry.get("adapter") != "local"]


def secret_settings() -> set[str]:
    """The settings that hold secrets: the providers' keys (not account ids), the Redis URLs, the ops key."""
    keys = {name for entry in _enabled_providers() for name in entry.get("key_settings", [])}
    return keys | {"REDIS_URL", "REDIS_BACKUP_URL", "OPS_KEY"}


def _object_block(text: str, var_name: str) -> str:
    match = re.search(rf"^var {var_name} = \{{\n(.*?)^\}}", text, re.MULTILINE | re.DOTALL)
    assert match, f"no `var {var_name} = {{ ... }}` block at the top level of the Bicep file"
    return match.group(1)


def _object_entries(block: str) -> dict[str, str]:
    """The top-level `key: value` lines of a Bicep object literal written one entry a line."""
    entries: dict[str, str] = {}
    for line in block.splitlines():
        match = re.match(r"^  (?:'([^']+)'|([A-Za-z_][\w]*))\s*:\s*(.*)$", line)
        if match:
            entries[match.group(1) or match.group(2)] = match.group(3).strip()
    return entries


@cache
def bicep_app_settings() -> dict[str, str]:
    """Setting name -> the Bicep expression of its value, from `var appSettings` in infra/app/api.bicep."""
    settings = _object_entries(_object_block(API_BICEP.read_text("utf-8"), "appSettings"))
    assert len(settings) >= 10, (
        f"only {len(settings)} settings read from {API_BICEP}: has its layout changed?"
    )
    return settings


@cache
def main_secret_values() -> dict[str, str]:
    """Key Vault secret name -> the main.bicep parameter that fills it (`var secretValues`)."""
    return _object_entries(_object_block(MAIN_BICEP.read_text("utf-8"), "secretValues"))


def bicep_parameters(path: Path) -> dict[str, str]:
    """Parameter name -> its decorators (the lines above `param`, up to a blank line or another statement)."""
    lines = path.read_text("utf-8").splitlines()
    statement = re.compile(r"^(param|var|resource|module|output|targetScope|type|func|import)\b")
    found: dict[str, str] = {}
    for index, line in enumerate(lines):
        match = re.match(r"^param (\w+) ", line)
        if not match:
            continue
        start = index
        while start > 0 and lines[start - 1].strip() and not statement.match(lines[start - 1]):
            start -= 1
        found[match.group(1)] = "\n".join(lines[start:index])
    return found


def test_every_setting_the_code_reads_is_set_by_bicep() -> None:
    needed = {**provider_settings(), **settings_read_by_code()}
    assert "REDIS_URL" in needed, "the scan of the code found nothing: have the settings moved?"
    missing = {
        name: where
        for name, where in needed.items()
        if name not in bicep_app_settings() and name not in ALLOWED_UNSET
    }
    assert not missing, (
        "settings the code reads that infra/app/api.bicep (`var appSettings`) does not set:\n"
        + "\n".join(f"  {name}  (read in {where})" for name, where in sorted(missing.items()))
        + "\nset them there (a secret: from Key Vault, see main.bicep secretValues), or, if optional with a"
        " safe default or local-only, add them to ALLOWED_UNSET with the reason"
    )


def test_allow_list_is_still_needed() -> None:
    read = {**provider_settings(), **settings_read_by_code()}
    stale = sorted(name for name in ALLOWED_UNSET if name not in read or name in bicep_app_settings())
    assert not stale, f"ALLOWED_UNSET entries no longer needed (not read, or set by Bicep): {stale}"


def test_storage_is_reached_by_identity() -> None:
    settings = bicep_app_settings()
    assert settings.get("AzureWebJobsStorage__credential") == "'managedidentity'"
    for suffix in ("clientId", "blobServiceUri", "queueServiceUri", "tableServiceUri"):
        assert f"AzureWebJobsStorage__{suffix}" in settings, f"AzureWebJobsStorage__{suffix} is not set"
    # A connection string would win over the identity and needs the shared keys that storage.bicep turns off.
    assert "AzureWebJobsStorage" not in settings
    assert "allowSharedKeyAccess: false" in (INFRA / "app" / "storage.bicep").read_text("utf-8")


def test_settings_agree_with_host_json() -> None:
    host = json.loads((ROOT / "host.json").read_text("utf-8"))
    encoding = host.get("extensions", {}).get("queues", {}).get("messageEncoding", "base64")
    assert bicep_app_settings().get("QUEUE_MESSAGE_ENCODING") == f"'{encoding}'"
    assert bicep_app_settings().get("PYTHON_APPLICATIONINSIGHTS_ENABLE_TELEMETRY") == "'true'"


def test_secrets_come_from_key_vault_only() -> None:
    secrets = main_secret_values()
    settings = bicep_app_settings()
    referenced: set[str] = set()
    for name, value in settings.items():
        references = KV_REFERENCE.findall(value)
        referenced.update(references)
        for secret in references:
            assert secret in secrets, (
                f"{name} references Key Vault secret {secret!r}, which main.bicep does not store"
            )
    plain = sorted(
        name for name in secret_settings() if name in settings and not KV_REFERENCE.search(settings[name])
    )
    assert not plain, f"secret settings whose value is not a Key Vault reference: {plain}"
    # Every stored secret is read by a setting (the ops key too: OPS_KEY, checked by handlers/ops.py).
    assert set(secrets) == referenced, f"secrets stored but not used: {set(secrets) - referenced}"


def test_secret_parameters_are_secure() -> None:
    parameters = bicep_parameters(MAIN_BICEP)
    fed_to_key_vault = set(main_secret_values().values())
    assert fed_to_key_vault <= set(parameters), "secretValues uses something that is not a parameter"
    secret = {name for name in parameters if SECRET_NAME.search(name)} | fed_to_key_vault
    not_secure = sorted(name for name in secret if "@secure()" not in parameters[name])
    assert not not_secure, f"secret parameters of main.bicep without @secure(): {not_secure}"
    assert "@secure()" in bicep_parameters(KEYVAULT_BICEP)["secretValues"]
    # Not a secret, so not @secure(): visible in the deployment, and none of them may hold one.
    assert "@secure()" not in parameters["cloudflareAccountId"]


def test_main_has_the_outputs_the_hooks_use() -> None:
    # WEB_URL, API_URL and OPS_URL are what `azd up` reports; the hooks read API_URL and SERVICE_API_NAME.
    text = MAIN_BICEP.read_text("utf-8")
    for output in ("WEB_URL", "API_URL", "OPS_URL", "SERVICE_API_NAME", "AZURE_RESOURCE_GROUP"):
        assert re.search(rf"^output {output} string = ", text, re.MULTILINE), (
            f"main.bicep lost output {output}"
        )


def test_the_test_only_callback_exemption_is_never_deployed() -> None:
    """CALLBACK_INSECURE_ORIGINS lets a callback reach a local http receiver: no template may set it."""
    for template in INFRA.rglob("*.bicep"):
        assert "CALLBACK_INSECURE_ORIGINS" not in template.read_text("utf-8"), template
    assert "CALLBACK_INSECURE_ORIGINS" not in (INFRA / "main.parameters.json").read_text("utf-8")
