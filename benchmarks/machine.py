"""What the machine did besides the benchmark: CPU used by other processes, per benchmark and per run.

Interference on a shared machine only adds time, so a run taken while something else used the
cores is said, not hidden: `other_cpu()` measures, from /proc, the CPU time that processes
outside this pytest process tree (and the hypervisor, as steal time) took while a block ran,
as a share of wall time x cores. Linux only; elsewhere the share is None.
"""
from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator
from pathlib import Path

BUSY_SHARE = 0.10  # other processes used more than 10% of the cores: the run is "busy"
TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _system_busy_ticks() -> int | None:
    """Busy + steal ticks of all CPUs since boot (idle and iowait excluded)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    values = [int(v) for v in fields]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    guest = sum(values[8:10]) if len(values) > 9 else 0  # already counted in user/nice
    return sum(values) - idle - guest


def _own_tree_ticks() -> int:
    """CPU ticks of this process tree: living descendants (compile workers, ranks) and the reaped ones."""
    stats = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                text = (entry / "stat").read_text()
            except OSError:
                continue
            fields = text[text.rindex(")") + 2:].split()  # after the command name, which may hold spaces
            # ppid; utime + stime + cutime + cstime: children that ended and were reaped count too
            stats[int(entry.name)] = (int(fields[1]), sum(int(v) for v in fields[11:15]))
    me, total = os.getpid(), 0
    for pid, (_, ticks) in stats.items():
        node, seen = pid, 0
        while node in stats and node != me and seen < 64:
            node, seen = stats[node][0], seen + 1
        if node == me:
            total += ticks
    return total


class CpuWatch:
    """Started on creation; `share()` is the share of the cores (0..1) that anything but this
    process tree used since then, or None where /proc is missing."""

    def __init__(self):
        self.share_value: float | None = None
        self._system, self._start = _system_busy_ticks(), time.monotonic()
        self._own = _own_tree_ticks() if self._system is not None else 0

    def share(self) -> float | None:
        elapsed = time.monotonic() - self._start
        if self._system is None or elapsed <= 0:
            return None
        others = (_system_busy_ticks() - self._system) - (_own_tree_ticks() - self._own)
        return round(min(1.0, max(0.0, others / TICKS / (elapsed * (os.cpu_count() or 1)))), 4)


@contextlib.contextmanager
def other_cpu() -> Iterator[CpuWatch]:
    """Measures the block: `.share_value` is set when it ends."""
    watch = CpuWatch()
    yield watch
    watch.share_value = watch.share()


def run_load(share: float | None) -> dict:
    """machine_info['suite']['load'] for a whole run."""
    if share is None:
        return {"other_cpu_share": None, "busy": False, "note": "not measured: no /proc on this system"}
    busy = share > BUSY_SHARE
    note = (f"other processes used {share:.0%} of the cores during the run" +
            (f" (over {BUSY_SHARE:.0%}: timings are inflated; do not gate on this run)" if busy else ""))
    return {"other_cpu_share": share, "busy": busy, "note": note}
