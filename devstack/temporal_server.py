"""The local Temporal dev server: its command line, readiness check and SDK fallback.

``make run`` and the test suite both start ``temporal server start-dev``; keeping the command
line here means they register the same search attributes the workflows rely on (see DESIGN.md:
ops find orders in the Temporal UI by ``OrderStatus``, ``CustomerId`` and so on).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest, UpdateNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from config import Settings, parse_retention
from devstack.paths import setting

#: The custom search attributes every order workflow keeps current, with their Temporal types.
SEARCH_ATTRIBUTES: dict[str, str] = {
    "OrderStatus": "Keyword",
    "CustomerId": "Keyword",
    "OrderTotal": "Double",
    "ReviewLevel": "Int",
    "Escalated": "Bool",
    "CustomerCode": "Keyword",
    "StatusSince": "Datetime",
    "WaitingOn": "Keyword",
}


def search_attribute_args() -> list[str]:
    """``--search-attribute NAME=Type`` flags registering :data:`SEARCH_ATTRIBUTES` at start."""
    args: list[str] = []
    for name, kind in SEARCH_ATTRIBUTES.items():
        args += ["--search-attribute", f"{name}={kind}"]
    return args


def dev_server_command(
    cli: Path,
    *,
    port: int,
    ui_port: int | None,
    db_filename: Path | None,
    ip: str = "127.0.0.1",
    namespace: str = "default",
    log_level: str = "warn",
) -> list[str]:
    """The argv of ``temporal server start-dev`` for our product.

    ``db_filename`` persists workflows across restarts (``None`` keeps them in memory, which suits
    throw-away test servers); ``ui_port=None`` disables the Web UI.
    """
    argv = [str(cli), "server", "start-dev", "--ip", ip, "--port", str(port)]
    argv += ["--headless"] if ui_port is None else ["--ui-port", str(ui_port)]
    if db_filename is not None:
        argv += ["--db-filename", str(db_filename)]
    argv += ["--namespace", namespace, "--log-level", log_level]
    return argv + search_attribute_args()


async def wait_for_temporal(
    address: str,
    namespace: str = "default",
    *,
    within: float = 60.0,
    process: asyncio.subprocess.Process | None = None,
) -> None:
    """Wait until the server at ``address`` serves ``namespace``.

    Gives up with :class:`TimeoutError` after ``within`` seconds, or with :class:`RuntimeError`
    as soon as ``process`` (the server we started, if any) exits.
    """
    deadline = time.monotonic() + within
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        if process is not None and process.returncode is not None:
            raise RuntimeError(f"the Temporal dev server exited with code {process.returncode}")
        try:
            client = await asyncio.wait_for(Client.connect(address, namespace=namespace), 5)
            await client.workflow_service.describe_namespace(
                DescribeNamespaceRequest(namespace=namespace)
            )
            return
        except Exception as exc:  # not up yet: connection refused, namespace not created...
            last_error = exc
        await asyncio.sleep(0.5)
    raise TimeoutError(f"Temporal at {address} not ready after {within:.0f}s: {last_error}")


def configured_retention() -> timedelta:
    """``TEMPORAL_RETENTION`` (environment or ``.env``), else the product's default of 30 days;
    :class:`ValueError` when it is malformed."""
    raw = setting("TEMPORAL_RETENTION")
    if raw is None:
        default: timedelta = Settings.model_fields["temporal_retention"].default
        return default
    return parse_retention(raw)


async def apply_retention(address: str, namespace: str, retention: timedelta) -> None:
    """Keep closed workflows in ``namespace`` for ``retention``: the dev server creates its
    namespaces with one day, and has no flag to change that."""
    client = await Client.connect(address, namespace=namespace)
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace,
            config=NamespaceConfig(
                workflow_execution_retention_ttl=Duration(seconds=int(retention.total_seconds()))
            ),
        )
    )


async def start_sdk_dev_server(
    *,
    port: int,
    ui_port: int | None,
    db_filename: Path | None,
    namespace: str = "default",
    extra_args: Sequence[str] = (),
) -> WorkflowEnvironment:
    """Start the dev server through the Temporal SDK, which downloads the CLI (needs internet).

    This is the last resort when no CLI binary is available and none can be built.
    """
    return await WorkflowEnvironment.start_local(
        namespace=namespace,
        ip="127.0.0.1",
        port=port,
        ui=ui_port is not None,
        ui_port=ui_port,
        dev_server_database_filename=str(db_filename) if db_filename is not None else None,
        dev_server_log_level="warn",
        dev_server_extra_args=[*search_attribute_args(), *extra_args],
    )
