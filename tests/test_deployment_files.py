"""The deployment files say what a clean start needs. No Docker engine runs here, so these
tests read docker-compose.yml and the Dockerfile rather than starting them; `make
deploy-check` runs the same topology without Docker, and the set-up job's code runs below
against the real Temporal dev server."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import yaml
from temporalio.api.operatorservice.v1 import ListSearchAttributesRequest
from temporalio.api.workflowservice.v1 import DescribeNamespaceRequest
from temporalio.client import Client
from temporalio.testing import WorkflowEnvironment

from deploy.temporal_setup import set_up
from workflows import search_attributes

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def waits_for(service: dict[str, Any], other: str, condition: str) -> bool:
    return bool(service.get("depends_on", {}).get(other, {}).get("condition") == condition)


def test_the_namespace_is_prepared_once_before_the_api_and_workers_start() -> None:
    every = services()
    setup = every["temporal-setup"]
    assert setup["command"] == ["python", "-m", "deploy.temporal_setup"]
    assert setup["restart"] == "no"
    assert "TEMPORAL_RETENTION" in setup["environment"]
    for name in ("api", "worker"):
        assert waits_for(every[name], "temporal-setup", "service_completed_successfully"), name
        assert waits_for(every[name], "migrate", "service_completed_successfully"), name


def test_temporal_runs_from_its_server_image_on_schemas_made_by_admin_tools() -> None:
    every = services()
    images = [service.get("image", "") for service in every.values()]
    assert not any("auto-setup" in image for image in images)
    assert "temporalio/server:1.29.1" in every["temporal"]["image"]
    schema = every["temporal-schema"]
    assert "temporalio/admin-tools:1.29.1" in schema["image"]
    assert schema["entrypoint"] == ["sh", "/deploy/temporal-schema.sh"]
    assert any(v.startswith("./deploy/temporal-schema.sh:") for v in schema["volumes"])
    assert (ROOT / "deploy" / "temporal-schema.sh").is_file()
    assert waits_for(every["temporal"], "temporal-schema", "service_completed_successfully")


def test_nobody_reaches_temporal_past_the_api() -> None:
    every = services()
    assert "ports" not in every["temporal"]
    ui = every["temporal-ui"]
    assert ui["environment"]["TEMPORAL_DISABLE_WRITE_ACTIONS"] == "true"
    assert all(str(port).startswith("127.0.0.1:") for port in ui.get("ports", []))


def test_the_api_and_the_workers_have_healthchecks() -> None:
    every = services()
    api_check = every["api"]["healthcheck"]["test"]
    assert api_check[-1].endswith("/readyz")
    assert api_check[:5] == ["CMD", "python", "-m", "deploy.health", "api"]
    worker = every["worker"]
    worker_check = worker["healthcheck"]["test"]
    assert worker_check[:5] == ["CMD", "python", "-m", "deploy.health", "worker"]
    # The check reads the port the worker serves its metrics on.
    metrics_port = worker["environment"]["WORKER_METRICS_ADDRESS"].rsplit(":", 1)[1]
    assert f":{metrics_port}/metrics" in worker_check[-1]
    assert worker["deploy"]["replicas"] == 2


def test_development_email_goes_to_the_smtp_catcher() -> None:
    every = services()
    assert "mailpit" in every["mailpit"]["image"]
    env = every["api"]["environment"]
    assert env["SMTP_HOST"] == "${SMTP_HOST:-mailpit}"
    assert env["SMTP_PORT"] == "${SMTP_PORT:-1025}"
    assert every["worker"]["environment"] == env


def test_the_image_is_built_once_with_dependencies_before_the_source() -> None:
    every = services()
    built = {name: s for name, s in every.items() if "build" in s}
    assert {s["image"] for s in built.values()} == {"orderflow:latest"}
    assert {"api", "worker", "migrate", "temporal-setup"} <= set(built)
    steps = [line.strip() for line in (ROOT / "Dockerfile").read_text().splitlines()]
    copy_manifest = steps.index("COPY pyproject.toml ./")
    install_deps = next(i for i, s in enumerate(steps) if "pip install -r" in s)
    copy_source = steps.index("COPY . .")
    install_source = next(i for i, s in enumerate(steps) if "pip install --no-deps ." in s)
    assert copy_manifest < install_deps < copy_source < install_source


async def test_the_setup_job_registers_the_namespace_retention_and_search_attributes(
    temporal_env: WorkflowEnvironment,
) -> None:
    address = temporal_env.client.service_client.config.target_host
    namespace = f"setup-{uuid.uuid4().hex[:8]}"
    await set_up(address, namespace, timedelta(days=30))
    # Run again with another retention, as after a change of TEMPORAL_RETENTION.
    await set_up(address, namespace, timedelta(days=7))

    client = await Client.connect(address, namespace=namespace)
    described = await client.workflow_service.describe_namespace(
        DescribeNamespaceRequest(namespace=namespace)
    )
    assert described.config.workflow_execution_retention_ttl.ToTimedelta() == timedelta(days=7)
    listed = await client.operator_service.list_search_attributes(
        ListSearchAttributesRequest(namespace=namespace)
    )
    assert {key.name for key in search_attributes.ALL} <= set(listed.custom_attributes)
