"""Figures: percentiles, the markdown tables the bench prints, and the files it writes.

Results are plain dicts (the JSON written to ``bench/results/``); the markdown is rendered from
that same dict, so what is printed and what is stored never disagree. Latencies are in
milliseconds, percentiles by nearest rank.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from devstack.paths import project_root

RESULTS_DIR = "bench/results"


def percentiles(seconds: Sequence[float]) -> dict[str, float | int]:
    """``n`` and p50/p90/p99/max in milliseconds (zeros when there is no sample)."""
    ordered = sorted(seconds)
    if not ordered:
        return {"n": 0, "p50": 0.0, "p90": 0.0, "p99": 0.0, "max": 0.0}

    def rank(p: float) -> float:
        return ordered[max(0, math.ceil(p * len(ordered)) - 1)] * 1000

    return {
        "n": len(ordered),
        "p50": round(rank(0.50), 1),
        "p90": round(rank(0.90), 1),
        "p99": round(rank(0.99), 1),
        "max": round(ordered[-1] * 1000, 1),
    }


def spread(values: Sequence[int]) -> dict[str, float | int]:
    """``n``, median and max of whole numbers (history events)."""
    if not values:
        return {"n": 0, "median": 0, "max": 0}
    return {"n": len(values), "median": statistics.median(values), "max": max(values)}


def write_results(results: dict[str, Any], markdown: str, mode: str) -> list[Path]:
    """``<UTC timestamp>-<mode>.json/.md`` and ``latest-<mode>.json/.md``; the paths written."""
    directory = project_root() / RESULTS_DIR
    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.fromisoformat(results["started_at"]).strftime("%Y%m%dT%H%M%SZ")
    written = []
    for stem in (f"{stamp}-{mode}", f"latest-{mode}"):
        json_path = directory / f"{stem}.json"
        json_path.write_text(json.dumps(results, indent=2, default=str) + "\n")
        md_path = directory / f"{stem}.md"
        md_path.write_text(markdown)
        written += [json_path, md_path]
    return written


# ---------------------------------------------------------------------------- shared pieces

_MEMORY_NOTE = (
    "CPU: user + system seconds during the phase, reaped children included. Memory: RSS; for "
    "postgres the sum of PSS over the postmaster and its backends (shared buffers count once)."
)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + " --- |" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _ms(stats: dict[str, Any] | None) -> list[str]:
    if not stats or not stats.get("n"):
        return ["—"] * 4
    return [
        f"{stats[key]:.0f}" if stats[key] >= 100 else f"{stats[key]:.1f}"
        for key in ("p50", "p90", "p99", "max")
    ]


def _mib(value: float | None) -> str:
    return "n/a (not watched)" if value is None else f"{value:.0f}"


def _machine_line(machine: dict[str, Any]) -> str:
    return (
        f"Machine: {machine['nproc']} × {machine['cpu_model']}, {machine['ram_gib']} GiB RAM, "
        f"Python {machine['python']}, Linux {machine['kernel']}"
    )


def _usage_table(phases: dict[str, dict[str, Any]]) -> list[str]:
    """One row per process: CPU seconds and max RSS in each phase."""
    names: list[str] = []
    for usage in phases.values():
        for name in usage.get("cpu_seconds", {}):
            if name not in names:
                names.append(name)
    rows = []
    for name in names:
        row = [name]
        for usage in phases.values():
            cpu = usage.get("cpu_seconds", {}).get(name)
            rss = usage.get("max_rss_mib", {}).get(name)
            row.append("—" if cpu is None else f"{cpu:.1f} s / {rss:.0f} MiB")
        rows.append(row)
    header = ["process"] + [f"{phase.replace('_', ' ')}: CPU / max RSS" for phase in phases]
    return _table(header, rows)


# ---------------------------------------------------------------------------- lifecycle


def lifecycle_markdown(r: dict[str, Any]) -> str:
    s, mix, phases = r["settings"], r["mix"], r["phases"]
    sat, half, base = phases["saturated"], phases.get("half_load"), phases.get("baseline")
    lines = [
        f"# Order-flow benchmark: lifecycle ({r['started_at']})",
        "",
        _machine_line(r["machine"]),
        "",
        f"{s['orders']} orders at concurrency {s['concurrency']} (seed {s['seed']}, status poll "
        f"every {s['poll_interval_ms']} ms, stack: {s['stack']}). Mix: review levels "
        + ", ".join(f"{k}: {v}" for k, v in mix["review_levels"].items())
        + f"; made to order {mix['made_to_order']}, from stock {mix['from_stock']}. "
        f"Baseline shape (the median order): {r['baseline_shape']}.",
        "",
        "## Throughput",
        "",
    ]
    rows = [["product, saturated", *_throughput(sat)]]
    if half:
        rows.append([f"product, arrivals at {half['arrival_rate']:.2f}/s", *_throughput(half)])
    if base:
        rows.append(["Temporal floor (baseline)", *_throughput(base)])
    lines += _table(["run", "orders", "seconds", "orders/s", "order p50 ms", "order p90 ms"], rows)
    if r.get("ratio") is not None:
        lines += ["", f"**Product / floor: {r['ratio']:.2f}** (orders/s at saturation)."]
    lines += ["", "## Latency per call (ms: p50 / p90 / p99 / max)", ""]
    lines += _latency_table(sat, half, base)
    lines += ["", "## History events per order", ""]
    events = r["history_events"]
    lines += _table(
        ["workflows", "n", "median", "max"],
        [
            [label, str(events[key]["n"]), str(events[key]["median"]), str(events[key]["max"])]
            for key, label in (
                ("product", "product, every order"),
                ("product_median_shape", "product, orders of the baseline's shape"),
                ("baseline", "baseline"),
            )
            if key in events
        ],
    )
    if r.get("other_workflows_per_order") is not None:
        lines += [
            "",
            f"Other workflows the product started (notifications...): "
            f"{r['other_workflows_per_order']:.1f} per order.",
        ]
    polls = [
        f"{name} {phase['polls_per_order']}"
        for name, phase in phases.items()
        if "polls_per_order" in phase
    ]
    if polls:
        lines += [
            "",
            "Status polls (GET order while waiting for the workflow) per order: "
            + ", ".join(polls)
            + ".",
        ]
    lines += ["", "## Processes (CPU seconds / max RSS per phase)", ""]
    lines += _usage_table({name: phase["usage"] for name, phase in phases.items()})
    lines += ["", _MEMORY_NOTE]
    retries = {k: v for phase in phases.values() for k, v in phase.get("retries", {}).items()}
    if retries:
        lines += ["", f"429/503 answers waited out: {retries}"]
    return "\n".join(lines) + "\n"


def _throughput(phase: dict[str, Any]) -> list[str]:
    order = phase["order_seconds"]
    return [
        str(phase["orders"]),
        f"{phase['seconds']:.1f}",
        f"{phase['orders_per_s']:.2f}",
        f"{order['p50']:.0f}",
        f"{order['p90']:.0f}",
    ]


def _latency_table(
    sat: dict[str, Any], half: dict[str, Any] | None, base: dict[str, Any] | None
) -> list[str]:
    kinds = list(sat["calls"])
    header = ["call", "saturated"]
    if half:
        header.append("half load")
    if base:
        header.append("baseline (SDK)")
    rows = []
    for kind in kinds:
        row = [kind, " / ".join(_ms(sat["calls"].get(kind)))]
        if half:
            row.append(" / ".join(_ms(half["calls"].get(kind))))
        if base:
            row.append(" / ".join(_ms(base["calls"].get(kind))))
        rows.append(row)
    probe = ["bare update round trip", " / ".join(_ms(sat.get("update_probe")))]
    if half:
        probe.append(" / ".join(_ms(half.get("update_probe"))))
    if base:
        probe.append("—")
    rows.append(probe)
    return _table(header, rows)


# ---------------------------------------------------------------------------- park


def park_markdown(r: dict[str, Any]) -> str:
    s, create, observe = r["settings"], r["phases"]["create"], r["phases"]["observe"]
    worker, events = r["worker_rss_mib"], r["history_events"]
    lines = [
        f"# Order-flow benchmark: parked orders ({r['started_at']})",
        "",
        _machine_line(r["machine"]),
        "",
        f"{s['orders']} orders created at concurrency {s['concurrency']} and left waiting in "
        f"review; review clocks {s['review_clocks']}; observed for {s['observe_seconds']:.0f} s "
        "once every order was in review.",
        "",
    ]
    lines += _table(
        ["figure", "value"],
        [
            ["orders created per second (HTTP)", f"{create['orders_per_s']:.1f}"],
            [
                "orders in review per second (first create to all UNDER_REVIEW)",
                f"{create['in_review_per_s']:.1f} ({create['seconds_until_all_in_review']:.0f} s)",
            ],
            ["create latency p50 / p90 / p99 / max ms", " / ".join(_ms(create["calls"]))],
            ["orders in review at the end", str(r["parked"])],
            ["worker RSS max (MiB)", _mib(worker["max"])],
            ["worker RSS final (MiB)", _mib(worker["final"])],
            [
                "history events per parked order, median / max (sample)",
                f"{events['median']} / {events['max']} (n={events['n']})",
            ],
            [
                "reminders per parked order, median / max (sample)",
                f"{r['reminders_per_order']['median']} / {r['reminders_per_order']['max']}",
            ],
        ],
    )
    lines += ["", "## Processes (CPU seconds / max RSS per phase)", ""]
    lines += _usage_table({"create": create["usage"], "observe": observe["usage"]})
    lines += ["", _MEMORY_NOTE]
    return "\n".join(lines) + "\n"
