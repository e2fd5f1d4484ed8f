"""The order list as CSV: ``GET /orders.csv``, with the list's filters and sort."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api import order_lists, visibility
from api.deps import CurrentUser, SessionDep
from api.errors import AppError, Forbidden, InvalidRequest, Unauthorized
from api.params import OrderListParams

router = APIRouter(prefix="/orders", tags=["orders"])


class CsvResponse(StreamingResponse):
    media_type = "text/csv"


def _json_errors(*errors: type[AppError]) -> dict[int | str, dict[str, Any]]:
    """The refusals of a route that answers CSV: they still come as JSON, in the one shape
    (without this, OpenAPI would document them as the route's CSV)."""
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    return {error.status_code: {"description": error.kind, "content": body} for error in errors}


# Without a slash after "/orders", so "/orders.csv" is never taken for an order number.
@router.get(
    ".csv",
    summary="Export the order list as CSV",
    response_class=CsvResponse,
    responses={
        200: {
            "description": "A header row, then one row per order.",
            "content": {"text/csv": {"schema": {"type": "string"}}},
        },
        **_json_errors(Unauthorized, Forbidden, InvalidRequest),
    },
)
async def export_orders(
    user: CurrentUser, session: SessionDep, query: OrderListParams
) -> CsvResponse:
    """Every order the list shows with the same filters and sort, as CSV (at most 50,000: more
    answers 422). A cell that would start with ``=``, ``+``, ``-`` or ``@`` starts with a
    quote, so a spreadsheet shows it rather than running it."""
    viewer = visibility.viewer_of(user)
    await order_lists.ensure_exportable(session, viewer, query)
    return CsvResponse(
        order_lists.csv_lines(session, viewer, query),
        headers={"Content-Disposition": 'attachment; filename="orders.csv"'},
    )
