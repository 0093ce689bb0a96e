"""Instructions per steady step, counted in software by valgrind's callgrind: a second signal beside
time, one that a shared or noisy machine does not disturb.

Why: time between fresh processes of one commit varies by tens of percent on a 2-core VM, and its
virtual CPU has no hardware counters (perf_event_open: "PMU not available due to virtualization").
Callgrind runs the process on a synthetic CPU and counts the guest instructions it executes, so a
count does not depend on what else runs on the machine.

How: the benchmark process runs under `valgrind --tool=callgrind --instr-atstart=no`, so the
imports, compiles and warm-up steps run uninstrumented (cheaper) and uncounted. Around the
counted steps only, a few lines of C (built at first use with the system's C compiler from
valgrind's own header, called through ctypes) start instrumentation, zero the counters, and after
the steps dump them under the benchmark's name. The dump's `totals:` line divided by the steps is
the figure. Everything runs on one thread (BLAS, XLA, OpenMP) and with a fixed hash seed, so that
the count is the work of the step and not of how threads happened to wait for each other.

    python -m benchmarks.instructions --out FILE [--steps N] -- PYTEST ARGS...

runs `pytest benchmarks PYTEST ARGS --benchmark-disable --count-instructions FILE` under callgrind
(only steady cases are counted; other cases run as usual under --benchmark-disable) and leaves FILE:
{"steps": N, "counts": {node id: instructions per step}, "complete": true} (rewritten after each
case, "complete": false until the run ends).

What a count cannot see: memory stalls and cache misses, threading and contention, GPU work, and
time spent waiting. A change that makes the same instructions slower shows in time only.
"""
from __future__ import annotations

import argparse
import ctypes
import gc
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

STEPS = 1  # counted steps a benchmark at first: one step of MIN_COUNTED or more is the figure (under
# valgrind a step costs about as much instrumented as not: docs/regression-gate.md)
ONE_THREAD = {
    "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
    "TORCHINDUCTOR_COMPILE_THREADS": "1", "PYTHONHASHSEED": "0",
    "PJRT_NPROC": "1",  # the size of XLA's CPU client pools (XLA_FLAGS' thread options leave them as they are)
}
# counting also runs glibc's malloc without fastbins (mxfast=0) and with a deep per-thread cache (tcache_count):
# otherwise how much work a free or malloc does (malloc_consolidate, bin searches) depends on the
# heap's history, which moved small steps' counts by up to 1.2% between processes of one commit
# here (BFGS jax-jit, the jax-eager elementwise function); and it maps every block of 64 KiB or more
# on pages of its own (mmap_threshold, which also stops glibc from raising it as blocks are freed):
# on the heap, where such an array starts modulo a vector's width depends on what the process had
# allocated before (even on how long its checkout's path is), and with it how many elements a SIMD
# loop handles one by one before and after its vector body (docs/regression-gate.md)
COUNTING_ENV = {**ONE_THREAD, "GLIBC_TUNABLES": "glibc.malloc.mxfast=0:glibc.malloc.tcache_count=65535:"
                                                "glibc.malloc.mmap_threshold=65536"}
# Every thread's instructions are counted, but for one function: an idle pool thread of XLA's (Eigen's
# non-blocking pool) spins in MaybeGetTask looking for work for as long as the steps take. That is
# not the step's work, and its share moved a count by several percent between processes here; its
# cost (with what it calls) is taken out of each dump's total. (Toggling collection inside it,
# --toggle-collect, stopped the counting of the other threads too.)
SPINNING = "MaybeGetTask"
MIN_COUNTED = 5_000_000  # instructions a count spans at least: a one-off event in a small step averages out
MAX_STEPS = 1000
# counted after the other modes: under valgrind, op-by-op dispatch (each primitive compiled on first
# use, then Python and the runtime around every operation) makes these the costliest cases to count
# and their counts the least steady, so a counting run stopped at its share of a budget leaves
# these, rather than others, to time alone
COUNT_LAST = ("jax-eager",)
VALGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no", "--dump-instr=no",
            "--compress-strings=no", "--error-limit=no", "-q")
SHIM = r"""
#include <valgrind/callgrind.h>
int on_callgrind(void) { return RUNNING_ON_VALGRIND; }
void begin(const char *name) { CALLGRIND_START_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT(name); }
void end(const char *name) { CALLGRIND_DUMP_STATS_AT(name); CALLGRIND_STOP_INSTRUMENTATION; }
"""
DUMPS_ENV = "BENCH_CALLGRIND_DUMPS"  # the folder callgrind writes its dumps into (set by start())
KEEP_ENV = "BENCH_CALLGRIND_KEEP"  # set (to anything): keep each case's dumps there, for callgrind_annotate


class Counting:
    """This process's counting run, set by the plugin (benchmarks/plugin/instructions.py): steps a
    benchmark (0: not counting) and the figures so far, node id -> instructions per step."""
    steps = 0
    counts: dict[str, float] = {}
    written = 0  # figures in FILE so far


class Unavailable(RuntimeError):
    """Counting cannot work here (no valgrind, no C compiler, or not running under callgrind)."""


@cache
def shim() -> ctypes.CDLL:
    """The client-request functions, compiled once per process into a temporary folder."""
    if not Path("/usr/include/valgrind/callgrind.h").exists():
        raise Unavailable("valgrind's header /usr/include/valgrind/callgrind.h is missing (apt-get install valgrind)")
    compiler = shutil.which(os.environ.get("CC", "cc"))
    if compiler is None:
        raise Unavailable("no C compiler (cc) to build the callgrind client requests")
    folder = Path(tempfile.mkdtemp(prefix="bench-callgrind-"))
    source, library = folder / "shim.c", folder / "shim.so"
    source.write_text(SHIM, encoding="utf8")
    proc = subprocess.run([compiler, "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        raise Unavailable(f"building the callgrind client requests failed: {proc.stderr.strip()[:200]}")
    lib = ctypes.CDLL(str(library))
    lib.begin.argtypes = lib.end.argtypes = [ctypes.c_char_p]
    return lib


def check_available() -> None:
    """Unavailable unless this process runs under callgrind with its dump folder set."""
    if not shim().on_callgrind() or not os.environ.get(DUMPS_ENV):
        raise Unavailable("--count-instructions needs valgrind's callgrind around pytest: "
                          "run `python -m benchmarks.instructions --out FILE -- PYTEST ARGS`")


def count(call: Callable[[], Any], name: str, steps: int = STEPS) -> float:
    """Instructions per call of `call` (already warm), counted over `steps` calls, or over as many
    more (up to MAX_STEPS) as make the count span MIN_COUNTED instructions when a step is small.

    A dump is taken right after instrumentation starts and another after the steps: the second
    one's total is what ran between them. (Zeroing the counters instead, CALLGRIND_ZERO_STATS, left
    an earlier case's costs in some later dumps' totals here.)"""
    first = _count(call, name, steps)
    if first < MIN_COUNTED and steps < MAX_STEPS:
        # in all a power of two, so that two processes of one commit almost always count the same
        # steps (a one-off cost, spread over 29 steps in one and 30 in the other, moved a count by
        # 0.1%); the steps counted first are part of it (under valgrind a step is costly)
        total = min(MAX_STEPS, 2 ** math.ceil(math.log2(MIN_COUNTED * steps / max(first, 1))))
        if total > steps:
            return (first + _count(call, name, total - steps)) / total
    return first / steps


def _count(call: Callable[[], Any], name: str, steps: int) -> int:
    lib, tag = shim(), re.sub(r"[^A-Za-z0-9_.-]", "_", f"{name}-{steps}steps")
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()  # a collection's place among the steps would vary from process to process
    try:
        lib.begin(f"before-{tag}".encode())
        for _ in range(steps):
            call()
        lib.end(tag.encode())
    finally:
        if enabled:
            gc.enable()
    return totals(Path(os.environ[DUMPS_ENV]), tag)


def totals(folder: Path, tag: str) -> int:
    """The instruction total of the dump callgrind wrote for client request `tag`, less the pool's
    spinning; that dump and the one before it are removed (a run writes two a case)."""
    found = None
    for path in folder.glob("callgrind.out.*"):
        text = path.read_text(encoding="utf8", errors="replace")
        if f"desc: Trigger: Client Request: {tag}\n" in text:
            total = re.search(r"^(?:totals|summary): (\d+)", text, re.MULTILINE)
            found = int(total.group(1)) - spinning(text) if total else None
        elif f"desc: Trigger: Client Request: before-{tag}\n" not in text:
            continue
        if not os.environ.get(KEEP_ENV):
            path.unlink()
    if found is None:
        raise Unavailable(f"callgrind wrote no dump for {tag} in {folder}")
    return found


def spinning(text: str) -> int:
    """The cost in a dump (callgrind's format, uncompressed names, Ir only) of the SPINNING
    function: its own lines and the calls it makes."""
    cost, inside = 0, False
    for line in text.splitlines():
        if line.startswith("fn="):
            inside = SPINNING in line
        elif inside and line[:1] in "0123456789+-*":
            parts = line.split()
            cost += int(parts[1]) if len(parts) > 1 else 0
    return cost


def command(out: Path, pytest_args: list[str], dumps: Path, steps: int = STEPS) -> list[str]:
    """The valgrind command line of a counting run."""
    return [*VALGRIND, f"--callgrind-out-file={dumps}/callgrind.out.%p", sys.executable, "-m", "pytest",
            *pytest_args, "--benchmark-disable", "--memory", "off", "-q", "-p", "no:cacheprovider",
            f"--count-instructions={out}", f"--count-steps={steps}"]


def environment(dumps: Path) -> dict[str, str]:
    return {**os.environ, **COUNTING_ENV, DUMPS_ENV: str(dumps)}


def start(out: Path, pytest_args: list[str], cwd: Path, steps: int = STEPS, **popen: Any) -> tuple[subprocess.Popen, Path]:
    """A counting run started in `cwd` (a checkout); returns the process and its dump folder, which
    the caller removes when the process has ended."""
    if shutil.which("valgrind") is None:
        raise Unavailable("valgrind is not installed (apt-get install valgrind)")
    dumps = Path(tempfile.mkdtemp(prefix="bench-callgrind-dumps-"))
    proc = subprocess.Popen(command(out, pytest_args, dumps, steps), cwd=cwd, env=environment(dumps), **popen)
    return proc, dumps


def read(path: Path) -> dict[str, float]:
    """A counting run's figures: node id -> instructions per step (of a stopped run: the cases it finished)."""
    return {str(k): float(v) for k, v in json.loads(path.read_text(encoding="utf8"))["counts"].items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.instructions", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, metavar="FILE")
    p.add_argument("--steps", type=int, default=STEPS)
    p.add_argument("pytest_args", nargs="*", metavar="PYTEST ARGS")
    args = p.parse_args(argv)
    try:
        proc, dumps = start(args.out, ["benchmarks", *args.pytest_args], Path.cwd(), args.steps)
    except Unavailable as exc:
        print(f"benchmarks.instructions: {exc}", file=sys.stderr)
        return 2
    try:
        return proc.wait()
    finally:
        if os.environ.get(KEEP_ENV):
            print(f"benchmarks.instructions: callgrind's dumps kept in {dumps}", file=sys.stderr)
        else:
            shutil.rmtree(dumps, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
