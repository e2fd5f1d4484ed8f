"""Activities: everything the order workflow does to PostgreSQL and the outside world."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.carriers import CarrierAdapter
from activities.logistics import LogisticsActivities
from activities.notifications import NotificationActivities
from activities.orders import OrderActivities
from activities.production import ProductionActivities
from activities.stock import StockActivities
from config import Settings


def all_activities(
    sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter, settings: Settings
) -> list[Callable[..., Any]]:
    """Every activity the worker runs, bound to one session factory, one carrier and the
    settings that say where e-mail goes."""
    orders = OrderActivities(sessions, carrier)
    stock = StockActivities(sessions)
    production = ProductionActivities(sessions)
    logistics = LogisticsActivities(sessions, carrier)
    notifications = NotificationActivities(sessions, settings)
    return [
        orders.record_transition,
        orders.validate_order,
        orders.plan_review,
        orders.open_review,
        orders.open_level,
        orders.record_decision,
        orders.record_review_notice,
        orders.close_review,
        stock.reserve_stock,
        stock.release_stock,
        production.plan_production,
        production.replan_production,
        production.record_production,
        production.flag_overdue,
        production.cancel_production,
        logistics.book_shipment,
        logistics.dispatch_shipment,
        logistics.record_carrier_event,
        logistics.cancel_shipment,
        notifications.notify,
        notifications.deliver,
        notifications.record_failure,
        # The first release's activities, for orders that started before fulfilment changed.
        orders.cancel_fulfilment,
        production.create_work_order,
        production.record_production_event,
        logistics.mark_dispatched,
    ]
