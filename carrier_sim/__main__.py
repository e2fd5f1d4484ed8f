"""``python -m carrier_sim``: serve the carrier simulator on CARRIER_SIM_HOST:CARRIER_SIM_PORT."""

from __future__ import annotations

import logging

import uvicorn

from carrier_sim.app import create_app
from carrier_sim.settings import SimulatorSettings

log = logging.getLogger("carrier_sim")


def main() -> None:
    settings = SimulatorSettings()
    logging.basicConfig(level=logging.INFO, format="carrier-sim %(levelname)s %(message)s")
    # The simulator logs each event it posts; httpx's own line per request would repeat it.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    log.info(
        "listening on http://%s:%d; posting tracking events to %s every %ss",
        settings.host,
        settings.port,
        settings.events_url,
        settings.step_seconds,
    )
    # Access logs off: the simulator logs each booking, hand-over and posted event itself,
    # which is what a demo audience wants to follow.
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
