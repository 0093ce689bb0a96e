"""Regenerate the fixture runs in this folder from real pytest-benchmark sessions.

    .venv/bin/python tests/data/generate.py

Runs a throwaway benchmark file (tiny NumPy work standing in for the real workloads, with the
suite's test ids and extra_info) twice through pytest-benchmark with --benchmark-save-data, in a
temporary folder without the suite's conftest, and keeps the two JSON files as run_a.json and
run_b.json. Nothing here is a measurement of JAX or PyTorch.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

PLUGIN = '''
import sys

import pytest

sys.path.insert(0, REPO)
from benchmarks import probes

PROBES = {}

def pytest_collection_finish(session):
    PROBES["run"] = probes.Probes()

@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_json(config, benchmarks, output_json):
    output_json["suite"] = {"probes": PROBES["run"].finish(), "load": {"other_cpu_share": 0.0, "busy": False, "note": ""}}

@pytest.hookimpl(optionalhook=True)
def pytest_benchmark_update_machine_info(config, machine_info):
    machine_info["jax"] = "0.0-fixture"
    machine_info["torch"] = "0.0-fixture"
    machine_info["suite"] = {"matmul_precision": "highest", "env": {"XLA_FLAGS": None}}
'''

BENCH = '''
import time
import numpy as np
import pytest

RNG = np.random.default_rng(0)

def cases(workload, modes, sizes, phases=("steady", "firstcall")):
    return [pytest.param((fw, mode, size, value, phase), id=f"{fw}-{mode}-cpu-{size}-{phase}")
            for fw, mode in modes for size, value in sizes for phase in phases]

MLP_MODES = [("jax", "jit"), ("jax", "eager"), ("torch", "eager"), ("torch", "compile")]
SLOWER = {"jit": 1, "compile": 1, "scan": 1, "eager": 3, "plain": 2}  # eager pays dispatch

def run(benchmark, workload, case, work, items, flops, nbytes=None, loss=False):
    fw, mode, size, value, phase = case
    benchmark.group = f"{workload}-{size}-{phase}"
    benchmark.extra_info.update(
        workload=workload, framework=fw, framework_version="0.0-fixture", mode=mode, device="cpu",
        device_name="fixture-cpu", phase=phase, size=size, size_value=value, dtype="float32",
        matmul_precision="highest", items_per_call=items, flops_per_call=flops,
        flops_per_call_framework=None, bytes_per_call=nbytes, peak_memory_bytes=None,
        memory_note="CPU: no per-benchmark allocator peak")
    if loss:
        benchmark.extra_info["loss"] = 2.3
    step = lambda: [work() for _ in range(SLOWER[mode])]
    if phase == "firstcall":
        compile_s = 0.0 if mode in ("eager", "plain") else 0.004
        benchmark.pedantic(lambda: (time.sleep(compile_s), step()), rounds=3, iterations=1)
    else:
        benchmark(step)

@pytest.mark.parametrize("case", cases("matmul", [("jax", "jit"), ("torch", "eager"), ("numpy", "plain")],
                                       [("size32", 32), ("size64", 64)], ("steady",)))
def test_matmul(benchmark, case):
    n = case[3]
    a = RNG.standard_normal((n, n), dtype=np.float32)
    run(benchmark, "matmul", case, lambda: a @ a, n * n, 2.0 * n ** 3, 12.0 * n * n)

@pytest.mark.parametrize("case", cases("mlp_train_step", MLP_MODES, [("batch16", 16), ("batch64", 64)]))
def test_mlp_train_step(benchmark, case):
    b = case[3]
    x = RNG.standard_normal((b, 64), dtype=np.float32)
    w = RNG.standard_normal((64, 64), dtype=np.float32)
    run(benchmark, "mlp_train_step", case, lambda: np.tanh(x @ w) @ w.T, b, 3 * 2.0 * 2 * b * 64 * 64,
        loss=True)

@pytest.mark.parametrize("case", cases("grad_scalar", [("jax", "jit"), ("jax", "eager"), ("torch", "eager")],
                                       [("n1000", 1000)], ("steady",)))
def test_grad_scalar(benchmark, case):
    x = RNG.standard_normal(case[3])
    run(benchmark, "grad_scalar", case, lambda: np.cos(x) * 2 * x, case[3], None)
'''


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "fixture_plugin.py").write_text(PLUGIN.replace("REPO", repr(str(HERE.parents[1]))))
        (tmp / "test_fixture_bench.py").write_text(BENCH)
        for name in ("run_a", "run_b"):
            subprocess.run(
                [sys.executable, "-m", "pytest", "-q", "-p", "fixture_plugin", "-p", "no:cacheprovider",
                 "--noconftest", "--rootdir", str(tmp), "test_fixture_bench.py",
                 "--benchmark-min-rounds=15", "--benchmark-max-time=0.0001", "--benchmark-warmup=on",
                 "--benchmark-save-data", f"--benchmark-json={tmp / (name + '.json')}"],
                cwd=tmp, check=True, stdout=subprocess.DEVNULL, env={"PYTHONPATH": str(tmp), "PATH": "/usr/bin:/bin"})
            shutil.copy(tmp / f"{name}.json", HERE / f"{name}.json")


if __name__ == "__main__":
    main()
