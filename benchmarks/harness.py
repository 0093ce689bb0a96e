"""The one timing harness every benchmark uses (rules: ../shared/MEASURING.md).

A workload is a `Case`: a `make_step()` that builds a brand-new step callable (new jit/compile,
fresh state) whose call does one unit of work and returns its output. `run()` measures it as the
spec's phase says:

- steady: build once, explicit warm-up, then pytest-benchmark calibrates rounds; the steady
  benchmark fails if anything compiles while it is being timed;
- firstcall: every round gets a fresh callable with the compile caches cleared (untimed setup),
  and times trace + compile + one real step.

Each timed call waits for the device inside the call. extra_info gets the fields of DESIGN.md.
"""
from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable

import numpy as np

WARMUP_STEPS = 3


@dataclass
class Case:
    workload: str  # mlp_train_step, matmul, ...
    make_step: Callable[[], Callable[[], Any]]
    items_per_call: int  # samples, tokens or elements
    flops_per_call: float | None = None  # analytic; None if unknown
    framework_flops: Callable[[], float | None] | None = None  # the framework's own count, untimed
    bytes_per_call: float | None = None  # for GB/s of memory-bound workloads
    loss: Callable[[Any], float] | None = None  # training workloads: loss from the step output
    dtype: str = "float32"
    extra: dict = field(default_factory=dict)


def run(benchmark, spec, case: Case) -> Any:
    """Measure `case` for `spec` (steady or firstcall); returns the last step output."""
    benchmark.group = f"{case.workload}-{spec.size}-{spec.phase}"
    benchmark.extra_info.update(_describe(spec, case))
    if spec.device == "cuda" and spec.framework == "torch":
        import torch

        torch.cuda.reset_peak_memory_stats()
    measure = _steady if spec.phase == "steady" else _firstcall
    out = measure(benchmark, spec, case)
    benchmark.extra_info.update(_memory(spec))
    if case.loss is not None:
        benchmark.extra_info["loss"] = float(case.loss(out))
    if case.framework_flops is not None:
        benchmark.extra_info["flops_per_call_framework"] = case.framework_flops()
    return out


def sync(spec, out: Any) -> Any:
    """Wait until `out` is really computed: JAX is asynchronous on every backend."""
    if spec.framework == "jax":
        import jax

        return jax.block_until_ready(out)
    if spec.framework == "torch" and spec.device == "cuda":
        import torch

        torch.cuda.synchronize()
    return out


def timed(spec, step: Callable[[], Any]) -> Callable[[], Any]:
    """The callable handed to pytest-benchmark: one step, synced."""

    def call():
        return sync(spec, step())

    return call


def _steady(benchmark, spec, case: Case) -> Any:
    clear_caches(spec)  # a clean slate: no graph or dynamic-shape decision left by an earlier size
    call = timed(spec, case.make_step())
    for _ in range(WARMUP_STEPS):
        call()
    before = compile_count(spec.framework)
    out = benchmark(call)
    compiled = compile_count(spec.framework) - before
    if compiled:
        raise AssertionError(f"{spec.id}: {compiled} compilation(s) while timing a steady benchmark")
    benchmark.extra_info["warmup_steps"] = WARMUP_STEPS
    return out


def _firstcall(benchmark, spec, case: Case) -> Any:
    durations = _CompileDurations() if spec.framework == "jax" else None

    def fresh():
        clear_caches(spec)
        if durations is not None:
            durations.new_round()
        return (timed(spec, case.make_step()),), {}

    with _cold_compiles(spec):
        out = benchmark.pedantic(lambda call: call(), setup=fresh, rounds=spec.firstcall_rounds,
                                 iterations=1, warmup_rounds=0)
    if durations is not None:
        benchmark.extra_info.update(durations.medians())
        durations.close()
    benchmark.extra_info["firstcall_includes"] = FIRSTCALL_INCLUDES[spec.framework, spec.mode]
    return out


FIRSTCALL_INCLUDES = defaultdict(lambda: "the first call of a fresh callable (nothing to compile)", {
    ("jax", "jit"): "trace + lower + XLA compile + one step; jax.clear_caches() before each round, "
                    "persistent compilation cache off",
    ("jax", "scan"): "trace + lower + XLA compile + one call; jax.clear_caches() before each round, "
                     "persistent compilation cache off",
    ("jax", "eager"): "one eager step with every per-op compile cache cleared (jax.clear_caches())",
    ("torch", "compile"): "Dynamo trace + AOTAutograd + Inductor codegen and C++ build + one step; "
                          "torch._dynamo.reset() and Inductor caches force-disabled before each round; "
                          "excludes Inductor's one-time process start-up, paid untimed beforehand",
    ("torch", "eager"): "the first eager step of a fresh model (nothing to compile)",
})


def torch_compile(fn):
    """torch.compile specialised to the input shapes, as jax.jit is (no automatic dynamic shapes)."""
    import torch

    return torch.compile(fn, dynamic=False)


def clear_caches(spec) -> None:
    if spec.framework == "jax":
        import jax

        jax.clear_caches()
    elif spec.framework == "torch" and spec.mode == "compile":
        import torch

        torch._dynamo.reset()


@cache
def start_inductor() -> None:
    """Pay Inductor's one-time process start-up (imports, compile workers) on a throwaway function."""
    import torch

    torch.compile(lambda x: (x * 2).sin())(torch.ones(8))
    torch._dynamo.reset()


class _cold_compiles:
    """Inductor caches off for the firstcall rounds; its one-time process start-up paid untimed first."""

    def __init__(self, spec):
        self.active = spec.framework == "torch" and spec.mode == "compile"

    def __enter__(self):
        if not self.active:
            return
        import torch

        start_inductor()
        self.patch = torch._inductor.config.patch(force_disable_caches=True)
        self.patch.__enter__()

    def __exit__(self, *exc):
        if self.active:
            self.patch.__exit__(*exc)


# --- counting compilations (the steady guard) and timing their stages (firstcall) ---------------

_JAX_COMPILES = [0]
_JAX_BACKEND_COMPILE = "/jax/core/compile/backend_compile_duration"
_JAX_STAGES = {"/jax/core/compile/jaxpr_trace_duration": "trace_s",
               "/jax/core/compile/jaxpr_to_mlir_module_duration": "lower_s",
               _JAX_BACKEND_COMPILE: "compile_s"}
_jax_listening = False


def _jax_listen() -> None:
    global _jax_listening
    if _jax_listening:
        return
    import jax

    def on_event(event: str, duration: float, **kwargs) -> None:
        if event == _JAX_BACKEND_COMPILE:
            _JAX_COMPILES[0] += 1
        for collector in _CompileDurations.active:
            collector.add(event, duration)

    jax.monitoring.register_event_duration_secs_listener(on_event)
    _jax_listening = True


def compile_count(framework: str) -> int:
    """Compilations so far in this process (XLA executables for JAX, Dynamo graphs for PyTorch)."""
    if framework == "jax":
        _jax_listen()
        return _JAX_COMPILES[0]
    if framework == "torch":
        from torch._dynamo.utils import counters

        return counters["stats"]["unique_graphs"]
    return 0


class _CompileDurations:
    """Per-round sums of JAX's trace / lower / compile durations; medians go to extra_info."""

    active: list["_CompileDurations"] = []

    def __init__(self):
        _jax_listen()
        self.rounds: list[dict[str, float]] = []
        _CompileDurations.active.append(self)

    def new_round(self) -> None:
        self.rounds.append(defaultdict(float))

    def add(self, event: str, duration: float) -> None:
        if event in _JAX_STAGES and self.rounds:
            self.rounds[-1][_JAX_STAGES[event]] += duration

    def medians(self) -> dict[str, float]:
        return {name: statistics.median(r.get(name, 0.0) for r in self.rounds) for name in _JAX_STAGES.values()}

    def close(self) -> None:
        _CompileDurations.active.remove(self)


# --- extra_info ----------------------------------------------------------------------------------

def _describe(spec, case: Case) -> dict:
    return {
        "workload": case.workload,
        "framework": spec.framework,
        "framework_version": framework_version(spec.framework),
        "mode": spec.mode,
        "device": spec.device,
        "device_name": device_name(spec),
        "phase": spec.phase,
        "size": spec.size,
        "size_value": spec.size_value,
        "dtype": case.dtype,
        "matmul_precision": spec.matmul_precision,
        "items_per_call": case.items_per_call,
        "flops_per_call": case.flops_per_call,
        "flops_per_call_framework": None,
        "bytes_per_call": case.bytes_per_call,
        **case.extra,
    }


def framework_version(framework: str) -> str:
    module = __import__(framework)
    return module.__version__


def jax_device(spec):
    """The JAX device for spec.device; inputs put there are committed, so jit runs there too."""
    import jax

    return jax.devices("gpu" if spec.device == "cuda" else "cpu")[0]


def torch_device(spec):
    import torch

    return torch.device(spec.device)


def device_name(spec) -> str:
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


def _memory(spec) -> dict:
    if spec.device != "cuda":
        return {"peak_memory_bytes": None,
                "memory_note": "CPU: no per-benchmark allocator peak is available for both frameworks"}
    if spec.framework == "torch":
        import torch

        return {"peak_memory_bytes": torch.cuda.max_memory_allocated(), "memory_note": "torch.cuda.max_memory_allocated"}
    if spec.framework == "jax":
        import jax

        stats = jax.devices("gpu")[0].memory_stats() or {}
        return {"peak_memory_bytes": stats.get("peak_bytes_in_use"),
                "memory_note": "JAX peak_bytes_in_use: process-lifetime peak, JAX cannot reset it"}
    return {"peak_memory_bytes": None, "memory_note": f"{spec.framework} runs on the CPU"}


def as_numpy(x: Any) -> np.ndarray:
    """A host copy of a JAX array or torch tensor, for checks outside the timed region."""
    if hasattr(x, "detach"):
        return x.detach().cpu().numpy()
    return np.asarray(x)
