"""Command line of the development stack: ``python -m devstack run|temporal-cli|chromium``.

``run`` is what ``make run`` executes; ``temporal-cli`` and ``chromium`` are called by
``make test`` before the test suite so that a one-time build of the Temporal CLI, or the
install of Chromium for the dashboard's browser test, shows its progress instead of looking
like a hung test.
"""

from __future__ import annotations

import argparse
import sys

from devstack.chromium import ChromiumUnavailable, ensure_chromium
from devstack.temporal_cli import TemporalCliError, ensure_temporal_cli


def _temporal_cli() -> int:
    try:
        path = ensure_temporal_cli()
    except TemporalCliError as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    if path is None:
        # Not fatal: the Temporal SDK can still download the dev server where there is internet.
        print(
            "devstack: no Temporal CLI and no Go toolchain to build one; the Temporal SDK will "
            "try to download the dev server (needs internet). Install Go 1.25+ or the Temporal "
            "CLI to work offline.",
            file=sys.stderr,
        )
        return 0
    print(path)
    return 0


def _chromium() -> int:
    try:
        print(ensure_chromium())
    except ChromiumUnavailable as exc:
        print(f"devstack: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    """Parse the command line and run the chosen command; returns the exit code."""
    parser = argparse.ArgumentParser(prog="python -m devstack", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="run PostgreSQL, Temporal, the worker and the API in the foreground"
    )
    commands.add_parser("temporal-cli", help="find or build the Temporal CLI and print its path")
    commands.add_parser(
        "chromium", help="find Chromium (or install Debian's package) and print its path"
    )
    args = parser.parse_args(argv)
    if args.command == "run":
        try:
            from devstack.run import main as run_main

            return run_main()
        except KeyboardInterrupt:  # Ctrl-C before the stack installed its own handlers
            return 130
    if args.command == "chromium":
        return _chromium()
    return _temporal_cli()


if __name__ == "__main__":
    sys.exit(main())
