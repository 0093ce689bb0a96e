"""The MLP training step (784-512-512-10, SGD lr 0.01) data-parallel over N devices: docs/data-parallel.md.

The global batch (the largest of --batch-sizes) is split over N devices (--devices; the size word
says both: batch1024x2). jax-jit: one process, a mesh of N devices, the batch sharded and the
parameters replicated; jax-spmd: the same step over a global mesh of N processes (jax.distributed);
torch-ddp: N rank processes, DistributedDataParallel. The steps run in resident rank processes
(benchmarks/dp_rank.py, launched by benchmarks/dp_runner.py); pytest-benchmark times, in this
process, "run one step on every rank and wait for every rank's reply".
"""
from __future__ import annotations

import dataclasses
import statistics

import pytest

from benchmarks import harness
from benchmarks.dp_runner import Group, WorkerError, measure, timings, visible_gpus
from benchmarks.plugin.session import Settings, settings
from models import costs, data

MODES = [("jax", "jit"), ("jax", "spmd"), ("torch", "ddp")]
REFERENCE_STEPS = 20  # steps of an N=1 reference measured on demand

TIMING = ("pytest-benchmark times, in the pytest process, one command to every resident rank process: one "
          "step, then every rank's reply over its pipe once the step has ended there; the round-trip of an "
          "empty command is ipc_roundtrip_s, rank 0's own timing of the step worker_step_s_*")
# How each mode lays out N-way data parallelism: what a benchmark records beside its times
COLLECTIVE = {
    "jit": "jax.jit with in/out shardings over one process's N devices (batch axis sharded, params "
           "replicated): XLA inserts the all-reduce of the gradients and of the loss",
    "spmd": "jax.jit with in/out shardings over a global mesh of N processes (jax.distributed; Gloo on the "
            "CPU, NCCL on GPUs): XLA inserts the cross-process all-reduce of the gradients and of the loss",
    "ddp": "DistributedDataParallel all-reduces (averages) the gradients during backward; the loss is "
           "all-reduced after the step",
}
# How each mode's intra-op threads are set: threads_per_rank is what the ranks measure in themselves
THREADS_SET_BY = {
    "jit": "XLA's default: its CPU client's pools sized for all cores, shared by the N simulated devices",
    "spmd": "PJRT_NPROC=cores/N in each process: its XLA CPU client's pools sized for that many cores",
    "ddp": "torch.set_num_threads(cores/N) in each rank",
}
STEP_ENDS = {
    "jax": "every process has replied after jax.block_until_ready on its shards of the outputs (params, loss)",
    "torch": "every rank has replied after the loss all-reduce that follows its optimizer.step()",
}
DDP_FIRSTCALL = ("the first step of a fresh model in a fresh DDP wrapper (built untimed, parameter broadcast "
                 "included); nothing to compile")
EFFICIENCY = ("t(1) / (N * t(N)), t = the fastest round of the steady benchmark (scaling_efficiency) "
              "or its median (scaling_efficiency_median), t(1) from the N=1 benchmark of this run "
              "(or measured on demand: reference_source)")
_STEP_S: dict[tuple, tuple[float, float]] = {}  # this run's N=1 step times: (min, median)


def sizes(run: Settings) -> list[tuple[str, int]]:
    batch = max(run.sizes["batch"])
    return [(f"batch{batch}x{n}", n) for n in run.devices]


class _Groups:
    """One live group of ranks at a time, kept across the steady and firstcall cases of one
    (framework, mode, device, N)."""

    def __init__(self):
        self.key, self.group = None, None

    def get(self, spec, n: int, batch: int) -> Group:
        key = (spec.framework, spec.mode, spec.device, spec.matmul_precision, n, batch)
        if self.group is None or self.key != key or not self.group.pipes:
            self.close()
            self.group, self.key = Group(spec, n, batch), key
        return self.group

    def close(self) -> None:
        if self.group is not None:
            self.group.close()
            self.group = None


@pytest.fixture(scope="module")
def groups():
    pool = _Groups()
    yield pool
    pool.close()


@pytest.mark.cases(modes=MODES, sizes=sizes)
def test_data_parallel(benchmark, spec, groups, pytestconfig):
    try:
        _measure(benchmark, spec, groups, pytestconfig)
        return
    except WorkerError as error:  # a rank died, failed or hung: its one line, not a traceback
        failure = str(error)
    pytest.fail(failure, pytrace=False)


def _measure(benchmark, spec, groups, pytestconfig) -> None:
    n, batch = spec.size_value, max(settings(pytestconfig).sizes["batch"])
    _skip_unless_possible(spec, n, batch)
    group = groups.get(spec, n, batch)

    def build(be):
        group.build(cold=spec.phase == "firstcall")
        return lambda: (None, group.step())

    harness.run(benchmark, dataclasses.replace(spec, memory=False), harness.Workload(
        "mlp_data_parallel", build, items_per_call=batch, flops_per_call=costs.mlp_flops(batch), training=True))
    stats = group.stats()
    info = benchmark.extra_info
    info.update({
        "devices": n, "global_batch": batch, "per_device_batch": batch // n, **_layout(spec, group), "timing": TIMING,
        "peak_memory_bytes": None, "memory_note": "not measured: the step runs in the rank processes",
    })
    if spec.phase == "firstcall":
        info.update(stats["stages"])  # rank 0's trace / lower / compile medians, not this process's
        if spec.mode == "ddp":
            info["firstcall_includes"] = DDP_FIRSTCALL
    else:
        if stats["compiles_after_warmup"]:
            raise AssertionError(f"{spec.id}: {stats['compiles_after_warmup']} compilation(s) while timing")
        _efficiency(benchmark, spec, n, batch, stats, groups)
    x, y = data.synthetic_batch(batch, seed=1)
    harness.check_training_loss(spec, info["loss"], data.reference_loss(data.mlp_weights(seed=0), x, y))


def _layout(spec, group: Group) -> dict:
    """What ran where: processes, simulated devices, threads, the collective and when a step ends."""
    threads = sorted({info["threads"] for info in group.infos}, key=str)  # the same in every rank, normally
    return {"processes": len(group.procs), "simulated_devices": spec.device == "cpu" and spec.mode == "jit",
            "threads_per_rank": threads[0] if len(threads) == 1 else threads, "threads_set_by": THREADS_SET_BY[spec.mode],
            "collective": COLLECTIVE[spec.mode], "step_ends": STEP_ENDS[spec.framework]}


def _efficiency(benchmark, spec, n: int, batch: int, stats: dict, groups: _Groups) -> None:
    info = benchmark.extra_info
    times = stats["step_s"][harness.WARMUP_STEPS:]
    info["worker_step_s_min"] = min(times) if times else None
    info["ipc_roundtrip_s"] = statistics.median(timings(groups.group.ping, 20))  # empty commands
    if benchmark.stats is None:  # --benchmark-disable: nothing timed
        return
    t_n = (benchmark.stats.stats.min, benchmark.stats.stats.median)
    key = (spec.framework, spec.mode, spec.device, spec.matmul_precision, batch)
    source = "the N=1 benchmark of this run"
    if n == 1:
        _STEP_S[key] = t_n
    elif key not in _STEP_S:
        with Group(spec, 1, batch) as reference:
            figures = measure(reference, REFERENCE_STEPS)
        _STEP_S[key] = figures["step_s_min"], figures["step_s_median"]
        source = f"measured for this benchmark: {REFERENCE_STEPS} steps of a fresh N=1 group"
    t_1 = _STEP_S[key]
    info.update({
        "scaling_efficiency": t_1[0] / (n * t_n[0]), "scaling_efficiency_median": t_1[1] / (n * t_n[1]),
        "step_time_ratio_vs_1": t_n[0] / t_1[0], "reference_step_s": t_1[0], "reference_source": source,
        "efficiency_formula": EFFICIENCY,
    })


def _skip_unless_possible(spec, n: int, batch: int) -> None:
    if batch % n:
        pytest.skip(f"the global batch {batch} does not split evenly over {n} devices")
    if spec.device != "cuda":
        return
    visible = visible_gpus(spec.framework)
    if visible < n:
        pytest.skip(f"cuda: {n} GPUs wanted, {spec.framework} sees {visible}")
