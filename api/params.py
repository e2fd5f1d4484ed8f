"""Query parameters several lists share, bounded like everything else a caller sends."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query

from api.schemas.types import SingleLine

# Every list pages by keyset: ``next_cursor`` of one page asks for the next.
Cursor = Annotated[
    SingleLine | None,
    Query(max_length=200, description="``next_cursor`` of the page before; leave out at first."),
]
PageLimit = Annotated[int, Query(ge=1, le=200, description="Rows per page, 1 to 200.")]
