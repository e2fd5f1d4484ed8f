"""``python -m bench [lifecycle|park|reservation] [options]``: the benchmark modes.

* ``lifecycle`` (the default; ``make bench``): whole order lifecycles at saturation and at half
  load against Temporal's own floor for the same process (``bench.lifecycle``);
* ``park`` (``make bench-park``): many orders parked in review and the worker's memory while
  their reminders fire (``bench.park``);
* ``reservation`` (``make bench-reservation``): stock reservation under concurrency on a
  database of its own (``bench.reservation``; its options follow).

Each mode but ``reservation`` starts its own stack (``bench.stack``) unless ``--external``
names a running one, prints a markdown report, and writes it with the JSON figures to
``bench/results/``. A failed order, a stuck order or a dead stack exits non-zero.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bench.actors import BenchFailure
from bench.lifecycle import LifecycleOptions, run_lifecycle
from bench.park import REVIEW_CLOCKS, ParkOptions, run_park
from bench.report import lifecycle_markdown, park_markdown, write_results
from bench.stack import (
    ExternalStack,
    LocalStack,
    StackError,
    StackOptions,
    external_endpoints,
)

MODES = ("lifecycle", "park", "reservation")


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    own = parser.add_argument_group("the bench's own stack")
    defaults = StackOptions()
    own.add_argument("--api-port", type=int, default=defaults.api_port)
    own.add_argument("--temporal-port", type=int, default=defaults.temporal_port)
    own.add_argument("--temporal-ui-port", type=int, default=defaults.temporal_ui_port)
    own.add_argument("--carrier-sim-port", type=int, default=defaults.carrier_sim_port)
    own.add_argument(
        "--data-dir", default=defaults.data_dir, help="wiped at the start of every run"
    )
    own.add_argument("--keep-stack", action="store_true", help="leave the stack running afterwards")
    external = parser.add_argument_group("a stack that is already running")
    external.add_argument("--external", action="store_true", help="start no stack; use these")
    external.add_argument("--api-url", default="http://127.0.0.1:8000")
    external.add_argument("--temporal-address", default="127.0.0.1:7233")
    external.add_argument("--database-url", help="its DATABASE_URL (SQLAlchemy form)")


def _lifecycle_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description="Order lifecycles against Temporal's own floor."
    )
    defaults = LifecycleOptions()
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--seed", type=int, default=defaults.seed, help="seed of the order mix")
    parser.add_argument(
        "--poll-interval-ms", type=int, default=round(defaults.poll_interval * 1000)
    )
    parser.add_argument(
        "--stuck-after",
        type=float,
        default=defaults.stuck_after,
        help="seconds an order may wait for the workflow before the bench fails",
    )
    parser.add_argument("--no-half-load", action="store_true", help="skip the half-load run")
    parser.add_argument("--no-baseline", action="store_true", help="skip the baseline run")
    _stack_arguments(parser)
    return parser


def _park_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench park", description="Orders parked in review, and their cost."
    )
    defaults = ParkOptions()
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument(
        "--observe-seconds",
        type=float,
        default=defaults.observe_seconds,
        help="how long to watch the worker once every order is parked",
    )
    parser.add_argument(
        "--sample", type=int, default=defaults.sample, help="orders whose history is counted"
    )
    _stack_arguments(parser)
    return parser


def _stack(args: argparse.Namespace, mode_env: dict[str, str]) -> LocalStack | ExternalStack:
    if args.external:
        if not args.database_url:
            raise SystemExit("--external needs --database-url (the stack's DATABASE_URL)")
        return ExternalStack(
            external_endpoints(args.api_url, args.temporal_address, args.database_url)
        )
    options = StackOptions(
        api_port=args.api_port,
        temporal_port=args.temporal_port,
        temporal_ui_port=args.temporal_ui_port,
        carrier_sim_port=args.carrier_sim_port,
        data_dir=args.data_dir,
        mode_env=mode_env,
    )
    return LocalStack(options, keep=args.keep_stack)


def _failures(error: BaseException) -> list[str]:
    """The messages of every bench failure inside ``error`` (task groups nest them)."""
    if isinstance(error, BaseExceptionGroup):
        return [message for inner in error.exceptions for message in _failures(inner)]
    if isinstance(error, BenchFailure | StackError):
        return [str(error)]
    return []


def _run(mode: str, argv: list[str]) -> tuple[dict[str, Any], str]:
    if mode == "park":
        args = _park_parser().parse_args(argv)
        park = ParkOptions(
            orders=args.orders,
            concurrency=args.concurrency,
            seed=args.seed,
            observe_seconds=args.observe_seconds,
            sample=args.sample,
        )
        results = asyncio.run(run_park(park, _stack(args, REVIEW_CLOCKS)))
        return results, park_markdown(results)
    args = _lifecycle_parser().parse_args(argv)
    lifecycle = LifecycleOptions(
        orders=args.orders,
        concurrency=args.concurrency,
        seed=args.seed,
        poll_interval=args.poll_interval_ms / 1000,
        stuck_after=args.stuck_after,
        half_load=not args.no_half_load,
        baseline=not args.no_baseline,
    )
    results = asyncio.run(run_lifecycle(lifecycle, _stack(args, {})))
    return results, lifecycle_markdown(results)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    mode = argv.pop(0) if argv and argv[0] in MODES else "lifecycle"
    if mode == "reservation":
        from bench import reservation

        args = reservation.parse_args(argv)
        asyncio.run(reservation.main(args.scenario, args.seed, args.orders))
        return 0
    try:
        results, markdown = _run(mode, argv)
    except (BaseExceptionGroup, BenchFailure, StackError) as error:
        messages = _failures(error)
        if not messages:
            raise
        for message in messages:
            print(f"bench: FAILED: {message}", file=sys.stderr, flush=True)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    print()
    print(markdown, flush=True)
    for path in write_results(results, markdown, mode):
        print(f"bench: wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
