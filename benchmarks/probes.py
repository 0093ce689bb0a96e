"""Reference probes: a few fixed kernels, independent of this suite's code, timed in every run.

A CPU name cannot tell whether two machines run at the same speed (virtual machines report
"Intel(R) Xeon(R) Processor" for models that differ 1.3-5x); a measurement can. Every saved run
times these kernels untimed-by-the-benchmarks, once before the first benchmark and once after the
last, and stores them in the JSON's top-level "suite" key (not machine_info, which must describe
only the machine and install: pytest-benchmark warns on any machine_info difference). report.py
lets a stored baseline gate only a run whose probes agree with the baseline's within their noise
(reporting/machine.py, docs/regression-gate.md).

Standard library and NumPy only. Each probe: one untimed call, then REPEATS timed calls; the
fastest is the probe's figure (interference only adds time), all of them are kept.
"""
from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

VERSION = 1  # bump when a kernel changes: probes of another version are not compared
REPEATS = 7
MATMUL_N = 512  # float32; 0.27 GFLOP, a few ms on one core
COPY_BYTES = 64 << 20  # larger than any L2 here: a memory-bandwidth copy
LOOP_N = 200_000  # pure-Python loop: the interpreter's speed


def _matmul(threads: int | None) -> Callable[[], Callable[[], None]]:
    def build() -> Callable[[], None]:
        rng = np.random.default_rng(0)
        a = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)
        b = rng.standard_normal((MATMUL_N, MATMUL_N), dtype=np.float32)

        def kernel() -> None:
            if threads is None:
                a @ b
                return
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=threads, user_api="blas"):
                a @ b
        return kernel
    return build


def _copy() -> Callable[[], None]:
    src = np.ones(COPY_BYTES // 8, dtype=np.float64)
    dst = np.empty_like(src)
    return lambda: np.copyto(dst, src)


def _loop() -> Callable[[], None]:
    def kernel() -> None:
        total = 0
        for i in range(LOOP_N):
            total += i * i
    return kernel


# name -> builder of the kernel (inputs made once, outside the timing)
PROBES: dict[str, Callable[[], Callable[[], None]]] = {
    "matmul_f32_512_1thread": _matmul(1),
    "matmul_f32_512_allthreads": _matmul(None),
    "copy_64MiB": _copy,
    "python_loop_200k": _loop,
}


def measure(repeats: int = REPEATS) -> dict[str, list[float]]:
    """Seconds of each timed call, per probe."""
    return measure_some(tuple(PROBES), repeats)


def measure_some(names: tuple[str, ...], repeats: int = REPEATS) -> dict[str, list[float]]:
    """Seconds of each timed call, per named probe."""
    out = {}
    for name in names:
        kernel = PROBES[name]()
        kernel()  # untimed: page faults, BLAS thread start-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            kernel()
            times.append(time.perf_counter() - t0)
        out[name] = times
    return out


class Probes:
    """Measured at creation (the start of a run) and by `finish()` (its end)."""

    def __init__(self) -> None:
        t0 = time.perf_counter()
        self.start = measure()
        self.cost_s = time.perf_counter() - t0
        self.end: dict[str, list[float]] | None = None

    def finish(self) -> dict:
        """The record stored under the JSON's suite.probes."""
        if self.end is None:
            t0 = time.perf_counter()
            self.end = measure()
            self.cost_s += time.perf_counter() - t0
        return record(self.start, self.end, self.cost_s)


def record(start: dict[str, list[float]], end: dict[str, list[float]], cost_s: float) -> dict:
    """best_s: the fastest call of the run; spread_pct: how far the start's and the end's fastest
    calls lie apart (the machine's drift over the run), in % of the faster."""
    probes = {}
    for name in start:
        a, b = min(start[name]), min(end[name])
        probes[name] = {"best_s": min(a, b), "start_s": start[name], "end_s": end[name],
                        "spread_pct": round(100 * (max(a, b) / min(a, b) - 1), 2)}
    return {"version": VERSION, "repeats": REPEATS, "cost_s": round(cost_s, 3), "probes": probes}
