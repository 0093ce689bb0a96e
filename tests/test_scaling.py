"""The fixed-cost + throughput fit on synthetic sweeps with a known answer, and on doctored ones."""
from __future__ import annotations

import numpy as np
import pytest

from reporting import scaling

SIZES = [64, 256, 1024]


def rounds(times: list[float], noise: float = 0.02, n: int = 30) -> list[np.ndarray]:
    rng = np.random.default_rng(1)
    return [t * (1 + noise * rng.standard_normal(n)) for t in times]


def test_recovers_a_known_fixed_cost_and_throughput():
    fixed, per_item = 50e-6, 2e-6
    times = [fixed + n * per_item for n in SIZES]
    f = scaling.fit(SIZES, times, rounds(times))
    assert f.fixed_s == pytest.approx(fixed, rel=1e-6) and f.per_unit_s == pytest.approx(per_item, rel=1e-6)
    assert f.fixed_interval[0] <= fixed <= f.fixed_interval[1] and f.linear and f.max_error_pct < 1e-6
    assert f.crossover_work == pytest.approx(25) and f.throughput == pytest.approx(5e5)
    assert all(abs(f.predict(n) / t - 1) < 1e-6 for n, t in zip(SIZES, times, strict=True))


def test_noisy_rounds_give_an_interval_around_the_truth():
    fixed, per_item = 1e-3, 1e-5
    times = [fixed + n * per_item for n in SIZES]
    f = scaling.fit(SIZES, [float(np.median(r)) for r in rounds(times)], rounds(times))
    assert f.fixed_interval[0] < fixed < f.fixed_interval[1]
    assert f.per_unit_interval[0] < per_item < f.per_unit_interval[1]


def test_a_sweep_that_is_not_linear_is_flagged():
    times = [1e-3 * (n / 64) ** 2 for n in SIZES]  # quadratic: no fixed + linear fits it within 15%
    f = scaling.fit(SIZES, times)
    assert not f.linear and f.max_error_pct > scaling.FIT_TOLERANCE_PCT


def test_a_negative_fixed_cost_is_clamped_to_zero():
    times = [n * 1e-6 * 1.1 - 5e-6 for n in SIZES]  # a line through a negative intercept
    f = scaling.fit(SIZES, times)
    assert f.fixed_s == 0 and f.per_unit_s > 0


def test_size_at_interpolates_on_the_sweep():
    assert scaling.size_at(4 * 256 ** 3, [256, 1024], [256 ** 3, 1024 ** 3]) == pytest.approx(256 * 4 ** (1 / 3))
    with pytest.raises(ValueError):
        scaling.fit([64], [1.0])


def bench(workload: str, framework: str, mode: str, size: int, median: float, **info):
    from reporting.load import Bench

    name = f"test_{workload}[{framework}-{mode}-cpu-n{size}-steady]"
    return Bench(name=name, fullname=name, run="r.json", median=median, min_s=median, iqr=None, rounds=5, data=None,
                 info={"workload": workload, "framework": framework, "mode": mode, "device": "cpu",
                       "size": f"n{size}", "size_value": size, "phase": "steady", **info})


def test_the_roofline_places_benchmarks_under_both_measured_roofs():
    from reporting import tables

    benches = {b.name: b for b in [
        bench("matmul", "numpy", "plain", 1024, 0.01, flops_per_call=2e9, bytes_per_call=12e6),  # 200 GFLOP/s
        bench("stream_triad", "numpy", "plain", 1 << 25, 0.04, flops_per_call=2 * 2 ** 25, bytes_per_call=4e8),
        bench("jit_elementwise", "jax", "jit", 1000, 1e-5, items_per_call=1000, bytes_per_call=8000)]}
    rf = tables.roofline(benches, tables.matmul_peaks(benches))
    assert rf["roofs"] == {("r.json", "cpu"): (pytest.approx(200.0), pytest.approx(10.0))}
    assert rf["unplaced"] == 1 and {p["workload"] for p in rf["points"]} == {"matmul", "stream_triad"}
    triad = next(p for p in rf["points"] if p["workload"] == "stream_triad")
    assert triad["bound_by"] == "memory" and triad["share_of_roof"] == pytest.approx(1.0)


def test_dispatch_cost_per_op_against_the_compiled_twin():
    benches = {b.name: b for b in [bench("mlp_train_step", "torch", "eager", 64, 300e-6, ops_per_call=60),
                                   bench("mlp_train_step", "torch", "compile", 64, 180e-6)]}
    (row,) = scaling.dispatch_rows(benches)
    assert row["per_op_s"] == pytest.approx(5e-6) and row["overhead_per_op_s"] == pytest.approx(2e-6)
