"""Where the project lives on disk and how the development stack reads its own settings.

The stack's own knobs (ports, and whether the user already provides PostgreSQL or Temporal) are
read the same way the application reads its configuration: from the environment first, then
from the project's ``.env`` file. Reading ``.env`` too matters because a ``DATABASE_URL`` that
only lives in ``.env`` must still stop us from starting an embedded PostgreSQL.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from dotenv import dotenv_values


def project_root() -> Path:
    """The repository root: the directory holding ``pyproject.toml`` next to this package.

    Falls back to the current directory when the package was installed elsewhere (for example
    a non-editable install), because the stack is then started from the project root anyway.
    """
    candidate = Path(__file__).resolve().parent.parent
    if (candidate / "pyproject.toml").is_file():
        return candidate
    return Path.cwd()


def data_root() -> Path:
    """The git-ignored directory holding local state (PostgreSQL data, Temporal database).

    ``ORDERFLOW_DATA_DIR`` moves it (a relative path is taken from the project root), so that a
    second stack, such as the one ``make bench`` starts, keeps its state apart from
    ``make run``'s; by default it is ``.data``.
    """
    configured = setting("ORDERFLOW_DATA_DIR")
    if configured is None:
        return project_root() / ".data"
    path = Path(configured).expanduser()
    return path if path.is_absolute() else project_root() / path


@lru_cache
def _dotenv() -> dict[str, str | None]:
    path = project_root() / ".env"
    return dotenv_values(path) if path.is_file() else {}


def setting(name: str) -> str | None:
    """``name`` from the environment, else from ``.env``; ``None`` when unset or empty."""
    value = os.environ.get(name)
    if value is None:
        value = _dotenv().get(name)
    return value or None


def int_setting(name: str, default: int) -> int:
    """An integer setting (a port number, typically); a malformed value is a clear error."""
    raw = setting(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}.") from None
