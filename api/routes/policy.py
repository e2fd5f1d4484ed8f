"""The approval policy: versioned, read by anyone, changed by ops."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import Unauthorized, responses

router = APIRouter(tags=["approvals"], responses=responses(Unauthorized))
