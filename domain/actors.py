"""Who acts on an order besides people: the names recorded as the actor of a transition."""

SYSTEM = "system"  # the workflow itself: validation, timers, automatic steps
CARRIER = "carrier"  # the carrier's tracking events (a hold for a delivery exception)
