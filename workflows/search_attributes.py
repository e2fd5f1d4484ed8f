"""The custom search attributes ops staff filter orders by in the Temporal UI (the README's
"Temporal UI" section lists ready queries).

``WaitingOn`` names who the order waits on now, one of :data:`WAITING_ON_VALUES`; a closed
order waits on nobody and has no ``WaitingOn``. ``StatusSince`` is when that wait began: when
the order entered its status or, under review, when its current level opened.
"""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
CUSTOMER_CODE = SearchAttributeKey.for_keyword("CustomerCode")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
REVIEW_LEVEL = SearchAttributeKey.for_int("ReviewLevel")
ESCALATED = SearchAttributeKey.for_bool("Escalated")
STATUS_SINCE = SearchAttributeKey.for_datetime("StatusSince")
WAITING_ON = SearchAttributeKey.for_keyword("WaitingOn")

ALL = (
    ORDER_STATUS,
    CUSTOMER_ID,
    CUSTOMER_CODE,
    ORDER_TOTAL,
    REVIEW_LEVEL,
    ESCALATED,
    STATUS_SINCE,
    WAITING_ON,
)

#: ``WaitingOn`` of an order on hold because a step failed for good (``system fault: ...``);
#: any other hold (by ops, an expired review, a carrier exception) waits on plain ``ops``.
OPS_FAULT = "ops (system fault)"

#: Every value ``WaitingOn`` takes: the approver role of the level under review (once
#: escalated, the role it escalated to; a director's level escalates to ops), then the stage's
#: party, and ops for an order on hold.
WAITING_ON_VALUES = (
    "validation",
    "supervisor",
    "manager",
    "director",
    "finance",
    "production",
    "logistics",
    "carrier",
    "customer",
    "ops",
    OPS_FAULT,
)
