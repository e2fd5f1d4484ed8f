"""One chaos run: orders walk their scripts while a killer SIGKILLs parts of the stack.

The run starts its own stack (``chaos.stack``), writes the bench's reference data plus an ops
user, and walks every order's script (``chaos.scripts``) over HTTP, a bounded number at a
time. Meanwhile the killer works through its list — the kinds shuffled by the seed, each kill
due once a random share of the orders has finished (one in each slice of the run), then a
random pause of up to two seconds — SIGKILLs the part, waits a moment, and starts it again.
Kills never overlap: the next waits until the part before is back. When every script has
ended, the checks (``chaos.checks``) read what PostgreSQL and Temporal hold. Printed: the seed,
the kills with their times, and a pass/fail table; the exit code is 0 only if every check
passed.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine
from temporalio.client import Client

from bench.setup_data import BENCH_PASSWORD, STOCK_SKU, hash_bench_password, prepare_bench_data
from chaos.checks import Check, RunRecord, run_checks
from chaos.client import ChaosClient, OrderFailure
from chaos.scripts import Plan, new_run_id, plan_orders, run_script
from chaos.stack import CARRIER_SECRET, ChaosStack, Part, StackError
from db.models import User

OPS_USER = "chaos-ops"
KINDS = ("worker", "api", "postgres", "temporal")


@dataclass
class ChaosOptions:
    orders: int = 300
    concurrency: int = 12
    seed: int | None = None
    worker_kills: int = 5
    api_kills: int = 2
    postgres_kills: int = 1
    temporal_kills: int = 1
    keep: bool = False

    def kill_list(self) -> list[str]:
        counts = (self.worker_kills, self.api_kills, self.postgres_kills, self.temporal_kills)
        return [kind for kind, n in zip(KINDS, counts, strict=True) for _ in range(n)]


@dataclass
class Kill:
    target: str
    at: float
    finished: int = 0
    restarted_at: float = 0.0
    back_at: float = 0.0

    def line(self) -> str:
        return (
            f"t={self.at:6.1f}s  SIGKILL {self.target:<9} restarted t={self.restarted_at:6.1f}s"
            f"  serving again t={self.back_at:6.1f}s  ({self.finished} orders done before)"
        )


@dataclass
class Progress:
    started: int = 0
    finished: int = 0
    kills: list[Kill] = field(default_factory=list)
    done: bool = False
    changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def note(self, *, started: int = 0, finished: int = 0, done: bool = False) -> None:
        async with self.changed:
            self.started += started
            self.finished += finished
            self.done = self.done or done
            self.changed.notify_all()


def say(message: str) -> None:
    print(f"chaos: {message}", flush=True)


class Killer:
    """SIGKILLs the stack's parts at moments drawn from the seed, and brings each back."""

    def __init__(self, stack: ChaosStack, rng: random.Random, t0: float, total: int) -> None:
        self.stack = stack
        self.rng = rng
        self.t0 = t0
        self.total = total

    def now(self) -> float:
        return time.monotonic() - self.t0

    async def run(self, kinds: list[str], progress: Progress) -> None:
        self.rng.shuffle(kinds)
        # One random moment in each of as many equal slices of the run (5-80 % of the orders
        # finished) as there are kills: random, but never all in one stretch.
        width = 0.75 / max(len(kinds), 1)
        shares = [0.05 + width * (i + self.rng.random()) for i in range(len(kinds))]
        for kind, share in zip(kinds, shares, strict=True):
            due = share * self.total
            async with progress.changed:
                await progress.changed.wait_for(
                    lambda due=due: progress.finished >= due or progress.done
                )
            await asyncio.sleep(self.rng.uniform(0.0, 2.0))
            finished = progress.finished
            kill = await self.kill(kind)
            kill.finished = finished
            progress.kills.append(kill)

    async def kill(self, kind: str) -> Kill:
        stack = self.stack
        pause = self.rng.uniform(0.5, 3.0)
        if kind == "postgres":
            assert stack.postgres is not None
            record = Kill("postgres", self.now())
            await asyncio.to_thread(stack.postgres.kill)
            say(f"t={record.at:.1f}s SIGKILL postgres")
            await asyncio.sleep(pause)
            record.restarted_at = self.now()
            await asyncio.to_thread(stack.postgres.restart)
            record.back_at = self.now()
            return record
        part = self._pick(kind)
        record = Kill(part.name, self.now())
        part.kill()
        say(f"t={record.at:.1f}s SIGKILL {part.name}")
        await asyncio.sleep(pause)
        record.restarted_at = self.now()
        part.start()
        if kind == "temporal":
            await stack.wait_for_temporal()
        elif kind == "api":
            await stack.wait_for_api(part, stack.api_urls[stack.apis.index(part)])
        else:
            await stack.wait_for_worker(part)
        record.back_at = self.now()
        return record

    def _pick(self, kind: str) -> Part:
        if kind == "temporal":
            assert self.stack.temporal is not None
            return self.stack.temporal
        return self.rng.choice(self.stack.workers if kind == "worker" else self.stack.apis)


async def ensure_ops_user(database_url: str) -> None:
    engine = create_async_engine(database_url)
    try:
        async with async_sessionmaker(engine).begin() as session:
            if await session.scalar(select(User.id).where(User.username == OPS_USER)) is None:
                session.add(
                    User(
                        username=OPS_USER,
                        full_name="Chaos ops",
                        password_hash=hash_bench_password(),
                        roles=["ops"],
                        active=True,
                    )
                )
    finally:
        await engine.dispose()


async def drive(
    client: ChaosClient,
    plans: list[Plan],
    customer_id: int,
    concurrency: int,
    progress: Progress,
    run_id: str,
) -> tuple[dict[str, Plan], list[str], list[str]]:
    """Walk every script, ``concurrency`` at a time; (order number -> plan, plans that never
    got an order number, failures)."""
    placed: dict[str, Plan] = {}
    unplaced: list[str] = []
    failures: list[str] = []
    slots = asyncio.Semaphore(concurrency)

    async def one(plan: Plan) -> None:
        async with slots:
            await progress.note(started=1)
            try:
                await run_script(client, plan, customer_id, run_id, placed)
            except OrderFailure as failure:
                failures.append(str(failure))
                if not any(p is plan for p in placed.values()):
                    unplaced.append(f"order #{plan.index} ({plan.script}) was never entered")
            finally:
                await progress.note(finished=1)

    await asyncio.gather(*(one(plan) for plan in plans))
    await progress.note(done=True)
    return placed, unplaced, failures


async def run(options: ChaosOptions) -> int:
    seed = options.seed if options.seed is not None else random.randrange(1_000_000)
    say(
        f"seed {seed}: {options.orders} orders, {options.concurrency} at a time; kills: "
        + ", ".join(f"{options.kill_list().count(k)} {k}" for k in KINDS)
    )
    plans = plan_orders(options.orders, random.Random(seed))
    data_dir = Path(tempfile.mkdtemp(prefix="chaos-"))
    stack = ChaosStack(data_dir)
    progress = Progress()
    checks: list[Check] = []
    t0 = time.monotonic()
    try:
        await stack.start()
        say(f"stack up in {time.monotonic() - t0:.1f}s (logs in {data_dir})")
        run_id = new_run_id()
        restock = sum(p.quantity for p in plans if p.sku == STOCK_SKU)
        data = await prepare_bench_data(stack.database_url, run_id, restock)
        await ensure_ops_user(stack.database_url)
        temporal = await Client.connect(stack.temporal_address)
        timeout = httpx.Timeout(60.0, connect=5.0)
        limits = httpx.Limits(max_connections=4 * options.concurrency + 8)
        async with httpx.AsyncClient(timeout=timeout, limits=limits) as http:
            client = ChaosClient(http, stack.api_urls, CARRIER_SECRET)
            await client.sign_in({**data.usernames, "ops": OPS_USER}, BENCH_PASSWORD)
            t0 = time.monotonic()
            killer = Killer(stack, random.Random(seed + 1), t0, options.orders)
            killing = asyncio.create_task(killer.run(options.kill_list(), progress))
            placed, unplaced, failures = await drive(
                client, plans, data.customer_id, options.concurrency, progress, run_id
            )
            await killing
            say(f"every script ended at t={time.monotonic() - t0:.1f}s; checking")
            done = len(progress.kills)
            missing = (
                [f"{len(options.kill_list()) - done} kills not done"]
                if done < len(options.kill_list())
                else []
            )
            record = RunRecord(
                placed, unplaced, failures, client.record.accepted, stack.dead_parts(), missing
            )
            checks = await run_checks(stack.database_url, temporal, record)
            report(plans, progress, checks, client, time.monotonic() - t0)
    except StackError as error:
        say(f"the stack failed: {error}")
        checks = [Check("stack stayed up", [str(error)])]
    finally:
        await stack.stop()
    passed = bool(checks) and all(check.passed for check in checks)
    if passed and not options.keep:
        shutil.rmtree(data_dir, ignore_errors=True)
    else:
        say(f"logs and data kept in {data_dir}")
    say(f"seed {seed}: {'PASS' if passed else 'FAIL'}")
    return 0 if passed else 1


def report(
    plans: list[Plan], progress: Progress, checks: list[Check], client: ChaosClient, took: float
) -> None:
    mix = Counter(plan.script for plan in plans)
    print("\nScripts: " + ", ".join(f"{name} {n}" for name, n in mix.most_common()))
    print("\nKills (t from the first order):")
    for kill in progress.kills:
        print(f"  {kill.line()}")
    answers = client.record.answers
    failed = {what: n for what, n in answers.items() if not what.split(": ")[1].startswith("2")}
    print(
        f"\n{sum(answers.values())} requests in {took:.1f}s; {sum(failed.values())} answered "
        "with an error or lost (each repeated or settled by reading the order)"
    )
    if failed:
        ranked = sorted(failed.items(), key=lambda item: -item[1])
        print("  " + ", ".join(f"{what} x{n}" for what, n in ranked))
    behind = client.record.behind
    if behind:
        print(
            f"{len(behind)} actions refused while the order showed a status that allows them "
            "(its workflow was replaying its last write after a kill); tried again:"
        )
        for line in behind[:8]:
            print(f"  {line}")
    if client.record.fault_resumes:
        resumed = ", ".join(f"{n} x {step}" for step, n in client.record.fault_resumes.items())
        print(f"fault holds resumed by ops: {resumed}")
    width = max(len(check.name) for check in checks)
    print(f"\n  {'check':<{width}}  result")
    print(f"  {'-' * width}  ------")
    for check in checks:
        print(f"  {check.name:<{width}}  {'PASS' if check.passed else 'FAIL'}")
        for problem in check.problems[:10]:
            print(f"  {'':<{width}}    - {problem}")
        if len(check.problems) > 10:
            print(f"  {'':<{width}}    ... and {len(check.problems) - 10} more")
    print(flush=True)
