"""Warm start (benchmarks/warmstart.py): a warm round hits the cache, a doctored cache key misses and
is caught, and a benchmark whose round missed fails in one line."""
from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks import warmstart
from benchmarks.spec import Spec

SPEC = Spec("jax", "jit", "cpu", "batch64", 64, "warmstart")


def test_a_warm_child_hits_the_run_s_own_cache_and_a_doctored_key_misses(tmp_path):
    job = {"spec": asdict(SPEC), "workload": "mlp_train_step", "cache": str(tmp_path)}
    fill = warmstart.run_child(job, tmp_path)
    warm = warmstart.run_child(job, tmp_path)
    assert fill["misses"] >= 1 and (warm["hits"], warm["misses"]) == (fill["misses"], 0)
    assert warm["first_call_s"] < fill["first_call_s"] and warm["import_s"] > 0
    assert list((tmp_path / "jax").iterdir())  # the cache lives where the run put it, not in the user's
    doctored = warmstart.run_child(job, tmp_path, {**warmstart.cache_env(tmp_path),
                                                   warmstart.TEST_CACHE_SALT: "bfloat16"})  # another matmul precision
    assert doctored["misses"] >= 1


class _Benchmark:
    """What warmstart.measure asks of pytest-benchmark's fixture: pedantic rounds and extra_info."""

    def __init__(self):
        self.extra_info: dict = {}
        self._timer = None

    def pedantic(self, target, rounds, iterations, warmup_rounds):
        for _ in range(rounds):
            target()


def test_a_round_that_compiled_anyway_fails_the_benchmark_in_one_line(monkeypatch):
    results = iter([{"first_call_s": 1.0, "start_s": 0.1, "import_s": 1.0, "hits": 0, "misses": 2},  # the fill
                    {"first_call_s": 0.2, "start_s": 0.1, "import_s": 1.0, "hits": 2, "misses": 0},
                    {"first_call_s": 0.9, "start_s": 0.1, "import_s": 1.0, "hits": 0, "misses": 2}])
    caches: list[Path] = []

    def fake_child(job, cache, env=None):
        caches.append(cache)
        return next(results)

    monkeypatch.setattr(warmstart, "run_child", fake_child)
    bench = _Benchmark()
    with pytest.raises(pytest.fail.Exception) as failed:
        warmstart.measure(bench, SPEC, "mlp_train_step", rounds=2)
    message = str(failed.value)
    assert "\n" not in message and "warm round(s) [2] compiled anyway" in message
    assert bench.extra_info["cache_misses"] == [0, 2] and bench.extra_info["fill_first_call_s"] == 1.0
    assert caches and not caches[0].exists()  # the run's own cache directory is removed afterwards
