"""PostgreSQL for local runs and tests: the user's own server, or an embedded real one.

If ``DATABASE_URL`` is set (in the environment or ``.env``) it is used exactly as given and no
server is started. Otherwise a real PostgreSQL from the ``pgserver`` package runs from a data
directory under the project's git-ignored ``.data/``; it listens on a Unix socket only, so it
never clashes with another PostgreSQL on port 5432, and its data survives restarts.

Typical use::

    pg = ensure_postgres(".data/postgres", "orderflow")
    try:
        ...  # pg.url is a SQLAlchemy URL: postgresql+psycopg://postgres@/orderflow?host=...
    finally:
        pg.stop()
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from urllib.parse import quote

import psycopg
from psycopg import errors, sql

from devstack.paths import project_root, setting

if TYPE_CHECKING:
    from pgserver.postgres_server import PostgresServer

_DB_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")


class PostgresError(RuntimeError):
    """The embedded PostgreSQL could not be started or prepared."""


@dataclass
class PostgresHandle:
    """A usable database: its SQLAlchemy URL and, when embedded, the server keeping it alive.

    ``server`` is ``None`` when the URL came from ``DATABASE_URL``. Call :meth:`stop` (or use
    the handle as a context manager) to stop the embedded server; it is also stopped when the
    Python process exits normally, but not when it is killed.
    """

    url: str
    server: PostgresServer | None = None
    data_dir: Path | None = None

    @property
    def embedded(self) -> bool:
        """Whether this handle started (or attached to) an embedded server."""
        return self.server is not None

    def stop(self) -> None:
        """Stop the embedded server, unless another live process is still using it."""
        if self.server is not None:
            self.server.cleanup()
            self.server = None

    def __enter__(self) -> PostgresHandle:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _forget_dead_handles(data_dir: Path) -> None:
    """Drop processes that no longer exist from pgserver's list of users of this server.

    pgserver stops the server when its last registered user exits. A run that was killed
    (SIGKILL, a crash) never deregisters, and would otherwise keep every later run from ever
    stopping the server.
    """
    handles = data_dir / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    if not isinstance(pids, list):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _create_database(admin_uri: str, database: str) -> None:
    """Create ``database`` if it does not exist yet (idempotent, safe against a racing creator)."""
    with psycopg.connect(admin_uri, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists:
            return
        with contextlib.suppress(errors.DuplicateDatabase):
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _sqlalchemy_url(socket_dir: Path, database: str) -> str:
    # The socket directory goes in the query string; it is percent-encoded so that unusual
    # characters in the project path survive URL parsing.
    return f"postgresql+psycopg://postgres@/{database}?host={quote(str(socket_dir), safe='/')}"


def ensure_postgres(
    data_dir: str | os.PathLike[str] = ".data/postgres",
    database: str = "orderflow",
    *,
    use_env: bool = True,
) -> PostgresHandle:
    """Return a PostgreSQL database to use, starting an embedded server if needed.

    * ``use_env`` and ``DATABASE_URL`` set: returns ``PostgresHandle(url=DATABASE_URL)`` as is;
      nothing is started and the database is not created.
    * Otherwise: starts (or attaches to an already running) embedded PostgreSQL whose data lives
      in ``data_dir`` (relative paths are taken from the project root), creates ``database`` if
      missing, and returns its ``postgresql+psycopg://`` URL with the server handle.

    Raises :class:`PostgresError` if ``pgserver`` is missing or the server fails to start.
    """
    if use_env:
        configured = setting("DATABASE_URL")
        if configured:
            return PostgresHandle(url=configured)

    if not _DB_NAME.match(database):
        raise ValueError(f"not a plain PostgreSQL database name: {database!r}")
    try:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); pgserver then
            # uses a /tmp fallback for its lock file, which is fine for a development server.
            warnings.simplefilter("ignore")
            import pgserver
    except ImportError as exc:
        raise PostgresError(
            "The embedded PostgreSQL needs the pgserver package: "
            "pip install -e '.[embedded]', or set DATABASE_URL to an existing server."
        ) from exc

    path = Path(data_dir)
    if not path.is_absolute():
        path = project_root() / path
    path.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(path)
    try:
        server = pgserver.get_server(path, cleanup_mode="stop")
    except Exception as exc:
        log = path / "log"
        raise PostgresError(
            f"The embedded PostgreSQL in {path} did not start ({exc}); see {log}."
        ) from exc

    handle = PostgresHandle(url="", server=server, data_dir=path)
    try:
        _create_database(server.get_uri("postgres"), database)
        socket_dir = server.get_postmaster_info().socket_dir
        if socket_dir is None:  # pgserver only uses TCP on Windows
            raise PostgresError("The embedded PostgreSQL reports no Unix socket directory.")
        handle.url = _sqlalchemy_url(socket_dir, database)
    except BaseException:
        handle.stop()
        raise
    return handle
