"""Engine and session factory; whoever opens a session owns its transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)


def create_engine(
    url: str, *, pool_size: int = 10, max_overflow: int = 10, pre_ping: bool = True
) -> AsyncEngine:
    """``pre_ping`` tests each connection as it leaves the pool (a round trip), so a request
    never meets one the database dropped; callers that retry anyway may skip it."""
    return create_async_engine(
        url, pool_pre_ping=pre_ping, pool_size=pool_size, max_overflow=max_overflow
    )


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
