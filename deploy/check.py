"""``make deploy-check``: the compose file's topology without Docker, from nothing to completed
orders, then a pass/fail table; everything it started is stopped at the end.

PostgreSQL (pgserver, a data directory of its own) -> Temporal's schemas (the compose job's
script with the ``go install``-ed schema tool) -> Temporal Server 1.29.1 on that PostgreSQL
(visibility in a SQLite file: see deploy/temporal_local.py)
-> the migrations -> the namespace, its retention and the search attributes (the compose
job's module) -> two workers and two API processes, awaited with the compose healthchecks'
own code -> the first admin (``python -m db.admin create-admin``) -> the people, a customer,
products and their stock through the API (deploy/first_data.py) -> a few orders driven to
COMPLETED through the API. Nothing is written to the product's database directly.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client

from bench.setup_data import STOCK_SKU
from chaos.client import API, ChaosClient
from chaos.scripts import Plan, new_run_id, run_script
from chaos.stack import CARRIER_SECRET, Part, Postgres, product_settings
from deploy import first_data, health
from deploy.temporal_local import (
    ServerConfig,
    TemporalBuildError,
    create_schemas,
    ensure_binaries,
    free_port,
    listen_on_tcp,
)
from deploy.temporal_setup import retention_from_env
from workflows import search_attributes

READY_WITHIN = 180.0  # seconds; two busy cores take a while to boot a server on PostgreSQL
PLANS = [
    Plan(0, "complete from stock", 1, 0),
    Plan(1, "complete made to order", 2, 0),
    Plan(2, "auto-confirmed", 1, 0),
    Plan(3, "complete from stock", 3, 0),
]


def say(message: str) -> None:
    print(f"deploy-check: {message}", flush=True)


@dataclass
class Check:
    name: str
    passed: bool
    detail: str = ""


@dataclass
class Deployment:
    data_dir: Path
    checks: list[Check] = field(default_factory=list)
    parts: list[Part] = field(default_factory=list)
    postgres: Postgres | None = None
    env: dict[str, str] = field(default_factory=dict)

    def log(self, name: str) -> Path:
        return self.data_dir / f"{name}.log"

    def record(self, name: str, passed: bool, detail: str = "") -> bool:
        self.checks.append(Check(name, passed, detail))
        say(f"{'PASS' if passed else 'FAIL'} {name}{f': {detail}' if detail else ''}")
        return passed

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> Part:
        part = Part(name, argv, env, self.log(name).open("ab"))
        part.start()
        self.parts.append(part)
        return part

    def run_module(self, module: str) -> bool:
        with self.log(module).open("ab") as out:
            result = subprocess.run(
                [sys.executable, "-m", module], env=self.env, stdout=out, stderr=out, check=False
            )
        return result.returncode == 0

    async def stop(self) -> None:
        """SIGTERM the API processes, the workers, then Temporal; stop PostgreSQL."""
        for part in reversed(self.parts):
            if part.process is None:
                continue
            with contextlib.suppress(ProcessLookupError):
                os.killpg(part.process.pid, signal.SIGTERM)
            try:
                await asyncio.to_thread(part.process.wait, 20)
            except subprocess.TimeoutExpired:
                part.kill()
            part.log.close()
        if self.postgres is not None:
            await asyncio.to_thread(self.postgres.stop)


async def eventually(probe: Callable[[], Awaitable[bool]], parts: list[Part]) -> str:
    """Wait until ``probe`` holds; "" when it does, else why not (timed out, a part exited)."""
    deadline = time.monotonic() + READY_WITHIN
    while time.monotonic() < deadline:
        for part in parts:
            if part.died() is not None:
                return f"{part.name} exited ({part.died()}); see {part.log.name}"
        with contextlib.suppress(Exception):
            if await probe():
                return ""
        await asyncio.sleep(0.5)
    return f"not within {READY_WITHIN:.0f} s"


def in_thread(check: Callable[[str], bool], url: str) -> Callable[[], Awaitable[bool]]:
    """A healthcheck of deploy.health (blocking urllib) as a probe for :func:`eventually`."""

    async def probe() -> bool:
        return await asyncio.to_thread(check, url)

    return probe


async def bring_up(deployment: Deployment) -> Client | None:
    """Every part in the compose file's order; None (with the failed check recorded) if one
    does not come up."""
    record = deployment.record
    try:
        binaries = await asyncio.to_thread(ensure_binaries)
    except TemporalBuildError as error:
        record("Temporal server and SQL tool built", False, str(error))
        return None
    record("Temporal server and SQL tool built", True, str(binaries["server"].parent))

    deployment.postgres = Postgres(deployment.data_dir)
    await asyncio.to_thread(deployment.postgres.start_first)
    server = deployment.postgres.handle.server if deployment.postgres.handle else None
    try:
        access = await asyncio.to_thread(
            listen_on_tcp,
            deployment.postgres.data_dir,
            deployment.postgres.socket_dir,
            server.system_user if server is not None else None,
        )
    except TemporalBuildError as error:
        record("PostgreSQL listens on TCP for Temporal", False, str(error))
        return None
    database_url = access.database_url("orderflow")
    for attempt in ("created", "run again, unchanged"):
        try:
            await asyncio.to_thread(
                create_schemas, access, binaries["sql"], deployment.log("temporal-schema")
            )
        except TemporalBuildError as error:
            record(f"Temporal schemas {attempt}", False, str(error))
            return None
        record(f"Temporal schemas {attempt} (deploy/temporal-schema.sh)", True)

    config = ServerConfig(access, deployment.data_dir / "temporal-visibility.db")
    server_args = config.write(deployment.data_dir)
    temporal = deployment.start("temporal", [str(binaries["server"]), *server_args], {**os.environ})

    async def serving() -> bool:
        client = await Client.connect(config.frontend)
        return bool(await client.service_client.check_health())

    why = await eventually(serving, [temporal])
    if not record("Temporal server serves on PostgreSQL", not why, why or config.frontend):
        return None

    deployment.env = {
        **os.environ,
        **product_settings("orders"),
        "DATABASE_URL": database_url,
        "TEMPORAL_ADDRESS": config.frontend,
        "TEMPORAL_NAMESPACE": "default",
        "PYTHONUNBUFFERED": "1",
        "ENVIRONMENT": "development",
    }
    if not record("migrations applied (python -m db.migrate)", deployment.run_module("db.migrate")):
        return None
    setup_ok = deployment.run_module("deploy.temporal_setup")
    if not record("namespace prepared (python -m deploy.temporal_setup)", setup_ok):
        return None
    client = await Client.connect(config.frontend, namespace="default")
    if not await namespace_is_prepared(deployment, client):
        return None

    python = sys.executable
    workers: list[tuple[Part, str]] = []
    for i in (1, 2):
        metrics = f"127.0.0.1:{free_port()}"
        env = {**deployment.env, "WORKER_METRICS_ADDRESS": metrics}
        part = deployment.start(f"worker-{i}", [python, "worker.py"], env)
        workers.append((part, f"http://{metrics}/metrics"))
    apis: list[tuple[Part, str]] = []
    for i in (1, 2):
        port = free_port()
        argv = [python, "-m", "uvicorn", "api.app:app", "--host", "127.0.0.1", "--port", str(port)]
        part = deployment.start(f"api-{i}", [*argv, "--log-level", "warning"], deployment.env)
        apis.append((part, f"http://127.0.0.1:{port}"))
    for part, url in workers:
        why = await eventually(in_thread(health.worker_polling, url), [part])
        if not record(f"{part.name} healthy (deploy.health worker)", not why, why):
            return None
    for part, url in apis:
        ready = f"{url}/readyz"
        why = await eventually(in_thread(health.api_ready, ready), [part])
        if not record(f"{part.name} ready (deploy.health api, /readyz)", not why, why):
            return None
    deployment.env["API_URLS"] = " ".join(url for _, url in apis)
    return client


async def namespace_is_prepared(deployment: Deployment, client: Client) -> bool:
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace="default")
    )
    retention = described.config.workflow_execution_retention_ttl.ToTimedelta()
    expected = retention_from_env()  # what the job was asked for (TEMPORAL_RETENTION)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace="default")
    )
    missing = [k.name for k in search_attributes.ALL if k.name not in listed.custom_attributes]
    return deployment.record(
        "retention and search attributes in place",
        retention == expected and not missing,
        f"retention {retention}, missing attributes: {', '.join(missing) or 'none'}",
    )


async def drive_orders(deployment: Deployment, client: Client) -> None:
    run_id = new_run_id()
    receive = sum(plan.quantity for plan in PLANS if plan.sku == STOCK_SKU)
    password = first_data.new_password()
    for attempt in ("created", "run again, unchanged"):
        bootstrap = await asyncio.to_thread(
            first_data.create_first_admin, deployment.env, password, deployment.log("db.admin")
        )
        if not deployment.record(
            f"first admin {attempt} (python -m db.admin create-admin)", bootstrap
        ):
            return
    placed: dict[str, Plan] = {}
    failures: list[str] = []
    async with httpx.AsyncClient(timeout=httpx.Timeout(60.0, connect=5.0)) as http:
        api = ChaosClient(http, deployment.env["API_URLS"].split(), CARRIER_SECRET)
        try:
            data = await first_data.create_through_api(api, password, run_id, receive)
        except first_data.FirstDataFailure as refused:
            deployment.record(
                "people, customer, products and stock made through the API", False, str(refused)
            )
            return
        deployment.record(
            "people, customer, products and stock made through the API",
            True,
            f"{len(data.usernames)} people by the admin, {data.stock_on_hand} units received",
        )

        async def one(plan: Plan) -> None:
            try:
                await run_script(api, plan, data.customer_id, run_id, placed)
            except Exception as error:  # name every failure in the summary
                failures.append(f"{plan.script}: {error}")

        await asyncio.gather(*(one(plan) for plan in PLANS))
        completed = [no for no in placed if (await api.get_order(no))["status"] == "COMPLETED"]
        ledger = await api.send("ledger", "GET", f"{API}/stock/ledger-check", role="ops")
    deployment.record(
        f"{len(PLANS)} orders driven to COMPLETED through the two APIs",
        len(completed) == len(PLANS) and not failures,
        ", ".join(sorted(completed)) + ("; " + "; ".join(failures) if failures else ""),
    )

    balanced = ledger.status_code == 200 and ledger.json()["balanced"] is True
    deployment.record(
        "stock ledger balanced (GET /stock/ledger-check)", balanced, "" if balanced else ledger.text
    )

    async def visible() -> bool:
        query = f"OrderStatus = 'COMPLETED' AND CustomerId = '{data.customer_id}'"
        count = await client.count_workflows(query)
        return count.count >= len(completed) > 0

    why = await eventually(visible, [])
    deployment.record("completed orders found by OrderStatus in visibility", not why, why)


async def run(keep: bool) -> int:
    data_dir = Path(tempfile.mkdtemp(prefix="deploy-check-"))
    deployment = Deployment(data_dir)
    say(f"logs and data in {data_dir}")
    try:
        client = await bring_up(deployment)
        if client is not None:
            await drive_orders(deployment, client)
            exited = [f"{p.name} ({p.died()})" for p in deployment.parts if p.died() is not None]
            deployment.record("no process exited on its own", not exited, ", ".join(exited))
    except Exception as error:  # the summary names it; the stack is stopped regardless
        deployment.record("deploy-check ran to the end", False, f"{type(error).__name__}: {error}")
    finally:
        await deployment.stop()
    passed = bool(deployment.checks) and all(check.passed for check in deployment.checks)
    print()
    for check in deployment.checks:
        print(f"  {'PASS' if check.passed else 'FAIL'}  {check.name}")
    print(f"\ndeploy-check: {'PASS' if passed else 'FAIL'}", flush=True)
    if passed and not keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        say(f"logs and data kept in {data_dir}")
    return 0 if passed else 1


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.check", description=__doc__)
    parser.add_argument("--keep", action="store_true", help="keep logs and data after a pass")
    return asyncio.run(run(parser.parse_args().keep))


if __name__ == "__main__":
    sys.exit(main())
