"""The memory pass measures every framework the same way, outside timing.

Known allocation: a step computing x + 1 over a 64 MiB float32 array must allocate a new 64 MiB
output on every framework; the per-step figure (step_peak_bytes) must be within 15% of that (the
rest is allocator and thread-stack noise, a few MiB at most). The headline peak_memory_bytes, the
working set of a fresh process running one case, is checked on real benchmarks against their
analytic floors.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks import harness, memory
from benchmarks.spec import Spec

MIB = 1 << 20
BUFFER = 64 * MIB
CASES = [("numpy", "plain"), ("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile")]


def _plus_one(be):
    x = be.put(np.ones(BUFFER // 4, dtype=np.float32))  # 64 MiB, written (resident), held as the input
    f = be.compile(lambda v: v + 1.0)
    return lambda: f(x)


@pytest.mark.parametrize("framework, mode", CASES, ids=[f"{f}-{m}" for f, m in CASES])
def test_known_allocation_is_measured(benchmark, framework, mode):
    pytest.importorskip(framework)
    memory.PENDING.clear()
    spec = Spec(framework, mode, "cpu", "n16777216", BUFFER // 4, "steady", firstcall_rounds=2)
    harness.run(benchmark, spec, harness.Workload("memory_check", _plus_one, items_per_call=BUFFER // 4))
    peak = benchmark.extra_info["step_peak_bytes"]
    assert peak == pytest.approx(BUFFER, rel=0.15), benchmark.extra_info["step_memory_note"]
    assert "VmHWM" in benchmark.extra_info["step_memory_note"]
    assert benchmark.extra_info["held_memory_bytes"] >= BUFFER  # the 64 MiB input stays resident
    assert [p["fullname"] for p in memory.PENDING] == [benchmark.fullname]  # its working set: a child's
    memory.PENDING.clear()


def test_a_first_call_has_no_memory_figure_and_says_why(benchmark):
    spec = Spec("numpy", "plain", "cpu", "n16777216", BUFFER // 4, "firstcall", firstcall_rounds=1)
    harness.run(benchmark, spec, harness.Workload("memory_check", _plus_one, items_per_call=BUFFER // 4))
    assert benchmark.extra_info["peak_memory_bytes"] is None
    assert "steady cases only" in benchmark.extra_info["memory_note"]


@pytest.mark.parametrize("selection", ["test_matmul and size1024 and steady and not numpy",
                                       "test_mlp_train_step and batch1024 and steady and (jax-jit or torch-eager)"])
def test_the_working_set_of_a_fresh_process_is_at_or_above_the_floor(tmp_path, selection):
    from tests.test_options import pytest_run

    out = tmp_path / "run.json"
    result = pytest_run("-k", selection, "--matrix-sizes", "1024", "--batch-sizes", "1024", "--device", "cpu",
                        "--benchmark-max-time=0.05", f"--benchmark-json={out}", "--benchmark-autosave",
                        f"--benchmark-storage={tmp_path / 'storage'}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stdout.count("memory: the working set of 2 steady cases") == 1  # measured once, saved twice
    (stored,) = (tmp_path / "storage").glob("*/0001_*.json")
    benches = json.loads(out.read_text())["benchmarks"] + json.loads(stored.read_text())["benchmarks"]
    assert len(benches) == 4
    for b in benches:
        info = b["extra_info"]
        assert info["peak_memory_bytes"] >= memory.FLOOR_SHARE * info["memory_floor_bytes"], (b["name"], info)
        assert info["memory_floor_ok"] and info["memory_note"] == memory.WORKING_SET_NOTE


def test_memory_pass_runs_outside_the_timed_calls(benchmark, monkeypatch):
    """Every timed call happens before the memory probe is reset; the extra measured call comes last."""
    events = []
    reset = memory.Probe.reset
    monkeypatch.setattr(memory.Probe, "reset", lambda self: (events.append("reset"), reset(self))[1])

    def build(be):
        return lambda: events.append("call")

    harness.run(benchmark, Spec("numpy", "plain", "cpu", "n1", 1, "steady"), harness.Workload("order_check", build, 1))
    assert events[-2:] == ["reset", "call"] and events.count("reset") == 1
    assert events.count("call") > benchmark.stats.stats.rounds  # the timed rounds all came before it


def test_memory_off_records_null_with_a_reason(benchmark):
    spec = Spec("numpy", "plain", "cpu", "n1", 1, "steady", memory=False)
    harness.run(benchmark, spec, harness.Workload("memory_off", lambda be: lambda: None, 1))
    assert benchmark.extra_info["peak_memory_bytes"] is None
    assert "--memory off" in benchmark.extra_info["memory_note"]


def test_jax_records_xla_own_memory_figures(benchmark):
    pytest.importorskip("jax")
    spec = Spec("jax", "jit", "cpu", "n16777216", BUFFER // 4, "steady")
    harness.run(benchmark, spec, harness.Workload("memory_check", _plus_one, items_per_call=BUFFER // 4))
    assert benchmark.extra_info["xla_output_bytes"] == BUFFER
    assert benchmark.extra_info["xla_argument_bytes"] == BUFFER


def test_a_working_set_below_its_floor_fails_the_run_and_one_at_it_passes(capsys):
    """The floor verdict both ways, on the measured figures as the plugin applies them to the JSON."""
    import types

    from benchmarks.plugin import memory_pass, session

    name = "benchmarks/test_matmul.py::test_matmul[jax-jit-cpu-size1024-steady]"
    floor = 12 * MIB
    memory.PENDING.clear()  # cases earlier tests queued: no child is started here
    for peak, ok in ((20 * MIB, True), (5 * MIB, False)):  # honest, then doctored below 0.9 x floor
        run = session.SuiteSession(settings=None, cpu_watch=None,  # type: ignore[arg-type]
                                   working_sets={name: {"peak_memory_bytes": peak}})
        config = types.SimpleNamespace(stash={session.KEY: run})
        benches = [{"fullname": name, "extra_info": {"memory_floor_bytes": floor}}]
        memory_pass.working_sets(config, benches)
        assert benches[0]["extra_info"]["memory_floor_ok"] is ok
        finished = types.SimpleNamespace(config=config, exitstatus=0)
        memory_pass.pytest_sessionfinish(finished)
        assert finished.exitstatus == (0 if ok else 1)
        assert ("MEMORY FLOOR FAILED" in capsys.readouterr().out) is not ok
