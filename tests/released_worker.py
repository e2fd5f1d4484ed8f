"""A released revision of the product, run from its own source as separate processes.

The upgrade test starts orders on the worker (and API) of a release, kills them, and lets
the current code finish those orders on the same Temporal and PostgreSQL. The release's
source comes out of this repository's git history with ``git archive``; its processes run
with this test session's interpreter and virtualenv, so only the project's own code differs.
"""

from __future__ import annotations

import asyncio
import io
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from pydantic import SecretStr
from temporalio.client import Client

from config import Settings
from tests.mail import free_port

# Release 1.0 of the order workflow: the order workflow exactly as 1.0 was released (its
# histories are tests/histories/1.0), with the activities, API and worker of that time.
# Point it at the commit a deployment actually runs when a newer release replaces it.
RELEASE_1_0 = "463f62e9c6d64a0243f07be430c3a817d99e4063"

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# How long a released process may take to start (imports, Temporal, PostgreSQL) on a busy CI.
START_TIMEOUT = 90.0


def settings_environment(settings: Settings) -> dict[str, str]:
    """Every setting as the environment variable a process reads it from, so that the
    released processes run with the test's timers, secrets and mail server (a setting left
    unset, None, takes the release's default)."""
    environment: dict[str, str] = {}
    for name, value in settings.model_dump().items():
        if value is None:
            continue
        if isinstance(value, timedelta):
            text = str(value.total_seconds())
        elif isinstance(value, SecretStr):
            text = value.get_secret_value()
        elif isinstance(value, bool):
            text = "true" if value else "false"
        else:
            text = str(value)
        environment[name.upper()] = text
    return environment


def extract_revision(revision: str, into: Path) -> None:
    """Write the source tree of ``revision`` into ``into``; fail the test, saying what is
    missing, when git or the commit is not there (a shallow clone lacks the history)."""
    git = shutil.which("git")
    if git is None:
        pytest.fail(
            f"the upgrade test needs git to extract the released revision {revision}: "
            "install git and run the tests from a clone of the repository",
            pytrace=False,
        )
    known = subprocess.run(
        [git, "-C", str(PROJECT_ROOT), "cat-file", "-e", f"{revision}^{{commit}}"],
        capture_output=True,
    )
    if known.returncode != 0:
        pytest.fail(
            f"the released revision {revision} is not in the git history at {PROJECT_ROOT} "
            f"({known.stderr.decode(errors='replace').strip() or 'not a git repository?'}); "
            "run the tests from a full clone (git fetch --unshallow), or update RELEASE_1_0 in "
            "tests/released_worker.py",
            pytrace=False,
        )
    archive = subprocess.run(
        [git, "-C", str(PROJECT_ROOT), "archive", "--format=tar", revision],
        capture_output=True,
        check=True,
    )
    into.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(archive.stdout)) as tar:
        tar.extractall(into, filter="data")


class ReleasedApi(NamedTuple):
    process: subprocess.Popen[bytes]
    base_url: str


class ReleasedRevision:
    """The worker and API of one released revision, started from its extracted source on a
    task queue of their own, against the test session's Temporal and PostgreSQL."""

    def __init__(self, revision: str, source: Path, logs: Path, environment: dict[str, str]):
        self.revision = revision
        self.source = source
        self.logs = logs
        self.task_queue = f"orders-released-{uuid.uuid4().hex[:8]}"
        self.environment = {
            **os.environ,
            **environment,
            "TASK_QUEUE": self.task_queue,
            # Nothing else may be listening where the worker would serve its metrics.
            "WORKER_METRICS_ADDRESS": "",
        }
        self.started: list[subprocess.Popen[bytes]] = []
        self._imports_checked = False

    async def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        """``python worker.py`` of the release, with ``env`` over the test's settings;
        returns once it polls its task queue."""
        log = self.logs / f"worker-{len(self.started)}.log"
        process = self._spawn([sys.executable, "worker.py"], log, env)

        async def polling() -> bool:
            return "polling " in _log_text(log)

        await self._until("worker.py", process, log, polling)
        return process

    async def start_api(self, **env: str) -> ReleasedApi:
        """The release's API (uvicorn) on a free loopback port, once it answers ready
        (PostgreSQL and Temporal reachable)."""
        port = free_port()
        log = self.logs / f"api-{len(self.started)}.log"
        command = ["-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
        process = self._spawn([sys.executable, *command], log, env)
        base_url = f"http://127.0.0.1:{port}"

        async def ready() -> bool:
            async with httpx.AsyncClient(base_url=base_url) as http:
                try:
                    return (await http.get("/readyz")).status_code == 200
                except httpx.TransportError:
                    return False

        await self._until("the API", process, log, ready)
        return ReleasedApi(process, base_url)

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: the process ends at once, whatever it was doing, as in a crash."""
        process.send_signal(signal.SIGKILL)
        process.wait()

    @staticmethod
    def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> None:
        """SIGTERM, as a deployment stops a process: a worker finishes its running tasks."""
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            ReleasedRevision.kill(process)

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                self.kill(process)

    def _spawn(self, command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
        self._check_imports_come_from_the_release()
        with log.open("ab") as output:
            process = subprocess.Popen(
                command,
                cwd=self.source,
                env={**self.environment, **env},
                stdout=output,
                stderr=subprocess.STDOUT,
            )
        self.started.append(process)
        return process

    def _check_imports_come_from_the_release(self) -> None:
        """The project is installed in the virtualenv in editable mode: make sure that a
        process started in the release's tree imports the release's modules, not the current
        ones (else the test would compare the current code with itself)."""
        if self._imports_checked:
            return
        probe = "import importlib.util as u; print(u.find_spec('workflows').origin)"
        found = subprocess.run(
            [sys.executable, "-c", probe],
            cwd=self.source,
            env=self.environment,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        assert Path(found).resolve().is_relative_to(self.source.resolve()), (
            f"a process in {self.source} imports the workflows from {found}, not the release's"
        )
        self._imports_checked = True

    @staticmethod
    async def _until(
        name: str,
        process: subprocess.Popen[bytes],
        log: Path,
        ready: Callable[[], Awaitable[bool]],
    ) -> None:
        """Poll ``ready`` until it holds; fail with the process's log if the process ends
        first or START_TIMEOUT passes."""
        deadline = asyncio.get_running_loop().time() + START_TIMEOUT
        while True:
            if await ready():
                return
            if process.poll() is not None or asyncio.get_running_loop().time() > deadline:
                state = (
                    f"exited with {process.returncode}"
                    if process.poll() is not None
                    else f"was not ready after {START_TIMEOUT:.0f} s"
                )
                pytest.fail(
                    f"{name} of the release {state}; its log:\n{_log_text(log)[-4000:]}",
                    pytrace=False,
                )
            await asyncio.sleep(0.2)


def _log_text(log: Path) -> str:
    return log.read_text(errors="replace") if log.exists() else ""


@pytest.fixture
def released_1_0(
    tmp_path: Path, settings: Settings, temporal_client: Client
) -> Iterator[ReleasedRevision]:
    """Release 1.0 extracted into the test's own directory; every process it started is
    killed when the test ends."""
    source = tmp_path / "release-1.0"
    extract_revision(RELEASE_1_0, source)
    logs = tmp_path / "logs"
    logs.mkdir()
    environment = {
        **settings_environment(settings),
        "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
        "TEMPORAL_NAMESPACE": temporal_client.namespace,
    }
    released = ReleasedRevision(RELEASE_1_0, source, logs, environment)
    yield released
    released.stop_all()
