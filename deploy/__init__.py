"""Bringing a deployment up clean: the one-shot Temporal set-up job, the health checks the
compose file runs, and ``make deploy-check`` (the same topology without Docker)."""
