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

A "slower" must be confirmed (reporting.ab): one look's 99.9% is per benchmark, and make compare
looks at some 25 benchmarks, several times, on a machine whose processes are not always
independent draws of one distribution (a busy host, a bimodal memory layout). So a benchmark
that reads slower is measured again in CONFIRM_PROCESSES fresh processes a side, and stays slower
only when those alone put the shift above 0 (their CONFIRM_CONFIDENCE interval) and all its
processes together still read slower; else it is undecided (Confirmation, settle()). When those
few did not confirm it but read a shift above the threshold themselves (too noisy, not back to
normal), and the budget allows, CONFIRM_PROCESSES more a side are measured and all the confirming
processes judged together at the same confidence (another_stage()): at most CONFIRM_STAGES
stages, so a false "slower" passes the confirmation with a chance of at most CONFIRM_STAGES times
its one-sided (1 - CONFIRM_CONFIDENCE) / 2.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from reporting.stats import _u_counts

# two-sided; with looks after rounds 7, 10, 13, ... (reporting.ab) a false "slower" needs, at some look,
# a 0.05%-tail shift *and* a change above the threshold: A/A resampling here found none (docs/regression-gate.md)
CONFIDENCE = 0.999
CONFIRM_PROCESSES = 6  # fresh processes a side that must agree with a "slower" (even: a duet's cores stay balanced)
CONFIRM_CONFIDENCE = 0.95  # their interval's; a second, independent test of a pre-stated direction
CONFIRM_STAGES = 2  # a confirmation that read above the threshold but not above 0 may measure as many again


@dataclass(frozen=True)
class Decision:
    name: str
    verdict: str  # slower | faster | same | undecided
    change_pct: float | None
    low_pct: float | None
    high_pct: float | None
    n_base: int
    n_head: int
    paired: bool = False  # judged on pairs of processes taking turns (reporting.pingpong): n_base = n_head = pairs

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


def signed_rank_counts(n: int) -> tuple[int, ...]:
    """How many of the 2^n sign patterns of n paired differences give each W+ = 0 .. n(n+1)/2 (no ties)."""
    counts = [1]
    for rank in range(1, n + 1):  # rank `rank` positive (adds it to W+) or not
        counts = [a + b for a, b in zip(counts + [0] * rank, [0] * rank + counts, strict=True)]
    return tuple(counts)


def paired_shift(diffs: list[float], confidence: float = CONFIDENCE) -> tuple[float, float | None, float | None]:
    """(Hodges-Lehmann shift, low, high) of paired log differences: the median of the Walsh averages
    (d_i + d_j) / 2, i <= j, and the interval that inverts the Wilcoxon signed-rank test (k-th
    smallest and k-th largest of them); low/high None with too few pairs (fewer than 11 at 99.9%)."""
    d = np.asarray(diffs, dtype=float)
    walsh = np.sort(np.add.outer(d, d)[np.triu_indices(len(d))] / 2)
    counts = np.asarray(signed_rank_counts(len(d)), dtype=float)
    k = int(np.searchsorted(np.cumsum(counts) / counts.sum(), (1 - confidence) / 2, side="right"))
    if k < 1:
        return float(np.median(walsh)), None, None
    return float(np.median(walsh)), float(walsh[k - 1]), float(walsh[len(walsh) - k])


def pct(log_ratio: float | None) -> float | None:
    return None if log_ratio is None else 100 * math.expm1(log_ratio)


def shift_word(estimate: float, low: float | None, high: float | None, threshold_pct: float) -> str:
    """The word for a shift of log time and its interval (the rule in this module's docstring)."""
    t = math.log1p(threshold_pct / 100)
    if low is None or high is None:
        return "undecided"
    if estimate > t and low > 0:
        return "slower"
    if estimate < -t and high < 0:
        return "faster"
    if low > -t and high < t:
        return "same"
    return "undecided"


def decide(name: str, base: list[float], head: list[float], threshold_pct: float,
           confidence: float = CONFIDENCE) -> Decision:
    estimate, low, high = shift(base, head, confidence)
    return Decision(name, shift_word(estimate, low, high, threshold_pct), pct(estimate), pct(low), pct(high),
                    len(base), len(head))


def decide_paired(name: str, diffs: list[float], threshold_pct: float, confidence: float = CONFIDENCE) -> Decision:
    """The same words for paired log differences, log(head) - log(base) one per pair of processes,
    judged by the signed-rank interval (paired_shift)."""
    estimate, low, high = paired_shift(diffs, confidence)
    return Decision(name, shift_word(estimate, low, high, threshold_pct), pct(estimate), pct(low), pct(high),
                    len(diffs), len(diffs))


def decide_all(base: dict[str, list[float]], head: dict[str, list[float]], threshold_pct: float,
               confidence: float = CONFIDENCE) -> list[Decision]:
    """One decision per benchmark both sides measured."""
    return [decide(name, base[name], head[name], threshold_pct, confidence) for name in sorted(set(base) & set(head))]


@dataclass(frozen=True)
class Confirmation:
    """A "slower" read at one look, and what the processes measured after it said of it: the last
    complete stage (CONFIRM_PROCESSES a side each), all the confirming processes up to it together."""
    first: Decision  # the look that read slower
    change_pct: float | None  # the confirming processes alone: shift and its CONFIRM_CONFIDENCE interval
    low_pct: float | None
    high_pct: float | None
    n_base: int  # confirming processes measured (a stage cut short by the budget included)
    n_head: int
    earlier: Confirmation | None = None  # the stage before, which did not confirm it

    @property
    def stage(self) -> int:
        """Complete stages judged: 0 before CONFIRM_PROCESSES a side were measured."""
        if min(self.n_base, self.n_head) < CONFIRM_PROCESSES:
            return 0
        return 1 + (self.earlier.stage if self.earlier else 0)

    @property
    def confirmed(self) -> bool | None:
        """True: the confirming processes put the shift above 0; False: they did not; None: the run
        ended before CONFIRM_PROCESSES a side were measured."""
        if not self.stage:
            return None
        return self.low_pct is not None and self.low_pct > 0


def confirm(first: Decision, base_more: list[float], head_more: list[float]) -> Confirmation:
    """What the processes measured after `first` read slower say of it on their own: judged on the
    complete stages, each stage judged on all the confirming processes up to its end."""
    stages = min(min(len(base_more), len(head_more)) // CONFIRM_PROCESSES, CONFIRM_STAGES)
    if not stages:
        return Confirmation(first, None, None, None, len(base_more), len(head_more))
    m = stages * CONFIRM_PROCESSES
    earlier = confirm(first, base_more[:m - CONFIRM_PROCESSES], head_more[:m - CONFIRM_PROCESSES]) if stages > 1 else None
    estimate, low, high = shift(base_more[:m], head_more[:m], CONFIRM_CONFIDENCE)
    return Confirmation(first, pct(estimate), pct(low), pct(high), len(base_more), len(head_more), earlier)


def another_stage(c: Confirmation, threshold_pct: float) -> bool:
    """Whether a confirmation that did not confirm may measure CONFIRM_PROCESSES more a side: its own
    shift is above the threshold (too noisy to confirm, not back to normal) and stages are left."""
    return c.confirmed is False and c.stage < CONFIRM_STAGES and c.change_pct is not None and \
        c.change_pct > threshold_pct


def settle(pooled: Decision, confirmation: Confirmation | None) -> Decision:
    """The verdict over all processes, a "slower" kept only when confirmed."""
    if pooled.verdict == "slower" and not (confirmation and confirmation.confirmed):
        return replace(pooled, verdict="undecided")
    return pooled


def stage_said(c: Confirmation) -> str:
    """What one stage's confirming processes said, e.g. "6 more a side did not confirm it (...)"."""
    more = "no value" if c.change_pct is None else (
        f"{c.change_pct:+.1f}%, {CONFIRM_CONFIDENCE:.0%} interval {c.low_pct:+.1f}% .. {c.high_pct:+.1f}%")
    did = "confirmed it" if c.confirmed else "did not confirm it"
    m = c.stage * CONFIRM_PROCESSES
    return f"{m} more a side {did} ({more})" if c.earlier is None else f"all {m} together {did} ({more})"


def confirmation_note(c: Confirmation, final: Decision, threshold_pct: float | None = None) -> str:
    """One sentence on a confirmation, for ab.md's notes (with the threshold: also when a further
    stage was due but did not fit in the budget)."""
    f = c.first
    said = (f"{final.name.split('::')[-1]} read slower after {f.n_base} processes a side ({f.change_pct:+.1f}%, "
            f"{CONFIDENCE:.1%} interval {f.low_pct:+.1f}% .. {f.high_pct:+.1f}%)")
    if c.confirmed is None:
        return (f"{said}; the budget ended with {min(c.n_base, c.n_head)} of the {CONFIRM_PROCESSES} more processes a "
                f"side that confirm a time 'slower': {final.verdict} (a larger budget would settle it)")
    stages = [c]
    while stages[0].earlier:
        stages.insert(0, stages[0].earlier)
    told = "; ".join(stage_said(s) + (f", its shift above the threshold, so {CONFIRM_PROCESSES} more a side were measured"
                                     if s is not c else "")
                     for s in stages)
    cut = min(c.n_base, c.n_head) - c.stage * CONFIRM_PROCESSES
    if cut > 0:
        told += f"; the budget ended with {cut} of the {CONFIRM_PROCESSES} more a side of another stage"
    elif threshold_pct is not None and another_stage(c, threshold_pct):
        told += (f"; its shift above the threshold, but {CONFIRM_PROCESSES} more a side did not fit in the budget "
                 "(a larger budget would settle it)")
    return f"{said}; {told}: {final.verdict} over all {final.n_base} / {final.n_head}"
