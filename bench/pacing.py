"""How work is released: a fixed number in flight (saturation), or a fixed arrival rate.

Both run each unit of work as its own task in one ``asyncio.TaskGroup``, so the first failure
cancels the rest and surfaces at once: a stuck order fails the whole bench loudly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


async def run_limited(
    count: int, concurrency: int, one: Callable[[int], Coroutine[Any, Any, T]]
) -> list[T]:
    """``one(0) ... one(count - 1)``, at most ``concurrency`` at a time; results in order."""
    gate = asyncio.Semaphore(concurrency)

    async def gated(index: int) -> T:
        async with gate:
            return await one(index)

    async with asyncio.TaskGroup() as group:
        tasks = [group.create_task(gated(i)) for i in range(count)]
    return [task.result() for task in tasks]


async def run_at_rate(
    count: int, per_second: float, one: Callable[[int], Coroutine[Any, Any, T]]
) -> list[T]:
    """``one(i)`` started at ``i / per_second`` seconds (uniform spacing), however many are
    still running; results in order."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    async with asyncio.TaskGroup() as group:
        tasks: list[asyncio.Task[T]] = []
        for i in range(count):
            delay = started + i / per_second - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(group.create_task(one(i)))
    return [task.result() for task in tasks]
