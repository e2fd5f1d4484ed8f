"""The HTTP API: authenticate, validate, then start, update, signal or query an order workflow,
or read PostgreSQL."""
