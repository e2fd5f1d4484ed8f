"""Activities: everything the workflows do to PostgreSQL and the outside world.

Two kinds, run differently by the workflows:

- projection writes (the order's record, its review, stock, production, tracking): short
  PostgreSQL transactions, run as local activities inside the workflow task, so they cost no
  server round trip;
- calls to the outside world (the carrier, SMTP, webhook receivers) and compensations: regular
  activities with their own timeouts and retries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from activities.amendments import AmendmentActivities
from activities.archiving import ArchiveActivities
from activities.carriers import CarrierAdapter
from activities.logistics import LogisticsActivities
from activities.notifications import NotificationActivities
from activities.orders import OrderActivities
from activities.production import ProductionActivities
from activities.recurring import RecurringOrderActivities
from activities.review import ReviewActivities
from activities.shipments import ShipmentActivities
from activities.stock import StockActivities
from config import Settings


def all_activities(
    sessions: async_sessionmaker[AsyncSession], carrier: CarrierAdapter, settings: Settings
) -> list[Callable[..., Any]]:
    """The workflows' activities, bound to one session factory, one carrier and the settings
    that say where e-mail goes (the worker adds the API's ``enter_order``:
    ``worker.worker_activities``)."""
    orders = OrderActivities(sessions)
    review = ReviewActivities(sessions)
    lead = settings.shipping_lead_days
    stock = StockActivities(sessions, shipping_lead_days=lead)
    production = ProductionActivities(sessions, shipping_lead_days=lead)
    logistics = LogisticsActivities(sessions, carrier)
    shipments = ShipmentActivities(sessions, carrier)
    notifications = NotificationActivities(sessions, settings)
    recurring = RecurringOrderActivities(sessions)
    archiving = ArchiveActivities(sessions)
    amendments = AmendmentActivities(sessions, shipping_lead_days=lead)
    return [
        orders.record_transition,
        orders.record_fault,
        orders.validate_order,
        review.record_decision,
        review.record_review_notice,
        review.close_review,
        amendments.plan_amendment,
        amendments.record_amendment,
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
        shipments.book_line_shipment,
        shipments.confirm_receipt,
        shipments.close_backorder,
        notifications.await_outbox,
        notifications.pending_deliveries,
        notifications.deliver,
        notifications.record_failure,
        recurring.plan_run,
        archiving.archive_batch,
        archiving.record_run,
    ]
