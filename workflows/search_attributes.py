"""The custom search attributes ops staff filter orders by in the Temporal UI."""

from temporalio.common import SearchAttributeKey

ORDER_STATUS = SearchAttributeKey.for_keyword("OrderStatus")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
ORDER_TOTAL = SearchAttributeKey.for_float("OrderTotal")
REVIEW_LEVEL = SearchAttributeKey.for_int("ReviewLevel")
ESCALATED = SearchAttributeKey.for_bool("Escalated")

ALL = (ORDER_STATUS, CUSTOMER_ID, ORDER_TOTAL, REVIEW_LEVEL, ESCALATED)
