"""``python -m chaos`` (``make chaos``): orders run while the stack is SIGKILLed piece by piece;
afterwards every order must be where its script meant it to be, every record exactly once.

Options: ``--orders 300 --concurrency 12 --seed N --worker-kills 5 --api-kills 2
--postgres-kills 1 --temporal-kills 1 --keep`` (keep the data directory and logs even when
every check passed).
"""

from __future__ import annotations

import argparse
import asyncio
import sys

from chaos.run import ChaosOptions, run


def main(argv: list[str] | None = None) -> int:
    defaults = ChaosOptions()
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__)
    parser.add_argument("--orders", type=int, default=defaults.orders)
    parser.add_argument("--concurrency", type=int, default=defaults.concurrency)
    parser.add_argument("--seed", type=int, default=None, help="random unless given")
    parser.add_argument("--worker-kills", type=int, default=defaults.worker_kills)
    parser.add_argument("--api-kills", type=int, default=defaults.api_kills)
    parser.add_argument("--postgres-kills", type=int, default=defaults.postgres_kills)
    parser.add_argument("--temporal-kills", type=int, default=defaults.temporal_kills)
    parser.add_argument("--keep", action="store_true", help="keep the data directory and logs")
    args = parser.parse_args(argv)
    options = ChaosOptions(
        orders=args.orders,
        concurrency=args.concurrency,
        seed=args.seed,
        worker_kills=args.worker_kills,
        api_kills=args.api_kills,
        postgres_kills=args.postgres_kills,
        temporal_kills=args.temporal_kills,
        keep=args.keep,
    )
    return asyncio.run(run(options))


if __name__ == "__main__":
    sys.exit(main())
