"""Find the Temporal CLI, or build it once from source with the Go toolchain.

The Temporal CLI contains the whole Temporal dev server (``temporal server start-dev``), which is
what ``make run`` and the test suite run locally. Where it comes from, in order:

1. ``TEMPORAL_CLI`` — an explicit path chosen by the user;
2. ``temporal`` on ``PATH``;
3. a build cached under ``${XDG_CACHE_HOME:-~/.cache}/orderflow/bin``, from an earlier run;
4. a fresh build with ``go install`` from the Go module proxy, which works on machines that
   reach package registries but not GitHub releases. It is a one-time cost of a few minutes.

When none of these is possible, :func:`ensure_temporal_cli` returns ``None`` and the caller falls
back to the Temporal SDK's own download of the CLI (which needs general internet access).
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

#: The pinned CLI release. It embeds Temporal Server 1.29.1, the version docker-compose runs.
TEMPORAL_CLI_VERSION = "v1.5.1"
#: The Go package that ``go install`` builds into the ``temporal`` binary.
TEMPORAL_CLI_PACKAGE = "github.com/temporalio/cli/cmd/temporal"
_CLI_MODULE = "github.com/temporalio/cli"
_HEARTBEAT_SECONDS = 30.0


class TemporalCliError(RuntimeError):
    """The Temporal CLI cannot be used: a bad ``TEMPORAL_CLI`` value or a failed build."""


def cache_dir() -> Path:
    """The directory holding the cached CLI build: ``${XDG_CACHE_HOME:-~/.cache}/orderflow/bin``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "orderflow" / "bin"


def cached_cli_path() -> Path:
    """Where the cached build lives (it may not exist yet)."""
    return cache_dir() / "temporal"


def _stamp_path() -> Path:
    # The stamp records which release the cached binary was built from, so that bumping
    # TEMPORAL_CLI_VERSION rebuilds instead of silently running an old server.
    return cache_dir() / "temporal.version"


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _module_version(binary: Path, go: str) -> str | None:
    """The ``temporalio/cli`` module version recorded in a Go binary's build info, if readable."""
    try:
        result = subprocess.run(
            [go, "version", "-m", str(binary)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    for line in result.stdout.splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0] == "mod" and fields[1] == _CLI_MODULE:
            return fields[2]
    return None


def _cached_build_is_current(go: str | None) -> bool:
    """Whether the cached binary exists and was built from :data:`TEMPORAL_CLI_VERSION`.

    A binary without a stamp (built by hand, or by an older version of this module) is checked
    through its Go build info when ``go`` is available, and stamped if it matches.
    """
    binary = cached_cli_path()
    if not _is_executable(binary):
        return False
    stamp = _stamp_path()
    if stamp.is_file():
        return stamp.read_text().strip() == TEMPORAL_CLI_VERSION
    if go is not None and _module_version(binary, go) == TEMPORAL_CLI_VERSION:
        stamp.write_text(TEMPORAL_CLI_VERSION + "\n")
        return True
    return False


def _run_streaming(argv: list[str], env: dict[str, str]) -> int:
    """Run ``argv`` with its output going straight to the terminal, with a periodic heartbeat.

    ``go install`` prints nothing while it compiles, for minutes; the heartbeat shows it is alive.
    """
    started = time.monotonic()
    with subprocess.Popen(argv, env=env) as proc:
        while True:
            try:
                return proc.wait(timeout=_HEARTBEAT_SECONDS)
            except subprocess.TimeoutExpired:
                minutes, seconds = divmod(int(time.monotonic() - started), 60)
                print(
                    f"devstack: still building the Temporal CLI ({minutes}m{seconds:02d}s)",
                    flush=True,
                )
            except BaseException:
                proc.kill()
                raise


def _build(go: str) -> Path:
    """Build the pinned CLI into the cache directory; one build at a time across processes."""
    target_dir = cache_dir()
    target_dir.mkdir(parents=True, exist_ok=True)
    with (target_dir / ".build.lock").open("w") as lock:
        # Another process (a parallel `make test`, say) may be building right now: wait for it
        # and reuse its result rather than compiling the same thing twice.
        fcntl.flock(lock, fcntl.LOCK_EX)
        if _cached_build_is_current(go):
            return cached_cli_path()
        staging = target_dir / f".build-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir()
        print(
            f"devstack: building the Temporal CLI {TEMPORAL_CLI_VERSION} with Go into {target_dir}"
            " — a one-time build of a few minutes.",
            flush=True,
        )
        env = dict(os.environ, GOBIN=str(staging), CGO_ENABLED="0")
        try:
            code = _run_streaming(
                [go, "install", f"{TEMPORAL_CLI_PACKAGE}@{TEMPORAL_CLI_VERSION}"], env
            )
            built = staging / "temporal"
            if code != 0 or not _is_executable(built):
                raise TemporalCliError(
                    f"`go install {TEMPORAL_CLI_PACKAGE}@{TEMPORAL_CLI_VERSION}` failed "
                    f"(exit code {code}); see its output above."
                )
            # Rename into place so no process ever sees a half-written binary.
            os.replace(built, cached_cli_path())
            _stamp_path().write_text(TEMPORAL_CLI_VERSION + "\n")
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        print(f"devstack: Temporal CLI ready at {cached_cli_path()}", flush=True)
        return cached_cli_path()


def ensure_temporal_cli() -> Path | None:
    """Return the Temporal CLI binary to use, building it once if needed; ``None`` if impossible.

    Raises :class:`TemporalCliError` when ``TEMPORAL_CLI`` names something that is not an
    executable file, or when a Go build was attempted and failed.
    """
    explicit = os.environ.get("TEMPORAL_CLI")
    if explicit:
        path = Path(explicit).expanduser()
        if not _is_executable(path):
            raise TemporalCliError(f"TEMPORAL_CLI={explicit} is not an executable file.")
        return path.absolute()

    on_path = shutil.which("temporal")
    if on_path:
        return Path(on_path)

    go = shutil.which("go")
    if _cached_build_is_current(go):
        return cached_cli_path()
    if go is None:
        if _is_executable(cached_cli_path()):
            # Built from another release and no Go to rebuild it: an older dev server still
            # beats none at all.
            print(
                f"devstack: warning: {cached_cli_path()} is not the pinned "
                f"{TEMPORAL_CLI_VERSION} build and Go is not installed to rebuild it; using it.",
                file=sys.stderr,
            )
            return cached_cli_path()
        return None
    return _build(go)
