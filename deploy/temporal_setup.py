"""``python -m deploy.temporal_setup``: the one-shot job that prepares the Temporal namespace
before any API or worker starts: the namespace exists, keeps closed workflows for
``TEMPORAL_RETENTION`` (``30d``, ``720h``...; the product's default is 30 days, Temporal's own
is one day), and knows the
order search attributes (:data:`workflows.search_attributes.ALL`).

docker-compose runs it once (service ``temporal-setup``) and starts the API and the workers only
after it succeeded, so the workers no longer race each other to register the attributes;
``make deploy-check`` runs the same code. Running it again changes nothing that is already right.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time
from datetime import timedelta

from google.protobuf.duration_pb2 import Duration
from temporalio.api.enums.v1 import IndexedValueType
from temporalio.api.namespace.v1 import NamespaceConfig
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.api.workflowservice.v1 import (
    DescribeNamespaceRequest,
    RegisterNamespaceRequest,
    UpdateNamespaceRequest,
)
from temporalio.client import Client
from temporalio.common import SearchAttributeIndexedValueType
from temporalio.service import RPCError, RPCStatusCode

from config import Settings, parse_retention
from workflows import search_attributes

logger = logging.getLogger("temporal-setup")

# How long the job waits for a server that is still starting; a namespace just registered also
# reaches the frontend's cache only within Temporal's refresh interval (about 10 s), and until
# then adding attributes to it answers "not found".
READY_WITHIN_SECONDS = 180.0


async def ensure_search_attributes(client: Client, namespace: str) -> list[str]:
    """Register the order search attributes the namespace does not have yet; their names."""
    existing = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    missing = {
        key.name: IndexedValueType.ValueType(
            SearchAttributeIndexedValueType(key.indexed_value_type).value
        )
        for key in search_attributes.ALL
        if key.name not in existing.custom_attributes
    }
    if missing:
        await client.operator_service.add_search_attributes(
            AddSearchAttributesRequest(namespace=namespace, search_attributes=missing)
        )
    return sorted(missing)


async def ensure_namespace(client: Client, namespace: str, retention: timedelta) -> str:
    """The namespace exists with ``retention``; what was done ("registered", "updated", "kept")."""
    period = Duration()
    period.FromTimedelta(retention)
    try:
        described = await client.workflow_service.describe_namespace(
            DescribeNamespaceRequest(namespace=namespace)
        )
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        await client.workflow_service.register_namespace(
            RegisterNamespaceRequest(
                namespace=namespace, workflow_execution_retention_period=period
            )
        )
        return "registered"
    if described.config.workflow_execution_retention_ttl.ToTimedelta() == retention:
        return "kept"
    await client.workflow_service.update_namespace(
        UpdateNamespaceRequest(
            namespace=namespace, config=NamespaceConfig(workflow_execution_retention_ttl=period)
        )
    )
    return "updated"


async def set_up(address: str, namespace: str, retention: timedelta) -> None:
    """Connect (waiting for the server), then the namespace, its retention and the attributes."""
    deadline = time.monotonic() + READY_WITHIN_SECONDS
    outcome = ""  # what the first successful namespace step did ("kept" on a retry after it)
    while True:
        try:
            client = await Client.connect(address, namespace=namespace)
            done = await ensure_namespace(client, namespace, retention)
            outcome = outcome or done
            added = await ensure_search_attributes(client, namespace)
        except (RuntimeError, RPCError) as error:
            if time.monotonic() > deadline:
                raise
            logger.info("Temporal at %s not ready (%s); trying again", address, error)
            await asyncio.sleep(2.0)
            continue
        logger.info(
            "namespace %s %s with retention %s; search attributes added: %s",
            namespace,
            outcome,
            retention,
            ", ".join(added) or "none (all present)",
        )
        return


def retention_from_env() -> timedelta:
    """TEMPORAL_RETENTION in the form the settings take it, else the settings' default."""
    raw = os.environ.get("TEMPORAL_RETENTION", "").strip()
    if not raw:
        default: timedelta = Settings.model_fields["temporal_retention"].default
        return default
    try:
        return parse_retention(raw)
    except ValueError as error:
        raise SystemExit(f"TEMPORAL_RETENTION: {error}") from None


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(name)s %(levelname)s %(message)s")
    address = os.environ.get("TEMPORAL_ADDRESS", "localhost:7233")
    namespace = os.environ.get("TEMPORAL_NAMESPACE", "default")
    try:
        asyncio.run(set_up(address, namespace, retention_from_env()))
    except (RuntimeError, RPCError) as error:
        logger.error("could not prepare namespace %s at %s: %s", namespace, address, error)
        return 1
    return 0


if __name__ == "__main__":
    code = main()
    # End without the interpreter's finalization, as worker.py does: a Temporal SDK core thread
    # calling into Python while it finalizes crashes the process ("PyGILState_Release"), which
    # would turn a job that succeeded into a failed one.
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
