"""Customer feedback: the rating a customer gives a completed order, what an order shows of
it, and the feedback report of the analytics."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict
from pydantic.config import JsonDict

from api.schemas.analytics import Window
from api.schemas.types import FreeText
from domain.feedback import HIGHEST_RATING, LOWEST_RATING, POOR_RATING

Rating = Annotated[int, Strict(), Field(ge=LOWEST_RATING, le=HIGHEST_RATING)]

_FEEDBACK: JsonDict = {
    "order_no": "SO-2026-000123",
    "rating": 4,
    "comment": "Arrived a day late, but complete and well packed.",
    "given_by": "acme",
    "given_at": "2026-12-03T09:12:00Z",
}
_POOR: JsonDict = {
    "order_no": "SO-2026-000131",
    "customer_id": 1,
    "customer_code": "ACME",
    "rating": 2,
    "comment": "Two cartons were crushed.",
    "given_at": "2026-11-21T14:02:00Z",
    "created_by": "sales1",
}


class FeedbackCreate(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"rating": 4, "comment": "Arrived a day late, but complete and well packed."},
                {"rating": 5},
            ]
        },
    )

    rating: Rating = Field(description="1 (poor) to 5 (excellent).")
    comment: FreeText | None = Field(default=None, max_length=2000)


class FeedbackPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [_FEEDBACK]})

    order_no: str
    rating: int
    comment: str | None
    given_by: str = Field(description="The customer's user who gave it.")
    given_at: datetime


class OrderFeedbackPublic(BaseModel):
    """Whether an order can still be rated, and its rating once given."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "order_no": "SO-2026-000123",
                    "status": "COMPLETED",
                    "completed_at": "2026-12-02T16:30:00Z",
                    "open_until": "2027-01-01T16:30:00Z",
                    "feedback": _FEEDBACK,
                }
            ]
        }
    )

    order_no: str
    status: str
    completed_at: datetime | None = Field(description="Null while the order is not completed.")
    open_until: datetime | None = Field(
        description="Feedback is taken up to this moment (completion plus FEEDBACK_WINDOW); "
        "null while the order is not completed."
    )
    feedback: FeedbackPublic | None = Field(description="Null until the customer gives it.")


class RatingCount(BaseModel):
    rating: int
    count: int


class PoorFeedback(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    order_no: str
    customer_id: int
    customer_code: str
    rating: int
    comment: str | None
    given_at: datetime
    created_by: str = Field(description="Who entered the order, and follows the rating up.")


class FeedbackReportPublic(Window):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "from": "2026-11-01T00:00:00Z",
                    "to": "2026-12-01T00:00:00Z",
                    "count": 12,
                    "average_rating": 4.25,
                    "distribution": [
                        {"rating": 1, "count": 0},
                        {"rating": 2, "count": 1},
                        {"rating": 3, "count": 1},
                        {"rating": 4, "count": 4},
                        {"rating": 5, "count": 6},
                    ],
                    "poor": [_POOR],
                }
            ]
        }
    )

    count: int = Field(description="Ratings given in the period.")
    average_rating: float | None = Field(description="Their mean; null when none was given.")
    distribution: list[RatingCount] = Field(
        description=f"How many of each rating, {LOWEST_RATING} to {HIGHEST_RATING}, every one "
        "present."
    )
    poor: list[PoorFeedback] = Field(
        description=f"Ratings of {POOR_RATING} or less, the newest first, up to 100."
    )
