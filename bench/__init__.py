"""Benchmarks run by hand against a real PostgreSQL; they print figures and assert nothing."""
