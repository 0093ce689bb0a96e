"""reporting.stats without scipy.stats (a slow import for every report): the same p-values and
intervals as scipy.stats, and the A/A arithmetic of calibration."""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats as sps

from reporting import stats


@pytest.mark.parametrize("n1, n2, ties", [(3, 3, False), (5, 8, False), (8, 40, False), (4, 6, True),
                                          (30, 45, False), (300, 900, False), (120, 80, True)])
@pytest.mark.parametrize("alternative", ["greater", "less"])
def test_mann_whitney_matches_scipy(n1, n2, ties, alternative):
    rng = np.random.default_rng(n1 * 1000 + n2)
    x, y = rng.lognormal(0.03, 0.1, n1), rng.lognormal(0, 0.1, n2)
    if ties:
        x, y = np.round(x, 1), np.round(y, 1)
    expected = sps.mannwhitneyu(x, y, alternative=alternative).pvalue
    assert stats.mann_whitney_p(x, y, alternative) == pytest.approx(expected, rel=1e-9, abs=1e-15)


def test_mann_whitney_exact_extremes():
    assert stats.mann_whitney_p([4, 5, 6], [1, 2, 3], "greater") == pytest.approx(1 / 20)
    assert stats.mann_whitney_p([4, 5, 6], [1, 2, 3], "less") == 1.0


@pytest.mark.parametrize("n", [6, 7, 10, 31, 100, 257, 1000, 4000])
def test_median_interval_matches_scipy_quantile_test(n):
    data = np.random.default_rng(n).lognormal(0, 0.2, n)
    ci = sps.quantile_test(data, q=float(np.median(data)), p=0.5).confidence_interval(0.95)
    got = stats.median_interval(SimpleNamespace(data=data))
    if np.isfinite(ci.low) and np.isfinite(ci.high):
        assert got == (float(ci.low), float(ci.high))
    else:
        assert got is None


def test_gmean_matches_scipy():
    values = [0.5, 2.0, 3.3, 0.01]
    assert stats.gmean(values) == pytest.approx(sps.gmean(values))


def test_window_spread_is_the_worst_split_of_consecutive_runs():
    values = [1.0, 1.3, 1.0, 1.0, 1.0, 1.0]
    assert stats.window_spread_pct(values, 3) == pytest.approx(0)  # one window: its 3 slowest include a 1.0
    assert stats.window_spread_pct(values, 2) == pytest.approx(0)
    assert stats.window_spread_pct([1.0, 1.3, 1.2, 1.0], 2) == pytest.approx(20)  # {1.3, 1.2} vs {1.0, 1.0}
    assert stats.window_spread_pct([1.0, 1.3], 2) is None  # too few runs for one window
    # two slow runs far apart never share a window of 4, and one slow run a window never makes a side slow
    assert stats.window_spread_pct([1.3, 1.0, 1.0, 1.0, 1.0, 1.0, 1.3], 2) == pytest.approx(0)
    assert stats.window_spread_pct([1.3, 1.0, 1.0, 1.3], 2) == pytest.approx(30)
