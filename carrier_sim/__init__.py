"""A stand-in for an external parcel carrier, run as its own small HTTP service.

The order worker books, hands over and cancels shipments here through
``activities.carriers.SimulatedCarrier``; after a hand-over the simulator posts HMAC-signed
tracking events to the API on its own schedule, as a real carrier's webhook would. It lives
outside the product, so everything it knows is kept in memory and lost when it stops.
"""
