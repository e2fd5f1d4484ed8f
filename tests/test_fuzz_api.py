"""Schemathesis against the API's own OpenAPI document, as every role and as nobody.

For every operation and every caller, a bounded number of generated requests that fit the
schema and of ones that do not, each checked for: no server error, a documented status code,
a documented content type, and a body that conforms to the documented schema. The count is
bounded and the generation seeded, so a run takes the same time and the same path each
time; a failure prints the operation, the caller and how to reproduce it.

The app is served on a loopback port inside the test session's event loop, next to the
worker, while schemathesis sends its requests from a thread. What a caller may change is
kept in this test's own reach: the approval policy in force is put back if a generated one
happened to be consistent, and every webhook a generated request subscribed points at a
closed loopback port and is switched off at the end.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import update
from temporalio.client import Client

from api.app import create_app
from config import Settings
from db.models import WebhookSubscription
from tests.factories import World
from tests.live import serve

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Generated requests per operation, caller and mode: the suite's time bound.
EXAMPLES = {GenerationMode.POSITIVE: 6, GenerationMode.NEGATIVE: 4}
CALLERS = (
    "nobody",
    "sales",
    "sup",
    "mgr",
    "dir",
    "fin",
    "prod",
    "log",
    "ops",
    "admin",
    "customer",
)
# Nothing listens here: a webhook a generated request subscribes is never delivered anywhere.
CLOSED_PORT_URL = "http://127.0.0.1:9/fuzz"
REQUEST_TIMEOUT_SECONDS = 30


@dataclass
class FuzzReport:
    cases: dict[str, int] = field(default_factory=lambda: {mode.value: 0 for mode in EXAMPLES})
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.cases.values())


def _keep_webhooks_on_loopback(case: Case) -> None:
    if case.operation.path.endswith("/webhooks") and isinstance(case.body, dict):
        case.body["url"] = CLOSED_PORT_URL


class Fuzzer:
    """Sends generated cases to the server at ``base_url`` and checks each answer."""

    def __init__(self, base_url: str, tokens: dict[str, str | None]) -> None:
        self.base_url = base_url
        self.tokens = tokens
        self.session = requests.Session()
        self.report = FuzzReport()

    def run(self) -> FuzzReport:
        """Every operation, as every caller, in both modes; blocking, so run it in a thread."""
        started = time.monotonic()
        schema = schemathesis.openapi.from_url(f"{self.base_url}/openapi.json")
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise result.err()
            operation = result.ok()
            for caller in CALLERS:
                for mode in EXAMPLES:
                    self._examples(operation, caller, mode)
        self.report.seconds = time.monotonic() - started
        return self.report

    def _examples(self, operation: Any, caller: str, mode: GenerationMode) -> None:
        """``EXAMPLES[mode]`` cases, the same ones every run, other ones for every caller."""

        @hypothesis.seed(zlib.crc32(f"{operation.label} {caller} {mode.value}".encode()))
        @hypothesis.settings(
            max_examples=EXAMPLES[mode],
            deadline=None,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
        def examples(case: Case) -> None:
            self._send(case, caller, mode)

        try:
            examples()
        except hypothesis.errors.Unsatisfiable:
            # Nothing about the operation can be wrong (no parameters, no body): no negative case.
            assert mode is GenerationMode.NEGATIVE

    def _send(self, case: Case, caller: str, mode: GenerationMode) -> None:
        _keep_webhooks_on_loopback(case)
        token = self.tokens[caller]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self.report.cases[mode.value] += 1
        response = case.call(
            base_url=self.base_url,
            session=self.session,
            headers=headers,
            timeout=REQUEST_TIMEOUT_SECONDS,
        )
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (AssertionError, FailureGroup) as failure:
            self.report.failures.append(f"{case.operation.label} as {caller}:\n{failure}")


async def current_policy(world: World) -> dict[str, Any]:
    response = await world.api.get("/api/v1/approval-policy", headers=world["ops"].headers)
    assert response.status_code == 200, response.text
    policy: dict[str, Any] = response.json()
    return policy


async def test_the_api_keeps_its_contract_under_generated_requests(
    world: World, settings: Settings, temporal_client: Client
) -> None:
    policy_before = await current_policy(world)
    tokens: dict[str, str | None] = {
        caller: world[caller].headers["Authorization"].removeprefix("Bearer ")
        for caller in CALLERS
        if caller != "nobody"
    }
    tokens["nobody"] = None
    try:
        async with serve(create_app(settings, temporal_client)) as base_url:
            report = await asyncio.to_thread(Fuzzer(base_url, tokens).run)
    finally:
        async with world.sessions.begin() as session:
            await session.execute(
                update(WebhookSubscription)
                .where(WebhookSubscription.created_by == world["ops"].username)
                .values(active=False)
            )
        if (await current_policy(world))["rules"] != policy_before["rules"]:
            restored = await world.api.put(
                "/api/v1/approval-policy",
                json={"rules": policy_before["rules"]},
                headers=world["ops"].headers,
            )
            assert restored.status_code == 200, restored.text

    counts = ", ".join(f"{count} {mode}" for mode, count in report.cases.items())
    print(f"schemathesis: {report.total} cases ({counts}) in {report.seconds:.0f} s")
    assert report.total >= 1_000
    assert not report.failures, (
        f"{len(report.failures)} of {report.total} cases failed; the first ones:\n\n"
        + "\n\n".join(report.failures[:5])
    )
