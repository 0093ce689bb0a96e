"""Too fast to be true fails: a steady time below what this machine can compute or move.

A benchmark that forgot to wait for the device (JAX dispatches asynchronously on the CPU too)
reports the dispatch, not the work, and looks impossibly fast. After a steady benchmark on the
CPU, its median is checked against two ceilings measured here with the reference probes' own
kernels (benchmarks/probes.py), once per run in a fresh interpreter:

- compute: flops_per_call / median may not exceed MARGIN x the float32 NumPy matmul rate (512: one
  thread's times the cores, or all threads, whichever is higher); no kernel reaches that;
- memory: where a call moves at least STREAM_BYTES (far more than any cache here), bytes_per_call /
  median may not exceed MARGIN x the bandwidth of a 64 MiB copy.

MARGIN is wide on purpose: other processes on a shared machine (make test runs unit tests beside
the benchmarks) can make the probes read several times low, and a check that fails an honest
benchmark is worse than none; a missing sync is off by orders of magnitude. Before a benchmark
fails, the ceilings are measured again and the higher ones kept. CUDA devices are not judged by a
CPU ceiling: there the check says nothing.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from benchmarks import probes

ROOT = Path(__file__).resolve().parent.parent

MARGIN = 10.0  # a missing sync is off by orders of magnitude; a busy machine lowers the probes a few times
STREAM_BYTES = probes.COPY_BYTES  # below this a call may run from caches faster than the copy probe


@dataclass(frozen=True)
class Ceiling:
    flops_per_s: float  # the best matmul of the probes, FLOP/s
    bytes_per_s: float  # the 64 MiB copy: read + write, bytes/s


PROBES = ("matmul_f32_512_1thread", "matmul_f32_512_allthreads", "copy_64MiB")
REPEATS = 15
MEASURE = ("import json, sys; from benchmarks import probes; "
           f"print(json.dumps(probes.measure_some({PROBES!r}, {REPEATS})))")


def measure() -> Ceiling:
    """The ceilings in a fresh interpreter: in a benchmark's process a framework's idle threads
    (OpenMP spin-waits after an operation) slow the probe many times over. Compute: the better of
    one thread's matmul times the cores (which other processes on the machine cannot lower much:
    each runnable thread still gets a core) and the all-threads matmul."""
    proc = subprocess.run([sys.executable, "-c", MEASURE], cwd=ROOT, capture_output=True, text=True, check=True)
    times = json.loads(proc.stdout)
    flop = 2 * probes.MATMUL_N ** 3
    flops = max(flop / min(times["matmul_f32_512_1thread"]) * (os.cpu_count() or 1),
                flop / min(times["matmul_f32_512_allthreads"]))
    return Ceiling(flops, 2 * probes.COPY_BYTES / min(times["copy_64MiB"]))


@cache
def ceiling() -> Ceiling:
    """This run's ceilings, measured once (benchmarks/harness.py measures again before it fails)."""
    return measure()


def higher(a: Ceiling, b: Ceiling) -> Ceiling:
    return Ceiling(max(a.flops_per_s, b.flops_per_s), max(a.bytes_per_s, b.bytes_per_s))


def too_fast(median_s: float, flops: float | None, nbytes: float | None, limit: Ceiling) -> str | None:
    """The one-line reason a median is faster than this machine can be, or None."""
    if flops and flops / median_s > MARGIN * limit.flops_per_s:
        return (f"{flops / median_s / 1e9:.3g} GFLOP/s is faster than this machine computes ({MARGIN:g}x its "
                f"measured {limit.flops_per_s / 1e9:.3g} GFLOP/s matmul): missing sync?")
    if nbytes and nbytes >= STREAM_BYTES and nbytes / median_s > MARGIN * limit.bytes_per_s:
        return (f"{nbytes / median_s / 1e9:.3g} GB/s is faster than this machine moves memory ({MARGIN:g}x its "
                f"measured {limit.bytes_per_s / 1e9:.3g} GB/s copy): missing sync?")
    return None
