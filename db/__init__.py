"""PostgreSQL: the queryable record of every order, written by activities and read by the API."""
