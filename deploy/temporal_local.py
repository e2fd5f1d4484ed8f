"""Temporal Server on the project's PostgreSQL without Docker, for ``make deploy-check``: the
server and its SQL schema tool built with ``go install`` from the Go module proxy (the same
release as the compose file's images, 1.29.1), Temporal's schemas made by the same script as
compose's ``temporal-schema`` job, and a config file for a single node on free local ports.

The embedded PostgreSQL (pgserver) listens on a Unix socket only, which Temporal's
``postgres12`` plugin cannot reach (lib/pq sorts its connection settings, so a ``host=<socket>``
connection attribute loses to the TCP host, and Go rejects a percent-encoded socket path as a
host); :func:`listen_on_tcp` restarts it on a local TCP port as well, as in the compose file.

One difference from the compose file: pgserver's PostgreSQL lacks the ``btree_gin`` extension
that Temporal's PostgreSQL *visibility* schema needs, so here visibility (the store that lists
and counts workflows by search attribute) lives in a SQLite file, and only Temporal's main store
(histories, timers, task queues) is on PostgreSQL.
"""

from __future__ import annotations

import os
import random
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from devstack.paths import project_root
from devstack.temporal_cli import cache_dir

TEMPORAL_SERVER_VERSION = "v1.29.1"
#: What ``go install`` builds, by the binary's name.
PACKAGES = {
    "server": "go.temporal.io/server/cmd/server",
    "sql": "go.temporal.io/server/cmd/tools/sql",
}
SCHEMA_SCRIPT = Path("deploy") / "temporal-schema.sh"


class TemporalBuildError(RuntimeError):
    """The server or its schema tool is not there and could not be built; says the command."""


def binary_dir() -> Path:
    return cache_dir().parent / f"temporal-server-{TEMPORAL_SERVER_VERSION}"


def ensure_binaries() -> dict[str, Path]:
    """The server and SQL tool binaries, built once (minutes on two cores) and then cached."""
    target = binary_dir()
    paths = {name: target / name for name in PACKAGES}
    if all(path.is_file() for path in paths.values()):
        return paths
    go = shutil.which("go")
    if go is None:
        raise TemporalBuildError("Go is not installed: the Temporal server is built with it")
    target.mkdir(parents=True, exist_ok=True)
    argv = [go, "install", *(f"{pkg}@{TEMPORAL_SERVER_VERSION}" for pkg in PACKAGES.values())]
    print(f"deploy-check: building the Temporal server ({' '.join(argv[1:])}); once", flush=True)
    env = dict(os.environ, GOBIN=str(target), CGO_ENABLED="0")
    result = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise TemporalBuildError(
            f"GOBIN={target} {' '.join(argv)} failed ({result.returncode}): "
            f"{result.stderr.strip()[-2000:]}"
        )
    return paths


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def free_low_port() -> int:
    """A free port below 32768: Temporal's PostgreSQL schema keeps membership ports in a
    smallint, which the kernel's ephemeral ports (free_port) overflow."""
    rng = random.Random()
    while True:
        port = rng.randrange(20000, 32000)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port


@dataclass
class PostgresAccess:
    """How Temporal and the product reach the embedded PostgreSQL over TCP."""

    port: int
    user: str = "postgres"
    host: str = "127.0.0.1"

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://{self.user}@{self.host}:{self.port}/{database}"

    def schema_env(self, sql_tool: Path) -> dict[str, str]:
        """The environment of deploy/temporal-schema.sh (compose's temporal-schema job)."""
        return dict(
            os.environ,
            TEMPORAL_SQL_TOOL=str(sql_tool),
            POSTGRES_SEEDS=self.host,
            DB_PORT=str(self.port),
            POSTGRES_USER=self.user,
            POSTGRES_PWD="",
            # Only the main store: pgserver has no btree_gin for the visibility schema.
            TEMPORAL_SCHEMAS="temporal:temporal",
        )


def listen_on_tcp(data_dir: Path, socket_dir: Path, system_user: str | None) -> PostgresAccess:
    """Restart the embedded server in ``data_dir`` listening on a free 127.0.0.1 port too (its
    Unix socket stays in ``socket_dir``); pgserver's own start listens on the socket only."""
    from pgserver._commands import POSTGRES_BIN_PATH

    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    port = free_port()
    stop = [pg_ctl, "-D", str(data_dir), "-w", "-m", "fast", "stop"]
    start = [pg_ctl, "-D", str(data_dir), "-w", "-t", "120", "-l", str(data_dir / "log")]
    start += ["-o", f"-h 127.0.0.1 -p {port} -k {socket_dir}", "start"]
    for argv in (stop, start):
        result = subprocess.run(argv, user=system_user, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise TemporalBuildError(
                f"{' '.join(argv)} failed: {result.stderr.strip() or result.stdout.strip()}"
            )
    return PostgresAccess(port)


def create_schemas(access: PostgresAccess, sql_tool: Path, log: Path) -> None:
    """Temporal's databases and schemas, by the compose job's own script."""
    with log.open("ab") as out:
        result = subprocess.run(
            ["sh", str(project_root() / SCHEMA_SCRIPT)],
            env=access.schema_env(sql_tool),
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if result.returncode != 0:
        raise TemporalBuildError(f"sh {SCHEMA_SCRIPT} failed ({result.returncode}); see {log}")


@dataclass
class ServerConfig:
    """A single-node server's config file on free ports; ``frontend`` is the client address."""

    access: PostgresAccess
    visibility_db: Path
    ports: dict[str, int] = field(
        default_factory=lambda: {
            name: free_low_port()
            for name in (
                "frontend",
                "frontend_http",
                "frontend_members",
                "history",
                "history_members",
                "matching",
                "matching_members",
                "worker",
                "worker_members",
                "metrics",
            )
        }
    )

    @property
    def frontend(self) -> str:
        return f"127.0.0.1:{self.ports['frontend']}"

    def _store(self, database: str, max_conns: int) -> str:
        return f"""
      sql:
        pluginName: postgres12
        databaseName: {database}
        connectAddr: "{self.access.host}:{self.access.port}"
        connectProtocol: tcp
        user: {self.access.user}
        password: ""
        maxConns: {max_conns}
        maxIdleConns: {max_conns}
        maxConnLifetime: 1h"""

    def _service(self, name: str, http: bool = False) -> str:
        extra = f"\n      httpPort: {self.ports['frontend_http']}" if http else ""
        return f"""
  {name}:
    rpc:
      grpcPort: {self.ports[name]}
      membershipPort: {self.ports[f"{name}_members"]}
      bindOnLocalHost: true{extra}"""

    def render(self) -> str:
        services = "".join(
            self._service(name, http=name == "frontend")
            for name in ("frontend", "history", "matching", "worker")
        )
        return f"""log:
  stdout: true
  level: warn
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:{self._store("temporal", 20)}
    visibility:
      sql:
        pluginName: sqlite
        databaseName: "{self.visibility_db}"
        connectAddr: localhost
        connectProtocol: tcp
        connectAttributes:
          cache: private
          setup: true
          journal_mode: wal
          synchronous: 2
        maxConns: 1
        maxIdleConns: 1
        maxConnLifetime: 1h
global:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: 127.0.0.1
  metrics:
    prometheus:
      framework: tally
      listenAddress: 127.0.0.1:{self.ports["metrics"]}
services:{services}
clusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: {self.frontend}
dcRedirectionPolicy:
  policy: noop
"""

    def write(self, data_dir: Path) -> list[str]:
        """Write ``<data_dir>/temporal-config/deploy-check.yaml``; the server's arguments."""
        config_dir = data_dir / "temporal-config"
        config_dir.mkdir(parents=True, exist_ok=True)
        (config_dir / "deploy-check.yaml").write_text(self.render())
        return [
            "--root",
            str(data_dir),
            "--config",
            "temporal-config",
            "--env",
            "deploy-check",
            "--allow-no-auth",
            "start",
        ]
