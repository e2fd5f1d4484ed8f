"""The stack the chaos run breaks: every part a process of its own that can be SIGKILLed and
started again, on free ports and a temporary data directory.

* the Temporal dev server, persisted to a SQLite file (``--db-filename``), so that what it
  held survives a SIGKILL and a restart;
* the embedded PostgreSQL started the way ``make run`` starts it (``pgserver``); a kill
  SIGKILLs the postmaster and every backend below it, a restart is ``pg_ctl start`` on the
  same data directory and socket, which recovers from the write-ahead log;
* two workers (``python worker.py``) and two API processes (uvicorn) on one task queue.

Each process writes to its own log file in the data directory (appended across restarts).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx

from bench.procstats import descendants, postmaster_pid
from bench.stack import spawn
from devstack.postgres import PostgresHandle, ensure_postgres
from devstack.temporal_cli import ensure_temporal_cli
from devstack.temporal_server import dev_server_command, wait_for_temporal

CARRIER_SECRET = "chaos-carrier-secret-of-32-characters"
JWT_SECRET = "chaos-jwt-secret-of-thirty-two-chars"
_READY_WITHIN = 120.0  # seconds; two busy cores may take long to boot a server
# What ``worker.py`` logs once it polls its task queue.
WORKER_READY = b"worker INFO polling "


class StackError(RuntimeError):
    """A part of the stack did not come (back) up; the message says which and where its log is."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def product_settings(task_queue: str) -> dict[str, str]:
    """The product's knobs for the run: clocks short enough that an order left alone after
    delivery completes within seconds and a review stalled by a kill sends its reminders, and
    pools small enough for four processes on one PostgreSQL."""
    return {
        "TASK_QUEUE": task_queue,
        "JWT_SECRET": JWT_SECRET,
        "CARRIER": "builtin",
        "CARRIER_WEBHOOK_SECRET": CARRIER_SECRET,
        "AUTO_CONFIRM_AFTER": "8",
        "REMIND_AFTER": "20",
        "ESCALATE_AFTER": "3600",
        "WORKER_ACTIVITY_SLOTS": "10",
        "WORKER_LOCAL_ACTIVITY_SLOTS": "10",
        "DB_POOL_SIZE": "5",
        "DB_MAX_OVERFLOW": "5",
        # Nobody listens there: e-mails fail fast and are recorded as failed, once.
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
        "NOTIFICATION_MAX_ATTEMPTS": "2",
        "NOTIFICATION_RETRY_INITIAL": "0.5",
        # Readable lines (the run waits for a worker's "polling" line), and no metrics port:
        # two workers on one host would contend for it.
        "LOG_FORMAT": "text",
        "WORKER_METRICS_ADDRESS": "",
    }


@dataclass
class Part:
    """One process of the stack: how to start it, and the one running now (if any)."""

    name: str
    argv: list[str]
    env: dict[str, str]
    log: IO[bytes]
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0
    #: Where this start's output begins in the log.
    log_offset: int = 0

    def start(self) -> None:
        self.log.write(f"--- chaos: start #{self.starts + 1} of {self.name}\n".encode())
        self.log.flush()
        self.log_offset = self.log.tell()
        self.process = spawn(self.argv, self.log, env=self.env, new_session=True)
        self.starts += 1

    def kill(self) -> None:
        """SIGKILL the process and everything in its session: no chance to clean up."""
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait()
        self.process = None

    def died(self) -> int | None:
        """The exit code if the process ended without being killed by us."""
        if self.process is None:
            return None
        return self.process.poll()


class Postgres:
    """The embedded PostgreSQL of the run, killed by its postmaster's pid."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir / "postgres"
        self.handle: PostgresHandle | None = None

    def start_first(self) -> str:
        """Initialise and start the server (as ``make run`` does); the database URL."""
        self.handle = ensure_postgres(self.data_dir, "orderflow", use_env=False)
        if self.handle.server is not None:
            # The run stops it itself (``stop``): the handle's own clean-up at exit would try
            # the server it started, which the first kill has replaced.
            self.handle.server.cleanup_mode = None
        return self.handle.url

    @property
    def _pg_user(self) -> str | None:
        server = self.handle.server if self.handle else None
        return server.system_user if server is not None else None

    def kill(self) -> None:
        """SIGKILL the postmaster and all its backends, and wait until every one is gone."""
        pid = postmaster_pid(self.data_dir)
        if pid is None:
            raise StackError(f"PostgreSQL in {self.data_dir} is not running")
        victims = [pid, *descendants(pid)]
        for victim in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(victim, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while any(_alive(victim) for victim in victims):
            if time.monotonic() > deadline:
                raise StackError("PostgreSQL processes outlived SIGKILL for 30 s")
            time.sleep(0.05)
        # pg_ctl daemonised the postmaster, so its parent is the machine's init, which may
        # leave it a zombie for a while; PostgreSQL would take the zombie's pid in the lock
        # files for a live server. The server is dead, so its lock files are stale.
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        (self.socket_dir / ".s.PGSQL.5432.lock").unlink(missing_ok=True)

    @property
    def socket_dir(self) -> Path:
        assert self.handle is not None and self.handle.server is not None
        socket_dir = self.handle.server.get_postmaster_info().socket_dir
        assert socket_dir is not None
        return Path(socket_dir)

    def restart(self) -> None:
        """``pg_ctl start`` with the options pgserver gave it: the same socket, no TCP."""
        socket_dir = self.socket_dir
        argv = [
            str(_pg_bin("pg_ctl")),
            "-D",
            str(self.data_dir),
            "-w",
            "-t",
            str(int(_READY_WITHIN)),
            "-o",
            '-h ""',
            "-o",
            f"-k {socket_dir}",
            "-l",
            str(self.data_dir / "log"),
            "start",
        ]
        result = subprocess.run(
            argv, user=self._pg_user, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise StackError(
                f"PostgreSQL did not restart: {result.stderr.strip() or result.stdout.strip()}; "
                f"see {self.data_dir / 'log'}"
            )

    def stop(self) -> None:
        if postmaster_pid(self.data_dir) is None:
            return
        argv = [str(_pg_bin("pg_ctl")), "-D", str(self.data_dir), "-w", "-m", "fast", "stop"]
        subprocess.run(argv, user=self._pg_user, capture_output=True, check=False)


def _pg_bin(name: str) -> Path:
    from pgserver._commands import POSTGRES_BIN_PATH

    path: Path = POSTGRES_BIN_PATH / name
    return path


def _read_from(path: Path, offset: int) -> bytes:
    with path.open("rb") as log:
        log.seek(offset)
        return log.read()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie (killed, not yet reaped by its parent) is gone for our purposes.
    with contextlib.suppress(OSError):
        return " Z " not in Path(f"/proc/{pid}/stat").read_text().split(")", 1)[1][:4]
    return False


@dataclass
class ChaosStack:
    """Temporal, PostgreSQL, two workers and two API processes; see the module docstring."""

    data_dir: Path
    task_queue: str = "orders-chaos"
    temporal_port: int = field(default_factory=free_port)
    api_ports: list[int] = field(default_factory=lambda: [free_port(), free_port()])
    postgres: Postgres | None = None
    temporal: Part | None = None
    workers: list[Part] = field(default_factory=list)
    apis: list[Part] = field(default_factory=list)
    database_url: str = ""
    _logs: list[IO[bytes]] = field(default_factory=list)

    @property
    def temporal_address(self) -> str:
        return f"127.0.0.1:{self.temporal_port}"

    @property
    def api_urls(self) -> list[str]:
        return [f"http://127.0.0.1:{port}" for port in self.api_ports]

    def _log(self, name: str) -> IO[bytes]:
        log = (self.data_dir / f"{name}.log").open("ab")
        self._logs.append(log)
        return log

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(product_settings(self.task_queue))
        env.update(
            DATABASE_URL=self.database_url,
            TEMPORAL_ADDRESS=self.temporal_address,
            TEMPORAL_NAMESPACE="default",
            PYTHONUNBUFFERED="1",
            ENVIRONMENT="development",
        )
        return env

    async def start(self) -> None:
        """Bring every part up; raises :class:`StackError` naming the part that failed."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cli = await asyncio.to_thread(ensure_temporal_cli)
        if cli is None:
            raise StackError("the chaos run needs the Temporal CLI: run `make chaos` or install it")
        argv = dev_server_command(
            cli,
            port=self.temporal_port,
            ui_port=None,
            db_filename=self.data_dir / "temporal.db",
            log_level="error",
        )
        self.temporal = Part("temporal", argv, dict(os.environ), self._log("temporal"))
        self.temporal.start()
        self.postgres = Postgres(self.data_dir)
        self.database_url = await asyncio.to_thread(self.postgres.start_first)
        env = self._env()
        for step in (["db.migrate"], ["db.seed"]):
            await self._run_step(step, env)
        await self.wait_for_temporal()
        python = sys.executable
        for i in (1, 2):
            part = Part(f"worker-{i}", [python, "worker.py"], env, self._log(f"worker-{i}"))
            self.workers.append(part)
            part.start()
        for i, port in enumerate(self.api_ports, start=1):
            argv = [python, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1"]
            argv += ["--port", str(port), "--log-level", "warning"]
            part = Part(f"api-{i}", argv, env, self._log(f"api-{i}"))
            self.apis.append(part)
            part.start()
        for part, url in zip(self.apis, self.api_urls, strict=True):
            await self.wait_for_api(part, url)
        for part in self.workers:
            await self.wait_for_worker(part)

    async def _run_step(self, module: list[str], env: dict[str, str]) -> None:
        log = self._log(module[0])
        process = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", *module], env=env, stdout=log, stderr=log
        )
        if process.returncode != 0:
            raise StackError(f"`python -m {module[0]}` failed; see {log.name}")

    async def wait_for_temporal(self) -> None:
        try:
            await wait_for_temporal(self.temporal_address, within=_READY_WITHIN)
        except TimeoutError as exc:
            raise StackError(f"{exc}; see {self.data_dir / 'temporal.log'}") from exc

    async def wait_for_api(self, part: Part, url: str) -> None:
        deadline = time.monotonic() + _READY_WITHIN
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                if part.died() is not None:
                    raise StackError(f"{part.name} exited; see {part.log.name}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{url}/healthz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise StackError(f"{part.name} did not answer {url}/healthz; see {part.log.name}")

    async def wait_for_worker(self, part: Part) -> None:
        """A worker serves once it polls its task queue, which its log says: a worker that
        cannot reach Temporal while starting exits (a deployment's restart policy brings it
        back), so the next kill waits for this."""
        deadline = time.monotonic() + _READY_WITHIN
        path = Path(part.log.name)
        while time.monotonic() < deadline:
            if part.died() is not None:
                raise StackError(f"{part.name} exited while starting; see {path}")
            if WORKER_READY in await asyncio.to_thread(_read_from, path, part.log_offset):
                return
            await asyncio.sleep(0.2)
        raise StackError(f"{part.name} did not poll within {_READY_WITHIN:.0f}s; see {path}")

    def dead_parts(self) -> list[str]:
        """Processes that exited on their own (not killed by the run): each is a failure."""
        parts = [p for p in [self.temporal, *self.workers, *self.apis] if p is not None]
        return [f"{p.name} (exit code {p.died()})" for p in parts if p.died() is not None]

    async def stop(self) -> None:
        """SIGTERM the app processes, then Temporal; stop PostgreSQL; close the logs."""
        for part in [*self.apis, *self.workers, self.temporal]:
            if part is None or part.process is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part.process.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(part.process.wait, 15)
            except subprocess.TimeoutExpired:
                part.kill()
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)
        for log in self._logs:
            log.close()
