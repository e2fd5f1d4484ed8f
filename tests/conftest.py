"""Test session: a real PostgreSQL and a real Temporal dev server, started once.

PostgreSQL is the embedded one in ``.data/postgres-test`` with a database created fresh for
each run (``TEST_DATABASE_URL`` points at another server instead); Temporal is the dev server
on a free port. Neither touches what ``make run`` uses, so both can run side by side. Each test
builds its own customers, products and users, so tests never share rows they change.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from aiosmtpd.controller import Controller
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.carriers import BuiltinCarrier
from api.app import create_app
from config import Settings
from db.migrate import upgrade_to_head
from db.session import create_engine, create_session_factory
from devstack.postgres import ensure_postgres
from devstack.temporal_cli import ensure_temporal_cli
from tests.factories import World, make_world
from tests.mail import Mailbox, free_port
from worker import build_worker, ensure_delivery_workflows, worker_activities, worker_engine
from workflows import search_attributes

LONG = timedelta(hours=1)
PROJECT_ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    configured = os.environ.get("TEST_DATABASE_URL")
    if configured:
        yield configured
        return
    # A database of its own per run, so two test runs never share or drop each other's rows.
    database = f"orderflow_test_{os.getpid()}"
    server = ensure_postgres(".data/postgres-test", "postgres", use_env=False)
    admin = server.url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {database}")
    url = server.url.replace("/postgres?", f"/{database}?", 1)
    upgrade_to_head(url)
    yield url
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
    server.stop()


@pytest.fixture(scope="session")
async def temporal_env() -> AsyncIterator[WorkflowEnvironment]:
    cli = ensure_temporal_cli()
    env = await WorkflowEnvironment.start_local(
        dev_server_existing_path=str(cli) if cli else None,
        search_attributes=search_attributes.ALL,
        dev_server_log_level="error",
    )
    yield env
    await env.shutdown()


@pytest.fixture(scope="session")
def mailbox() -> Iterator[Mailbox]:
    """The SMTP server every e-mail of the test session goes to."""
    box = Mailbox()
    smtp = Controller(box, hostname="127.0.0.1", port=free_port())
    smtp.start()
    box.port = smtp.port
    yield box
    smtp.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, mailbox: Mailbox) -> Settings:
    """Long review and receipt timers, so that only the tests about timers see them fire;
    notifications tried three times, 0.2 s then 0.4 s apart."""
    return Settings(
        database_url=database_url,
        task_queue=f"orders-test-{uuid.uuid4().hex[:8]}",
        jwt_secret="test-secret-of-thirty-two-characters",
        carrier_webhook_secret="test-carrier-secret",
        # The webhook receivers of the tests listen on 127.0.0.1.
        webhook_allow_private_targets=True,
        remind_after=LONG,
        escalate_after=LONG * 2,
        auto_confirm_after=LONG,
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        smtp_from="orders@orderflow.example.test",
        notification_max_attempts=3,
        notification_retry_initial=timedelta(seconds=0.2),
    )


@pytest.fixture(scope="session")
async def worker(temporal_env: WorkflowEnvironment, settings: Settings) -> AsyncIterator[Worker]:
    engine = worker_engine(settings)
    activities = worker_activities(create_session_factory(engine), BuiltinCarrier(), settings)
    worker = build_worker(temporal_env.client, settings, activities)
    async with worker:
        await ensure_delivery_workflows(temporal_env.client, settings)
        yield worker
    await engine.dispose()


@pytest.fixture(scope="session")
def temporal_client(temporal_env: WorkflowEnvironment) -> Client:
    return temporal_env.client


@asynccontextmanager
async def running_api(
    settings: Settings, client: Client, client_address: tuple[str, int] = ("127.0.0.1", 123)
) -> AsyncIterator[httpx.AsyncClient]:
    """The real app in-process, lifespan included, reached over an ASGI transport; its
    requests come from ``client_address``."""
    app = create_app(settings, client)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app, client=client_address)
        async with httpx.AsyncClient(transport=transport, base_url="http://api") as http:
            yield http


@pytest.fixture(scope="session")
async def api(
    settings: Settings, temporal_client: Client, worker: Worker
) -> AsyncIterator[httpx.AsyncClient]:
    async with running_api(settings, temporal_client) as http:
        yield http


@pytest.fixture
def api_with(settings: Settings, temporal_client: Client, worker: Worker) -> Any:
    """An API with other settings, e.g. ``api_with(remind_after=...)``; ``client_address=``
    makes its requests come from another address."""

    def build(client_address: tuple[str, int] = ("127.0.0.1", 123), **overrides: Any) -> Any:
        return running_api(settings.model_copy(update=overrides), temporal_client, client_address)

    return build


@pytest.fixture
async def world(api: httpx.AsyncClient, settings: Settings) -> AsyncIterator[World]:
    """A customer, products and one user per role, all unique to the calling test."""
    engine = create_engine(settings.sqlalchemy_url)
    try:
        yield await make_world(create_session_factory(engine), api, settings)
    finally:
        await engine.dispose()


class WorkerProcesses:
    """``python worker.py`` as separate processes on a task queue of their own, to be killed."""

    def __init__(self, settings: Settings, temporal_client: Client) -> None:
        self.task_queue = f"orders-process-{uuid.uuid4().hex[:8]}"
        self.env = {
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "TEMPORAL_ADDRESS": temporal_client.service_client.config.target_host,
            "TASK_QUEUE": self.task_queue,
            "CARRIER_WEBHOOK_SECRET": settings.carrier_webhook_secret,
            # Several run at once: none serves metrics unless a test gives it a free port.
            "WORKER_METRICS_ADDRESS": "",
        }
        self.started: list[subprocess.Popen[bytes]] = []

    def start(self, **env: str) -> subprocess.Popen[bytes]:
        """A worker with ``env`` over the test's."""
        return self._spawn(env, stderr=None)

    def start_logged(self, log: Path, **env: str) -> subprocess.Popen[bytes]:
        """The same, its log lines (written to stderr) going to the file ``log``."""
        with log.open("ab") as output:
            return self._spawn(env, stderr=output)

    def _spawn(self, env: dict[str, str], stderr: Any) -> subprocess.Popen[bytes]:
        process = subprocess.Popen(
            [sys.executable, "worker.py"], cwd=PROJECT_ROOT, env={**self.env, **env}, stderr=stderr
        )
        self.started.append(process)
        return process

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: no chance to finish an activity or report anything."""
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop_all(self) -> None:
        for process in self.started:
            if process.poll() is None:
                self.kill(process)


@pytest.fixture
def worker_process(settings: Settings, temporal_client: Client) -> Iterator[WorkerProcesses]:
    processes = WorkerProcesses(settings, temporal_client)
    yield processes
    processes.stop_all()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Replay runs last, so that it replays every order the other tests ran."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/test_replay.py"))
