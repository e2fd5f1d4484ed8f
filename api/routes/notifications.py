"""Notifications: the caller's in-app inbox, and webhook subscriptions (ops)."""

from __future__ import annotations

from fastapi import APIRouter

from api.errors import Unauthorized, responses

router = APIRouter(tags=["notifications"], responses=responses(Unauthorized))
