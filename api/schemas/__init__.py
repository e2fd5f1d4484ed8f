"""Request and response bodies of the API.

One module per area, every body re-exported here, so ``schemas.OrderPublic`` and
``from api.schemas import OrderPublic`` work wherever a body is needed:

* :mod:`api.schemas.common`: the page every list answers in, acceptance, reason bodies;
* :mod:`api.schemas.auth`: the token and the signed-in user;
* :mod:`api.schemas.reference`: order statuses, customers, products;
* :mod:`api.schemas.orders`: entering an order and reading it;
* :mod:`api.schemas.amendments`: amending an order, and its versions;
* :mod:`api.schemas.amendment_requests`: the amendments customers ask for;
* :mod:`api.schemas.shipping`: dispatching lines, confirming shipments, the order's shipments;
* :mod:`api.schemas.customer`: the customer's view of its orders, and the shapes an order
  endpoint answers in (staff or customer);
* :mod:`api.schemas.order_lists`: orders as the order list and its CSV export show them;
* :mod:`api.schemas.approvals`: review levels, decisions, the approval policy, delegations,
  pending approvals;
* :mod:`api.schemas.fulfilment`: production, stock, shipments, carrier events, alerts;
* :mod:`api.schemas.notifications`: the in-app inbox and webhooks;
* :mod:`api.schemas.audit`: the audit log and its verification;
* :mod:`api.schemas.policy`: the approval policy a caller writes, bounded;
* :mod:`api.schemas.master_data`: users, customers, products, prices and lines as written;
* :mod:`api.schemas.templates`: order templates, their schedules and runs;
* :mod:`api.schemas.types`: the bounded types every input is made of.
"""

from api.schemas.amendment_requests import (
    AmendmentRequestAccept,
    AmendmentRequestPublic,
    AmendmentRequestRefuse,
    AmendmentRequestWithdraw,
)
from api.schemas.amendments import (
    AmendmentCreate,
    FieldChangePublic,
    LineChangeCreate,
    OrderVersionPublic,
)
from api.schemas.approvals import (
    CustomerHistoryPublic,
    DecisionCreate,
    DecisionPublic,
    DelegationCreate,
    DelegationPublic,
    LatestAmendmentPublic,
    PendingApprovalPublic,
    PendingLevelPublic,
    PolicyPublic,
    ReviewLevelPublic,
    ReviewNoticeFiring,
    ReviewNoticePublic,
    ReviewPublic,
)
from api.schemas.audit import AuditEntryPublic, AuditVerification
from api.schemas.auth import SignInForm, Token, UserPublic
from api.schemas.common import Accepted, OptionalReasonBody, Page, ReasonBody
from api.schemas.customer import (
    CustomerOrderLinePublic,
    CustomerOrderPublic,
    CustomerOrderSummary,
    CustomerTransitionPublic,
    HistoryPageView,
    OrderView,
)
from api.schemas.fulfilment import (
    AlertPublic,
    CarrierEventCreate,
    ProductionEventCreate,
    ProductionLinePublic,
    ProductionPublic,
    ProductionRecordPublic,
    ProgressPublic,
    QueuedWorkOrderPublic,
    ShipmentPublic,
    StepPublic,
    StockMovementPublic,
    TrackingEventPublic,
    WorkOrderPublic,
)
from api.schemas.master_data import PricePublic, UserAccountPublic
from api.schemas.notifications import (
    NotificationPublic,
    WebhookDeliveryPublic,
    WebhookSubscriptionCreate,
    WebhookSubscriptionCreated,
    WebhookSubscriptionPublic,
)
from api.schemas.order_lists import CustomerOrderListItem, OrderListItem, OrderListPageView
from api.schemas.orders import (
    HistoryPublic,
    NewOrder,
    OrderCreate,
    OrderLineCreate,
    OrderLinePublic,
    OrderPublic,
    OrderSummary,
)
from api.schemas.reference import (
    CustomerPublic,
    OrderStatusPublic,
    ProductPublic,
    RoutingStepPublic,
    StatusLabel,
)
from api.schemas.shipping import (
    ConfirmDeliveryCreate,
    CustomerShipmentPublic,
    DispatchCreate,
    DispatchLineCreate,
    OrderShipmentPublic,
    ShipmentLinePublic,
)
from api.schemas.templates import (
    CronSchedule,
    MonthlySchedule,
    OrderTemplateCreate,
    OrderTemplatePublic,
    OrderTemplateUpdate,
    ScheduleStatePublic,
    TemplateLine,
    TemplateRunPublic,
)

__all__ = [
    "Accepted",
    "AlertPublic",
    "AmendmentCreate",
    "AmendmentRequestAccept",
    "AmendmentRequestPublic",
    "AmendmentRequestRefuse",
    "AmendmentRequestWithdraw",
    "AuditEntryPublic",
    "AuditVerification",
    "CarrierEventCreate",
    "ConfirmDeliveryCreate",
    "CronSchedule",
    "CustomerHistoryPublic",
    "CustomerOrderLinePublic",
    "CustomerOrderListItem",
    "CustomerOrderPublic",
    "CustomerOrderSummary",
    "CustomerPublic",
    "CustomerShipmentPublic",
    "CustomerTransitionPublic",
    "DecisionCreate",
    "DecisionPublic",
    "DelegationCreate",
    "DelegationPublic",
    "DispatchCreate",
    "DispatchLineCreate",
    "FieldChangePublic",
    "HistoryPageView",
    "HistoryPublic",
    "LatestAmendmentPublic",
    "LineChangeCreate",
    "MonthlySchedule",
    "NewOrder",
    "NotificationPublic",
    "OptionalReasonBody",
    "OrderCreate",
    "OrderLineCreate",
    "OrderLinePublic",
    "OrderListItem",
    "OrderListPageView",
    "OrderPublic",
    "OrderShipmentPublic",
    "OrderStatusPublic",
    "OrderSummary",
    "OrderTemplateCreate",
    "OrderTemplatePublic",
    "OrderTemplateUpdate",
    "OrderVersionPublic",
    "OrderView",
    "Page",
    "PendingApprovalPublic",
    "PendingLevelPublic",
    "PolicyPublic",
    "PricePublic",
    "ProductPublic",
    "ProductionEventCreate",
    "ProductionLinePublic",
    "ProductionPublic",
    "ProductionRecordPublic",
    "ProgressPublic",
    "QueuedWorkOrderPublic",
    "ReasonBody",
    "ReviewLevelPublic",
    "ReviewNoticeFiring",
    "ReviewNoticePublic",
    "ReviewPublic",
    "RoutingStepPublic",
    "ScheduleStatePublic",
    "ShipmentLinePublic",
    "ShipmentPublic",
    "SignInForm",
    "StatusLabel",
    "StepPublic",
    "StockMovementPublic",
    "TemplateLine",
    "TemplateRunPublic",
    "Token",
    "TrackingEventPublic",
    "UserAccountPublic",
    "UserPublic",
    "WebhookDeliveryPublic",
    "WebhookSubscriptionCreate",
    "WebhookSubscriptionCreated",
    "WebhookSubscriptionPublic",
    "WorkOrderPublic",
]
