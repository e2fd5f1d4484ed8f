"""What `make run` prints once everything answers: where each part is and how to sign in."""

from __future__ import annotations

from db.seed import DEMO_PASSWORD

WIDTH = 72
# The logins db.seed writes, with the role each plays.
DEMO_USERS: list[tuple[str, str]] = [
    ("sales1", "sales"),
    ("sup1", "supervisor"),
    ("sup2", "supervisor"),
    ("mgr1", "manager"),
    ("dir1", "director"),
    ("fin1", "finance"),
    ("prod1", "production"),
    ("log1", "logistics"),
    ("ops1", "ops"),
    ("acme", "customer ACME"),
    ("admin1", "admin: users and master data"),
]


def banner(
    *,
    api_url: str,
    api_reach: str,
    temporal_ui: str,
    database: str,
    carrier: str,
    worker_metrics: str | None,
) -> list[str]:
    users = [f"{name} ({role})" for name, role in DEMO_USERS]
    lines = [
        "",
        "=" * WIDTH,
        "  Order flow is running.",
        f"  API docs      {api_url}/docs",
        f"                {api_reach}",
        f"  Dashboard     {api_url}/dashboard (staff sign-in)",
        f"  Temporal UI   {temporal_ui}",
        f"  PostgreSQL    {database}",
        f"  Carrier sim   {carrier}",
        f"  Metrics       {api_url}/metrics (API)",
    ]
    if worker_metrics:
        lines.append(f"                http://{worker_metrics}/metrics (worker)")
    lines.append(f"  Demo logins (demo only — never deploy these), password {DEMO_PASSWORD}:")
    lines += _wrap(users, indent="    ", width=WIDTH)
    lines += [
        "  `make demo` in another terminal plays every role.",
        "  Ctrl-C stops everything.",
        "=" * WIDTH,
        "",
    ]
    return lines


def _wrap(items: list[str], *, indent: str, width: int) -> list[str]:
    """Lay ``items`` out comma-separated over as many lines as ``width`` requires."""
    lines: list[str] = []
    current = ""
    for item in items:
        candidate = f"{current}, {item}" if current else item
        if current and len(indent) + len(candidate) + 1 > width:
            lines.append(f"{indent}{current},")
            current = item
        else:
            current = candidate
    if current:
        lines.append(indent + current)
    return lines
