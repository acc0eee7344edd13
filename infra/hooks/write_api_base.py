"""azd hook of the `web` service (prepackage and predeploy): tell the pages where the API is.

The Static Web Apps Free plan cannot link a Function App, so the pages call it directly, at the address in
`<meta name="mock-interview-api" content="...">` (web/config.js). This script copies web/ to web/.deploy/ (the
`dist` that azd deploys; git ignores it through a .gitignore of its own) and writes the Function App's API
base into index.html and ops.html there, replacing the tag or adding it after <meta charset>. web/ itself
is never changed.

The address comes from --api, else from the azd environment: API_URL (an output of infra/main.bicep, which
azd hands to hooks). Before the first `azd provision` it is unknown: the prepackage run then copies the pages
as they are (they fall back to /api), and the predeploy run, given --required, fails rather than deploy pages
that point nowhere.

Standard library only, so it runs wherever azd does (`python3` on Linux/macOS, `python` on Windows).
"""

from __future__ import annotations

import argparse
import html
import os
import re
import shutil
import sys
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
PAGES = ("index.html", "ops.html")
META_NAME = "mock-interview-api"
META_TAG = re.compile(r"<meta\s+name=[\"']" + META_NAME + r"[\"'][^>]*>", re.IGNORECASE)
CHARSET_TAG = re.compile(r"<meta\s+charset=[^>]*>[ \t]*\n?", re.IGNORECASE)


def api_base(explicit: str | None) -> str:
    value = (explicit or os.environ.get("API_URL") or "").strip().rstrip("/")
    if value and not (value.startswith("https://") or value.startswith("/")):
        raise SystemExit(f"write_api_base: the API base must be https://... or /..., not {value!r}")
    return value


def with_meta(page: str, base: str) -> str:
    """The page with its API meta tag set to `base` (added after <meta charset> when it has none)."""
    tag = f'<meta name="{META_NAME}" content="{html.escape(base, quote=True)}">'
    if META_TAG.search(page):
        return META_TAG.sub(lambda _: tag, page, count=1)
    charset = CHARSET_TAG.search(page)
    if charset is None:
        raise SystemExit("write_api_base: no <meta charset> to put the API tag after")
    indent = re.search(r"[ \t]*$", page[: charset.start()])
    prefix = indent.group(0) if indent else ""
    line_end = "" if charset.group(0).endswith("\n") else "\n"
    return page[: charset.end()] + line_end + prefix + tag + "\n" + page[charset.end() :]


def write_copy(source: Path, target: Path, base: str) -> None:
    if target.exists():
        shutil.rmtree(target)
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(target.name))
    # Never committed: a folder that ignores itself, whatever the repository's .gitignore says.
    (target / ".gitignore").write_text("*\n", encoding="utf-8")
    if not base:
        return
    for name in PAGES:
        page = target / name
        page.write_text(with_meta(page.read_text(encoding="utf-8"), base), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--api", help="the API base, e.g. https://func-api-x.azurewebsites.net/api")
    parser.add_argument("--required", action="store_true", help="fail when the API base is unknown")
    parser.add_argument("--source", type=Path, default=WEB, help="the pages (default: web/)")
    parser.add_argument("--out", type=Path, default=WEB / ".deploy", help="the copy (default: web/.deploy)")
    args = parser.parse_args(argv)

    base = api_base(args.api)
    if not base and args.required:
        print(
            "write_api_base: API_URL is not set: run `azd provision` (or `azd env refresh`) first",
            file=sys.stderr,
        )
        return 1
    write_copy(args.source, args.out, base)
    where = base or "/api (the pages' default: the API address is not known yet)"
    print(f"write_api_base: {args.out} -> API at {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
