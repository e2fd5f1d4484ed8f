"""How many history events a workflow id cost the engine, over all of its runs.

An order may continue-as-new, so its events are summed over every run of its workflow id
(listed through visibility); each run's length comes from ``DescribeWorkflowExecution``, which
is exact even for a run that is still open. When visibility has not caught up yet, the latest
run alone is described.
"""

from __future__ import annotations

import asyncio

from temporalio.client import Client


async def events_of(client: Client, workflow_id: str) -> int:
    """History events of every run of ``workflow_id``, added up."""
    run_ids = [
        execution.run_id
        async for execution in client.list_workflows(f'WorkflowId = "{workflow_id}"')
    ]
    if not run_ids:
        description = await client.get_workflow_handle(workflow_id).describe()
        return description.history_length
    total = 0
    for run_id in run_ids:
        description = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
        total += description.history_length
    return total


async def events_per_workflow(
    client: Client, workflow_ids: list[str], concurrency: int = 8
) -> list[int]:
    """:func:`events_of` for each id, a few at a time; in the order given."""
    gate = asyncio.Semaphore(concurrency)

    async def one(workflow_id: str) -> int:
        async with gate:
            return await events_of(client, workflow_id)

    return list(await asyncio.gather(*(one(wid) for wid in workflow_ids)))


async def count(client: Client, query: str | None = None) -> int:
    """Workflows (every run) that match ``query``; all of the namespace's without one."""
    return (await client.count_workflows(query)).count
