"""The shell trigger of the poison-queue ops: `python -m handlers.poison_cli list|replay`.

Settings come from the environment, filled as the Functions host fills it: from local.settings.json,
or its committed example, in the current folder (devhost's loader, so there is one reading of that file)."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from core.infra.connections import connections
from core.ops.poison import list_poison, replay_poison
from devhost.settings_file import LocalSettings

USAGE = "usage: python -m handlers.poison_cli list|replay"


async def run(command: str) -> str:
    """The command's output: the poisoned messages as JSON, or how many were replayed."""
    try:
        if command == "list":
            return json.dumps([message.model_dump() for message in await list_poison()], indent=2)
        return (await replay_poison()).model_dump_json()
    finally:
        await connections().close()


def main(argv: list[str]) -> None:
    if len(argv) != 1 or argv[0] not in ("list", "replay"):
        sys.exit(USAGE)
    LocalSettings.load(Path.cwd()).apply_to()
    print(asyncio.run(run(argv[0])))


if __name__ == "__main__":
    main(sys.argv[1:])
