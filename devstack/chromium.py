"""Find headless Chromium for the dashboard's browser test, or install Debian's package.

Where it comes from, in order:

1. ``CHROMIUM`` — an explicit path chosen by the user;
2. ``chromium`` (or ``chromium-browser``, ``google-chrome``) on ``PATH``;
3. ``apt-get install chromium`` from Debian's packages, when running as root on a machine with
   ``apt-get`` (a CI runner, a development container). Playwright's own browser download is
   not used: it needs general internet access, Debian's package needs only the package mirror.

When none of these works, :func:`ensure_chromium` raises :class:`ChromiumUnavailable` with one
sentence that says what to install.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
from pathlib import Path

_NAMES = ("chromium", "chromium-browser", "google-chrome")
# apt-get waits this long for another installer's lock (another test run, a manual install)
# rather than failing at once.
_APT_LOCK_TIMEOUT_SECONDS = 600
_INSTALL_TIMEOUT_SECONDS = 1800


class ChromiumUnavailable(RuntimeError):
    """No Chromium could be found or installed; the message says what to do."""


def find_chromium() -> Path | None:
    """The Chromium executable from ``CHROMIUM`` or the ``PATH``, if there is one."""
    configured = os.environ.get("CHROMIUM")
    if configured:
        path = Path(configured)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ChromiumUnavailable(f"CHROMIUM={configured} is not an executable file.")
        return path
    for name in _NAMES:
        found = shutil.which(name)
        if found:
            return Path(found)
    return None


def _install_with_apt() -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = ["-o", f"DPkg::Lock::Timeout={_APT_LOCK_TIMEOUT_SECONDS}"]
    # One installer at a time from this project (two test sessions starting together).
    lock_path = Path(os.environ.get("TMPDIR", "/tmp")) / "orderflow-chromium-install.lock"
    with lock_path.open("w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        if find_chromium() is not None:
            return
        print("devstack: installing Debian's chromium package (once)...", flush=True)
        for command in (
            ["apt-get", *lock, "update", "-qq"],
            [
                "apt-get",
                *lock,
                "install",
                "-y",
                "-qq",
                "--no-install-recommends",
                "chromium",
                "fonts-liberation",
            ],
        ):
            result = subprocess.run(
                command,
                env=env,
                capture_output=True,
                text=True,
                timeout=_INSTALL_TIMEOUT_SECONDS,
                check=False,
            )
            if result.returncode != 0:
                tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
                raise ChromiumUnavailable(
                    f"`{' '.join(command)}` failed ({' / '.join(tail)}); install Chromium "
                    "(Debian: apt-get install chromium) or set CHROMIUM to its path."
                )


def ensure_chromium() -> Path:
    """Return the path of a Chromium executable, installing Debian's package when missing."""
    found = find_chromium()
    if found is not None:
        return found
    can_install = shutil.which("apt-get") is not None and os.geteuid() == 0
    if not can_install:
        raise ChromiumUnavailable(
            "The dashboard's browser test needs Chromium: install it (Debian: "
            "`sudo apt-get install chromium`) or set CHROMIUM to its path."
        )
    _install_with_apt()
    found = find_chromium()
    if found is None:
        raise ChromiumUnavailable(
            "apt-get installed chromium but no chromium executable is on the PATH; "
            "set CHROMIUM to its path."
        )
    return found
