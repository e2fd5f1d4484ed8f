"""Benchmarks run by hand (``python -m bench``, ``make bench``): they print and record figures
and assert nothing about speed."""
