"""Fixed cost vs throughput: time per call = fixed + work x cost per unit of work, per framework-mode.

From a size sweep of one workload (batch sizes, array lengths, matrix sizes), the steady medians
are fitted by `fit()`: a least-squares fit in *relative* error (each size counts the same, whatever
its time), with both parameters kept non-negative. The work of a call is its analytic
flops_per_call where known (matmul's n^3, the MLP's 3x forward), else its items_per_call. The
intervals come from a seeded bootstrap over each size's raw rounds. From the fit:

- fixed_s: what a call costs whatever its size (dispatch, Python, launch, synchronisation);
- throughput: 1 / cost per unit (GFLOP/s, or items/s), what large calls approach;
- crossover: the work (and the size, interpolated on the sweep) at which fixed cost and work cost
  are equal: below it a call is mostly overhead;
- max_error_pct: the largest |fitted - measured| / measured over the sizes: a fit that misses by
  more than FIT_TOLERANCE_PCT is reported as not linear, and its figures are not used.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import cast

import numpy as np

from benchmarks.modes import ROWS
from reporting.load import number

FIT_TOLERANCE_PCT = 15.0
BOOTSTRAP = 200
SEED = 0


@dataclass(frozen=True)
class Fit:
    fixed_s: float
    per_unit_s: float
    fixed_interval: tuple[float, float]
    per_unit_interval: tuple[float, float]
    max_error_pct: float
    unit: str  # "flop" or "item"

    @property
    def linear(self) -> bool:
        return self.max_error_pct <= FIT_TOLERANCE_PCT

    @property
    def throughput(self) -> float | None:
        """Units (flops or items) per second at large sizes."""
        return 1 / self.per_unit_s if self.per_unit_s > 0 else None

    @property
    def crossover_work(self) -> float | None:
        """The work per call at which fixed cost = work cost."""
        return self.fixed_s / self.per_unit_s if self.per_unit_s > 0 else None

    def predict(self, work: float) -> float:
        return self.fixed_s + work * self.per_unit_s


def _solve(work: np.ndarray, times: np.ndarray) -> tuple[float, float]:
    """min sum((a + b w_i) / t_i - 1)^2 with a, b >= 0."""
    design = np.stack([1 / times, work / times], axis=1)
    target = np.ones_like(times)
    (a, b), *_ = np.linalg.lstsq(design, target, rcond=None)
    if a >= 0 and b >= 0:
        return float(a), float(b)
    candidates = []
    for column in (0, 1):  # one parameter at zero: a 1-d least squares for the other
        x = design[:, column]
        value = max(0.0, float(x @ target / (x @ x)))
        params = (value, 0.0) if column == 0 else (0.0, value)
        candidates.append((float(np.sum((design @ np.array(params) - target) ** 2)), params))
    return min(candidates)[1]


def fit(work: list[float], medians: list[float], rounds: list[np.ndarray | None] | None = None,
        unit: str = "item") -> Fit:
    """Fit time = fixed + work x per-unit cost to the medians of a sweep (at least 2 sizes)."""
    w, t = np.asarray(work, dtype=float), np.asarray(medians, dtype=float)
    if len(w) < 2 or len(set(w)) < 2 or np.any(t <= 0):
        raise ValueError("a fit needs at least two distinct sizes with positive times")
    a, b = _solve(w, t)
    errors = np.abs((a + b * w) / t - 1) * 100
    boot = _bootstrap(w, t, rounds)
    lo_hi = (lambda v: (float(np.percentile(v, 2.5)), float(np.percentile(v, 97.5)))) if boot is not None else None
    return Fit(fixed_s=a, per_unit_s=b, fixed_interval=lo_hi(boot[:, 0]) if lo_hi and boot is not None else (a, a),
               per_unit_interval=lo_hi(boot[:, 1]) if lo_hi and boot is not None else (b, b),
               max_error_pct=float(errors.max()), unit=unit)


def _bootstrap(w: np.ndarray, t: np.ndarray, rounds: list[np.ndarray | None] | None) -> np.ndarray | None:
    if rounds is None or any(r is None or len(r) < 2 for r in rounds):
        return None
    samples = cast(list[np.ndarray], rounds)  # none is None (checked above)
    rng = np.random.default_rng(SEED)
    out = np.empty((BOOTSTRAP, 2))
    for i in range(BOOTSTRAP):
        medians = np.array([np.median(rng.choice(r, size=len(r))) for r in samples])
        out[i] = _solve(w, medians)
    return out


def size_at(work: float, sizes: list[float], works: list[float]) -> float:
    """The size whose work is `work`, interpolated (log-log) on the sweep's (size, work) pairs."""
    ls, lw = np.log(np.asarray(sizes, dtype=float)), np.log(np.asarray(works, dtype=float))
    order = np.argsort(lw)
    if lw[order][0] == lw[order][-1]:
        return float(sizes[0])
    slope = (ls[order][-1] - ls[order][0]) / (lw[order][-1] - lw[order][0])
    return float(math.exp(ls[order][0] + slope * (math.log(work) - lw[order][0])))


def _work(b) -> tuple[float | None, str]:
    flops = number(b.get("flops_per_call"))
    return (flops, "flop") if flops else (number(b.get("items_per_call")), "item")


def overhead_rows(benches: dict) -> list[dict]:
    """One row per (workload, device, framework, mode) steady sweep of two or more sizes."""
    sweeps: dict[tuple, list] = {}
    for b in benches.values():
        if b.get("phase") == "steady" and isinstance(b.get("size_value"), int) and _work(b)[0]:
            key = (str(b.get("workload")), str(b.get("device")), str(b.get("framework")), str(b.get("mode")))
            sweeps.setdefault(key, []).append(b)
    rows = []
    for key, group in sorted(sweeps.items()):
        group = sorted(group, key=lambda b: b.get("size_value"))
        units = {_work(b)[1] for b in group}
        if len({b.get("size_value") for b in group}) < 2 or len(units) > 1:
            continue
        # every bench in a sweep has a work figure (sweeps only take those), so none is None
        sizes, works = [b.get("size_value") for b in group], cast(list[float], [_work(b)[0] for b in group])
        if len(set(works)) < len(works):  # the work does not grow with the size (an epoch over the same samples)
            continue
        f = fit(works, [b.median for b in group], [b.data for b in group], units.pop())
        crossover = size_at(f.crossover_work, sizes, works) if f.crossover_work else None
        rows.append({"workload": key[0], "device": key[1], "framework": key[2], "mode": key[3],
                     "sizes": [str(b.get("size")) for b in group], "size_values": sizes, "works": works,
                     "medians_s": [b.median for b in group], "fit": f, "crossover_size": crossover,
                     "fixed_share": [f.fixed_s / b.median for b in group]})
    return rows


def dominant(row: dict) -> str:
    """Which of fixed cost and throughput dominates over the measured sizes, in words and numbers."""
    f, shares = row["fit"], row["fixed_share"]
    if not f.linear:
        return f"no linear fit (it misses a measured median by {f.max_error_pct:.0f}%)"
    lo, hi = row["sizes"][0], row["sizes"][-1]
    spread = f"{shares[0]:.0%} of the time at {lo}, {shares[-1]:.0%} at {hi}"
    if shares[-1] >= 0.5:
        return f"fixed cost per call ({spread})"
    if shares[0] <= 0.5:
        return f"throughput (fixed cost {spread})"
    return f"fixed cost at small sizes, throughput at large ones (fixed cost {spread})"


COMPILED_TWIN: dict[str, str] = {r.framework: r.mode for r in ROWS if r.pairing == "compiled"}  # benchmarks/modes.py


def dispatch_rows(benches: dict) -> list[dict]:
    """Per eager steady benchmark that counted its operations (extra_info.ops_per_call): time per
    operation, and the eager time beyond the same framework's compiled step per operation (an
    estimate of the per-op dispatch cost, the compiled step standing for the kernels' share)."""
    compiled = {(b.get("workload"), b.get("device"), b.get("size"), b.get("framework")): b for b in benches.values()
                if b.get("phase") == "steady" and b.get("mode") == COMPILED_TWIN.get(str(b.get("framework")))}
    rows = []
    for b in sorted(benches.values(), key=lambda b: (str(b.get("workload")), b.get("size_value") or 0, b.name)):
        ops = number(b.get("ops_per_call"))
        if b.get("phase") != "steady" or b.get("mode") != "eager" or not ops:
            continue
        twin = compiled.get((b.get("workload"), b.get("device"), b.get("size"), b.get("framework")))
        beyond = (b.median - twin.median) / ops if twin is not None else None
        rows.append({"workload": b.get("workload"), "size": b.get("size"), "device": b.get("device"),
                     "framework": b.get("framework"), "ops": int(ops), "median_s": b.median,
                     "per_op_s": b.median / ops, "compiled_mode": twin.get("mode") if twin is not None else None,
                     "compiled_s": twin.median if twin is not None else None,
                     "overhead_per_op_s": beyond if beyond is not None and beyond > 0 else None})
    return rows
