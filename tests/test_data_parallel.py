"""Data-parallel training (benchmarks/dp_rank.py, dp_runner.py, models/dp_*.py) equals one-device
training, and its rank processes never outlive a run, a dead rank or a Ctrl-C.

Parity: from the same weights, K=4 SGD steps on the same global batch (64, split over 2 devices,
the same rows to each device at every step) give the one-device parameters to atol 1e-6 / rtol 1e-5
for jax-jit (one process, 2 devices), jax-spmd (2 processes, jax.distributed) and torch-ddp (2 ranks)
(float32, true-fp32 matmuls; the only difference is the summation order of the per-shard gradient
means); the processes' replicas agree exactly.
"""
from __future__ import annotations

import os
import re
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


MODES = [("jax", "jit"), ("jax", "spmd"), ("torch", "ddp")]


def spec(framework: str, mode: str, n: int = DEVICES) -> Spec:
    return Spec(framework, mode, "cpu", f"batch{BATCH}x{n}", n, "steady")  # type: ignore[arg-type]


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
    """Living children (all descendants with `parent`), multiprocessing's resource tracker and the unit
    tests' collection server (tests/collect.py) excepted."""
    table, found, frontier = processes(), [], [parent or os.getpid()]
    while frontier:
        node = frontier.pop()
        kids = [pid for pid, (ppid, state, _) in table.items() if ppid == node and state != "Z"]
        found += [pid for pid in kids if b"resource_tracker" not in table[pid][2]
                  and b"benchmarks.forkserver\0all" not in table[pid][2]]
        frontier += kids if parent else []
    return found


def test_jax_and_torch_ranks_get_the_same_thread_budget():
    """Each jax-spmd process and each torch-ddp rank measures cores / N intra-op threads in itself
    (XLA's intra-op pool, torch.get_num_threads); the one jax-jit process keeps XLA's default, the
    cores it may run on."""
    budget = max(1, (os.cpu_count() or 1) // DEVICES)
    reported = {}
    for framework, mode in MODES:
        with Group(spec(framework, mode), DEVICES, BATCH) as group:
            reported[mode] = [info["threads"] for info in group.infos]
    assert reported == {"spmd": [budget] * DEVICES, "ddp": [budget] * DEVICES, "jit": [len(os.sched_getaffinity(0))]}


@pytest.mark.parametrize("framework, mode", MODES)
def test_n_devices_train_like_one(framework, mode):
    with Group(spec(framework, mode), DEVICES, BATCH) as group:
        group.build(cold=False)
        losses = [group.step() for _ in range(STEPS)]
        replicas = group.params()
    expected = one_device_params(framework)
    initial = data.reference_loss(data.mlp_weights(seed=0), *data.synthetic_batch(BATCH, seed=1))
    assert losses[0] == pytest.approx(initial, rel=1e-5) and losses[-1] < losses[0]
    assert len(replicas) == (1 if mode == "jit" else DEVICES)  # one per process
    for replica in replicas:
        for (w, b), (ew, eb) in zip(replica, expected, strict=False):
            np.testing.assert_allclose(w, ew, rtol=RTOL, atol=ATOL)
            np.testing.assert_allclose(b, eb, rtol=RTOL, atol=ATOL)
    for replica in replicas[1:]:
        for got, first in zip(replica, replicas[0], strict=False):
            np.testing.assert_array_equal(got[0], first[0])
    assert not np.allclose(expected[0][0], data.mlp_weights(seed=0)[0][0]), "SGD must have moved the weights"
    assert not children()


@pytest.mark.parametrize("framework, mode", [("jax", "spmd"), ("torch", "ddp")])
def test_a_rank_killed_mid_run_fails_the_group_and_leaves_no_process(framework, mode):
    group = Group(spec(framework, mode), DEVICES, 1024)
    try:
        group.build(cold=False)
        group.step()
        victim = group.pids[1]
        threading.Timer(0.2, os.kill, (victim, signal.SIGKILL)).start()  # during the steps below
        with pytest.raises(WorkerError, match=rf"rank 1 \(pid {victim}\) died during step \(exit code -9\); "
                                              r"all ranks stopped \(their output: \S+\)$") as failure:
            for _ in range(10_000):
                group.step()
    finally:
        group.close()
    assert not children()
    remove_log(str(failure.value))
    with pytest.raises(WorkerError, match="the group is stopped"):
        group.step()


def test_start_up_is_bounded():
    with pytest.raises(WorkerError, match=r"no reply to start-up from rank\(s\) \[0, 1\] within 0 s; "
                                          r"all ranks stopped") as failure:
        Group(spec("jax", "spmd"), DEVICES, BATCH, start_timeout=0.01)
    assert not children()
    remove_log(str(failure.value))


def remove_log(message: str) -> None:
    """The ranks' output a failure names exists (kept for the user); removed here."""
    log = Path(re.search(r"their output: (\S+)\)", message).group(1))  # type: ignore[union-attr]
    assert log.is_file(), message
    log.unlink()


def benchmark_run(case: str, act) -> tuple[int, str, list[int]]:
    """Run the benchmark `case` (a -k expression) in a pytest process; once pytest-benchmark is timing,
    act(pytest pid, rank pids). Its exit code, its output and the rank pids."""
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "benchmarks/test_data_parallel.py", "-k", case,
         "--devices", "2", "--batch-sizes", "1024", "--benchmark-max-time", "60", "--benchmark-verbose",
         "-p", "no:cacheprovider", "-q"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        # a background job of a shell (make test runs the unit tests with &) ignores SIGINT, and a
        # child would inherit that: Python then never raises KeyboardInterrupt
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    output, ranks = [], []
    try:
        for line in run.stdout:  # type: ignore[union-attr]  # pytest-benchmark says when it starts measuring
            output.append(line)
            if "Measuring" in line or "Calibrating" in line:
                break
        table = processes()
        ranks = [pid for pid in children(run.pid) if b"benchmarks.dp_rank" in table[pid][2]]
        assert len(ranks) == DEVICES, "".join(output)
        time.sleep(0.5)
        act(run.pid, ranks)
        output.append(run.stdout.read())  # type: ignore[union-attr]
        run.wait(timeout=120)
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
    return run.returncode, "".join(output), ranks


def test_the_benchmark_fails_clearly_when_a_rank_is_killed():
    """The pytest run of the benchmark itself: kill one rank while pytest-benchmark is timing."""
    code, text, ranks = benchmark_run("torch and x2 and steady", lambda _, ranks: os.kill(max(ranks), signal.SIGKILL))
    assert code == 1, text
    assert "died during step (exit code -9); all ranks stopped" in text, text
    assert "Traceback" not in text and "another exception" not in text, text  # the one line, no wall
    remove_log(text)
    assert not [pid for pid in ranks if Path(f"/proc/{pid}").exists()], "a rank outlived the run"


def test_ctrl_c_stops_the_benchmark_and_its_ranks():
    """SIGINT to the pytest process while it times jax-spmd: pytest stops, no rank is left."""
    code, text, ranks = benchmark_run("spmd and x2 and steady", lambda pid, _: os.kill(pid, signal.SIGINT))
    assert code == 2 and "KeyboardInterrupt" in text, text
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
