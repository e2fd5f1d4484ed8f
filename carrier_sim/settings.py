"""The simulator's knobs, read from ``CARRIER_SIM_*`` environment variables (or ``.env``)."""

from __future__ import annotations

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class SimulatorSettings(BaseSettings):
    """How the simulated carrier listens, where it posts tracking events and how it behaves."""

    model_config = SettingsConfigDict(
        env_prefix="CARRIER_SIM_",
        env_file=".env",
        extra="ignore",
        # Tests and callers build it with field names (``secret=...``) as well as from the env.
        populate_by_name=True,
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8700, ge=1, le=65535)
    # Where our API lives; tracking events go to ``{api_url}/api/v1/carrier-events``.
    api_url: str = "http://127.0.0.1:8000"
    # The webhook secret shared with the API. Falls back to the API's own variable so that one
    # CARRIER_WEBHOOK_SECRET in the environment or .env keeps both sides in agreement.
    secret: str = Field(
        default="dev-carrier-secret",
        validation_alias=AliasChoices("CARRIER_SIM_SECRET", "CARRIER_WEBHOOK_SECRET"),
    )
    # Gap between a hand-over and the first tracking event, and between later events.
    step_seconds: float = Field(default=5.0, ge=0)
    # Every N-th handed-over shipment fails its first delivery attempt; 0 means never.
    exception_every: int = Field(default=0, ge=0)
    # Re-post every event once more and now and then post in_transit late, as real carriers do,
    # to exercise the API's handling of duplicate and out-of-order events.
    duplicates: bool = False
    # Seconds the cancel endpoint waits before answering, so a test can kill the caller midway.
    cancel_delay: float = Field(default=0.0, ge=0)
    # Posting an event is retried on connection errors and 5xx, this many attempts in all,
    # waiting retry_backoff seconds before the second attempt and doubling each time.
    post_attempts: int = Field(default=5, ge=1)
    retry_backoff: float = Field(default=0.5, ge=0)

    @field_validator("api_url")
    @classmethod
    def _without_trailing_slash(cls, value: str) -> str:
        return value.rstrip("/")

    @property
    def events_url(self) -> str:
        return f"{self.api_url}/api/v1/carrier-events"
