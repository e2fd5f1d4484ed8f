"""Safe defaults of a deployment: outside development the API and the worker refuse to start
with a built-in or short secret, and ``make run`` serves the API on loopback unless told."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from api.app import create_app
from config import (
    DEFAULT_CARRIER_WEBHOOK_SECRET,
    DEFAULT_JWT_SECRET,
    InsecureSettings,
    Settings,
)
from devstack.network import local_url, port_in_use
from devstack.run import DevStack, StartupError

PROJECT_ROOT = Path(__file__).resolve().parent.parent
STRONG = "0123456789abcdef0123456789abcdef"
UNREACHABLE_DB = "postgresql+psycopg://nobody@127.0.0.1:9/none"


def settings_for(environment: str, jwt_secret: str, carrier_secret: str) -> Settings:
    return Settings(
        _env_file=None,
        environment=environment,
        jwt_secret=jwt_secret,
        carrier_webhook_secret=carrier_secret,
    )


def start(argv: list[str], **env: str) -> subprocess.CompletedProcess[str]:
    """Run one of the product's processes until it exits on its own (within a minute)."""
    environment = {key: value for key, value in os.environ.items() if key != "ENVIRONMENT"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, *argv],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


# ---------------------------------------------------------------------------- secrets


def test_only_development_accepts_the_built_in_secrets() -> None:
    settings_for("development", DEFAULT_JWT_SECRET, DEFAULT_CARRIER_WEBHOOK_SECRET)
    assert Settings(_env_file=None).is_development
    Settings(_env_file=None).refuse_default_secrets()

    for environment in ("production", "staging", "Production"):
        weak = settings_for(environment, DEFAULT_JWT_SECRET, DEFAULT_CARRIER_WEBHOOK_SECRET)
        with pytest.raises(InsecureSettings, match="JWT_SECRET and CARRIER_WEBHOOK_SECRET"):
            weak.refuse_default_secrets()
    short = settings_for("production", STRONG, "sixteen-chars-ok")
    with pytest.raises(InsecureSettings) as refusal:
        short.refuse_default_secrets()
    assert "CARRIER_WEBHOOK_SECRET" in str(refusal.value)
    assert "JWT_SECRET" not in str(refusal.value)

    strong = settings_for("production", STRONG, STRONG[::-1])
    strong.refuse_default_secrets()
    assert create_app(strong).title == "Order flow"
    with pytest.raises(InsecureSettings):
        create_app(settings_for("production", DEFAULT_JWT_SECRET, STRONG))


def test_the_api_and_the_worker_refuse_to_start_in_production_with_a_default_secret() -> None:
    api = start(
        ["-m", "uvicorn", "api.app:app", "--port", "0"],
        ENVIRONMENT="production",
        JWT_SECRET=DEFAULT_JWT_SECRET,
        CARRIER_WEBHOOK_SECRET=STRONG,
        DATABASE_URL=UNREACHABLE_DB,
    )
    assert api.returncode == 1, api.stderr
    [sentence] = api.stderr.strip().splitlines()
    assert sentence.startswith("orderflow api: Refusing to start with ENVIRONMENT=production")
    assert "set JWT_SECRET to a random value" in sentence

    worker = start(
        ["worker.py"],
        ENVIRONMENT="production",
        JWT_SECRET=STRONG,
        CARRIER_WEBHOOK_SECRET=DEFAULT_CARRIER_WEBHOOK_SECRET,
        DATABASE_URL=UNREACHABLE_DB,
        # Nothing listens here: refusing must come before any connection is tried.
        TEMPORAL_ADDRESS="127.0.0.1:9",
    )
    assert worker.returncode == 1, worker.stderr
    [sentence] = worker.stderr.strip().splitlines()
    assert sentence.startswith("orderflow worker: Refusing to start with ENVIRONMENT=production")
    assert "set CARRIER_WEBHOOK_SECRET to a random value" in sentence


# ---------------------------------------------------------------------------- make run


def test_make_run_serves_the_api_on_loopback_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("API_HOST", raising=False)
    monkeypatch.setenv("API_PORT", "8123")
    stack = DevStack()
    assert stack.api_host == "127.0.0.1"
    assert stack.api_url == "http://127.0.0.1:8123"
    assert "this machine only" in stack.api_reach

    monkeypatch.setenv("API_HOST", "0.0.0.0")
    exposed = DevStack()
    assert exposed.api_host == "0.0.0.0"
    # Its own processes still reach it through loopback.
    assert exposed.api_url == "http://127.0.0.1:8123"
    assert "other machines" in exposed.api_reach
    assert local_url("::1", 80) == "http://[::1]:80"


def test_the_port_check_looks_where_the_api_will_listen(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert port_in_use(port, "127.0.0.1")
        monkeypatch.delenv("API_HOST", raising=False)
        monkeypatch.setenv("API_PORT", str(port))
        with pytest.raises(StartupError, match=f"Port {port} \\(API\\) is already in use"):
            DevStack().check_ports()
    assert not port_in_use(port, "127.0.0.1")
