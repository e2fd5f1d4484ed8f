"""What the stack's processes cost, read straight from ``/proc``: CPU seconds and resident memory.

The bench starts the stack as one supervisor process (``python -m devstack run``) whose children
are the Temporal dev server, the worker, the API and the carrier simulator; they are found again
as the supervisor's descendants by their command lines. The embedded PostgreSQL is not among
them (``pg_ctl`` detaches it), so it is found through the ``postmaster.pid`` file in its data
directory: the postmaster and all its children (backends, checkpointer, WAL writer...) count as
one "postgres" process, whose memory is the sum of PSS (its processes share their buffers, so
summed RSS would count them many times). CPU time includes reaped children
(``cutime``/``cstime``), so backends that came and went between two readings are not lost.

Everything here reads files only; it never signals a process.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import platform
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass(frozen=True)
class ProcStat:
    """The fields of ``/proc/<pid>/stat`` the bench needs."""

    pid: int
    ppid: int
    cpu_seconds: float  # user + system, own threads only
    children_cpu_seconds: float  # user + system of reaped children
    rss_bytes: int


def read_stat(pid: int) -> ProcStat | None:
    """``/proc/<pid>/stat`` parsed, or ``None`` when the process is gone."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may itself contain spaces or ')'.
    fields = raw[raw.rindex(")") + 2 :].split()
    # fields[0] is field 3 of proc(5): state, ppid, ... utime is 14, rss is 24.
    utime, stime, cutime, cstime = (int(fields[i]) for i in (11, 12, 13, 14))
    return ProcStat(
        pid=pid,
        ppid=int(fields[1]),
        cpu_seconds=(utime + stime) / _CLOCK_TICKS,
        children_cpu_seconds=(cutime + cstime) / _CLOCK_TICKS,
        rss_bytes=int(fields[21]) * _PAGE_SIZE,
    )


def proportional_set_size(pid: int) -> int:
    """PSS in bytes (``/proc/<pid>/smaps_rollup``): resident memory with each shared page
    divided among the processes sharing it, so that a group's PSS adds up; 0 when unknown."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def command_line(pid: int) -> str:
    """The process's arguments joined by spaces ('' when it is gone or a kernel thread)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def all_pids() -> list[int]:
    return [int(entry) for entry in os.listdir("/proc") if entry.isdigit()]


def descendants(root: int) -> list[int]:
    """Every live process below ``root`` (children, grandchildren...), ``root`` excluded."""
    children: dict[int, list[int]] = {}
    for pid in all_pids():
        stat = read_stat(pid)
        if stat is not None:
            children.setdefault(stat.ppid, []).append(pid)
    found: list[int] = []
    frontier = [root]
    while frontier:
        pid = frontier.pop()
        for child in children.get(pid, []):
            found.append(child)
            frontier.append(child)
    return found


def postmaster_pid(data_dir: Path) -> int | None:
    """The PID in ``<data_dir>/postmaster.pid`` if that server is running, else ``None``."""
    try:
        pid = int((data_dir / "postmaster.pid").read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pid if read_stat(pid) is not None else None


@dataclass
class Tracked:
    """A named group of processes whose CPU and memory are read together."""

    name: str
    #: Returns the group's root PIDs now; each root's descendants count too (for postgres).
    find: Callable[[], list[int]]
    with_descendants: bool = False


@dataclass(frozen=True)
class Reading:
    """One group's totals at one moment (``rss_bytes``: see :func:`read_group`)."""

    cpu_seconds: float
    rss_bytes: int


def read_group(group: Tracked) -> Reading | None:
    """CPU seconds (own, reaped children and, for groups with descendants, live children) and
    memory of a group, or ``None`` when none of its processes runs.

    Memory is the RSS of a single process; for a group with descendants (PostgreSQL, whose
    processes share their buffers) it is the sum of PSS, so shared pages count once.
    """
    cpu = 0.0
    memory = 0
    seen = False
    for root in group.find():
        stat = read_stat(root)
        if stat is None:
            continue
        seen = True
        cpu += stat.cpu_seconds + stat.children_cpu_seconds
        if not group.with_descendants:
            memory += stat.rss_bytes
            continue
        memory += proportional_set_size(root)
        for pid in descendants(root):
            child = read_stat(pid)
            if child is not None:
                cpu += child.cpu_seconds
                memory += proportional_set_size(pid)
    return Reading(cpu, memory) if seen else None


@dataclass
class PhaseUsage:
    """What each group used during one phase: CPU seconds and the largest and last RSS seen."""

    cpu_seconds: dict[str, float] = field(default_factory=dict)
    max_rss_bytes: dict[str, int] = field(default_factory=dict)
    last_rss_bytes: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "seconds": round(self.seconds, 3),
            "cpu_seconds": {k: round(v, 2) for k, v in self.cpu_seconds.items()},
            "max_rss_mib": {k: round(v / 2**20, 1) for k, v in self.max_rss_bytes.items()},
            "last_rss_mib": {k: round(v / 2**20, 1) for k, v in self.last_rss_bytes.items()},
        }


class UsageSampler:
    """Samples every tracked group's RSS every ``interval`` seconds during a phase, and takes
    CPU readings at its start and end.

    Use as ``async with sampler.phase("lifecycle") as usage: ...``; ``usage`` is filled in when
    the block ends. ``on_sample`` (optional) sees each sample, for progress lines.
    """

    def __init__(self, groups: list[Tracked], interval: float = 0.5) -> None:
        self.groups = groups
        self.interval = interval

    def snapshot(self) -> dict[str, Reading]:
        readings: dict[str, Reading] = {}
        for group in self.groups:
            reading = read_group(group)
            if reading is not None:
                readings[group.name] = reading
        return readings

    @contextlib.asynccontextmanager
    async def phase(
        self, on_sample: Callable[[dict[str, Reading]], None] | None = None
    ) -> AsyncIterator[PhaseUsage]:
        usage = PhaseUsage()
        loop = asyncio.get_running_loop()
        started_at = loop.time()
        start = await asyncio.to_thread(self.snapshot)
        self._record_rss(usage, start)

        async def sample_forever() -> None:
            while True:
                await asyncio.sleep(self.interval)
                readings = await asyncio.to_thread(self.snapshot)
                self._record_rss(usage, readings)
                if on_sample is not None:
                    on_sample(readings)

        sampling = asyncio.create_task(sample_forever())
        try:
            yield usage
        finally:
            sampling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampling
            end = await asyncio.to_thread(self.snapshot)
            self._record_rss(usage, end)
            usage.seconds = loop.time() - started_at
            for name, reading in end.items():
                before = start.get(name)
                usage.cpu_seconds[name] = reading.cpu_seconds - (
                    before.cpu_seconds if before else 0
                )

    @staticmethod
    def _record_rss(usage: PhaseUsage, readings: dict[str, Reading]) -> None:
        for name, reading in readings.items():
            usage.max_rss_bytes[name] = max(usage.max_rss_bytes.get(name, 0), reading.rss_bytes)
            usage.last_rss_bytes[name] = reading.rss_bytes


def machine() -> dict[str, object]:
    """nproc, RAM and CPU model of this machine, for the report's header."""
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    ram_gib = 0.0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = int(line.split()[1]) / 2**20
                break
    return {
        "nproc": os.cpu_count(),
        "ram_gib": round(ram_gib, 1),
        "cpu_model": model,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
