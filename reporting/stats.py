"""The statistics: the gate statistic of a run and of a side, the significance test, the median's
confidence interval, and the A/A arithmetic calibration uses. NumPy and the standard library only
(importing scipy.stats alone took 0.6-1.4 s of a 2 s report); tests/test_report_stats.py checks
every function here against scipy.stats.

Gate statistic, "min": a run's fastest round (Bench.min_s; CSV columns *_min_s), and of a side
with several runs the fastest of those: interference from other processes only adds time, so the
minimum moves least from run to run. With several runs a side, the sides' median runs must also
differ (reporting.compare.judge). docs/regression-gate.md has the figures behind these choices.
"""
from __future__ import annotations

import itertools
import math
import statistics
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from reporting.load import Bench

ALPHA_ROUNDS = 0.01  # one run per side: one-sided Mann-Whitney U on the raw rounds of each pair


def side_stat(benches: list[Bench], how: str = "fastest") -> float:
    """A side's gate statistic: the fastest round of all its runs ("fastest"), or the median of its
    runs' fastest rounds ("median")."""
    values = [b.min_s for b in benches]
    return min(values) if how == "fastest" else float(np.median(values))


def gmean(values) -> float:
    return float(np.exp(np.mean(np.log(np.asarray(values, dtype=float)))))


def _ranks(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Average ranks (1-based) and the sizes of the groups of tied values."""
    order = np.argsort(values, kind="mergesort")
    sorted_v = values[order]
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    counts = np.diff(np.r_[starts, len(values)])
    ranks = np.empty(len(values))
    ranks[order] = np.repeat(starts + (counts + 1) / 2, counts)
    return ranks, counts


@lru_cache(maxsize=64)
def _u_counts(n1: int, n2: int) -> tuple[int, ...]:
    """How many of the C(n1+n2, n1) orderings give each U = 0 .. n1*n2 (no ties)."""
    # f(i, j)[u]: orderings of i values of x and j of y with U = u; the largest value is an x
    # (adding j to U) or a y.
    table: dict[tuple[int, int], tuple[int, ...]] = {(0, j): (1,) for j in range(n2 + 1)}
    for i in range(1, n1 + 1):
        table[(i, 0)] = (1,)
        for j in range(1, n2 + 1):
            a, b = table[(i - 1, j)], table[(i, j - 1)]
            out = [0] * (i * j + 1)
            for u, c in enumerate(a):
                out[u + j] += c
            for u, c in enumerate(b):
                out[u] += c
            table[(i, j)] = tuple(out)
    return table[(n1, n2)]


def mann_whitney_p(x, y, alternative: str) -> float:
    """One-sided Mann-Whitney U p-value that `x` is `alternative` ("greater" or "less") than `y`,
    as scipy.stats.mannwhitneyu(method="auto") computes it: exact when one sample has at most 8
    values and there are no ties, else the normal approximation with tie and continuity correction."""
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n1, n2 = len(x), len(y)
    ranks, ties = _ranks(np.concatenate([x, y]))
    u1 = float(ranks[:n1].sum() - n1 * (n1 + 1) / 2)
    u = u1 if alternative == "greater" else n1 * n2 - u1
    if (n1 <= 8 or n2 <= 8) and not (ties > 1).any():
        counts = _u_counts(n1, n2)
        return min(1.0, sum(counts[math.ceil(u):]) / math.comb(n1 + n2, n1))
    n = n1 + n2
    tie_term = float((ties.astype(float) ** 3 - ties).sum())
    s = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term / (n * (n - 1))))
    if s == 0:
        return 1.0
    z = (u - n1 * n2 / 2 - 0.5) / s
    return min(1.0, max(0.0, 0.5 * math.erfc(z / math.sqrt(2))))


def rounds_test(cur: Bench, base: Bench, alternative: str) -> tuple[float | None, str]:
    """(p, how): Mann-Whitney U on the raw rounds that `cur` is `alternative` ("greater": slower)
    than `base`, or None and why the verdict is threshold only."""
    if cur.data is None or base.data is None:
        side = "both" if cur.data is None and base.data is None else ("current" if cur.data is None else "baseline")
        return None, f"threshold only: no raw rounds in {side}"
    n1, n2 = len(cur.data), len(base.data)
    if 1 / math.comb(n1 + n2, n1) >= ALPHA_ROUNDS:  # p < alpha out of reach
        return None, f"threshold only: too few rounds ({n1} vs {n2})"
    return mann_whitney_p(cur.data, base.data, alternative), "Mann-Whitney U"


def significance(curs: list[Bench], bases: list[Bench], alternative: str) -> tuple[float | None, str]:
    """(largest p, test name). One run on a side: Mann-Whitney U on each pair's raw rounds (p < 0.01
    for all). Several runs on both sides: no p; the verdict is each side's fastest round and median
    run against the thresholds calibrated for that many runs a side (their false-alarm rate
    measured, not assumed: a rank test across 3 runs a side needs all 3 slower, and one slow spell
    in a base run hides a real slow-down from it)."""
    if len(curs) >= 2 and len(bases) >= 2:
        return None, f"fastest round per side ({len(curs)} vs {len(bases)} runs)"
    tests = [rounds_test(c, b, alternative) for c in curs for b in bases]
    how = next((how for p, how in tests if p is None), tests[0][1])
    p = None if any(p is None for p, _ in tests) else max(p for p, _ in tests if p is not None)
    return p, how


def spread_pct(values: list[float]) -> float | None:
    """Largest pairwise ratio of per-run statistics - 1, in %: the A/A noise of a benchmark."""
    return 100 * (max(values) / min(values) - 1) if len(values) > 1 else None


def window_spread_pct(values: list[float], k: int, how: str = "fastest") -> float | None:
    """The A/A noise of k runs a side, in %: over every window of 2k consecutive runs (in the order
    they ran) and every way to split it into two sides of k, the largest ratio of the sides'
    statistics - 1 ("fastest": each side's fastest run; "median": its median run). make compare
    alternates base and head, so both sides share a window's conditions."""
    if len(values) < 2 * k:
        return None
    worst = 0.0
    for start in range(len(values) - 2 * k + 1):
        window = values[start:start + 2 * k]
        if how == "fastest":  # the worst split: the window's fastest run against its k slowest
            ordered = sorted(window)
            worst = max(worst, ordered[k] / ordered[0] - 1)
            continue
        for side in itertools.combinations(range(2 * k), k):
            a = statistics.median(window[i] for i in side)
            b = statistics.median(window[i] for i in range(2 * k) if i not in side)
            worst = max(worst, a / b - 1)
    return 100 * worst


def false_alarm_rate(values: list[float], threshold_pct: float) -> float:
    """Share of ordered pairs of A/A runs that one would call a slow-down beyond the threshold."""
    pairs = list(itertools.permutations(values, 2))
    return sum(100 * (a / b - 1) > threshold_pct for a, b in pairs) / len(pairs) if pairs else 0.0


def detectable_pct(spread: float, threshold_pct: float) -> float:
    """Smallest true slow-down the gate sees for sure: it must clear the threshold even when the
    current side is at the A/A spread's fast end and the baseline at its slow end."""
    return 100 * ((1 + threshold_pct / 100) * (1 + spread / 100) - 1)


@lru_cache(maxsize=256)
def _binom_half_cdf(n: int) -> np.ndarray:
    """P(X <= k) for X ~ Binomial(n, 1/2), k = 0 .. n."""
    k = np.arange(n + 1)
    log_pmf = np.array([math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1) for i in k]) - n * math.log(2)
    return np.cumsum(np.exp(log_pmf))


def median_interval(b: Bench) -> tuple[float, float] | None:
    """95% distribution-free confidence interval of the median: the order statistics that
    scipy.stats.quantile_test(p=0.5).confidence_interval(0.95) picks."""
    if b.data is None or len(b.data) < 6:
        return None
    x, n = np.sort(np.asarray(b.data, dtype=float)), len(b.data)
    cdf = _binom_half_cdf(n)
    low_index = int(np.searchsorted(cdf, 0.025 * (1 - 1e-12))) - 1  # binom.ppf(0.025) - 1
    high_index = int(np.flatnonzero(1 - cdf <= 0.025 * (1 + 1e-12))[0])  # binom.isf(0.025)
    if low_index < 0 or high_index >= n:
        return None
    low, high = float(x[low_index]), float(x[high_index])
    return (low, high) if math.isfinite(low) and math.isfinite(high) and low > 0 else None


def ratio_interval(cur: Bench, base: Bench) -> tuple[float, float] | None:
    """Conservative interval of median(current) / median(baseline) from the two medians' intervals."""
    c, b = median_interval(cur), median_interval(base)
    return (c[0] / b[1], c[1] / b[0]) if c and b else None


def runs_a_side(curs: list[Bench], bases: list[Bench]) -> int:
    return min(len(curs), len(bases)) or 1


def sides(curs: list[Bench], bases: list[Bench]) -> tuple[float, float]:
    """(current, baseline) gate statistics. Several runs on both sides (make compare): each side's
    fastest round. One run on a side: the current side's fastest against the *slowest* baseline
    run's, so that several baseline runs set the noise floor in place of a calibration for k."""
    if runs_a_side(curs, bases) >= 2:
        return side_stat(curs), side_stat(bases)
    return side_stat(curs), max(b.min_s for b in bases)


def interval_pct(curs: list[Bench], bases: list[Bench]) -> tuple[float, float] | None:
    """(low, high) in % of the 95% intervals of median(current) / median(baseline), widened over every
    current/baseline pair; None when a pair has none (fewer than 6 raw rounds, or none stored)."""
    intervals = [ratio_interval(c, b) for c in curs for b in bases]
    if not intervals or any(i is None for i in intervals):
        return None
    lows, highs = zip(*[i for i in intervals if i is not None], strict=True)
    return 100 * (min(lows) - 1), 100 * (max(highs) - 1)


@dataclass(frozen=True)
class Evidence:
    """Every figure one benchmark's verdict is judged from (reporting.compare.judge sets the words).
    With a side missing only the sides' statistics: the rest stays None."""
    current_s: float | None  # the current side's gate statistic (sides())
    baseline_s: float | None
    runs_a_side: int
    spread_pct: float | None  # the baseline runs' A/A spread
    change_pct: float | None = None  # of the gate statistics
    median_run_change_pct: float | None = None  # of the sides' median runs: several runs on both sides only
    p_value: float | None = None  # significance(), one-sided in the direction of the change
    test: str = ""  # how p (or the verdict without one) was reached
    interval_pct: tuple[float, float] | None = None  # interval_pct()
    slowest_change_pct: float | None = None  # the slowest current run against the fastest baseline round


def evidence(curs: list[Bench], bases: list[Bench]) -> Evidence:
    """The statistics of one benchmark's current runs against its baseline runs."""
    k, spread = runs_a_side(curs, bases), spread_pct([b.min_s for b in bases])
    if not curs or not bases:
        return Evidence(side_stat(curs) if curs else None, side_stat(bases) if bases else None, k, spread)
    cur_s, base_s = sides(curs, bases)
    change = 100 * (cur_s / base_s - 1)
    p, how = significance(curs, bases, "greater" if change >= 0 else "less")
    median_change = 100 * (side_stat(curs, "median") / side_stat(bases, "median") - 1) if k >= 2 else None
    return Evidence(cur_s, base_s, k, spread, change, median_change, p, how, interval_pct(curs, bases),
                    100 * (max(c.min_s for c in curs) / side_stat(bases) - 1))
