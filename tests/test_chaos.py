"""The chaos run, short: orders of every script walk while a worker, an API process,
PostgreSQL and the Temporal dev server are each SIGKILLed and restarted at least once; every
order must end as its script meant, every record exactly once (see ``chaos``).

The run starts a stack of its own (``python -m chaos``) in a subprocess, so that its kills
never touch the test session's servers. The seed is fixed so that a failure can be replayed
with the same scripts and kill order (``CHAOS_SEED`` picks another); the moments of the kills
still follow the machine's pace.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SHORT_RUN = [
    "--orders", "30", "--concurrency", "6",
    "--worker-kills", "2", "--api-kills", "1", "--postgres-kills", "1", "--temporal-kills", "1",
]  # fmt: skip


def test_every_order_ends_as_scripted_through_kills_of_every_part() -> None:
    seed = os.environ.get("CHAOS_SEED", "20261201")
    run = subprocess.run(
        [sys.executable, "-m", "chaos", *SHORT_RUN, "--seed", seed],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    output = run.stdout + run.stderr
    assert run.returncode == 0, output
    # Each kind of kill happened, and the table reports every check passed.
    for part in ("worker-", "api-", "postgres", "temporal"):
        assert f"SIGKILL {part}" in run.stdout, output
    assert "FAIL" not in run.stdout, output
