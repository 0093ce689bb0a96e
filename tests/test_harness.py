"""The harness measures what it says: synced work, warm steady state, cold first calls."""
from __future__ import annotations

import time

import pytest

from benchmarks import harness
from conftest import Spec

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


def _spec(phase="steady", rounds=3):
    return Spec("jax", "jit", "cpu", "size512", 512, phase, firstcall_rounds=rounds)


def _work():
    """About 10 ms of matmuls on this CPU, dispatched asynchronously by JAX."""

    def body(i, x):
        return jnp.tanh(x @ x) * 0.5

    return jax.jit(lambda a: jax.lax.fori_loop(0, 8, body, a))


def _case(make_step):
    return harness.Case("harness_check", make_step, items_per_call=1)


def _synced_seconds(f, a, repeats=5):
    jax.block_until_ready(f(a))
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(f(a))
        best = min(best, time.perf_counter() - start)
    return best


def test_steady_time_includes_the_device_work(benchmark):
    f, a = _work(), jnp.full((512, 512), 1e-3)
    reference = _synced_seconds(f, a)
    unsynced = float("inf")
    for _ in range(5):  # what an un-synced harness would time: the dispatch alone (best of 5)
        start = time.perf_counter()
        out = f(a)
        unsynced = min(unsynced, time.perf_counter() - start)
        jax.block_until_ready(out)
    assert unsynced < 0.2 * reference, "JAX no longer dispatches asynchronously here: test is moot"
    harness.run(benchmark, _spec(), _case(lambda: lambda: f(a)))
    # un-synced it would be ~1% of the reference; the margin absorbs a loaded machine
    assert benchmark.stats.stats.median >= 0.5 * reference


def test_steady_fails_when_the_step_recompiles(benchmark):
    sizes = iter(range(1, 10_000))

    def make_step():
        f = jax.jit(lambda x: x + 1)
        return lambda: f(jnp.zeros(next(sizes)))  # a new shape every call: a recompile every call

    with pytest.raises(AssertionError, match="compilation"):
        harness.run(benchmark, _spec(), _case(make_step))


def test_firstcall_rounds_each_pay_a_fresh_compile(benchmark):
    made = []

    def make_step():
        f, a = _work(), jnp.full((512, 512), 1e-3)
        made.append(f)
        return lambda: f(a)

    before = harness.compile_count("jax")
    harness.run(benchmark, _spec("firstcall", rounds=3), _case(make_step))
    assert len(made) == 3
    assert harness.compile_count("jax") - before >= 3  # at least one XLA compile per round
    assert benchmark.extra_info["compile_s"] > 0
    assert benchmark.stats.stats.rounds == 3


def test_extra_info_carries_the_design_fields(benchmark):
    f, a = _work(), jnp.full((512, 512), 1e-3)
    harness.run(benchmark, _spec(), harness.Case("harness_check", lambda: lambda: f(a), items_per_call=7,
                                                 flops_per_call=8 * 2 * 512**3))
    required = {"workload", "framework", "framework_version", "mode", "device", "device_name", "phase",
                "size", "dtype", "matmul_precision", "items_per_call", "flops_per_call",
                "peak_memory_bytes", "memory_note"}
    assert required <= benchmark.extra_info.keys()
    assert benchmark.extra_info["framework_version"] == jax.__version__
    assert benchmark.group == "harness_check-size512-steady"


def test_torch_compile_firstcall_rounds_are_cold(benchmark):
    torch = pytest.importorskip("torch")
    from torch._dynamo.utils import counters

    spec = Spec("torch", "compile", "cpu", "n64", 64, "firstcall", firstcall_rounds=2)
    x = torch.linspace(0, 1, 64)
    harness.start_inductor()
    before = counters["stats"]["unique_graphs"]
    hits_before = counters["inductor"]["fxgraph_cache_hit"]
    harness.run(benchmark, spec, _case(lambda: torch.compile(lambda: (x * 2).sin().sum())))
    assert counters["stats"]["unique_graphs"] - before == 2  # one fresh Dynamo graph per round
    assert counters["inductor"]["fxgraph_cache_hit"] == hits_before  # and no Inductor cache hit
    assert "excludes Inductor's one-time process start-up" in benchmark.extra_info["firstcall_includes"]
