"""Delegations of approval rights, and the caller's pending approvals."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import Unauthorized, responses

router = APIRouter(tags=["approvals"], responses=responses(Unauthorized))
