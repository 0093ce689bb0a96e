"""The rank program (benchmarks/dp_rank.py) reads its place from the variables launchers set, refuses
bad ones in one line, and runs alone the way users launch it: torchrun for PyTorch, the JAX_*
variables per process for JAX (here two processes on loopback, as two hosts would), each of two local
processes with half the cores' intra-op threads."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.dp_rank import Place, free_port, place

ROOT = Path(__file__).resolve().parent.parent
HALF_THE_CORES = max(1, (os.cpu_count() or 1) // 2)  # the intra-op threads of each of 2 local ranks
TORCHRUN = {"MASTER_ADDR": "10.0.0.1", "MASTER_PORT": "29500", "RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "0"}


def test_torchrun_variables_place_a_torch_rank():
    assert place("torch", TORCHRUN) == Place(1, 2, 0, "10.0.0.1:29500")


def test_jax_variables_place_a_jax_process_and_torchrun_ones_stand_in():
    env = {"JAX_COORDINATOR_ADDRESS": "10.0.0.1:1234", "JAX_NUM_PROCESSES": "4", "JAX_PROCESS_ID": "3"}
    assert place("jax", env) == Place(3, 4, 0, "10.0.0.1:1234")
    assert place("jax", TORCHRUN) == Place(1, 2, 0, "10.0.0.1:29500")


def test_no_variables_is_a_world_of_one():
    where = place("torch", {})
    assert (where.rank, where.world) == (0, 1) and where.coordinator.startswith("127.0.0.1:")


@pytest.mark.parametrize("env, message", [
    ({"RANK": "0"}, "set all of RANK / WORLD_SIZE / MASTER_ADDR (and MASTER_PORT), or none"),
    ({**TORCHRUN, "RANK": "one"}, "expected integers, got 'one', '2'"),
    ({**TORCHRUN, "RANK": "2"}, "rank 2 is not in a world of 2"),
])
def test_bad_variables_are_one_line_errors(env, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        place("torch", env)


def run_ranks(commands: list[list[str]], envs: list[dict[str, str]]) -> list[subprocess.CompletedProcess]:
    """Start one process per command (with its variables) at once; wait for all (bounded)."""
    procs = [subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for cmd, env in zip(commands, envs, strict=True)]
    try:
        outs = [p.communicate(timeout=180) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    return [subprocess.CompletedProcess(p.args, p.returncode, o, e) for p, (o, e) in zip(procs, outs, strict=True)]


def test_a_bad_variable_stops_the_rank_program_with_one_line():
    (result,) = run_ranks([[sys.executable, "-m", "benchmarks.dp_rank", "--framework", "torch"]], [{"RANK": "0"}])
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "dp_rank: error: ValueError: set all of RANK / WORLD_SIZE / MASTER_ADDR (and MASTER_PORT), or none"]


def test_jax_processes_placed_by_their_variables_run_the_step_together():
    port, args = free_port(), ["--framework", "jax", "--mode", "spmd", "--batch", "64", "--steps", "2"]
    envs = [{"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": "2", "JAX_PROCESS_ID": str(i),
             "LOCAL_WORLD_SIZE": "2"} for i in range(2)]
    results = run_ranks([[sys.executable, "-m", "benchmarks.dp_rank", *args]] * 2, envs)
    assert [r.returncode for r in results] == [0, 0], [r.stderr[-2000:] for r in results]
    report = json.loads(results[0].stdout)  # process 0 reports; the other prints nothing
    assert (report["processes"], report["devices"], report["global_batch"]) == (2, 2, 64) and not results[1].stdout
    assert report["step_s_min"] > 0 and report["loss"] > 0
    assert report["threads"] == HALF_THE_CORES  # as a torchrun rank's below


def test_torchrun_launches_the_torch_ranks():
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this interpreter")
    (result,) = run_ranks([[str(torchrun), "--nproc-per-node", "2", "--master-port", str(free_port()),
                            "-m", "benchmarks.dp_rank", "--framework", "torch", "--batch", "64", "--steps", "2"]], [{}])
    # the ranks' own messages come first, torchrun's account of a failed rank last: show both
    assert result.returncode == 0, f"{result.stderr[:3000]}\n[...]\n{result.stderr[-1500:]}\nstdout: {result.stdout}"
    report = json.loads(result.stdout)
    assert (report["mode"], report["processes"], report["global_batch"]) == ("ddp", 2, 64)
    assert report["threads"] == HALF_THE_CORES  # torchrun sets LOCAL_WORLD_SIZE=2
