"""The A/B decision from many short processes, on synthetic process values with a known answer."""
from __future__ import annotations

import json

import numpy as np
import pytest

from reporting import sequential


def processes(n: int, seconds: float, spread: float, seed: int) -> list[float]:
    """n processes' fastest rounds: `seconds` times a lognormal process mode of `spread`."""
    return list(seconds * np.exp(spread * np.random.default_rng(seed).standard_normal(n)))


def test_too_few_processes_decide_nothing():
    assert sequential.interval_rank(4, 4, 0.99) is None  # [min, max] of 16 differences covers 97%
    assert sequential.interval_rank(5, 5, 0.99) == 1
    assert sequential.interval_rank(6, 6) is None and sequential.interval_rank(7, 7) == 1  # at 99.9%
    d = sequential.decide("b", [1.0, 1.0, 1.0], [2.0, 2.0, 2.0], 10)
    assert d.verdict == "undecided" and d.low_pct is None


def test_a_clear_slowdown_is_slower_and_nothing_else_is():
    base = processes(8, 1e-3, 0.03, 1)
    assert sequential.decide("b", base, processes(8, 1.3e-3, 0.03, 2), 10).verdict == "slower"
    assert sequential.decide("b", base, processes(8, 0.7e-3, 0.03, 3), 10).verdict == "faster"
    assert sequential.decide("b", base, processes(8, 1e-3, 0.03, 4), 10).verdict == "same"


def test_a_change_below_the_threshold_is_never_slower():
    d = sequential.decide("b", processes(8, 1e-3, 0.005, 5), processes(8, 1.05e-3, 0.005, 6), 10)
    assert d.verdict == "same" and 3 < d.change_pct < 7


def test_noise_larger_than_the_change_is_undecided_with_what_it_could_resolve():
    d = sequential.decide("b", processes(8, 1e-3, 0.3, 7), processes(8, 1.15e-3, 0.3, 8), 10)
    assert d.verdict == "undecided" and d.resolvable_pct > 10


def test_the_interval_covers_the_true_shift_as_often_as_it_says():
    misses = 0
    for seed in range(400):
        base, head = processes(6, 1.0, 0.1, 2 * seed), processes(6, 1.2, 0.1, 2 * seed + 1)
        _, low, high = sequential.shift(base, head, 0.99)
        misses += not (low <= np.log(1.2) <= high)
    assert misses / 400 <= 0.02  # 99% nominal (conservative: the exact rank gives at least that)


@pytest.mark.parametrize("n", [7, 10])
def test_aa_false_slower_rate_is_below_one_percent(n):
    alarms = sum(sequential.decide("b", processes(n, 1.0, 0.1, 3 * s), processes(n, 1.0, 0.1, 3 * s + 1),
                                   10).verdict == "slower" for s in range(500))
    assert alarms / 500 <= 0.01


def test_the_offline_validation_finds_no_false_alarm_and_catches_a_clear_slowdown():
    from reporting import validate_ab

    rng = np.random.default_rng(0)
    values = {"quiet": 1e-3 * np.exp(0.02 * rng.standard_normal(40)),  # 2% between processes; 8 + 12 a side
              "noisy": 1e-3 * np.exp(0.3 * rng.standard_normal(40))}  # 30%: nothing below that is decidable
    rows = validate_ab.evaluate(values, per_side=8, threshold=10, trials=50)
    assert rows["quiet"]["false_alarm"] == 0 and rows["quiet"]["same"] > 0.9
    assert rows["quiet"][0.25][0] == rows["quiet"][0.15][0] == 1.0
    assert 0.2 < rows["quiet"][0.10][0] < 0.9  # +10% is the threshold itself: about half the time
    assert rows["noisy"]["false_alarm"] <= 0.02 and rows["noisy"][0.15][0] < 0.5


def test_a_budget_too_short_for_a_first_decision_says_so_and_what_would_do():
    from reporting.rounds import MIN_PROCESSES, too_short

    note = too_short(108, 600)
    assert f"fits about 5 processes a side, fewer than the {MIN_PROCESSES} a first decision needs" in note
    assert "a budget of about 900 s would decide" in note
    assert too_short(600 / MIN_PROCESSES, 600) == ""
    # a duet decides after an even number of rounds: 8, not 7 (182 s after counting, 24 s a round)
    note = too_short(24, 182, before=418, first=MIN_PROCESSES + 1)
    assert f"fewer than the {MIN_PROCESSES + 1} a first decision needs ({MIN_PROCESSES} for the 99.9% interval, " \
           "an even number in a duet)" in note and "a budget of about 700 s would decide" in note


def test_a_stored_aa_set_reads_back_without_the_partial_processes(tmp_path, capsys):
    from reporting import validate_ab

    rng = np.random.default_rng(1)
    full = [{"a": float(v), "b": float(w)} for v, w in 1e-3 * np.exp(0.02 * rng.standard_normal((40, 2)))]
    stored = tmp_path / "aa.json"
    stored.write_text(json.dumps({"benchmarks": ["a", "b"], "processes": [[v["a"], v["b"]] for v in full]}))
    assert validate_ab.processes([stored]) == full
    assert validate_ab.main([str(stored), "--per-side", "8", "--trials", "20"]) == 0
    assert "| a | 0.0% |" in capsys.readouterr().out
    assert validate_ab.main([str(stored), "--per-side", "9"]) == 2  # 9 + 12 a side: 42 processes, 40 stored
    assert "needs 42 runs (up to 12 more a side to confirm a 'slower'), 40 given" in capsys.readouterr().err
    assert validate_ab.main([str(stored), "--confidence", "1.5"]) == 2
    assert "validate_ab: error: --confidence: expected a number between 0.5 and 1" in capsys.readouterr().err
    stored.write_text("{not json")
    assert validate_ab.main([str(stored)]) == 2
    assert "validate_ab: error:" in capsys.readouterr().err


def test_a_laxer_confidence_narrows_the_interval_and_raises_the_false_alarms_it_allows():
    """validate_ab --confidence: what make compare's 99.9% costs in resolution, on the same splits."""
    from reporting import validate_ab

    rng = np.random.default_rng(2)
    values = {"a": 1e-3 * np.exp(0.15 * rng.standard_normal(48))}
    strict = validate_ab.evaluate(values, 12, 10.0, 200, duet=True)["a"]
    lax = validate_ab.evaluate(values, 12, 10.0, 200, duet=True, confidence=0.99)["a"]
    assert lax["resolvable"] < strict["resolvable"] and lax["false_alarm"] >= strict["false_alarm"]


def test_instruction_counts_catch_more_work_that_time_cannot_see_without_false_alarms(tmp_path, capsys):
    """A benchmark too noisy for time (30% between processes) but counted with 0.1% A/A noise: +10%
    more work is caught in every split by instructions (threshold 5%), none of the A/A splits is."""
    from reporting import validate_ab

    rng = np.random.default_rng(2)
    values = {"noisy": 1e-3 * np.exp(0.3 * rng.standard_normal(40)), "uncounted": 1e-3 * np.ones(40)}
    counts = {"noisy": 1e6 * (1 + 0.001 * rng.standard_normal(10))}
    rows = validate_ab.evaluate(values, per_side=8, threshold=10, trials=50, counts=counts, count_threshold=5)
    assert rows["noisy"][0.10][0] < 0.5 and rows["noisy"]["count", 0.10] == rows["noisy"]["both", 0.10] == 1.0
    assert rows["noisy"]["both", 0.0] == rows["noisy"]["count", 0.0] == 0.0
    assert rows["uncounted"]["count", 0.10] == 0.0
    text = validate_ab.table(rows, 8, {"noisy"})
    assert "| noisy | " in text and "| 0.0% / 0.0% | " in text and "not counted" in text
    assert "+10%: 1 of 2, +15%: 2 of 2" in text  # +10% is not above a 10% threshold; +15% is, by time alone
    aa = tmp_path / "aa.json"
    aa.write_text(json.dumps({"pairs": [[{"noisy": 1.0, "x": 2.0}, {"noisy": 1.001}]]}))
    assert list(validate_ab.instruction_counts(aa)) == ["noisy"]


def test_the_median_resolvable_change_is_half_the_interval_not_a_rate():
    from reporting import validate_ab
    from reporting.sequential import decide

    rng = np.random.default_rng(3)
    values = {"b": 1e-3 * np.exp(0.05 * rng.standard_normal(40))}
    rows = validate_ab.evaluate(values, per_side=8, threshold=10, trials=20)
    one = decide("b", list(values["b"][:8]), list(values["b"][8:]), 10).resolvable_pct
    assert rows["b"]["resolvable"] > 1 and 0.3 < rows["b"]["resolvable"] / one < 3


def test_a_confirmation_judges_whole_stages_and_a_second_only_above_the_threshold():
    """6 confirming processes a side that read +30% too noisily to put it above 0 may take 6 more,
    judged all 12 together; 6 that read +2% (back to normal) may not; a stage cut short is not judged."""
    first = sequential.decide("b", [1.0] * 8, [1.3] * 8, 10)
    noisy_base = [1.0, 1.0, 1.0, 1.0, 1.0, 1.6]
    one = sequential.confirm(first, noisy_base, [1.3] * 6)
    assert one.confirmed is False and one.stage == 1 and one.change_pct > 10
    assert sequential.another_stage(one, 10) and not sequential.another_stage(one, 40)
    cut = sequential.confirm(first, noisy_base + [1.0] * 3, [1.3] * 9)
    assert (cut.stage, cut.confirmed, cut.n_base, cut.earlier) == (1, False, 9, None)
    two = sequential.confirm(first, noisy_base + [1.0] * 6, [1.3] * 12)
    assert two.confirmed is True and two.stage == 2 and two.earlier == one
    assert not sequential.another_stage(two, 10)
    back = sequential.confirm(first, [1.0, 1.05, 0.97, 1.02, 0.99, 1.03], [1.0, 1.01, 0.98, 1.04, 0.99, 1.0])
    assert back.confirmed is False and not sequential.another_stage(back, 10)
    note = sequential.confirmation_note(cut, first)
    assert "6 more a side did not confirm it" in note and "the budget ended with 3 of the 6 more" in note
    assert "did not fit in the budget" in sequential.confirmation_note(one, first, 10)
    assert "did not fit" not in sequential.confirmation_note(back, first, 10)


def test_a_second_confirming_stage_catches_more_and_keeps_false_slower_below_one_percent():
    """Offline, 14% between processes (a busy hour's torch-compile MLP step): a +30% slow-down is
    caught more often with the second stage than the first alone would, and the A/A false "slower"
    stays at most 1%."""
    from reporting import validate_ab

    rng = np.random.default_rng(4)
    values = {"b": 1e-3 * np.exp(0.14 * rng.standard_normal(48))}
    base, head = values["b"][:12], values["b"][12:24] * 1.3
    more = (values["b"][24:36], values["b"][36:48] * 1.3)
    assert validate_ab.looks(base, head, 10, True, more=more) in ("slower", "undecided")
    rows = validate_ab.evaluate(values, per_side=12, threshold=10, trials=300, duet=True)
    assert rows["b"]["false_alarm"] <= 0.01
    one_stage = validate_ab.evaluate(values, per_side=12, threshold=10, trials=300, duet=True, stages=1)
    assert rows["b"][0.25][0] > one_stage["b"][0.25][0]


def test_the_signed_rank_null_counts_every_sign_pattern_once():
    import itertools

    n = 7
    brute = np.bincount([sum(r for r, positive in zip(range(1, n + 1), signs, strict=True) if positive)
                         for signs in itertools.product([False, True], repeat=n)])
    assert sequential.signed_rank_counts(n) == tuple(int(c) for c in brute)


def test_the_paired_interval_needs_eleven_pairs_at_99_9_and_covers_the_true_shift_as_often_as_it_says():
    assert sequential.paired_shift([0.01 * i for i in range(10)])[1] is None  # 2 / 2^10 > 0.001
    estimate, low, high = sequential.paired_shift([0.05 + 0.001 * i for i in range(11)])
    assert (low, high) == pytest.approx((0.05, 0.06)) and low <= estimate <= high  # all one sign: [min, max]
    rng, shift, n, trials = np.random.default_rng(3), 0.07, 12, 2000
    covered = 0
    for _ in range(trials):
        _, low, high = sequential.paired_shift(list(shift + rng.standard_t(3, n) * 0.05), confidence=0.9)
        covered += low <= shift <= high
    assert 0.88 <= covered / trials <= 0.95  # at least 90% (a discrete statistic: a little more)
