"""Signing in and who the caller is."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    full_name: str
    roles: list[str]
    customer_id: int | None
