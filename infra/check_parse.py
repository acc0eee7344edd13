"""Fails when a Bicep file under infra/ does not parse: the "does it compile" check of make infra-check.

It uses pycep, the Bicep parser that checkov runs (checkov only counts parse errors, it does not fail on
them). Not the Bicep compiler: it checks syntax, not types or API versions. Run it with the venv that has
checkov (.venv/infra/bin/python infra/check_parse.py).
"""

from __future__ import annotations

import sys
from pathlib import Path

from pycep import BicepParser  # type: ignore[import-not-found]


def main() -> int:
    parser = BicepParser(add_line_numbers=True)
    files = sorted(Path(__file__).resolve().parent.rglob("*.bicep"))
    failed = 0
    for path in files:
        try:
            parser.parse(text=path.read_text("utf-8"))
        except Exception as error:  # pycep raises lark's errors, with the line and column
            failed += 1
            print(f"{path}: does not parse: {error}", file=sys.stderr)
    print(f"check_parse: {len(files) - failed} of {len(files)} Bicep files parse")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
