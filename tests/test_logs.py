"""Log lines of the API and the worker: JSON objects, one per line, each carrying the request
id and the order number where there is one, so that one order can be followed across both."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import httpx
import pytest
from temporalio import workflow
from temporalio.client import Client
from temporalio.worker import Worker

from config import Settings
from logs import JsonFormatter, TextFormatter
from tests.conftest import PROJECT_ROOT, WorkerProcesses
from tests.factories import World, eventually
from tests.mail import free_port

Line = dict[str, Any]


def parsed(handler_output: io.StringIO) -> list[Line]:
    return [json.loads(text) for text in handler_output.getvalue().splitlines()]


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger's lines in JSON while the test runs, INFO and up."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        yield out
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


async def test_api_lines_carry_the_request_id_and_the_order_number(
    world: World, captured: io.StringIO
) -> None:
    created = await world.create_order()
    assert created.status_code == 201
    order_no = created.json()["order_no"]
    read = await world.api.get(f"/api/v1/orders/{order_no}", headers=world["sales"].headers)
    assert read.status_code == 200

    lines = parsed(captured)
    access = [line for line in lines if line["logger"] == "api.access"]
    by_request = {line["request_id"]: line for line in access}
    entry = by_request[created.headers["X-Request-ID"]]
    # The entry learns its order number from the order it created.
    assert entry["order_no"] == order_no
    assert (entry["method"], entry["route"], entry["status"]) == ("POST", "/api/v1/orders", 201)
    reading = by_request[read.headers["X-Request-ID"]]
    assert reading["order_no"] == order_no
    assert reading["route"] == "/api/v1/orders/{order_no}"
    assert reading["path"] == f"/api/v1/orders/{order_no}"
    assert reading["duration_ms"] >= 0
    assert {"time", "level", "logger", "message"} <= reading.keys()
    assert reading["time"].endswith("Z")


async def test_the_worker_activity_lines_carry_the_order_number(
    world: World, captured: io.StringIO
) -> None:
    order_no = await world.new_order()
    await world.wait_for(order_no, "UNDER_REVIEW")

    async def read() -> list[Line]:
        return [line for line in parsed(captured) if line.get("order_no") == order_no]

    lines = await eventually(read, lambda found: any("duration_ms" in line for line in found))
    done = next(line for line in lines if "duration_ms" in line)
    assert done["logger"] == "temporalio.activity"
    assert done["temporal_activity"]["workflow_id"] == f"order-{order_no}"
    assert done["message"].startswith(done["temporal_activity"]["activity_type"])


@workflow.defn(sandboxed=False)
class LoggingProbe:
    """A workflow that writes one line through the SDK's workflow logger."""

    @workflow.run
    async def run(self) -> None:
        workflow.logger.info("checking the order")


async def test_workflow_lines_carry_the_order_number_of_their_workflow_id(
    temporal_client: Client, captured: io.StringIO
) -> None:
    task_queue = f"logs-{uuid.uuid4().hex[:8]}"
    order_no = f"SO-2026-{uuid.uuid4().int % 10**6:06d}"
    async with Worker(
        temporal_client,
        task_queue=task_queue,
        workflows=[LoggingProbe],
    ):
        await temporal_client.execute_workflow(
            LoggingProbe.run, id=f"order-{order_no}", task_queue=task_queue
        )
    [line] = [line for line in parsed(captured) if line["message"].startswith("checking")]
    assert line["order_no"] == order_no
    assert line["logger"] == "temporalio.workflow"


def test_text_lines_are_readable_and_keep_the_context() -> None:
    record = logging.LogRecord("api.access", logging.INFO, __file__, 1, "GET / 200", None, None)
    record.request_id, record.order_no = "abc123", "SO-2026-000001"
    text = TextFormatter().format(record)
    assert text.endswith("api.access INFO GET / 200 [request_id=abc123 order_no=SO-2026-000001]")
    line = json.loads(JsonFormatter().format(record))
    assert (line["request_id"], line["order_no"]) == ("abc123", "SO-2026-000001")


def test_an_exception_is_one_json_line_with_its_traceback() -> None:
    try:
        raise RuntimeError("the carrier hung up")
    except RuntimeError:
        record = logging.getLogger("worker").makeRecord(
            "worker", logging.ERROR, __file__, 1, "booking failed", (), sys.exc_info()
        )
    text = JsonFormatter().format(record)
    assert "\n" not in text
    line = json.loads(text)
    assert "RuntimeError: the carrier hung up" in line["exception"]


# ---------------------------------------------------------------- the processes themselves


def _start(argv: list[str], env: dict[str, str], out: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, *argv], cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
    )


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _json_lines(path: Path) -> list[Line]:
    """Every line the process wrote; each must be a JSON object."""
    return [json.loads(text) for text in path.read_text().splitlines() if text.strip()]


async def test_the_processes_write_json_that_follows_one_order_across_both(
    world: World,
    settings: Settings,
    temporal_client: Client,
    worker_process: WorkerProcesses,
    tmp_path: Path,
) -> None:
    """``uvicorn api.app:app`` and ``python worker.py`` as deployed: every line of both is
    JSON, uvicorn's own included, and the order's number is on the API's lines and on the
    worker's."""
    env = {
        **worker_process.env,
        "JWT_SECRET": settings.jwt_secret,
        "LOG_FORMAT": "json",
    }
    env.pop("ENVIRONMENT", None)
    port = free_port()
    api_log, worker_log = tmp_path / "api.log", tmp_path / "worker.log"
    with api_log.open("wb") as api_out, worker_log.open("wb") as worker_out:
        api = _start(["-m", "uvicorn", "api.app:app", "--port", str(port)], env, api_out)
        worker = _start(["worker.py"], env, worker_out)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

                async def health() -> int:
                    try:
                        return (await http.get("/healthz")).status_code
                    except httpx.HTTPError:
                        return 0

                await eventually(health, lambda status: status == 200, timeout=60)
                world.api = http
                order_no = await world.new_order()
                order = await world.wait_for(order_no, "UNDER_REVIEW")
                assert order["order_no"] == order_no

                def worker_lines() -> list[Line]:
                    return [
                        line for line in _json_lines(worker_log) if line.get("order_no") == order_no
                    ]

                async def read() -> list[Line]:
                    return await asyncio.to_thread(worker_lines)

                on_worker = await eventually(read, lambda lines: len(lines) >= 2)
        finally:
            _stop(api)
            _stop(worker)

    api_lines = _json_lines(api_log)
    assert any(line["logger"].startswith("uvicorn") for line in api_lines)
    on_api = [line for line in api_lines if line.get("order_no") == order_no]
    assert {line["route"] for line in on_api} >= {"/api/v1/orders", "/api/v1/orders/{order_no}"}
    assert all(len(line["request_id"]) == 32 for line in on_api)
    assert {line["logger"] for line in on_worker} >= {"temporalio.activity"}
    # In JSON the SDK's details are fields, not repeated in the message.
    assert all("workflow_id" not in line["message"] for line in on_worker)
    assert any(line["message"].startswith("polling ") for line in _json_lines(worker_log))
