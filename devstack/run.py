"""``python -m devstack run``: the whole product on one machine, in the foreground.

Start-up order, and why:

1. refuse early if a port we need is taken (most often: another ``make run``);
2. find or build the Temporal CLI before starting anything, so a long first build that the user
   interrupts leaves nothing behind;
3. start the Temporal dev server (it boots while PostgreSQL starts and migrations run);
4. PostgreSQL (embedded unless ``DATABASE_URL`` is set), then ``python -m db.migrate``;
5. wait for Temporal, then ``python -m db.seed`` (idempotent);
6. the carrier simulator (``python -m carrier_sim``), before the worker that books shipments
   with it; wait for its ``GET /healthz``;
7. the worker and the API; wait for ``GET /healthz``; print where everything is.

Children run in their own sessions, so a Ctrl-C reaches only this supervisor, which then stops
them in order — API, worker and carrier simulator first, then Temporal, then PostgreSQL — with
SIGTERM, and SIGKILL for any that linger. If any child dies on its own, everything is stopped
the same way. Data in ``.data/`` (PostgreSQL's data directory and Temporal's SQLite file;
``ORDERFLOW_DATA_DIR`` moves it) is kept between runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from temporalio.testing import WorkflowEnvironment

from config import DEFAULT_WORKER_METRICS_ADDRESS
from devstack.banner import banner
from devstack.network import DEFAULT_API_HOST, is_loopback, local_url, port_in_use
from devstack.paths import data_root, int_setting, setting
from devstack.postgres import PostgresError, PostgresHandle, ensure_postgres
from devstack.processes import Child, Interrupted, Supervisor, log, terminate
from devstack.temporal_cli import TemporalCliError, ensure_temporal_cli
from devstack.temporal_server import (
    apply_retention,
    configured_retention,
    dev_server_command,
    start_sdk_dev_server,
    wait_for_temporal,
)

_STARTUP_TIMEOUT = 90.0  # seconds; generous for a 2-core machine booting everything at once
# The simulator's pace and failure rate under `make run`: quick enough to watch an order reach
# its customer, and a carrier exception in every `make demo` (which ships four orders).
_CARRIER_SIM_DEFAULTS = {"CARRIER_SIM_STEP_SECONDS": "5", "CARRIER_SIM_EXCEPTION_EVERY": "4"}


class StartupError(Exception):
    """Start-up cannot continue; the message is one sentence for the user."""


@dataclass
class DevStack(Supervisor):
    """Everything ``run`` started, so that it can all be stopped again in the right order."""

    postgres: PostgresHandle | None = None
    sdk_server: WorkflowEnvironment | None = None

    # -- settings ---------------------------------------------------------------------------

    api_host: str = field(default_factory=lambda: setting("API_HOST") or DEFAULT_API_HOST)
    api_port: int = field(default_factory=lambda: int_setting("API_PORT", 8000))
    temporal_port: int = field(default_factory=lambda: int_setting("TEMPORAL_PORT", 7233))
    temporal_ui_port: int = field(default_factory=lambda: int_setting("TEMPORAL_UI_PORT", 8233))
    namespace: str = field(default_factory=lambda: setting("TEMPORAL_NAMESPACE") or "default")
    external_temporal: str | None = field(default_factory=lambda: setting("TEMPORAL_ADDRESS"))
    carrier_sim_port: int = field(default_factory=lambda: int_setting("CARRIER_SIM_PORT", 8700))
    worker_metrics: str | None = field(default_factory=lambda: _worker_metrics_address())

    @property
    def temporal_address(self) -> str:
        """Where the worker and the API find Temporal."""
        return self.external_temporal or f"127.0.0.1:{self.temporal_port}"

    @property
    def api_url(self) -> str:
        """Where this machine's processes (the simulator, the health check) reach the API."""
        return local_url(self.api_host, self.api_port)

    @property
    def api_reach(self) -> str:
        """Who can reach the API, and how to change it."""
        if is_loopback(self.api_host):
            return "this machine only; API_HOST=0.0.0.0 make run serves other machines too"
        return f"listening on {self.api_host} (API_HOST): other machines can reach it"

    @property
    def carrier_sim_url(self) -> str:
        """Where the worker books shipments with the carrier simulator."""
        return f"http://127.0.0.1:{self.carrier_sim_port}"

    @property
    def worker_uses_simulator(self) -> bool:
        """Whether the worker ships through the simulator: yes, unless the user chose CARRIER."""
        return setting("CARRIER") in (None, "simulator")

    # -- processes --------------------------------------------------------------------------

    async def run_step(self, name: str, argv: list[str], env: dict[str, str]) -> None:
        """Run a one-shot command (migrations, seeding) to completion; fail start-up if it fails."""
        child = await self.spawn(name, argv, env)
        code = await self.until_stopped(child.process.wait())
        if child.pump is not None:
            await child.pump
        self.children.remove(child)
        if code != 0:
            raise StartupError(f"`{' '.join(argv[1:])}` failed with exit code {code}.")

    def child_env(self) -> dict[str, str]:
        """The environment for our children: ours plus where PostgreSQL and Temporal are."""
        env = dict(os.environ)
        assert self.postgres is not None
        env["DATABASE_URL"] = self.postgres.url
        env["TEMPORAL_ADDRESS"] = self.temporal_address
        env["TEMPORAL_NAMESPACE"] = self.namespace
        # The dashboard links orders to the Web UI of the dev server started here.
        if self.external_temporal is None and setting("TEMPORAL_UI_URL") is None:
            env["TEMPORAL_UI_URL"] = f"http://localhost:{self.temporal_ui_port}"
        env["PYTHONUNBUFFERED"] = "1"
        return env

    def carrier_env(self, env: dict[str, str]) -> dict[str, str]:
        """The simulator posts tracking events to our API; its pace and failures are demo
        defaults (an event every 5 s, every 4th shipment missing the recipient once), unless
        the user set them (environment or ``.env``)."""
        env = dict(env)
        env["CARRIER_SIM_PORT"] = str(self.carrier_sim_port)
        env["CARRIER_SIM_API_URL"] = self.api_url
        for variable, default in _CARRIER_SIM_DEFAULTS.items():
            if setting(variable) is None:
                env[variable] = default
        return env

    def worker_env(self, env: dict[str, str]) -> dict[str, str]:
        """The worker ships through the simulator unless the user chose a carrier."""
        env = dict(env)
        if self.worker_uses_simulator:
            env["CARRIER"] = "simulator"
            if setting("CARRIER_SIMULATOR_URL") is None:
                env["CARRIER_SIMULATOR_URL"] = self.carrier_sim_url
        return env

    # -- start-up ---------------------------------------------------------------------------

    def check_ports(self) -> None:
        """Refuse to start if a port we are about to listen on is taken."""
        wanted = [
            ("API", "API_PORT", self.api_port, self.api_host),
            ("carrier simulator", "CARRIER_SIM_PORT", self.carrier_sim_port, "0.0.0.0"),
        ]
        if self.worker_metrics is not None:
            metrics_host, _, metrics_port = self.worker_metrics.rpartition(":")
            if metrics_port.isdigit():
                wanted.append(
                    (
                        "worker metrics",
                        "WORKER_METRICS_ADDRESS",
                        int(metrics_port),
                        metrics_host.strip("[]"),
                    )
                )
        if self.external_temporal is None:
            wanted += [
                ("Temporal", "TEMPORAL_PORT", self.temporal_port, "0.0.0.0"),
                ("Temporal UI", "TEMPORAL_UI_PORT", self.temporal_ui_port, "0.0.0.0"),
            ]
        for label, variable, port, host in wanted:
            if port_in_use(port, host):
                raise StartupError(
                    f"Port {port} ({label}) is already in use — is another `make run` running? "
                    f"Stop it, or choose another port with {variable}=..."
                )

    async def start_temporal(self, cli: Path | None) -> Child | None:
        """Start the dev server from ``cli``, or through the SDK download when there is none."""
        db_file = data_root() / "temporal" / "temporal.db"
        db_file.parent.mkdir(parents=True, exist_ok=True)
        if cli is not None:
            log(f"starting the Temporal dev server ({cli}) on 127.0.0.1:{self.temporal_port}")
            argv = dev_server_command(
                cli,
                port=self.temporal_port,
                ui_port=self.temporal_ui_port,
                db_filename=db_file,
                namespace=self.namespace,
            )
            return await self.spawn("temporal", argv, dict(os.environ))
        log("no Temporal CLI found; trying the Temporal SDK's download of the dev server")
        try:
            self.sdk_server = await self.until_stopped(
                start_sdk_dev_server(
                    port=self.temporal_port,
                    ui_port=self.temporal_ui_port,
                    db_filename=db_file,
                    namespace=self.namespace,
                )
            )
        except Interrupted:
            raise
        except Exception as exc:
            log(f"the download failed: {exc}")
            raise StartupError(
                "No Temporal dev server is available: install Go 1.25+ (the Temporal CLI is then "
                "built once, automatically) or the Temporal CLI (on PATH, or set TEMPORAL_CLI)."
            ) from exc
        return None

    async def start(self) -> None:
        """Bring the whole stack up, or raise :class:`StartupError` / :class:`Interrupted`."""
        self.check_ports()
        python = sys.executable

        cli: Path | None = None
        if self.external_temporal is None:
            try:
                # Blocking (a first-time Go build takes minutes). Ctrl-C reaches `go` directly,
                # as it shares our terminal; the yield below lets our handler record the stop.
                cli = ensure_temporal_cli()
            except TemporalCliError as exc:
                await asyncio.sleep(0.05)
                self.raise_if_stopped()
                log(f"{exc} Falling back to the Temporal SDK's download.")
            await asyncio.sleep(0.05)
            self.raise_if_stopped()
            temporal = await self.start_temporal(cli)
        else:
            log(f"using the Temporal server at {self.external_temporal} (TEMPORAL_ADDRESS)")
            temporal = None

        log("starting PostgreSQL" if setting("DATABASE_URL") is None else "using DATABASE_URL")
        try:
            # Not interruptible on purpose: abandoning a half-started server would leak it.
            self.postgres = await asyncio.to_thread(ensure_postgres, data_root() / "postgres")
        except PostgresError as exc:
            raise StartupError(str(exc)) from exc
        self.raise_if_stopped()
        env = self.child_env()

        await self.run_step("migrate", [python, "-m", "db.migrate"], env)

        log(f"waiting for Temporal at {self.temporal_address}")
        try:
            await self.until_stopped(
                wait_for_temporal(
                    self.temporal_address,
                    self.namespace,
                    within=_STARTUP_TIMEOUT,
                    process=temporal.process if temporal else None,
                )
            )
        except (TimeoutError, RuntimeError) as exc:
            raise StartupError(f"Temporal is not available: {exc}.") from exc
        if self.external_temporal is None:
            # Our own dev server: closed orders stay visible for TEMPORAL_RETENTION (an external
            # server's namespace keeps the retention its operators gave it).
            try:
                retention = configured_retention()
            except ValueError as exc:
                raise StartupError(f"TEMPORAL_RETENTION: {exc}.") from exc
            days = retention.total_seconds() / 86400
            log(f"namespace {self.namespace} keeps closed workflows for {days:g} day(s)")
            await self.until_stopped(
                apply_retention(self.temporal_address, self.namespace, retention)
            )

        await self.run_step("seed", [python, "-m", "db.seed"], env)

        await self.spawn("carrier", [python, "-m", "carrier_sim"], self.carrier_env(env))
        await self.until_stopped(
            self.wait_for_health("carrier simulator", f"{self.carrier_sim_url}/healthz")
        )

        await self.spawn("worker", [python, "worker.py"], self.worker_env(env))
        if not is_loopback(self.api_host):
            log(
                f"API_HOST={self.api_host}: the API is open to other machines, with the demo "
                "passwords and, unless you set them, the built-in development secrets"
            )
        api_argv = [python, "-m", "uvicorn", "api.app:app", "--host", self.api_host]
        await self.spawn("api", [*api_argv, "--port", str(self.api_port)], env)
        await self.until_stopped(self.wait_for_health("API", f"{self.api_url}/healthz"))
        self.print_banner()

    async def wait_for_health(self, label: str, url: str) -> None:
        """Poll ``url`` until it answers 200; fail if any child dies meanwhile."""
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        async with httpx.AsyncClient(timeout=2.0) as client:
            while time.monotonic() < deadline:
                for child in self.children:
                    if child.process.returncode is not None:
                        raise StartupError(
                            f"The {child.name} process exited with code "
                            f"{child.process.returncode} during start-up; see its output above."
                        )
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(url)).status_code == 200:
                        return
                await asyncio.sleep(0.5)
        raise StartupError(f"The {label} did not answer {url} within {_STARTUP_TIMEOUT:.0f}s.")

    def print_banner(self) -> None:
        """Tell the user where everything is and how to log in."""
        ui = (
            f"http://localhost:{self.temporal_ui_port}"
            if self.external_temporal is None
            else f"(the UI of your Temporal server at {self.external_temporal})"
        )
        assert self.postgres is not None
        database = (
            f"embedded, data in {self.postgres.data_dir}"
            if self.postgres.embedded
            else "DATABASE_URL"
        )
        carrier = f"http://localhost:{self.carrier_sim_port}/shipments"
        if not self.worker_uses_simulator:
            carrier += " (unused: CARRIER is set)"
        lines = banner(
            api_url=self.api_url,
            api_reach=self.api_reach,
            temporal_ui=ui,
            database=database,
            carrier=carrier,
            worker_metrics=self.worker_metrics,
        )
        print("\n".join(lines), flush=True)

    # -- shutdown ---------------------------------------------------------------------------

    async def shutdown(self) -> None:
        """Stop everything we started: app processes, then Temporal, then PostgreSQL."""
        apps = [c for c in self.children if c.name != "temporal"]
        servers = [c for c in self.children if c.name == "temporal"]
        started_something = bool(self.children or self.sdk_server or self.postgres)
        if started_something:
            log("stopping")
        await asyncio.gather(*(terminate(c) for c in apps))
        await asyncio.gather(*(terminate(c) for c in servers))
        if self.sdk_server is not None:
            with contextlib.suppress(Exception):
                await self.sdk_server.shutdown()
            self.sdk_server = None
        self.children.clear()
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)
            self.postgres = None
        if started_something:
            log("stopped")


def _worker_metrics_address() -> str | None:
    """Where the worker will serve its metrics: WORKER_METRICS_ADDRESS, its default when unset,
    None when set empty (no metrics)."""
    if "WORKER_METRICS_ADDRESS" in os.environ:
        return os.environ["WORKER_METRICS_ADDRESS"].strip() or None
    return setting("WORKER_METRICS_ADDRESS") or DEFAULT_WORKER_METRICS_ADDRESS


async def _main() -> int:
    stack = DevStack()
    loop = asyncio.get_running_loop()

    def request_stop(*_: Any) -> None:
        stack.stop_requested.set()

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        loop.add_signal_handler(sig, request_stop)
    try:
        try:
            await stack.start()
        except StartupError as exc:
            print(f"devstack: {exc}", file=sys.stderr, flush=True)
            return 1
        except Interrupted:
            return 0
        await stack.supervise()
        return stack.exit_code
    finally:
        # A second Ctrl-C must not abandon the shutdown half-way.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.add_signal_handler(sig, lambda: log("already stopping, please wait"))
        await stack.shutdown()


def main() -> int:
    """Entry point of ``python -m devstack run``; returns the process exit code."""
    return asyncio.run(_main())
