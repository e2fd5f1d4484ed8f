# Developer entry points. Everything runs from the project's own virtualenv in .venv;
# local state (PostgreSQL data, Temporal's database) lives in .data and survives `make clean`.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: venv run demo bench bench-park bench-reservation bench-analytics chaos deploy-check test lint format clean clean-data

venv: $(STAMP)

# Reinstalled whenever pyproject.toml changes (new or upgraded dependencies).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

# PostgreSQL, Temporal, the worker and the API in the foreground; Ctrl-C stops everything.
run: $(STAMP)
	$(BIN)/python -m devstack run

# Against a running `make run` (another terminal): every role walks orders through stock,
# production and the simulated carrier, narrated line by line.
demo: $(STAMP)
	$(BIN)/python -m demo

# Whole order lifecycles at saturation and half load against Temporal's own floor, on a stack
# of its own (ports 8100/7300/8300/8800, data in .data/bench); prints figures and writes them
# to bench/results/. Options: make bench BENCH_ARGS="--orders 20 --concurrency 4".
bench: $(STAMP)
	$(BIN)/python -m devstack temporal-cli
	$(BIN)/python -m bench lifecycle $(BENCH_ARGS)

# Many orders parked in review, and the worker's memory while their reminders fire.
bench-park: $(STAMP)
	$(BIN)/python -m devstack temporal-cli
	$(BIN)/python -m bench park $(BENCH_ARGS)

# Stock reservation under concurrency, on a fresh database of its own; prints figures.
bench-reservation: $(STAMP)
	$(BIN)/python -m bench.reservation $(BENCH_ARGS)

# The analytics endpoints over a year of 100,000 orders loaded into a fresh database of its
# own; prints p50/p99 per endpoint and period. Options: BENCH_ARGS="--orders 20000 --calls 50".
bench-analytics: $(STAMP)
	$(BIN)/python -m bench.analytics $(BENCH_ARGS)

# 300 orders walk their scripts on a stack of its own (free ports, a temporary data directory)
# while 5 worker, 2 API, 1 PostgreSQL and 1 Temporal SIGKILLs hit it at random moments; prints
# the kills and a pass/fail table of what every order must leave behind. Options:
# make chaos CHAOS_ARGS="--orders 50 --seed 7 --worker-kills 2 --keep".
chaos: $(STAMP)
	$(BIN)/python -m devstack temporal-cli
	$(BIN)/python -m chaos $(CHAOS_ARGS)

# The compose file's topology without Docker: Temporal Server 1.29.1 (built once with
# `go install`, minutes) on the embedded PostgreSQL, its schemas, the migrations, the namespace
# set-up job, two workers and two API processes; the first admin (`python -m db.admin
# create-admin`), then people, a customer, products and stock through the API; drives a few
# orders to COMPLETED through the API, prints a pass/fail summary and stops everything.
# Options: DEPLOY_CHECK_ARGS="--keep".
deploy-check: $(STAMP)
	$(BIN)/python -m deploy.check $(DEPLOY_CHECK_ARGS)

# The Temporal CLI and Chromium (the dashboard's browser test) are resolved first so that a
# one-time build or install shows its progress here rather than inside the test session.
# Make stops at the first failing command.
test: $(STAMP)
	$(BIN)/python -m devstack temporal-cli
	$(BIN)/python -m devstack chromium
	$(BIN)/python -m pytest
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV)

clean-data:
	rm -rf .data
