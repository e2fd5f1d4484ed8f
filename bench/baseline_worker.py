"""``python -m bench.baseline_worker``: the worker of the baseline and probe workflows.

A process of its own, like the product's worker, so that its CPU and memory are measured apart
and it competes for the machine the same way. It serves only the bench task queue
(``bench-baseline``) with the SDK's default worker settings, and prints ``ready`` once polling.
"""

from __future__ import annotations

import argparse
import asyncio
import signal

from temporalio.client import Client
from temporalio.worker import Worker

from bench.baseline import TASK_QUEUE, BaselineOrderWorkflow, ProbeWorkflow, noop_transition

READY = "ready"


async def serve(address: str, namespace: str, task_queue: str) -> None:
    client = await Client.connect(address, namespace=namespace)
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        asyncio.get_running_loop().add_signal_handler(signum, stop.set)
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[BaselineOrderWorkflow, ProbeWorkflow],
        activities=[noop_transition],
    ):
        print(READY, flush=True)
        await stop.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", required=True, help="Temporal frontend, host:port")
    parser.add_argument("--namespace", default="default")
    parser.add_argument("--task-queue", default=TASK_QUEUE)
    args = parser.parse_args()
    asyncio.run(serve(args.address, args.namespace, args.task_queue))


if __name__ == "__main__":
    main()
