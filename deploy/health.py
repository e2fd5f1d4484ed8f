"""``python -m deploy.health api|worker [URL]``: exit 0 when the process is ready, 1 when not.

The compose file's healthchecks run it inside the image (no curl there), and ``make
deploy-check`` waits on the same checks:

* ``api``: ``GET /readyz`` answers 200, i.e. the API reaches PostgreSQL and Temporal
  (default URL ``http://127.0.0.1:8000/readyz``);
* ``worker``: the worker's metrics endpoint (WORKER_METRICS_ADDRESS) lists the task slots of
  a running Temporal worker. The endpoint opens when the process starts, but the SDK reports
  worker slots only once a worker polls its task queue, so a worker still waiting for Temporal
  is not healthy (default URL ``http://127.0.0.1:9464/metrics``).
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

DEFAULT_URLS = {
    "api": "http://127.0.0.1:8000/readyz",
    "worker": "http://127.0.0.1:9464/metrics",
}
#: A metric the Temporal SDK core reports only for a started worker.
WORKER_METRIC = "temporal_worker_task_slots_available"


def api_ready(url: str = DEFAULT_URLS["api"]) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def worker_polling(url: str = DEFAULT_URLS["worker"]) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            body: bytes = response.read()
    except (urllib.error.URLError, OSError):
        return False
    return WORKER_METRIC.encode() in body


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in DEFAULT_URLS:
        print("usage: python -m deploy.health api|worker [URL]", file=sys.stderr)
        return 2
    kind = argv[0]
    url = argv[1] if len(argv) > 1 else DEFAULT_URLS[kind]
    ready = api_ready(url) if kind == "api" else worker_polling(url)
    print(f"{kind} {'ready' if ready else 'not ready'} ({url})")
    return 0 if ready else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
