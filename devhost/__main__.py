"""python -m devhost: host the app in the current directory like `func start` would."""

import argparse
import asyncio
import contextlib
import importlib
import logging
import os
import signal
import sys
import time
from pathlib import Path
from types import FrameType

import azure.functions as func

from devhost.function_host import DEFAULT_BIND_ADDRESS, FunctionHost
from devhost.settings_file import LocalSettings
from devhost.stack import AZURITE_DEFAULT_PORTS, start_azurite, start_redis
from devhost.startup_error import StartupError

DEFAULT_PORT = 7071
REDIS_URL_SETTING = "REDIS_URL"
STORAGE_SETTING = "AzureWebJobsStorage"
DEV_DATA_FOLDER = ".devdata"

logger = logging.getLogger("devhost")


def main() -> int:
    arguments = _parse_arguments()
    _configure_logging()
    script_root = Path.cwd()
    # Until the event loop takes over signals, SIGTERM unwinds like Ctrl+C so started services are stopped.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with contextlib.ExitStack() as services:
        try:
            settings = LocalSettings.load(script_root)
            if arguments.with_services:
                _start_services(script_root / DEV_DATA_FOLDER, services)
            settings.apply_to(os.environ)
            host = FunctionHost(
                _import_app(script_root, arguments.app),
                script_root,
                settings,
                arguments.port or settings.local_http_port or DEFAULT_PORT,
                arguments.host,
            )
        except StartupError as error:
            logger.error("The host could not start: %s", error)
            return 1
        except Exception:
            logger.exception("The host could not start")
            return 1
        try:
            asyncio.run(_serve_until_signalled(host))
        except Exception:
            logger.exception("The host stopped on an error")
            return 1
        finally:
            still_running = host.close()
        if still_running:
            services.close()
            logger.warning("Exiting with %d synchronous function(s) still running", still_running)
            logging.shutdown()
            # Worker threads cannot be interrupted and the interpreter would wait for them at exit.
            os._exit(0)
    return 0


def _parse_arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    parser.add_argument(
        "--port",
        type=int,
        help=f"HTTP port (default: local.settings.json Host.LocalHttpPort, else {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--host",
        default=DEFAULT_BIND_ADDRESS,
        help=f"address to listen on (default: {DEFAULT_BIND_ADDRESS}, this machine only; 0.0.0.0: every interface)",
    )
    parser.add_argument("--app", default="function_app:app", help="module:attribute of the FunctionApp")
    parser.add_argument(
        "--with-services",
        action="store_true",
        help=f"also run Redis (unless {REDIS_URL_SETTING} is set) and Azurite, with data in {DEV_DATA_FOLDER}/",
    )
    return parser.parse_args()


def _configure_logging() -> None:
    handler = logging.StreamHandler()
    formatter = logging.Formatter("[%(asctime)s.%(msecs)03dZ] %(levelname)s %(message)s", "%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    logging.basicConfig(level=logging.INFO, handlers=[handler])
    # The storage SDK logs every request at INFO.
    logging.getLogger("azure").setLevel(logging.WARNING)


def _exit_on_signal(signal_number: int, _frame: FrameType | None) -> None:
    raise SystemExit(128 + signal_number)


def _start_services(data_folder: Path, services: contextlib.ExitStack) -> None:
    if REDIS_URL_SETTING not in os.environ:
        redis = services.enter_context(start_redis(data_folder / "redis"))
        os.environ[REDIS_URL_SETTING] = redis.url
        logger.info("Redis running at %s", redis.url)
    azurite = services.enter_context(start_azurite(data_folder / "azurite", ports=AZURITE_DEFAULT_PORTS))
    os.environ[STORAGE_SETTING] = azurite.url
    logger.info("Azurite running on ports %s (data in %s)", AZURITE_DEFAULT_PORTS, data_folder / "azurite")


def _import_app(script_root: Path, reference: str) -> func.FunctionApp:
    module_name, _, attribute = reference.partition(":")
    sys.path.insert(0, str(script_root))
    app = getattr(importlib.import_module(module_name), attribute or "app")
    if not isinstance(app, func.FunctionApp):
        raise TypeError(f"{reference} is a {type(app).__name__}, not an azure.functions.FunctionApp")
    return app


async def _serve_until_signalled(host: FunctionHost) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, stop.set)
    await host.serve(stop)


if __name__ == "__main__":
    sys.exit(main())
