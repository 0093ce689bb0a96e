"""The statistics, all from scipy.stats: the gate statistic of a run, the two significance tests,
the median's confidence interval, and the A/A arithmetic calibration uses.

Gate statistic: a run's fastest round (Bench.low). Interference from other processes only adds
time, so the minimum moves least from run to run: over the committed baselines' three quick-set
runs, the median benchmark's between-run spread (slowest / fastest run - 1) is 8.4% for the
minimum, 10.4% for the 10th percentile and 9.8% for the median, and the worst benchmark's 21%,
42% and 31% (docs/regression-gate.md has the table).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
from scipy import stats

from reporting.load import Bench

ALPHA_ROUNDS = 0.01  # one run per side: one-sided Mann-Whitney U on the raw rounds of each pair
ALPHA_RUNS = 0.05  # several runs per side: one-sided Mann-Whitney U on one value per run
MIN_RUNS = 2  # runs per side from which the test is across runs


def run_stat(b: Bench) -> float:
    return b.low


def _reachable(n1: int, n2: int, alpha: float) -> bool:
    """Whether an exact rank test on n1 vs n2 values can reach p <= alpha at all."""
    return 1 / math.comb(n1 + n2, n1) <= alpha


def rounds_test(cur: Bench, base: Bench, alternative: str) -> tuple[float | None, str]:
    """(p, how): Mann-Whitney U on the raw rounds that `cur` is `alternative` ("greater": slower)
    than `base`, or None and why the verdict is threshold only."""
    if cur.data is None or base.data is None:
        side = "both" if cur.data is None and base.data is None else ("current" if cur.data is None else "baseline")
        return None, f"threshold only: no raw rounds in {side}"
    n1, n2 = len(cur.data), len(base.data)
    if 1 / math.comb(n1 + n2, n1) >= ALPHA_ROUNDS:  # p < alpha out of reach
        return None, f"threshold only: too few rounds ({n1} vs {n2})"
    return float(stats.mannwhitneyu(cur.data, base.data, alternative=alternative).pvalue), "Mann-Whitney U"


def runs_test(curs: list[Bench], bases: list[Bench], alternative: str) -> tuple[float | None, str]:
    """Mann-Whitney U across runs, one gate statistic per run: it sees run-level shifts that a test on
    the rounds of one run cannot."""
    cur, base = [run_stat(b) for b in curs], [run_stat(b) for b in bases]
    if not _reachable(len(cur), len(base), ALPHA_RUNS):
        return None, f"threshold only: too few runs for a test across runs ({len(cur)} vs {len(base)})"
    p = stats.mannwhitneyu(cur, base, alternative=alternative, method="exact").pvalue
    return float(p), "Mann-Whitney U across runs"


def significance(curs: list[Bench], bases: list[Bench], alternative: str) -> tuple[float | None, str, float]:
    """(largest p, test name, alpha): across runs when both sides have several, else on each pair's rounds."""
    if len(curs) >= MIN_RUNS and len(bases) >= MIN_RUNS:
        return (*runs_test(curs, bases, alternative), ALPHA_RUNS)
    tests = [rounds_test(c, b, alternative) for c in curs for b in bases]
    how = next((how for p, how in tests if p is None), tests[0][1])
    p = None if any(p is None for p, _ in tests) else max(p for p, _ in tests)
    return p, how, ALPHA_ROUNDS


def spread_pct(values: list[float]) -> float | None:
    """Largest pairwise ratio of per-run statistics - 1, in %: the A/A noise of a benchmark."""
    return 100 * (max(values) / min(values) - 1) if len(values) > 1 else None


def false_alarm_rate(values: list[float], threshold_pct: float) -> float:
    """Share of ordered pairs of A/A runs that one would call a slow-down beyond the threshold."""
    pairs = list(itertools.permutations(values, 2))
    return sum(100 * (a / b - 1) > threshold_pct for a, b in pairs) / len(pairs) if pairs else 0.0


def detectable_pct(spread: float, threshold_pct: float) -> float:
    """Smallest true slow-down the gate sees for sure: it must clear the threshold even when the
    current run is at the A/A spread's fast end and the baseline at its slow end."""
    return 100 * ((1 + threshold_pct / 100) * (1 + spread / 100) - 1)


def median_interval(b: Bench) -> tuple[float, float] | None:
    """95% distribution-free confidence interval of the median (scipy.stats.quantile_test)."""
    if b.data is None or len(b.data) < 6:
        return None
    ci = stats.quantile_test(b.data, q=float(np.median(b.data)), p=0.5).confidence_interval(0.95)
    low, high = float(ci.low), float(ci.high)
    return (low, high) if math.isfinite(low) and math.isfinite(high) and low > 0 else None


def ratio_interval(cur: Bench, base: Bench) -> tuple[float, float] | None:
    """Conservative interval of median(current) / median(baseline) from the two medians' intervals."""
    c, b = median_interval(cur), median_interval(base)
    return (c[0] / b[1], c[1] / b[0]) if c and b else None
