"""The shape of the code: core/ is layered (import-linter's contracts in pyproject.toml) and never
touches the Functions runtime, so it stays plain async Python that any host can run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text("utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_core_never_imports_azure_functions() -> None:
    offenders = {
        str(path.relative_to(ROOT)): sorted(
            name for name in _imported_modules(path) if "azure.functions" in name
        )
        for path in (ROOT / "core").rglob("*.py")
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_import_contracts_hold() -> None:
    """A package that imports one above it (say rubric importing saving) breaks the layers contract."""
    linter = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(linter)], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_the_import_contracts_catch_an_upward_import(tmp_path: Path) -> None:
    """The contract is live: the same linter over a copy of core/ with one upward import fails."""
    copy = tmp_path / "core"
    subprocess.run(["cp", "-r", str(ROOT / "core"), str(copy)], check=True)
    (copy / "rubric" / "upward.py").write_text("from core.saving import cache\n")
    (tmp_path / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text("utf-8"))
    linter = Path(sys.executable).with_name("lint-imports")
    env = {"PYTHONPATH": f"{tmp_path}:{ROOT}", "PATH": "/usr/bin:/bin"}
    result = subprocess.run([str(linter)], cwd=tmp_path, capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode != 0
    assert "core.rubric.upward -> core.saving.cache" in result.stdout
