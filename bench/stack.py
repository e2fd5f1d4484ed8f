"""The stack under test: started the way ``make run`` starts it, on ports and data of its own.

By default the bench runs ``python -m devstack run`` as a subprocess with its own ports (API
8100, Temporal 7300, Temporal UI 8300, carrier simulator 8800, worker metrics 9564) and its own
data directory (``ORDERFLOW_DATA_DIR=.data/bench``, wiped first so that histories and counts
start clean), so it runs beside a developer's ``make run`` without touching it.
``CARRIER=builtin`` keeps the carrier simulator from posting its own slow events and
exceptions: the bench plays the carrier.
Every variable the caller set (``WORKER_*`` tuning knobs, say) passes through to the stack.

With ``--external`` the bench instead uses a stack that is already running (its API URL,
Temporal address and DATABASE_URL) and starts or stops nothing but its own baseline worker.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO
from urllib.parse import quote

import httpx

from bench.procstats import (
    Tracked,
    command_line,
    descendants,
    postmaster_pid,
)
from devstack.paths import project_root, setting

_STARTUP_TIMEOUT = 600.0  # seconds; a first start may build the Temporal CLI (minutes)
_STOP_TIMEOUT = 60.0
_DEFAULT_CARRIER_SECRET = "dev-carrier-secret"

# Which child of the supervisor is which, by a piece of its command line.
_ROLES = {
    "api": "api.app:app",
    "worker": "worker.py",
    "temporal": "server start-dev",
    "carrier sim": "carrier_sim",
}


class StackError(RuntimeError):
    """The stack did not start, or died; the message says where its output is."""


@dataclass(frozen=True)
class Endpoints:
    """Where the bench reaches the stack."""

    api_url: str
    temporal_address: str
    namespace: str
    database_url: str
    carrier_secret: str


@dataclass
class StackOptions:
    api_port: int = 8100
    temporal_port: int = 7300
    temporal_ui_port: int = 8300
    carrier_sim_port: int = 8800
    worker_metrics_port: int = 9564
    data_dir: str = ".data/bench"
    #: Settings of this mode (review clocks for park mode, say); the caller's own win.
    mode_env: dict[str, str] = field(default_factory=dict)


def _log(message: str) -> None:
    print(f"bench: {message}", flush=True)


def _die_with_parent() -> None:
    """In a forked child: get SIGTERM if the bench itself is killed (Linux only)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def spawn(
    argv: list[str],
    log: IO[bytes],
    *,
    env: dict[str, str] | None = None,
    new_session: bool = False,
    die_with_parent: bool = True,
) -> subprocess.Popen[bytes]:
    """Start ``argv`` from the project root with its output going to ``log``.

    ``new_session`` keeps a Ctrl-C on the bench from reaching it (the bench stops it itself);
    ``die_with_parent`` makes sure it does not outlive a bench that was killed.
    """
    return subprocess.Popen(
        argv,
        cwd=project_root(),
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=new_session,
        preexec_fn=_die_with_parent if die_with_parent else None,
    )


def database_url_of(pgdata: Path, database: str = "orderflow") -> str:
    """The SQLAlchemy URL of the embedded server running from ``pgdata``, read from its
    ``postmaster.pid`` (line 4: port, line 5: socket directory)."""
    lines = (pgdata / "postmaster.pid").read_text().splitlines()
    port, socket_dir = lines[3].strip(), lines[4].strip()
    host = quote(socket_dir, safe="/")
    return f"postgresql+psycopg://postgres@/{database}?host={host}&port={port}"


class LocalStack:
    """``python -m devstack run`` in a subprocess; ``start`` waits until the API is healthy."""

    def __init__(self, options: StackOptions, *, keep: bool = False) -> None:
        self.options = options
        self.keep = keep
        path = Path(options.data_dir).expanduser()
        self.data_dir = path if path.is_absolute() else project_root() / path
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = self.data_dir / "stack.log"
        self._log_file: IO[bytes] | None = None
        self.carrier_secret = carrier_secret()
        self._roots: dict[str, int] = {}

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.options.api_port}"

    def environment(self) -> dict[str, str]:
        """The caller's environment, plus this stack's ports, data and carrier."""
        env = dict(self.options.mode_env)
        env.update(os.environ)
        env.update(
            API_HOST="127.0.0.1",
            API_PORT=str(self.options.api_port),
            TEMPORAL_PORT=str(self.options.temporal_port),
            TEMPORAL_UI_PORT=str(self.options.temporal_ui_port),
            CARRIER_SIM_PORT=str(self.options.carrier_sim_port),
            WORKER_METRICS_ADDRESS=f"127.0.0.1:{self.options.worker_metrics_port}",
            ORDERFLOW_DATA_DIR=str(self.data_dir),
            CARRIER="builtin",
            CARRIER_WEBHOOK_SECRET=self.carrier_secret,
            PYTHONUNBUFFERED="1",
            # Empty wins over a developer's .env: this stack starts its own of both.
            DATABASE_URL="",
            TEMPORAL_ADDRESS="",
        )
        return env

    def wipe(self) -> None:
        """Forget the previous bench run's data; refuse while a server still uses it."""
        pid = postmaster_pid(self.data_dir / "postgres")
        if pid is not None:
            raise StackError(
                f"PostgreSQL (pid {pid}) still runs from {self.data_dir}/postgres — is another "
                "bench running, or one started with --keep-stack? Stop it first."
            )
        shutil.rmtree(self.data_dir, ignore_errors=True)
        self.data_dir.mkdir(parents=True)

    async def start(self) -> Endpoints:
        self.wipe()
        self._log_file = self.log_path.open("wb")
        _log(f"starting the stack (output in {self.log_path})")
        self.process = spawn(
            [sys.executable, "-m", "devstack", "run"],
            self._log_file,
            env=self.environment(),
            new_session=True,
            die_with_parent=not self.keep,
        )
        await self._wait_for_health()
        self._roots = self._find_children()
        pgdata = self.data_dir / "postgres"
        return Endpoints(
            api_url=self.api_url,
            temporal_address=f"127.0.0.1:{self.options.temporal_port}",
            namespace=os.environ.get("TEMPORAL_NAMESPACE") or "default",
            database_url=database_url_of(pgdata),
            carrier_secret=self.carrier_secret,
        )

    async def _wait_for_health(self) -> None:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                assert self.process is not None
                if self.process.poll() is not None:
                    raise StackError(
                        f"the stack exited with code {self.process.returncode} while starting:\n"
                        + self.log_tail()
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.api_url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.5)
        raise StackError(
            f"the API did not answer within {_STARTUP_TIMEOUT:.0f}s; see {self.log_path}"
        )

    def _find_children(self) -> dict[str, int]:
        """The PIDs of the supervisor's children by role (see ``_ROLES``)."""
        assert self.process is not None
        found: dict[str, int] = {}
        for pid in descendants(self.process.pid):
            cmd = command_line(pid)
            for role, marker in _ROLES.items():
                if marker in cmd and role not in found:
                    found[role] = pid
        return found

    def tracked(self) -> list[Tracked]:
        """The stack's process groups: each app process, and PostgreSQL with its backends."""
        groups = [Tracked(role, _fixed(pid)) for role, pid in self._roots.items()]
        pgdata = self.data_dir / "postgres"
        groups.append(
            Tracked("postgres", lambda: _optional(postmaster_pid(pgdata)), with_descendants=True)
        )
        return groups

    def check_alive(self) -> None:
        """Fail loudly when the stack died under the bench."""
        if self.process is not None and self.process.poll() is not None:
            raise StackError(
                f"the stack exited with code {self.process.returncode}:\n" + self.log_tail()
            )

    def log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        return "(no output)"

    async def stop(self) -> None:
        """SIGINT to the supervisor, which stops its children in order; harder if it lingers."""
        process = self.process
        if process is None:
            return
        if self.keep and process.poll() is None:
            external = (
                f"--external --api-url {self.api_url} --temporal-address "
                f"127.0.0.1:{self.options.temporal_port} --database-url "
                f"'{database_url_of(self.data_dir / 'postgres')}'"
            )
            _log(
                f"the stack keeps running (supervisor pid {process.pid}); Temporal UI "
                f"http://127.0.0.1:{self.options.temporal_ui_port}. Bench it again with "
                f"{external}; stop it with: kill -INT {process.pid}"
            )
            return
        for sig, wait in ((signal.SIGINT, _STOP_TIMEOUT), (signal.SIGTERM, 10.0)):
            if process.poll() is not None:
                break
            with contextlib.suppress(ProcessLookupError):
                process.send_signal(sig)
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(process.wait, wait)
        if process.poll() is None:
            process.kill()
            await asyncio.to_thread(process.wait)
        if self._log_file is not None:
            self._log_file.close()
        self.process = None
        _log("stack stopped")


class ExternalStack:
    """A stack somebody else runs: nothing to start or stop, no processes to watch."""

    def __init__(self, endpoints: Endpoints) -> None:
        self.endpoints = endpoints

    async def start(self) -> Endpoints:
        async with httpx.AsyncClient(timeout=5.0) as client:
            response = await client.get(f"{self.endpoints.api_url}/healthz")
        if response.status_code != 200:
            raise StackError(f"{self.endpoints.api_url}/healthz answered {response.status_code}")
        return self.endpoints

    def tracked(self) -> list[Tracked]:
        return []

    def check_alive(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def external_endpoints(api_url: str, temporal_address: str, database_url: str) -> Endpoints:
    """Endpoints of an already running stack; its carrier secret comes from the environment."""
    return Endpoints(
        api_url=api_url.rstrip("/"),
        temporal_address=temporal_address,
        namespace=os.environ.get("TEMPORAL_NAMESPACE") or "default",
        database_url=database_url,
        carrier_secret=carrier_secret(),
    )


def carrier_secret() -> str:
    """The key carrier events are signed with: the caller's (environment, then ``.env``), else
    the product's development default, so that a kept bench stack and ``make run`` both take
    ``--external`` runs without further settings."""
    return setting("CARRIER_WEBHOOK_SECRET") or _DEFAULT_CARRIER_SECRET


def _fixed(pid: int) -> Callable[[], list[int]]:
    return lambda: [pid]


def _optional(pid: int | None) -> list[int]:
    return [] if pid is None else [pid]


def own_process(name: str, pid: int) -> Tracked:
    """A process the bench started itself (the baseline worker) or the bench driver."""
    return Tracked(name, _fixed(pid))
