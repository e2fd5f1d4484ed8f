"""Sign-in attempts: what the login rate limit counts, shared by every API process."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from db.models.base import Base


class SignInAttempt(Base):
    """A sign-in that failed, or is being checked right now (so that concurrent guesses count
    against the limit too). A successful sign-in removes its username's rows; rows older than
    the window are pruned as new attempts come in."""

    __tablename__ = "sign_in_attempts"
    __table_args__ = (
        Index("ix_sign_in_attempts_username_at", "username", "at"),
        Index("ix_sign_in_attempts_address_at", "address", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    # As typed, cut to the column: unknown usernames count too.
    username: Mapped[str] = mapped_column(String(200))
    # The client's IP address as the API sees it.
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
