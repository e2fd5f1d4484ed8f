"""The audit trail: append-only, hash-chained, verifiable by ops."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import Unauthorized, responses

router = APIRouter(tags=["audit"], responses=responses(Unauthorized))
