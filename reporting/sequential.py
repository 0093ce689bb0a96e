"""The decision of a same-machine A/B from many short processes: slower, faster, same or undecided.

The unit is one process: each fresh process of a side gives one value per benchmark, its fastest
round (interference only adds time, and each process lands in its own "mode" of memory layout and
thread placement, so processes, not rounds, are the independent samples). For a benchmark with
base values b_i and head values h_j (seconds), on the log scale:

- change: the Hodges-Lehmann shift, the median of all log(h_j) - log(b_i);
- its interval: the distribution-free one that inverts the Mann-Whitney test (the k-th smallest and
  k-th largest of those differences, k from U's exact null distribution), at CONFIDENCE;
- slower: change > +threshold and the interval above 0 (significant across processes);
  faster: the mirror image; same: the interval inside +/- threshold; else undecided.

The threshold is the smallest change that matters (default 10%); the noise floor is this run's own
spread between processes, so no calibration file is needed. With too few processes for an
interval (fewer than 7 a side at 99.9%), everything is undecided.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from reporting.stats import _u_counts

# two-sided; with looks after rounds 7, 10, 13, ... (reporting.ab) a false "slower" needs, at some look,
# a 0.05%-tail shift *and* a change above the threshold: A/A resampling here found none (docs/regression-gate.md)
CONFIDENCE = 0.999


@dataclass(frozen=True)
class Decision:
    name: str
    verdict: str  # slower | faster | same | undecided
    change_pct: float | None
    low_pct: float | None
    high_pct: float | None
    n_base: int
    n_head: int

    @property
    def resolvable_pct(self) -> float | None:
        """Half the interval's width: about the smallest change this run could tell from none."""
        if self.low_pct is None or self.high_pct is None:
            return None
        return (self.high_pct - self.low_pct) / 2


def interval_rank(n1: int, n2: int, confidence: float = CONFIDENCE) -> int | None:
    """k such that [d_(k), d_(n1 n2 + 1 - k)] of the sorted pairwise differences covers the shift with
    at least `confidence`; None when even [min, max] covers less (too few processes)."""
    counts = np.asarray(_u_counts(n1, n2), dtype=float)
    cdf = np.cumsum(counts) / counts.sum()
    alpha = (1 - confidence) / 2
    k = int(np.searchsorted(cdf, alpha, side="right"))  # P(U <= k - 1) <= alpha
    return k if k >= 1 else None


def shift(base: list[float], head: list[float], confidence: float = CONFIDENCE
          ) -> tuple[float, float | None, float | None]:
    """(Hodges-Lehmann shift, low, high) of log(head) - log(base); low/high None with too few values."""
    diffs = np.sort(np.subtract.outer(np.log(head), np.log(base)).ravel())
    estimate = float(np.median(diffs))
    k = interval_rank(len(base), len(head), confidence)
    if k is None:
        return estimate, None, None
    return estimate, float(diffs[k - 1]), float(diffs[len(diffs) - k])


def pct(log_ratio: float | None) -> float | None:
    return None if log_ratio is None else 100 * math.expm1(log_ratio)


def decide(name: str, base: list[float], head: list[float], threshold_pct: float,
           confidence: float = CONFIDENCE) -> Decision:
    t = math.log1p(threshold_pct / 100)
    estimate, low, high = shift(base, head, confidence)
    if low is None or high is None:
        verdict = "undecided"
    elif estimate > t and low > 0:
        verdict = "slower"
    elif estimate < -t and high < 0:
        verdict = "faster"
    elif low > -t and high < t:
        verdict = "same"
    else:
        verdict = "undecided"
    return Decision(name, verdict, pct(estimate), pct(low), pct(high), len(base), len(head))


def decide_all(base: dict[str, list[float]], head: dict[str, list[float]], threshold_pct: float,
               confidence: float = CONFIDENCE) -> list[Decision]:
    """One decision per benchmark both sides measured."""
    return [decide(name, base[name], head[name], threshold_pct, confidence) for name in sorted(set(base) & set(head))]
