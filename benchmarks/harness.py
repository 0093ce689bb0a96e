"""The one timing harness every benchmark uses (how it measures: docs/measuring.md).

A workload is a `Workload` (one measured case of it is a `Spec`, benchmarks/spec.py): `build(be)`
returns a brand-new ready step callable on the backend `be` (benchmarks/frameworks.py: device,
compile policy); a call does one unit of work and returns its output. `run()` measures it as the spec's phase says:

- steady: build once, explicit warm-up, then pytest-benchmark calibrates rounds; the steady
  benchmark fails if anything compiles while it is being timed;
- firstcall: every round gets a fresh callable with the compile caches cleared (untimed setup),
  and times trace + compile + one real step.

Each timed call waits for the device inside the call. extra_info gets the fields of the design.
"""
from __future__ import annotations

import importlib
import math
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from types import ModuleType
from typing import Any, cast

import numpy as np
import pytest

from benchmarks import frameworks, instructions, lightspeed, machine, memory, modes
from benchmarks.spec import Spec, tolerance

WARMUP_STEPS = 3


@dataclass
class Workload:
    workload: str  # mlp_train_step, matmul, ...
    build: Callable[[frameworks.Backend], Callable[[], Any]]  # a fresh ready step on a backend
    items_per_call: int  # samples, tokens or elements
    flops_per_call: float | None = None  # analytic; None if unknown
    count_framework_flops: bool = False  # also record the framework's own count (untimed)
    bytes_per_call: float | None = None  # for GB/s of memory-bound workloads
    memory_floor_bytes: float | None = None  # analytic floor of the working set (inputs, state, largest activation)
    training: bool = False  # the step returns (state, loss): the final loss goes to extra_info
    dtype: str = "float32"
    extra: dict = field(default_factory=dict)


def model(name: str, spec: Spec) -> ModuleType:
    """The model module of a workload for the spec's framework: models/<name>_<framework>.py. A
    module may say which cases it does not run, `unsupported(spec) -> reason | None`: those skip."""
    module = importlib.import_module(f"models.{name}_{spec.framework}")
    reason = getattr(module, "unsupported", lambda spec: None)(spec)
    if reason:
        pytest.skip(reason)
    return module


def run(benchmark, spec: Spec, work: Workload) -> Any:
    """Measure `work` for `spec` (steady or firstcall); returns the last step output."""
    be = frameworks.backend(spec)
    benchmark.group = f"{work.workload}-{spec.size}-{spec.phase}"
    benchmark.extra_info.update(describe(spec, work, be))
    with machine.other_cpu() as others:
        out = (_steady if spec.phase == "steady" else _firstcall)(benchmark, be, work)
    benchmark.extra_info["other_cpu_share"] = others.share_value
    if work.training:
        benchmark.extra_info["loss"] = float(as_numpy(out[1]))
    xla_memory = spec.memory and spec.phase == "steady" and spec.framework == "jax" and spec.compiled
    counting = bool(instructions.Counting.steps)  # under valgrind, where a fresh step is dear (docs/regression-gate.md)
    if not memory.in_child() and not counting and (work.count_framework_flops or xla_memory):
        analysis = be.analyse(work.build)  # untimed, on a fresh step
        if work.count_framework_flops:
            benchmark.extra_info["flops_per_call_framework"] = analysis["flops"]
            benchmark.extra_info["ops_per_call"] = analysis.get("ops")  # eager modes: dispatched operations
        if xla_memory:  # a first call has no memory figure (memory.FIRSTCALL): nor XLA's beside it
            benchmark.extra_info.update(analysis["memory"])
    return out


def run_training(benchmark, spec: Spec, work: Workload, steps: int) -> tuple[Any, list[float]]:
    """A whole training run of `steps` calls of `work.build(be)` (each returns (state, loss)), which
    `run` cannot time: its steady phase calibrates many rounds of one call, its firstcall phase
    compiles in every round. The first WARMUP_STEPS steps compile and are not timed; one timed call
    (benchmark.pedantic, rounds=1) runs the other steps, synced as `timed` does; nothing may compile
    inside it. `work.items_per_call` and `flops_per_call` count that timed call. Returns the final
    state and the loss of every step of the run."""
    be = frameworks.backend(spec)
    benchmark.group = f"{work.workload}-{spec.size}-{spec.phase}"
    benchmark.extra_info.update(describe(spec, work, be))
    step = work.build(be)
    with machine.other_cpu() as others:
        losses = [step()[1] for _ in range(WARMUP_STEPS)]
        before = be.compile_count()

        def whole_run():
            outs = [step() for _ in range(steps - WARMUP_STEPS)]
            return outs[-1][0], [loss for _, loss in outs]

        state, timed_losses = benchmark.pedantic(timed(be, whole_run), rounds=1, iterations=1, warmup_rounds=0)
    assert be.compile_count() == before, f"{spec.id}: compilation(s) while timing the training run"
    curve = [float(as_numpy(loss)) for loss in losses + timed_losses]
    benchmark.extra_info.update({"other_cpu_share": others.share_value, "steps": steps,
                                 "warmup_steps": WARMUP_STEPS, "loss": curve[-1]})
    return state, curve


def check_training_loss(spec: Spec, loss: float, initial: float) -> None:
    """The loss a training benchmark ended with, against the initial weights' `initial`: a firstcall
    round starts from the initial weights, so its loss is theirs (to the precision's tolerance);
    steady steps were real and threaded the state, so training on the batch lowered it."""
    assert math.isfinite(loss), f"{spec.id}: loss {loss}"
    if spec.phase == "firstcall":
        assert loss == pytest.approx(initial, rel=tolerance("loss", spec.matmul_precision))
    else:
        assert loss < initial, f"{spec.id}: loss {loss:.5f} not below the initial {initial:.5f}"


def figures_kept(benchmark) -> bool:
    """False under --benchmark-disable: each benchmark runs once and no figure is kept, so the run
    may be cheap (two warm-up steps, Inductor's caches allowed in firstcall) as long as it runs the
    same code and checks the same results."""
    return not getattr(benchmark, "disabled", False)


def warmup_steps(benchmark) -> int:
    return WARMUP_STEPS if figures_kept(benchmark) else 2  # a second call may still compile (state pytrees settle)


def timed(be: frameworks.Backend, step: Callable[[], Any]) -> Callable[[], Any]:
    """The callable handed to pytest-benchmark: one step, synced."""

    def call():
        return be.sync(step())

    return call


def _steady(benchmark, be: frameworks.Backend, work: Workload) -> Any:
    be.before_steady()
    child = memory.CHILD.get("set") if memory.in_child() else None  # started before the test's inputs
    before_build = memory.resident_bytes() if be.spec.memory and be.spec.device == "cpu" and not child else None
    call = timed(be, work.build(be))
    out = None
    for _ in range(warmup_steps(benchmark)):
        out = call()
    if child is not None:
        child.after_warmup()
    if instructions.Counting.steps:
        counted = instructions.count(call, benchmark.fullname, instructions.Counting.steps)
        instructions.Counting.counts[benchmark.fullname] = benchmark.extra_info["instructions_per_step"] = counted
        return out  # a counting run times nothing (--benchmark-disable): no step more under valgrind
    before = be.compile_count()
    out = benchmark(call)
    compiled = be.compile_count() - before
    if compiled:
        raise AssertionError(f"{be.spec.id}: {compiled} compilation(s) while timing a steady benchmark")
    check_speed_of_light(benchmark, be.spec, work)
    benchmark.extra_info["warmup_steps"] = warmup_steps(benchmark)
    if child is not None:
        memory.write_child_result(child.finish())
    elif be.spec.memory:
        benchmark.extra_info.update(memory.steady_pass(be.spec, call, before_build, benchmark.fullname,
                                                       work.memory_floor_bytes))
    else:
        benchmark.extra_info.update(memory.OFF)
    benchmark.extra_info["memory_floor_bytes"] = work.memory_floor_bytes
    return out


def check_speed_of_light(benchmark, spec: Spec, work: Workload) -> None:
    """Fail a steady CPU benchmark whose median this machine cannot reach (benchmarks/lightspeed.py)."""
    stats = getattr(benchmark, "stats", None)
    if spec.device != "cpu" or not figures_kept(benchmark) or stats is None:
        return
    median, flops, nbytes = stats.stats.median, work.flops_per_call, work.bytes_per_call
    if lightspeed.too_fast(median, flops, nbytes, lightspeed.ceiling()) is None:
        return
    reason = lightspeed.too_fast(median, flops, nbytes, lightspeed.higher(lightspeed.ceiling(), lightspeed.measure()))
    if reason:  # still too fast against the ceilings measured again: not a busy moment of the probes
        pytest.fail(f"{spec.id}: {reason}", pytrace=False)


def _firstcall(benchmark, be: frameworks.Backend, work: Workload) -> Any:
    record: dict = {}
    holder = _Holder()
    with be.cold_rounds(record, cold=figures_kept(benchmark)) as new_round:
        def fresh():
            holder.step = None  # free the previous round's work before measuring this one
            new_round()
            holder.step = timed(be, work.build(be))
            return (holder,), {}

        out = benchmark.pedantic(lambda h: h.step(), setup=fresh, rounds=be.spec.firstcall_rounds,
                                 iterations=1, warmup_rounds=0)
    benchmark.extra_info.update(record)
    benchmark.extra_info.update(memory.FIRSTCALL)
    rounds = list(benchmark.stats.stats.data) if benchmark.stats else []
    if len(rounds) > 1:  # a round 1 far above the rest means the later rounds were not cold
        benchmark.extra_info.update(round1_s=rounds[0], later_rounds_median_s=float(np.median(rounds[1:])))
    benchmark.extra_info["firstcall_includes"] = FIRSTCALL_INCLUDES[be.spec.framework, be.spec.mode] + (
        CUDA_FIRSTCALL_NOTE.get(be.spec.framework, "") if be.spec.device == "cuda" else "")
    return out


class _Holder:
    """The current firstcall round's step; emptied before the next round is built."""

    step: Callable[[], Any] | None = None


# what a firstcall's time contains, per (framework, mode): the table's (benchmarks/modes.py)
FIRSTCALL_INCLUDES = defaultdict(lambda: modes.NOTHING_TO_COMPILE,
                                 {(r.framework, r.mode): r.firstcall_includes for r in modes.ROWS})
# on CUDA, what a cold round cannot clear
CUDA_FIRSTCALL_NOTE = {
    "jax": "; CUDA: device initialised untimed first; XLA:GPU autotuning results persist in the process, "
           "so only the first compile of a program autotunes (see round1_s)",
    "torch": "; CUDA: device initialised untimed first; a fresh Triton cache directory per round",
}


# --- extra_info ----------------------------------------------------------------------------------

def describe(spec: Spec, work: Workload, be: frameworks.Backend) -> dict:
    return {
        "workload": work.workload,
        "framework": spec.framework,
        "framework_version": be.version,
        "mode": spec.mode,
        "device": spec.device,
        "device_name": device_name(spec),
        "phase": spec.phase,
        "size": spec.size,
        "size_value": spec.size_value,
        "dtype": work.dtype,
        "matmul_precision": spec.matmul_precision,
        "items_per_call": work.items_per_call,
        "flops_per_call": work.flops_per_call,
        "flops_per_call_framework": None,
        "bytes_per_call": work.bytes_per_call,
        **({"torch_compile_mode": cast(frameworks.TorchBackend, be).compile_mode} if spec.framework == "torch" else {}),
        **work.extra,
    }


def device_name(spec: Spec) -> str:
    if spec.device == "cuda":
        import torch

        return torch.cuda.get_device_name(0)
    return cpu_name()


@cache
def cpu_name() -> str:
    import platform

    try:
        import cpuinfo

        return cpuinfo.get_cpu_info().get("brand_raw") or platform.processor()
    except Exception:  # cpuinfo can fail on exotic CPUs; the platform string still says something
        return platform.processor() or platform.machine()


def as_numpy(x: Any) -> np.ndarray:
    """A host copy of a JAX array or torch tensor, for checks outside the timed region."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
