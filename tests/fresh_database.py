"""A database of its own, migrated and empty, for tests of a deployment that starts with no
data at all (no demo seed, no other test's rows)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from config import Settings
from db.migrate import upgrade_to_head


@pytest.fixture
def empty_database_url(settings: Settings) -> Iterator[str]:
    url = make_url(settings.database_url)
    name = f"orderflow_empty_{uuid.uuid4().hex[:10]}"
    server = url.set(drivername="postgresql", database="postgres")
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    fresh = url.set(database=name).render_as_string(hide_password=False)
    try:
        upgrade_to_head(fresh)
        # Order numbers name workflows in the one Temporal server every test database shares:
        # start this database's far from the others', so its SO-...-000001 is nobody else's.
        with psycopg.connect(
            url.set(drivername="postgresql", database=name).render_as_string(hide_password=False),
            autocommit=True,
        ) as conn:
            start = 10**9 + secrets.randbelow(10**11)
            conn.execute(f"ALTER SEQUENCE order_no_seq RESTART WITH {start}")
        yield fresh
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
