"""SQLAlchemy models: the projection of every order that activities write and the API reads.

One module per area, every model re-exported here, so ``from db.models import Order`` works
wherever a model is needed and Alembic sees every table through ``Base.metadata``:

* :mod:`db.models.base`: the declarative base, the constraint naming convention, shared types;
* :mod:`db.models.reference`: customers, products with their stock and routing, production
  lines, users;
* :mod:`db.models.orders`: orders, their lines and status history;
* :mod:`db.models.amendment_requests`: the amendments customers ask for;
* :mod:`db.models.approvals`: the approval policy, review levels, decisions, review notices,
  delegations;
* :mod:`db.models.fulfilment`: work orders and their steps, shop-floor reports, shipments, the
  stock ledger, alerts;
* :mod:`db.models.notifications`: the notification outbox and webhook subscriptions;
* :mod:`db.models.feedback`: customers' ratings of their completed orders;
* :mod:`db.models.audit`: the hash-chained audit log;
* :mod:`db.models.security`: sign-in attempts, which the login rate limit counts;
* :mod:`db.models.templates`: order templates and their scheduled runs.
* :mod:`db.models.archiving`: the runs of the archive schedule.
"""

from db.models.amendment_requests import AmendmentRequest
from db.models.approvals import (
    ApprovalPolicy,
    Decision,
    Delegation,
    ReviewLevel,
    ReviewNotice,
    SetAsideDecision,
)
from db.models.archiving import ArchiveRun
from db.models.audit import AuditEntry
from db.models.base import NAMING_CONVENTION, Base, Money
from db.models.feedback import OrderFeedback
from db.models.fulfilment import (
    Alert,
    ProductionEvent,
    Shipment,
    ShipmentEvent,
    ShipmentLine,
    StockMovement,
    WorkOrder,
    WorkOrderStep,
)
from db.models.notifications import Notification, WebhookSubscription
from db.models.orders import Order, OrderLine, OrderVersion, PromiseChange, StatusHistory
from db.models.reference import (
    Customer,
    Product,
    ProductionLine,
    ProductPrice,
    RoutingStep,
    User,
)
from db.models.security import SignInAttempt
from db.models.templates import OrderTemplate, OrderTemplateLine, TemplateRun

__all__ = [
    "NAMING_CONVENTION",
    "Alert",
    "AmendmentRequest",
    "ApprovalPolicy",
    "ArchiveRun",
    "AuditEntry",
    "Base",
    "Customer",
    "Decision",
    "Delegation",
    "Money",
    "Notification",
    "Order",
    "OrderFeedback",
    "OrderLine",
    "OrderTemplate",
    "OrderTemplateLine",
    "OrderVersion",
    "Product",
    "ProductPrice",
    "ProductionEvent",
    "ProductionLine",
    "PromiseChange",
    "ReviewLevel",
    "ReviewNotice",
    "RoutingStep",
    "SetAsideDecision",
    "Shipment",
    "ShipmentEvent",
    "ShipmentLine",
    "SignInAttempt",
    "StatusHistory",
    "StockMovement",
    "TemplateRun",
    "User",
    "WebhookSubscription",
    "WorkOrder",
    "WorkOrderStep",
]
