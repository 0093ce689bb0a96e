"""Data-parallel training (benchmarks/dp_runner.py, models/dp_*.py) equals one-device training, and
its worker processes never outlive a run or a dead rank.

Parity: from the same weights, K=4 SGD steps on the same global batch (64, split over 2 devices)
give the one-device parameters to atol 1e-6 / rtol 1e-5 (float32, true-fp32 matmuls; the only
difference is the summation order of the per-shard gradient means); the ranks' replicas agree exactly.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks.spec import Spec
from models import data

jax = pytest.importorskip("jax")
torch = pytest.importorskip("torch")

from benchmarks.dp_runner import Group, WorkerError  # noqa: E402
from models import mlp_jax, mlp_torch  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BATCH, STEPS, DEVICES = 64, 4, 2
RTOL, ATOL = 1e-5, 1e-6


def spec(framework: str, n: int = DEVICES) -> Spec:
    return Spec(framework, "jit" if framework == "jax" else "ddp", "cpu", f"batch{BATCH}x{n}", n, "steady")


def one_device_params(framework: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """STEPS SGD steps on the whole global batch in this process, on one device."""
    weights, (x, y) = data.mlp_weights(seed=0), data.synthetic_batch(BATCH, seed=1)
    if framework == "jax":
        jax.config.update("jax_default_matmul_precision", "highest")
        params, step = mlp_jax.init_params(weights), jax.jit(mlp_jax.update)
        for _ in range(STEPS):
            params, _ = step(params, x, y)
        return [(np.asarray(w), np.asarray(b)) for w, b in params]
    torch.set_float32_matmul_precision("highest")
    model = mlp_torch.init_params(weights)
    opt, tx, ty = mlp_torch.optimizer(model), torch.from_numpy(x), torch.from_numpy(y).long()
    for _ in range(STEPS):
        mlp_torch.update(model, opt, tx, ty)
    return [(layer.weight.detach().numpy().T, layer.bias.detach().numpy()) for layer in model.layers]


def processes() -> dict[int, tuple[int, str, bytes]]:
    """Every living process: pid -> (parent pid, state, command line)."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat, cmdline = (entry / "stat").read_text(), (entry / "cmdline").read_bytes()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()  # after the command name, which may hold spaces
        found[int(entry.name)] = (int(fields[1]), fields[0], cmdline)
    return found


def children(parent: int | None = None) -> list[int]:
    """Living children (all descendants with `parent`), multiprocessing's resource tracker excepted."""
    table, found, frontier = processes(), [], [parent or os.getpid()]
    while frontier:
        node = frontier.pop()
        kids = [pid for pid, (ppid, state, _) in table.items() if ppid == node and state != "Z"]
        found += [pid for pid in kids if b"resource_tracker" not in table[pid][2]]
        frontier += kids if parent else []
    return found


@pytest.mark.parametrize("framework", ["jax", "torch"])
def test_n_devices_train_like_one(framework):
    with Group(spec(framework), DEVICES, BATCH) as group:
        group.build(cold=False)
        losses = [group.step() for _ in range(STEPS)]
        replicas = group.params()
    expected = one_device_params(framework)
    initial = data.reference_loss(data.mlp_weights(seed=0), *data.synthetic_batch(BATCH, seed=1))
    assert losses[0] == pytest.approx(initial, rel=1e-5) and losses[-1] < losses[0]
    for replica in replicas:  # one per process: JAX 1, PyTorch one per rank
        for (w, b), (ew, eb) in zip(replica, expected, strict=False):
            np.testing.assert_allclose(w, ew, rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(b, eb, rtol=RTOL, atol=ATOL)
    for replica in replicas[1:]:
        for got, first in zip(replica, replicas[0], strict=False):
            np.testing.assert_array_equal(got[0], first[0])
    assert not np.allclose(expected[0][0], data.mlp_weights(seed=0)[0][0]), "SGD must have moved the weights"
    assert not children()


def test_a_rank_killed_mid_run_fails_the_group_and_leaves_no_process():
    group = Group(spec("torch"), DEVICES, 1024)
    try:
        group.build(cold=False)
        group.step()
        victim = group.pids[1]
        threading.Timer(0.2, os.kill, (victim, signal.SIGKILL)).start()  # during the steps below
        with pytest.raises(WorkerError, match=rf"rank 1 \(pid {victim}\) died during step \(exit code -9\); "
                                              r"all workers stopped"):
            for _ in range(10_000):
                group.step()
    finally:
        group.close()
    assert not children()
    with pytest.raises(WorkerError, match="the group is stopped"):
        group.step()


def test_start_up_is_bounded():
    with pytest.raises(WorkerError, match=r"no reply to start-up from rank\(s\) \[0\] within 0 s; all workers stopped"):
        Group(spec("jax"), DEVICES, BATCH, start_timeout=0.01)
    assert not children()


def test_the_benchmark_fails_clearly_when_a_rank_is_killed():
    """The pytest run of the benchmark itself: kill one rank while pytest-benchmark is timing."""
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "benchmarks/test_data_parallel.py", "-k", "torch and x2 and steady",
         "--devices", "2", "--batch-sizes", "1024", "--benchmark-max-time", "60", "--benchmark-verbose",
         "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = []
    try:
        for line in run.stdout:  # pytest-benchmark says when it starts measuring
            output.append(line)
            if "Measuring" in line or "Calibrating" in line:
                break
        table = processes()
        ranks = [pid for pid in children(run.pid) if b"spawn_main" in table[pid][2]]
        assert len(ranks) == DEVICES, "".join(output)
        time.sleep(0.5)
        os.kill(max(ranks), signal.SIGKILL)
        output.append(run.stdout.read())
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    text = "".join(output)
    assert run.returncode == 1, text
    assert "died during step (exit code -9); all workers stopped" in text, text
    assert not [pid for pid in ranks if Path(f"/proc/{pid}").exists()], "a rank outlived the run"


@pytest.mark.parametrize("value, message", [
    ("0", "--devices: expected comma-separated positive integers up to 64, got '0'"),
    ("1,,2", "--devices: expected comma-separated positive integers, got '1,,2'"),
])
def test_bad_devices_is_one_line_usage_error(value, message):
    from tests.test_options import pytest_run

    result = pytest_run("--collect-only", "-q", "--devices", value, path="benchmarks/test_data_parallel.py")
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == 4 and len(errors) == 1 and message in errors[0], result.stderr
