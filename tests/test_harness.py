"""The harness measures what it says: synced work, warm steady state, cold first calls."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchmarks import counts, frameworks, harness
from benchmarks.spec import Spec

pytestmark = pytest.mark.timing  # times steps and other processes' CPU share: run with nothing beside it

jax = pytest.importorskip("jax")
jnp = pytest.importorskip("jax.numpy")


def _spec(phase="steady", rounds=3):
    """memory=False: the memory pass builds the case once more (XLA's memory analysis)."""
    return Spec("jax", "jit", "cpu", "size512", 512, phase, firstcall_rounds=rounds, memory=False)


def _work():
    """Some milliseconds of matmuls, dispatched asynchronously by JAX."""

    def body(i, x):
        return jnp.tanh(x @ x) * 0.5

    return jax.jit(lambda a: jax.lax.fori_loop(0, 8, body, a))


def _case(make_step):
    """A case whose build ignores the backend: the tests hand-make their steps."""
    return harness.Workload("harness_check", lambda be: make_step(), items_per_call=1)


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

    before = counts.jax_events.compiles
    harness.run(benchmark, _spec("firstcall", rounds=3), _case(make_step))
    assert len(made) == 3
    assert counts.jax_events.compiles - before >= 3  # at least one XLA compile per round
    assert benchmark.extra_info["compile_s"] > 0
    assert benchmark.stats.stats.rounds == 3


def test_extra_info_carries_the_design_fields(benchmark):
    f, a = _work(), jnp.full((512, 512), 1e-3)
    harness.run(benchmark, _spec(), harness.Workload("harness_check", lambda be: lambda: f(a), items_per_call=7,
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

    spec = Spec("torch", "compile", "cpu", "n64", 64, "firstcall", firstcall_rounds=3)
    x = torch.linspace(0, 1, 64)
    frameworks.inductor_startup_seconds()
    before = counters["stats"]["unique_graphs"]
    hits_before = counters["inductor"]["fxgraph_cache_hit"]
    harness.run(benchmark, spec, _case(lambda: torch.compile(lambda: (x * 2).sin().sum())))
    assert counters["stats"]["unique_graphs"] - before == 3  # one fresh Dynamo graph per round
    assert counters["inductor"]["fxgraph_cache_hit"] == hits_before  # and no Inductor cache hit
    # every round built its kernel again in its own empty cache directory: a round that reused a
    # kernel built earlier (in memory or on disk) would write nothing there
    files = benchmark.extra_info["inductor_files_per_round"]
    assert len(files) == 3 and min(files) > 0 and max(files) == min(files)
    assert benchmark.extra_info["startup_s"] > 0
    assert "excludes Inductor's one-time process start-up" in benchmark.extra_info["firstcall_includes"]


def test_cold_round_check_fails_when_a_kernel_is_reused(benchmark):
    """The check above has teeth: without fresh caches, later rounds build nothing new."""
    torch = pytest.importorskip("torch")
    from torch._inductor.utils import fresh_cache

    x = torch.linspace(0, 1, 64)
    step = torch.compile(lambda: (x * 3).cos().sum())
    with fresh_cache():
        step()
        cache_dir = Path(os.environ["TORCHINDUCTOR_CACHE_DIR"])
        first = sum(f.is_file() for f in cache_dir.rglob("*"))
        torch._dynamo.reset()  # Dynamo alone: Inductor's in-memory and on-disk kernels stay
        torch.compile(lambda: (x * 3).cos().sum())()
        again = sum(f.is_file() for f in cache_dir.rglob("*")) - first
    assert first > 0 and again < first


def test_other_processes_cpu_use_is_measured():
    from benchmarks import machine

    with machine.other_cpu() as quiet:
        time.sleep(0.3)
    # a spinning process outside this process tree: started through a shell that exits at once
    spin = f"{sys.executable} -c 'import time\nt = time.time()\nwhile time.time() - t < 1.5: pass' &"
    subprocess.run(["sh", "-c", spin], check=True)
    with machine.other_cpu() as busy:
        time.sleep(1.0)
    time.sleep(0.6)  # let it end
    one_core = 1 / (os.cpu_count() or 1)  # one spinning process takes one core: 0.5 of 2, 0.25 of 4
    assert busy.share_value > 0.6 * one_core
    assert busy.share_value > quiet.share_value
