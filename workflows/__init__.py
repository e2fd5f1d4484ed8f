"""Temporal workflows: the source of truth for where every order stands."""
