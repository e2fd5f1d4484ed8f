"""Replay: the current workflow code must replay every recorded order history unchanged.

Two sources: the histories committed under ``tests/histories`` (one folder per release of the
workflow: a change that would break running orders fails here until it is guarded with
``workflow.patched``), and every workflow this test session ran, whatever path it took.
``RECORD_HISTORIES=1`` saves one history per distinct path of this session into the folder of
the current release: ``tests/histories/1.0`` holds the released 1.0 workflow's paths, and each
later release's folder the paths that took one of its patches (a history without a patch
marker takes a 1.0 path, which the 1.0 folder holds already).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

from temporalio.client import Client, WorkflowHistory
from temporalio.worker import Replayer

from config import Settings
from workflows.archive import ArchiveWorkflow
from workflows.delivery import NotificationDeliveryWorkflow
from workflows.order import OrderWorkflow
from workflows.recurring import RecurringOrderWorkflow

HISTORIES = Path(__file__).parent / "histories"
RELEASE = "1.1"


def committed_histories() -> list[WorkflowHistory]:
    return [
        WorkflowHistory.from_json(path.stem, path.read_text())
        for path in sorted(HISTORIES.rglob("*.json"))
    ]


async def session_histories(client: Client, settings: Settings) -> list[WorkflowHistory]:
    query = f'TaskQueue = "{settings.task_queue}"'
    return [
        await client.get_workflow_handle(wf.id, run_id=wf.run_id).fetch_history()
        async for wf in client.list_workflows(query)
    ]


def path_of(history: WorkflowHistory) -> str:
    """The statuses an order went through, its review depth, whether it escalated, whether
    it shipped in parts, and whether the run continued as new (a run that continued an earlier
    one starts where it stopped)."""
    statuses: list[str] = []
    patches: list[str] = []
    levels, escalated, hand_overs = 0, False, 0
    for event in history.events:
        scheduled = event.activity_task_scheduled_event_attributes
        hand_overs += scheduled.activity_type.name == "dispatch_shipment"
        if event.marker_recorded_event_attributes.marker_name == "core_patch":
            details = event.marker_recorded_event_attributes.details["patch-data"]
            patches.append(f"patch-{json.loads(details.payloads[0].data)['id']}")
        started = event.workflow_execution_started_event_attributes
        attributes = event.upsert_workflow_search_attributes_event_attributes
        fields = (
            started.search_attributes.indexed_fields
            if event.HasField("workflow_execution_started_event_attributes")
            else attributes.search_attributes.indexed_fields
        )
        if "OrderStatus" in fields:
            statuses.append(json.loads(fields["OrderStatus"].data).lower())
        if "ReviewLevel" in fields:
            levels = max(levels, int(json.loads(fields["ReviewLevel"].data)))
        escalated = escalated or ("Escalated" in fields and json.loads(fields["Escalated"].data))
    continued = history.events[-1].HasField("workflow_execution_continued_as_new_event_attributes")
    marks = (
        (["escalated"] if escalated else [])
        + (["continued-as-new"] if continued else [])
        # An order that shipped in parts (per-line fulfilment).
        + ([f"{hand_overs}-shipments"] if hand_overs > 1 else [])
        + sorted(set(patches))
    )
    return "-".join([*statuses, f"{levels}-levels", *marks])


async def test_recorded_histories_replay(temporal_client: Client, settings: Settings) -> None:
    committed = committed_histories()
    recorded = await session_histories(temporal_client, settings)
    histories = committed + recorded
    assert histories, "no history to replay: run the other tests first (see pytest ordering)"

    async def each() -> AsyncIterator[WorkflowHistory]:
        for history in histories:
            yield history

    replayer = Replayer(
        workflows=[
            OrderWorkflow,
            NotificationDeliveryWorkflow,
            RecurringOrderWorkflow,
            ArchiveWorkflow,
        ]
    )
    results = await replayer.replay_workflows(each(), raise_on_replay_failure=False)
    failures = {wid: str(err) for wid, err in results.replay_failures.items()}
    assert failures == {}
    assert len(recorded) >= 1

    if os.environ.get("RECORD_HISTORIES"):
        folder = HISTORIES / RELEASE
        folder.mkdir(parents=True, exist_ok=True)
        orders = [h for h in recorded if h.workflow_id.startswith("order-")]
        by_path = {path_of(history): history for history in orders}
        if RELEASE == "1.0":
            # The delivery workflows run for ever: what each did so far replays as well.
            for history in recorded:
                if history.workflow_id.startswith("notification-delivery-"):
                    by_path[history.workflow_id] = history
        else:
            by_path = {path: history for path, history in by_path.items() if "patch-" in path}
        for path, history in by_path.items():
            name = re.sub(r"[^a-z0-9_-]", "", path)[:150]
            (folder / f"{name}.json").write_text(history.to_json())
