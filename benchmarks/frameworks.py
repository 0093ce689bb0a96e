"""Framework glue, written once: device placement, compile policy, sync, caches, FLOP counters.

A model builder (models/<name>_<framework>.py) receives a `Backend` and uses only:

- `be.put(array)`: a NumPy array on the case's device (a jax.Array or a torch.Tensor);
- `be.compile(fn, donate_argnums=())`: `fn` as the case's mode runs it (jax.jit, torch.compile
  specialised to the input shapes, or `fn` itself in eager/plain modes);
- `be.device` (jax.Device / torch.device / "cpu") and `be.xp` (jax.numpy / torch / numpy) where a
  model needs them.

Everything else here is for the harness: waiting for the device, counting compilations, clearing
caches for cold first calls, and the framework's own FLOP count of one step.
"""
from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from benchmarks import modes
from benchmarks.counts import jax_events, jaxpr_ops, torch_ops, xla_flops
from benchmarks.spec import Spec


class Backend:
    """NumPy / SciPy: synchronous, on the CPU, nothing to compile."""

    name = "numpy"

    def __init__(self, spec: Spec):
        self.spec = spec
        self.device: Any = "cpu"  # a jax.Device / torch.device in the subclasses

    @property
    def xp(self):
        import numpy

        return numpy

    def put(self, array):
        return array

    def compile(self, fn: Callable, donate_argnums=()) -> Callable:
        return fn

    def sync(self, out: Any) -> Any:
        return out

    def clear_caches(self) -> None:
        pass

    def before_steady(self) -> None:
        """Before a steady case is built: drop what an earlier case left that would change how this
        one compiles (nothing here)."""

    def warm_device(self) -> None:
        pass

    def init_runtime(self) -> None:
        """The framework's runtime started (client, thread pools, BLAS) by one tiny matmul, untimed:
        what a memory figure's baseline must already hold."""
        import numpy as np

        self.warm_device()
        a = self.put(np.ones((64, 64), dtype=np.float32))
        self.sync(self.xp.matmul(a, a))

    def compile_count(self) -> int:
        return 0

    @contextlib.contextmanager
    def cold_rounds(self, record: dict, cold: bool = True) -> Iterator[Callable[[], None]]:
        """Context of a firstcall benchmark; yields `new_round()`, called before each round."""
        yield self.clear_caches

    def analyse(self, build: Callable[[Backend], Callable[[], Any]]) -> dict:
        """The framework's own view of one step: {"flops": its FLOP count or None, "memory": {...},
        "ops": the operations one eager call dispatches (eager modes) or None}."""
        return {"flops": None, "memory": {}, "ops": None}

    @property
    def version(self) -> str:
        return __import__(self.spec.framework).__version__


class JaxBackend(Backend):
    name = "jax"

    def __init__(self, spec: Spec):
        super().__init__(spec)
        import jax

        self.device = jax.devices("gpu" if spec.device == "cuda" else "cpu")[0]

    @property
    def xp(self):
        import jax.numpy as jnp

        return jnp

    def put(self, array):
        import jax

        return jax.device_put(array, self.device)  # committed: jitted code runs on this device

    def compile(self, fn: Callable, donate_argnums=()) -> Callable:
        import jax

        return jax.jit(fn, donate_argnums=donate_argnums) if self.spec.compiled else fn

    def sync(self, out: Any) -> Any:
        import jax

        return jax.block_until_ready(out)  # the whole pytree: JAX dispatches asynchronously

    def clear_caches(self) -> None:
        import jax

        jax.clear_caches()

    def before_steady(self) -> None:
        """Nothing: JAX's caches are keyed by the exact shapes, dtypes and options, so what an
        earlier case compiled runs as a fresh compile of it would. A steady case that follows its
        firstcall (benchmarks/plugin/cases.py runs firstcall first) reuses that round's executables: jax-eager's
        per-op ones, a jit of the same function, instead of compiling them again."""

    def compile_count(self) -> int:
        return jax_events.compiles

    def warm_device(self) -> None:
        """Initialise the GPU's BLAS and streams untimed (CUDA loads lazily) before the cold rounds.
        XLA:GPU's autotuning results stay in the process (jax.clear_caches() does not drop them):
        the firstcall note says so, and round 1 is recorded apart from the others."""
        if self.spec.device == "cuda":
            import jax
            import jax.numpy as jnp

            a = jax.device_put(jnp.ones((64, 64)), self.device)
            jax.block_until_ready(a @ a)

    def init_runtime(self) -> None:
        import optax  # noqa: F401 - the models' optimisers: their import is the framework's, not a case's

        super().init_runtime()

    @contextlib.contextmanager
    def cold_rounds(self, record: dict, cold: bool = True) -> Iterator[Callable[[], None]]:
        """Per round: jax.clear_caches() (the persistent cache is off, see benchmarks/plugin/session.py); the median
        trace / lower / compile seconds over the rounds go to `record`."""
        self.warm_device()
        with jax_events.stages() as rounds:
            def new_round():
                self.clear_caches()
                rounds.append({})

            yield new_round
        record.update(jax_events.medians(rounds))

    def analyse(self, build) -> dict:
        """XLA's own view of every function the step jit-compiles: the FLOP count
        (Compiled.cost_analysis) and the programs' memory sizes (Compiled.memory_analysis), summed."""
        analysing = _AnalysingJax(self.spec)
        build(analysing)()
        ops = None if self.spec.compiled else jaxpr_ops(build(JaxBackend(self.spec)))
        return {"flops": analysing.flops or None, "memory": analysing.memory, "ops": ops}


class _AnalysingJax(JaxBackend):
    """A JaxBackend whose compile() lowers each call's function to read XLA's cost and memory analyses."""

    def __init__(self, spec: Spec):
        super().__init__(spec)
        self.flops = 0.0
        self.memory: dict[str, int] = {}

    def compile(self, fn: Callable, donate_argnums=()) -> Callable:
        import jax

        from benchmarks.memory import xla_memory

        def call(*args):
            compiled = jax.jit(fn).lower(*args).compile()
            self.flops += xla_flops(compiled.cost_analysis()) or 0.0
            for name, size in xla_memory(compiled).items():
                key = "xla_" + name.replace("_size_in_bytes", "_bytes")
                self.memory[key] = self.memory.get(key, 0) + size
            return compiled(*args)

        return call


class TorchBackend(Backend):
    name = "torch"

    def __init__(self, spec: Spec):
        super().__init__(spec)
        import torch

        self.device = torch.device(spec.device)

    @property
    def xp(self):
        import torch

        return torch

    def put(self, array):
        import torch

        return torch.from_numpy(array).to(self.device)

    @property
    def compile_mode(self) -> str | None:
        """torch.compile's mode, the row's in benchmarks/modes.py: "reduce-overhead" (CUDA graphs, as
        XLA:GPU uses by default) in the cudagraphs mode, Inductor's "default" in the compile mode;
        None in a mode that does not compile."""
        row = modes.row("torch", self.spec.mode)
        if row is None:
            raise ValueError(f"torch-{self.spec.mode}: no such row in benchmarks/modes.py")
        return row.torch_compile_mode

    def compile(self, fn: Callable, donate_argnums=()) -> Callable:
        """torch.compile specialised to the input shapes, as jax.jit is (dynamic=False: otherwise a
        second shape recompiles with automatic dynamic shapes and times differently)."""
        import torch

        if not self.spec.compiled:
            return fn
        inductor_startup_seconds()  # the first compile of the process pays it here, untimed, and records it
        return torch.compile(fn, dynamic=False, mode=self.compile_mode)

    def warm_device(self) -> None:
        """CUDA loads cuBLAS and its kernels lazily, on first use: pay that untimed, before the cold
        rounds, or round 1 alone carries it."""
        if self.spec.device == "cuda":
            import torch

            a = torch.ones(64, 64, device=self.device)
            (a @ a).sum().item()
            torch.cuda.synchronize()

    def init_runtime(self) -> None:
        """Also Dynamo (a large set of modules, imported by every torch mode's compile counter, and
        lazily by eager training steps) and, for compiled modes, Inductor's one-time start-up: a
        framework's, not a case's memory."""
        import torch._dynamo  # noqa: F401

        if self.spec.compiled:
            inductor_startup_seconds()
        super().init_runtime()

    def sync(self, out: Any) -> Any:
        if self.spec.device == "cuda":  # on the CPU PyTorch is synchronous: nothing to wait for
            import torch

            torch.cuda.synchronize()
        return out

    def clear_caches(self) -> None:
        if self.spec.compiled:
            import torch

            torch._dynamo.reset()

    def before_steady(self) -> None:
        """torch._dynamo.reset(): no graph or automatic dynamic-shape decision left by an earlier size."""
        self.clear_caches()

    def compile_count(self) -> int:
        from torch._dynamo.utils import counters

        return counters["stats"]["unique_graphs"]

    @contextlib.contextmanager
    def cold_rounds(self, record: dict, cold: bool = True) -> Iterator[Callable[[], None]]:
        """Per round: torch._dynamo.reset() and a brand-new, empty Inductor/Triton cache directory with
        Inductor's in-memory tables cleared (fresh_cache); caches force-disabled on top. Inductor's
        one-time process start-up is paid untimed first and recorded as startup_s. cold=False (no
        figure is kept: --benchmark-disable): only the reset, Inductor's caches allowed."""
        self.warm_device()
        if not self.spec.compiled or not cold:
            record["cold_rounds"] = cold
            yield self.clear_caches
            return
        import torch
        from torch._inductor.utils import fresh_cache

        record["startup_s"] = inductor_startup_seconds()
        parent = Path(tempfile.mkdtemp(prefix="inductor-rounds-"))
        rounds, cache_dirs = contextlib.ExitStack(), []
        try:
            with torch._inductor.config.patch(force_disable_caches=True):
                def new_round():
                    rounds.close()  # leave the previous round's cache
                    self.clear_caches()
                    rounds.enter_context(fresh_cache(dir=str(parent), delete=False))
                    cache_dirs.append(Path(os.environ["TORCHINDUCTOR_CACHE_DIR"]))

                yield new_round
                rounds.close()
            # what each round built in its own empty cache: a round that reused a kernel builds fewer
            record["inductor_files_per_round"] = [sum(f.is_file() for f in d.rglob("*")) for d in cache_dirs]
        finally:
            rounds.close()
            shutil.rmtree(parent, ignore_errors=True)

    def analyse(self, build) -> dict:
        """PyTorch's FlopCounterMode over one eager call of a fresh step (it does not see inside
        compiled graphs, so the count is taken eagerly: the same math). No compiled-memory figure."""
        from torch.utils.flop_counter import FlopCounterMode

        eager = TorchBackend(Spec(**{**self.spec.__dict__, "mode": "eager"}))
        step = build(eager)
        with FlopCounterMode(display=False) as counter:
            step()
        ops = torch_ops(build(eager)) if not self.spec.compiled else None
        return {"flops": float(counter.get_total_flops()) or None, "memory": {}, "ops": ops}


@cache
def inductor_startup_seconds() -> float:
    """Pay Inductor's one-time process start-up (imports, compile workers) on a throwaway function,
    once per process, before the first real torch.compile; returns what it cost."""
    import torch

    start = time.perf_counter()
    torch.compile(lambda x: (x * 2).sin())(torch.ones(8))
    torch._dynamo.reset()
    return time.perf_counter() - start


def backend(spec: Spec) -> Backend:
    return {"jax": JaxBackend, "torch": TorchBackend}.get(spec.framework, Backend)(spec)
