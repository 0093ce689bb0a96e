"""Too fast to be true fails (benchmarks/lightspeed.py): the ceilings, and the verdict both ways."""
from __future__ import annotations

from benchmarks import lightspeed

LIMIT = lightspeed.Ceiling(flops_per_s=100e9, bytes_per_s=10e9)
STEP_FLOPS = 255e6  # an MLP batch-64 training step


def test_an_honest_step_passes_and_a_step_that_did_not_wait_fails_in_one_line():
    assert lightspeed.too_fast(5e-3, STEP_FLOPS, None, LIMIT) is None  # 51 GFLOP/s
    reason = lightspeed.too_fast(30e-6, STEP_FLOPS, None, LIMIT)  # the dispatch alone: 8.5 TFLOP/s
    assert lightspeed.too_fast(0.5e-3, STEP_FLOPS, None, LIMIT) is None  # 510 GFLOP/s: within the margin
    assert reason is not None and reason.endswith("missing sync?") and "\n" not in reason
    assert "8.5e+03 GFLOP/s" in reason and "10x its measured 100 GFLOP/s" in reason


def test_memory_is_judged_only_where_a_call_moves_more_than_any_cache_holds():
    small = 3 * 10_000 * 4  # runs from L1/L2 far above the copy's bandwidth, honestly
    assert lightspeed.too_fast(1e-6, None, small, LIMIT) is None
    big = 3 * 33_554_432 * 4
    assert lightspeed.too_fast(0.05, None, big, LIMIT) is None  # 8 GB/s
    assert "GB/s is faster than this machine moves memory" in lightspeed.too_fast(1e-4, None, big, LIMIT)


def test_the_ceiling_is_measured_in_a_fresh_interpreter_and_is_plausible():
    c = lightspeed.ceiling()
    assert 1e9 < c.flops_per_s < 1e14 and 1e8 < c.bytes_per_s < 1e13


def test_a_trip_is_judged_again_against_the_higher_of_two_measurements():
    low, high = lightspeed.Ceiling(10e9, 1e9), lightspeed.Ceiling(300e9, 20e9)
    both = lightspeed.higher(low, high)
    assert (both.flops_per_s, both.bytes_per_s) == (300e9, 20e9)
    assert lightspeed.too_fast(2e-3, STEP_FLOPS, None, low) and not lightspeed.too_fast(2e-3, STEP_FLOPS, None, both)
