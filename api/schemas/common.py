"""Shapes every area of the API shares: the page every list answers in, the answer to
a request accepted for later processing, and the bodies that carry a reason."""

from __future__ import annotations

from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.types import FreeText

T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """Every list answers in this shape; ``next_cursor`` is null on the last page."""

    data: list[T]
    next_cursor: str | None = None


class Accepted(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"accepted": True, "detail": "delivered for SIM4F2A9C01DE accepted"}]
        }
    )

    accepted: bool = True
    detail: str


class ReasonBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"reason": "Customer asked to stop: the project was postponed."}]
        },
    )

    reason: FreeText = Field(min_length=1, max_length=2000)


class OptionalReasonBody(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"reason": "Supplier confirmed the parts; carry on."}]},
    )

    reason: FreeText | None = Field(default=None, max_length=2000)
