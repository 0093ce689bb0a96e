"""Resident data-parallel workers: the processes a data-parallel benchmark times (docs/data-parallel.md).

`Group(spec, n, batch)` starts the workers with multiprocessing's spawn start method (torch's for
PyTorch), each a fresh interpreter:

- JAX: one process whose N devices are XLA's simulated host devices on the CPU
  (XLA_FLAGS=--xla_force_host_platform_device_count=N, set before jax is imported there) or the
  first N GPUs on CUDA; models/dp_jax.py builds the sharded step.
- PyTorch: N rank processes in one Gloo (CPU) / NCCL (CUDA) process group on loopback
  (127.0.0.1, a free port); models/dp_torch.py builds the DDP step.

The parent talks to them over pipes: `build(cold)` makes a fresh step (cold: a firstcall round,
compile caches cleared), `step()` runs one step on every rank and returns the global loss once
rank 0 has replied, which it does after the collective that ends the step (so pytest-benchmark's
timer around `step()` measures one whole data-parallel step plus one pipe round-trip; `ping()`
measures that round-trip alone). Start-up and every command are bounded by a timeout; a rank that
dies or fails stops the whole group with a one-line `WorkerError`; `close()` (also on exit) leaves
no worker behind, and workers die with their parent (PR_SET_PDEATHSIG).

`python -m benchmarks.dp_runner --framework jax --devices 2` prints one measurement as JSON.
"""
from __future__ import annotations

import argparse
import atexit
import contextlib
import json
import os
import socket
import statistics
import sys
import time
import weakref
from collections.abc import Callable
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from types import ModuleType
from typing import Any, cast

from benchmarks import frameworks
from benchmarks.spec import Spec

START_TIMEOUT_S = 120.0  # interpreter + framework import + rendezvous, on a loaded 2-core machine
COMMAND_TIMEOUT_S = 300.0  # a build, a cold first call (compile) or a step
WARMUP_STEPS = 3  # as benchmarks.harness.WARMUP_STEPS (not imported here: the workers stay light)


# How each framework lays out N-way data parallelism: what a benchmark records beside its times.
LAYOUTS: dict[str, dict[str, str | None]] = {
    "jax": {
        "collective": "jax.jit with in/out shardings (batch axis sharded, params replicated): XLA inserts the "
                      "all-reduce of the gradients and of the loss",
        "step_ends": "rank 0 (the one JAX process) replies after jax.block_until_ready on the sharded outputs "
                     "(params, loss): every device has finished the step",
        "firstcall_includes": None,  # the harness' own words (trace + compile + first step)
    },
    "torch": {
        "collective": "DistributedDataParallel all-reduces (averages) the gradients during backward; the loss "
                      "is all-reduced after the step",
        "step_ends": "rank 0 replies after the loss all-reduce that follows optimizer.step() on every rank: "
                     "when it returns, every rank has finished the step",
        "firstcall_includes": "the first step of a fresh model in a fresh DDP wrapper (built untimed, parameter "
                              "broadcast included); nothing to compile",
    },
}


def visible_gpus(framework: str) -> int:
    """How many CUDA GPUs `framework` sees in this process."""
    if framework == "torch":
        import torch

        return torch.cuda.device_count()
    import jax

    try:
        return len(jax.devices("gpu"))
    except RuntimeError:
        return 0


class WorkerError(RuntimeError):
    """A worker died, failed or did not answer in time; the group has been stopped."""


def one_line(text: object) -> str:
    return " ".join(str(text).split())


# --- the parent side ------------------------------------------------------------------------------

_live: weakref.WeakSet = weakref.WeakSet()


class Group:
    """N data-parallel workers for `spec` (framework, device, precision) on a global batch of `batch`."""

    def __init__(self, spec: Spec, n: int, batch: int, start_timeout: float = START_TIMEOUT_S):
        self.spec, self.n, self.batch = spec, n, batch
        self.name = f"data-parallel {spec.framework} x{n}"
        mp: ModuleType  # torch's multiprocessing or the standard library's
        if spec.framework == "torch":
            import torch.multiprocessing as mp
        else:
            import multiprocessing as mp
        ctx = mp.get_context("spawn")
        ranks = n if spec.framework == "torch" else 1
        self.threads = max(1, (os.cpu_count() or 1) // ranks)  # ranks share the cores, not oversubscribe
        port = free_port()
        self.procs: list[BaseProcess] = []
        self.conns: list[Connection] = []
        _live.add(self)
        try:
            for rank in range(ranks):
                here, there = ctx.Pipe()
                proc = ctx.Process(target=_worker, name=f"dp-{spec.framework}-rank{rank}", daemon=True,
                                   args=(spec, n, rank, port, batch, self.threads, os.getpid(), there))
                proc.start()
                there.close()
                self.procs.append(proc)
                self.conns.append(here)
            self.info = self._ask("start-up", None, start_timeout)[0]
        except BaseException:
            self.close()
            raise

    def describe(self) -> dict:
        """The layout of this group, for a benchmark's extra_info."""
        layout = LAYOUTS[self.spec.framework]
        torch = self.spec.framework == "torch"
        return {"processes": len(self.procs), "simulated_devices": self.spec.device == "cpu" and not torch,
                "torch_threads_per_rank": self.threads if torch else None,
                "collective": layout["collective"], "step_ends": layout["step_ends"]}

    def firstcall_includes(self) -> dict:
        words = LAYOUTS[self.spec.framework]["firstcall_includes"]
        return {"firstcall_includes": words} if words else {}

    @property
    def pids(self) -> list[int]:
        return [cast(int, p.pid) for p in self.procs]  # started in __init__: every one has a pid

    def build(self, cold: bool) -> None:
        """A fresh step on every rank; cold: a firstcall round (compile caches cleared first)."""
        self._ask("build", ("build", cold))

    def step(self) -> float:
        """One data-parallel step on every rank; returns the global batch's loss."""
        return self._ask("step", ("step",), replies=1)[0]

    def ping(self) -> None:
        """A round-trip to rank 0 that does nothing: the IPC part of a timed step."""
        self._ask("ping", ("ping",), replies=1, ranks=1)

    def stats(self) -> dict:
        """Rank 0's figures of the current build: its own per-step times, compiles after warm-up,
        and (after cold builds) the compile stages' medians."""
        return self._ask("stats", ("stats",))[0]

    def params(self) -> list[list[tuple]]:
        """Every rank's parameters as NumPy [(W (in, out), b), ...]."""
        return self._ask("params", ("params",))

    def _ask(self, what: str, command, timeout: float = COMMAND_TIMEOUT_S, replies: int | None = None,
             ranks: int | None = None) -> list:
        """Send `command` to the first `ranks` workers (all by default) and wait for the replies of
        the first `replies` (all by default); any error, death or timeout stops the group."""
        if not self.conns:
            raise WorkerError(f"{self.name}: the group is stopped")
        ranks = len(self.conns) if ranks is None else ranks
        try:
            for conn in self.conns[:ranks] if command else ():
                conn.send(command)
        except OSError:  # a broken pipe: that worker is gone; find out which below
            pass
        pending = set(range(len(self.conns) if replies is None else replies))
        results: dict[int, object] = {}
        deadline = time.monotonic() + timeout
        while pending:
            left = deadline - time.monotonic()
            ready = wait(self.conns + [p.sentinel for p in self.procs], max(0.0, left))
            if not ready:
                self._fail(f"no reply to {what} from rank(s) {sorted(pending)} within {timeout:.0f} s")
            for rank, conn in enumerate(self.conns):
                if conn in ready or conn.poll():
                    try:
                        status, value = conn.recv()
                    except (EOFError, OSError):
                        self._died(rank, what)
                    if status == "error":
                        self._first_death(what)  # a rank's death makes the others fail: name the cause
                        self._fail(f"rank {rank} failed during {what}: {value}")
                    results[rank] = value
                    pending.discard(rank)
            for rank, proc in enumerate(self.procs):
                if proc.sentinel in ready and not self.conns[rank].poll():
                    self._died(rank, what)
        return [results[rank] for rank in sorted(results)]

    def _first_death(self, what: str, grace: float = 0.5) -> None:
        deadline = time.monotonic() + grace
        for rank, proc in enumerate(self.procs):
            proc.join(max(0.0, deadline - time.monotonic()))
            if not proc.is_alive() and proc.exitcode != 0:  # a failing rank reports, then exits 0
                self._died(rank, what)

    def _died(self, rank: int, what: str):
        proc = self.procs[rank]
        proc.join(1.0)
        self._fail(f"rank {rank} (pid {proc.pid}) died during {what} (exit code {proc.exitcode})")

    def _fail(self, message: str):
        self.close(graceful=False)
        raise WorkerError(f"{self.name}: {message}; all workers stopped") from None

    def close(self, graceful: bool = True) -> None:
        """Ask every worker to exit (graceful), then terminate / kill what is left and reap it. Idempotent."""
        for conn in self.conns if graceful else ():
            with contextlib.suppress(OSError):
                conn.send(("exit",))
        deadline = time.monotonic() + (5.0 if graceful else 0.0)
        for proc in self.procs:
            proc.join(max(0.0, deadline - time.monotonic()))
        for stop in ("terminate", "kill"):
            for proc in self.procs:
                if proc.is_alive():
                    getattr(proc, stop)()
                    proc.join(2.0)
        for conn in self.conns:
            conn.close()
        self.conns = []
        _live.discard(self)

    def __enter__(self) -> Group:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for group in list(_live):
        group.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timings(fn, rounds: int) -> list[float]:
    """Seconds of each of `rounds` calls of fn()."""
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def measure(group: Group, steps: int) -> dict:
    """A fresh step, WARMUP_STEPS untimed, then `steps` steps timed from here (the parent) and by
    rank 0 itself, and as many empty round-trips: the medians and minima in seconds."""
    group.build(cold=False)
    for _ in range(WARMUP_STEPS):
        group.step()
    parent, pings = timings(group.step, steps), timings(group.ping, steps)
    child = group.stats()["step_s"][WARMUP_STEPS:]
    return {"step_s_median": statistics.median(parent), "step_s_min": min(parent),
            "worker_step_s_median": statistics.median(child), "worker_step_s_min": min(child),
            "ipc_roundtrip_s_median": statistics.median(pings)}


# --- the worker side ------------------------------------------------------------------------------

def _worker(spec: Spec, n: int, rank: int, port: int, batch: int, threads: int, parent: int, conn) -> None:
    die_with_parent(parent)
    try:
        worker = _Worker(spec, n, rank, port, batch, threads)
        conn.send(("ok", worker.info))
    except BaseException as error:
        conn.send(("error", one_line(f"{type(error).__name__}: {error}")))
        return
    try:
        while True:
            try:
                command, *args = conn.recv()
            except EOFError:  # the parent is gone
                return
            if command == "exit":
                return
            try:
                value = getattr(worker, command)(*args)
            except BaseException as error:
                conn.send(("error", one_line(f"{type(error).__name__}: {error}")))
                return
            if rank == 0 or command not in ("step", "ping"):
                conn.send(("ok", value))
    finally:
        worker.close()


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent `parent` dies, however it dies (Linux); exit now if it already has."""
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


class _Worker:
    def __init__(self, spec: Spec, n: int, rank: int, port: int, batch: int, threads: int):
        self.spec, self.rank = spec, rank
        cuda = spec.device == "cuda"
        dp: ModuleType  # models.dp_jax or models.dp_torch
        if spec.framework == "jax":
            if not cuda:  # fixed at start-up: jax reads it once, when its CPU client starts
                os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") +
                                           f" --xla_force_host_platform_device_count={n}").strip()
            import jax

            jax.config.update("jax_default_matmul_precision",
                              "highest" if spec.matmul_precision == "highest" else "tensorfloat32")
            jax.config.update("jax_enable_compilation_cache", False)  # firstcall must pay the compile
            from models import dp_jax as dp

            self.target = dp.mesh(n, "gpu" if cuda else "cpu")
        else:
            import torch

            torch.set_num_threads(threads)
            torch.set_float32_matmul_precision("highest" if spec.matmul_precision == "highest" else "high")
            from models import dp_torch as dp

            self.target = dp.init(rank, n, port, spec.device, START_TIMEOUT_S)
        from models import data

        self.dp, self.be = dp, frameworks.backend(spec)
        self.weights = data.mlp_weights(seed=0)
        self.x, self.y = data.synthetic_batch(batch, seed=1)
        self.info = {"pid": os.getpid(), "threads": threads}
        self.cold = contextlib.ExitStack()
        self.record: dict = {}
        self.new_round: Callable[[], None] | None = None
        self.fn: Callable[[], Any] | None = None
        self.out: Any = None  # the last step's (params, loss)
        self.times: list[float] = []
        self.compiles_at_warmup: int | None = None

    def build(self, cold: bool) -> None:
        if cold:
            if self.new_round is None:  # the first cold round of a series: the harness's cold_rounds
                self.record = {}
                self.new_round = self.cold.enter_context(self.be.cold_rounds(self.record))
            self.new_round()
        else:
            self.be.clear_caches()
        self.fn = self.dp.train_step(self.weights, self.x, self.y, self.target)
        self.out, self.times, self.compiles_at_warmup = None, [], None

    def step(self) -> float:
        assert self.fn is not None  # the parent always builds before it steps
        start = time.perf_counter()
        self.out = self.be.sync(self.fn())
        self.times.append(time.perf_counter() - start)
        if len(self.times) == WARMUP_STEPS:
            self.compiles_at_warmup = self.be.compile_count()
        return float(self.out[1])

    def ping(self) -> None:
        return None

    def stats(self) -> dict:
        self.cold.close()  # ends a series of cold rounds: self.record gets the stage medians
        self.new_round = None
        compiles = None if self.compiles_at_warmup is None else self.be.compile_count() - self.compiles_at_warmup
        return {"step_s": self.times, "compiles_after_warmup": compiles, "stages": self.record}

    def params(self) -> list:
        return self.dp.host_params(self.out[0])

    def close(self) -> None:
        self.cold.close()
        if hasattr(self.dp, "close"):
            self.dp.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Measure one data-parallel MLP training step; prints JSON.")
    parser.add_argument("--framework", choices=("jax", "torch"), required=True)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--devices", type=int, default=2)
    parser.add_argument("--batch", type=int, default=1024, help="global batch")
    parser.add_argument("--steps", type=int, default=20)
    args = parser.parse_args(argv)
    spec = Spec(args.framework, "jit" if args.framework == "jax" else "ddp", args.device,
                f"batch{args.batch}x{args.devices}", args.devices, "steady")
    try:
        with Group(spec, args.devices, args.batch) as group:
            result = measure(group, args.steps)
    except WorkerError as error:
        print(f"dp_runner: error: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"framework": args.framework, "devices": args.devices, "batch": args.batch, **result}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
