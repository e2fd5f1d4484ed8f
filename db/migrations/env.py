"""Alembic environment: migrates the database named by DATABASE_URL (or the URL passed in)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from config import get_settings
from db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    url = config.get_main_option("sqlalchemy.url") or get_settings().sqlalchemy_url
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
