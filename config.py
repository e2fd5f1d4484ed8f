"""Configuration from environment variables, with defaults that work on a developer machine."""

from __future__ import annotations

import re
from datetime import timedelta
from functools import lru_cache
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from domain.promises import DEFAULT_SHIPPING_LEAD_DAYS

_ISO_DURATION = re.compile(
    r"^P(?:(?P<days>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<hours>\d+(?:\.\d+)?)H)?(?:(?P<minutes>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$"
)


def parse_duration(value: object) -> timedelta:
    """Accept seconds (``90``, ``"1.5"``) or an ISO-8601 duration (``"PT4H"``, ``"P7D"``)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, int | float):
        return timedelta(seconds=float(value))
    text = str(value).strip().upper()
    try:
        return timedelta(seconds=float(text))
    except ValueError:
        pass
    match = _ISO_DURATION.match(text)
    if not match or text in ("P", "PT"):
        raise ValueError(f"not a duration in seconds or ISO-8601: {value!r}")
    parts = {name: float(v) for name, v in match.groupdict().items() if v}
    return timedelta(**parts)


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("a duration longer than zero")
    return value


PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]


_TEMPORAL_DURATION = re.compile(r"^(?:\d+(?:\.\d+)?[dhms])+$")
_TEMPORAL_UNITS = {"d": "days", "h": "hours", "m": "minutes", "s": "seconds"}


def parse_retention(value: object) -> timedelta:
    """A namespace retention: in the Temporal server's own form (``30d``, ``720h``, ``1d12h``,
    as its images take it) or as any :func:`parse_duration` accepts; at least the hour Temporal
    asks of a namespace."""
    text = str(value).strip().lower()
    if isinstance(value, str) and _TEMPORAL_DURATION.match(text):
        parts = re.findall(r"(\d+(?:\.\d+)?)([dhms])", text)
        retention = sum(
            (timedelta(**{_TEMPORAL_UNITS[unit]: float(n)}) for n, unit in parts), timedelta()
        )
    else:
        retention = parse_duration(value)
    if retention < timedelta(hours=1):
        raise ValueError(f"a retention of at least one hour, not {value!r}")
    return retention


# The built-in secrets make a developer machine work out of the box; they are public (they are
# right here), so only ENVIRONMENT=development accepts them.
DEFAULT_JWT_SECRET = "dev-only-secret-change-me-in-production"
DEFAULT_CARRIER_WEBHOOK_SECRET = "dev-carrier-secret"
# Where the worker serves the Temporal SDK's metrics unless WORKER_METRICS_ADDRESS says otherwise.
DEFAULT_WORKER_METRICS_ADDRESS = "127.0.0.1:9464"
# 32 characters: 128 bits or more for a hex or base64 random value.
MIN_SECRET_LENGTH = 32


class InsecureSettings(Exception):
    """The configuration is unsafe for a real deployment; the message says what to set."""


class Settings(BaseSettings):
    """Every knob of the product; each field reads the environment variable of the same name."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    # `development` (the default) lets the built-in secrets below through; anything else is
    # treated as a real deployment, where the processes refuse to start with them.
    environment: str = "development"

    database_url: str = "postgresql+psycopg://orderflow:orderflow@localhost:5432/orderflow"
    temporal_address: str = "localhost:7233"
    temporal_namespace: str = "default"
    task_queue: str = "orders"
    # How long Temporal keeps a closed order's workflow (its history and UI page): `make run`
    # applies it to the namespace, docker-compose.yml's temporal-setup job too.
    temporal_retention: Annotated[timedelta, BeforeValidator(parse_retention)] = timedelta(days=30)
    # Where people open the Temporal Web UI; the dashboard links every order to its page there.
    temporal_ui_url: str = "http://localhost:8233"
    # How often the dashboard page reloads its figures, in seconds.
    dashboard_refresh_seconds: int = Field(default=15, ge=1, le=3600)

    # A request body larger than this many bytes is refused with 413 before it is parsed.
    max_body_bytes: int = Field(default=1 << 20, ge=1)

    jwt_secret: str = DEFAULT_JWT_SECRET
    access_token_ttl: Duration = timedelta(hours=8)
    carrier_webhook_secret: str = DEFAULT_CARRIER_WEBHOOK_SECRET
    # Failed sign-ins tolerated per username and per client address within the window;
    # beyond them sign-in answers 429 until the oldest failure leaves the window.
    login_max_failures_per_user: int = Field(default=10, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_failure_window: Duration = timedelta(minutes=15)
    # Webhook targets in private, loopback, link-local and similar ranges are refused unless
    # this is set (for receivers on the same host or network, as in development and tests).
    webhook_allow_private_targets: bool = False
    # Who carries the goods: the built-in carrier (tracking events come in through the API
    # only) or the carrier simulator at CARRIER_SIMULATOR_URL, which posts them on its own.
    carrier: Literal["builtin", "simulator"] = "builtin"
    carrier_simulator_url: str = "http://127.0.0.1:8700"

    remind_after: Duration = timedelta(hours=4)
    escalate_after: Duration = timedelta(hours=24)
    # A review level nobody decides for this long puts the order on hold for ops (the policy
    # may set its own; never before the level's escalation).
    expire_after: Duration | None = timedelta(days=14)
    # Reminders a waiting level sends before it falls silent (until escalation or expiry).
    reminder_limit: int = Field(default=3, ge=0, le=100)
    auto_confirm_after: Duration = timedelta(days=7)
    # Days from goods ready (in stock on approval, or the planned finish of their work
    # orders) to the customer: each order line's promised date adds them.
    shipping_lead_days: int = Field(default=DEFAULT_SHIPPING_LEAD_DAYS, ge=0, le=365)
    # The customer rates a completed order within this long after its completion.
    feedback_window: Duration = timedelta(days=30)
    # A COMPLETED, REJECTED or CANCELLED order is archived (read-only, out of the default
    # lists) once it has been closed this long, and a COMPLETED one its customer has not rated
    # not before FEEDBACK_WINDOW has passed too; the archive schedule runs every ARCHIVE_EVERY
    # and archives at most ARCHIVE_BATCH_SIZE orders per transaction.
    archive_after: PositiveDuration = timedelta(days=30)
    archive_every: PositiveDuration = timedelta(days=1)
    archive_batch_size: int = Field(default=500, ge=1, le=10_000)
    # Entering an order waits this long for its validation before answering it as CREATED.
    entry_wait: Duration = timedelta(seconds=5)
    # Any other call on an order answers within this long (503 when the workflow cannot).
    update_wait: Duration = timedelta(seconds=10)
    # An order's workflow continues as new once its history holds this many events.
    order_history_limit: int = Field(default=10_000, ge=100, le=50_000)

    # PostgreSQL connections: the API's pool per process (kept small: no request holds one
    # while it waits on Temporal) and the worker's, which must cover every activity the
    # worker runs at once (WORKER_ACTIVITY_SLOTS + WORKER_LOCAL_ACTIVITY_SLOTS).
    db_pool_size: int = Field(default=10, ge=1)
    db_max_overflow: int = Field(default=10, ge=0)
    # The worker: activities and local activities it runs at once, and how many workflows
    # it keeps in memory (the rest are rebuilt from history when they next wake).
    worker_activity_slots: int = Field(default=20, ge=1)
    worker_local_activity_slots: int = Field(default=20, ge=1)
    worker_cached_workflows: int = Field(default=1000, ge=0)

    # Log lines: one JSON object per line (for log collectors), or readable text.
    log_format: Literal["json", "text"] = "json"
    log_level: Annotated[
        Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"],
        BeforeValidator(lambda value: str(value).strip().upper()),
    ] = "INFO"
    # Where the worker serves the Temporal SDK's metrics for Prometheus (``/metrics`` on this
    # host:port); empty serves none. Loopback by default: set 0.0.0.0:9464 in a container.
    worker_metrics_address: str = DEFAULT_WORKER_METRICS_ADDRESS
    # The API's ``GET /metrics`` is open like ``/healthz`` (keep the port on an internal
    # network); when this is set, it answers only ``Authorization: Bearer <token>``.
    metrics_token: SecretStr | None = None

    # E-mail notifications go out through this SMTP server.
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_from: str = "orderflow@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    # An e-mail or webhook delivery is tried this many times, waiting NOTIFICATION_RETRY_INITIAL
    # before the second try and twice as long before each one after, then recorded as failed.
    notification_max_attempts: int = Field(default=5, ge=1)
    notification_retry_initial: Duration = timedelta(seconds=2)

    @property
    def is_development(self) -> bool:
        return self.environment.strip().lower() == "development"

    def weak_secrets(self) -> list[str]:
        """The secrets a real deployment must not run with: left at their built-in value, or
        shorter than :data:`MIN_SECRET_LENGTH` characters."""
        secrets = {
            "JWT_SECRET": (self.jwt_secret, DEFAULT_JWT_SECRET),
            "CARRIER_WEBHOOK_SECRET": (self.carrier_webhook_secret, DEFAULT_CARRIER_WEBHOOK_SECRET),
        }
        return [
            name
            for name, (value, default) in secrets.items()
            if value == default or len(value) < MIN_SECRET_LENGTH
        ]

    def refuse_default_secrets(self) -> None:
        """Raise :class:`InsecureSettings` outside development when a secret is weak: anyone
        who read this code could otherwise mint tokens or forge carrier events."""
        weak = self.weak_secrets()
        if not weak or self.is_development:
            return
        value = "random values" if len(weak) > 1 else "a random value"
        raise InsecureSettings(
            f"Refusing to start with ENVIRONMENT={self.environment}: set {' and '.join(weak)} "
            f"to {value} of at least {MIN_SECRET_LENGTH} characters "
            "(e.g. `openssl rand -hex 32`), not the built-in defaults."
        )

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver, whatever form DATABASE_URL was given in."""
        url = self.database_url
        for prefix in ("postgresql://", "postgres://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
