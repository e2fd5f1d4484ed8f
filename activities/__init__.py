"""Activities: everything an order does to PostgreSQL and the outside world."""
