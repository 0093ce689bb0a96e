"""JAX / PyTorch ratios judged across fresh processes (reporting/ratios.py): the words, the interval,
the single-process figure that is never a finding, and the shuffled order of a repeated process."""
from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest

from reporting import ratios
from reporting.load import Bench, Run
from tests.collect import pytest_collect
from tests.test_report import ROOT


def bench(framework: str, mode: str, size: str, seconds: float) -> Bench:
    name = f"test_mlp_train_step[{framework}-{mode}-cpu-{size}-steady]"
    info = {"workload": "mlp_train_step", "framework": framework, "mode": mode, "device": "cpu", "size": size,
            "size_value": int(size.removeprefix("batch")), "phase": "steady"}
    return Bench(name, name, "proc.json", seconds, seconds, None, 5, None, info)


def processes(jax_s: float, torch_s: float, n: int, noise: float, sizes=("batch64",), seed=0) -> list[Run]:
    rng = np.random.default_rng(seed)
    runs = []
    for i in range(n):
        benches = {}
        for size in sizes:
            for framework, mode, t in (("jax", "jit", jax_s), ("torch", "compile", torch_s)):
                b = bench(framework, mode, size, t * float(np.exp(noise * rng.standard_normal())))
                benches[b.name] = b
        runs.append(Run(Path(f"proc-{i:02d}.json"), {}, benches))
    return runs


@pytest.mark.parametrize(("low", "high", "n", "expected"), [
    (0.97, 1.04, 8, "same"), (0.70, 0.90, 8, "JAX faster"), (0.90, 0.99, 8, "JAX faster"),
    (1.2, 1.5, 8, "PyTorch faster"), (0.9, 1.1, 8, "undecided"), (None, None, 3, "undecided"),
    (None, None, 1, ratios.ONE_PROCESS)])
def test_each_interval_gets_one_word(low, high, n, expected):
    assert ratios.word(low, high, n) == expected


def test_a_real_factor_of_two_is_found_with_an_interval_that_holds_it():
    (x,) = ratios.from_processes(processes(2e-3, 1e-3, 8, 0.2))
    assert x.word == "PyTorch faster" and x.processes == 8
    assert x.low is not None and x.high is not None and x.low < 2.0 < x.high


def test_equal_frameworks_are_the_same_with_enough_quiet_processes_and_undecided_with_noisy_ones():
    (quiet,) = ratios.from_processes(processes(1e-3, 1e-3, 8, 0.01))
    (noisy,) = ratios.from_processes(processes(1e-3, 1e-3, 5, 0.3))
    assert (quiet.word, noisy.word) == ("same", "undecided")


def test_too_few_processes_give_no_interval_and_no_finding():
    (x,) = ratios.from_processes(processes(2e-3, 1e-3, 3, 0.01))
    assert (x.low, x.high, x.word) == (None, None, "undecided") and "too few" in x.interval


def test_a_pair_of_one_run_is_a_figure_without_an_interval():
    (run,) = processes(2e-3, 1e-3, 1, 0.0, sizes=("batch64", "batch1024"))
    measured = {("mlp_train_step", "cpu", "jit/compile", "batch64")}
    (x,) = ratios.from_one_run(run.benches, measured)
    assert (x.size, x.word, x.interval) == ("batch1024", ratios.ONE_PROCESS, ratios.ONE_PROCESS)
    assert x.ratio == pytest.approx(2.0)


def test_the_geometric_mean_over_sizes_is_judged_on_each_process():
    (g,) = ratios.gmeans(processes(2e-3, 1e-3, 8, 0.1, sizes=("batch64", "batch1024")), [])
    assert g.size == "gmean of 2" and g.word == "PyTorch faster" and g.low < 2.0 < g.high


def test_the_findings_name_the_factor_the_interval_and_the_processes():
    found = ratios.from_processes(processes(1e-3, 2e-3, 8, 0.1))
    lines = ratios.sentences(found)
    assert "8 fresh processes" in lines[0] and "95% intervals" in lines[0]
    assert lines[1].startswith("compiled (jax.jit vs torch.compile), mlp_train_step on cpu: JAX 2.")
    assert "faster (" in lines[1] and "at batch64" in lines[1]


def _collected(*args: str) -> subprocess.CompletedProcess:
    return pytest_collect("benchmarks", "--collect-only", "-q", "--device", "cpu", "--batch-sizes", "64",
                          "-k", "test_mlp_train_step", *args)


def test_shuffle_orders_steady_cases_by_its_seed_and_refuses_firstcall_cases():
    orders = [[line for line in _collected("-k", "steady", "--shuffle", seed).stdout.splitlines() if "::" in line]
              for seed in ("1", "1", "2")]
    assert orders[0] == orders[1] and sorted(orders[0]) == sorted(orders[2]) and orders[0] != orders[2]
    refused = _collected("--shuffle", "1")
    assert refused.returncode == 4 and "--shuffle: select steady cases only" in refused.stderr + refused.stdout


def test_disjoint_runs_of_the_stored_processes_never_contradict_each_other():
    """88 fresh quick-set processes of one commit on a noisy 2-core VM, split into runs of 8 (as
    make bench's repeated processes): no run calls a pair JAX faster where another calls it PyTorch faster."""
    from reporting import validate_ab, validate_ratios

    per_run = validate_ab.processes([ROOT / "baselines" / "ab-aa" / "amd-epyc-2cpu-2026-12-02.json"])
    names = sorted(per_run[0])
    values = np.array([[run[n] for n in names] for run in per_run], dtype=float)
    result = validate_ratios.check(values, names, per_run=8, trials=2)
    assert result["pairs"] == 12 and result["compared"] > 0
    assert result["contradictions"] == 0 and result["decided_share"] > 0.8


def test_the_report_pairs_jax_spmd_with_torch_ddp():
    """The multi-process pairing of the mode table (benchmarks/modes.py) reaches the JAX vs PyTorch
    ratios: jax-spmd against torch-ddp, while jax-jit (paired with torch-compile) finds no partner."""
    def dp_bench(framework: str, mode: str, seconds: float) -> Bench:
        name = f"test_data_parallel[{framework}-{mode}-cpu-batch1024x2-steady]"
        info = {"workload": "mlp_data_parallel", "framework": framework, "mode": mode, "device": "cpu",
                "size": "batch1024x2", "size_value": 2, "phase": "steady"}
        return Bench(name, name, "run.json", seconds, seconds, None, 5, None, info)

    runs = [Run(Path(f"proc-{i}.json"), {}, {b.name: b for b in (
        dp_bench("jax", "spmd", 0.03 + i * 1e-4), dp_bench("jax", "jit", 0.01), dp_bench("torch", "ddp", 0.02))})
        for i in range(3)]
    (x,) = ratios.from_processes(runs)
    assert (x.pairing, x.size, x.processes) == ("spmd/ddp", "batch1024x2", 3)
    assert x.ratio == pytest.approx(1.505)
    assert "multi-process data parallel (jax.distributed vs DDP), mlp_data_parallel" in ratios.sentences([x])[1]
