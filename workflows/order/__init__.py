"""The order workflow, split by concern; ``OrderWorkflow`` is the entry point."""

from workflows.order.workflow import OrderWorkflow

__all__ = ["OrderWorkflow"]
