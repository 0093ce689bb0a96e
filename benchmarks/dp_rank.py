"""One process of a data-parallel MLP training step: the rank program (docs/data-parallel.md).

It learns where it stands from the environment, as launchers and clusters set it, so the same
code runs on one machine or across several:

- torch-ddp (torchrun's variables): MASTER_ADDR, MASTER_PORT (rank 0's rendezvous store), RANK,
  WORLD_SIZE, LOCAL_RANK (the GPU on CUDA);
- jax-spmd: JAX_COORDINATOR_ADDRESS (host:port of process 0's coordinator), JAX_NUM_PROCESSES,
  JAX_PROCESS_ID, LOCAL_RANK; torchrun's variables stand in for any that is unset;
- jax-jit: one process, its N devices (on the CPU, XLA_FLAGS=--xla_force_host_platform_device_count=N).

A torch-ddp rank and a jax-spmd process each get --threads intra-op threads (default cores /
LOCAL_WORLD_SIZE): torch.set_num_threads, PJRT_NPROC for XLA's CPU client (`limit_jax_threads`).

Unset, it is a world of one. Run alone (`torchrun ... -m benchmarks.dp_rank --mode ddp`, or with
the variables set on each host) it times --steps steps after a warm-up and process 0 prints one
JSON line. With `--serve R,W` (benchmarks/dp_runner.py starts N such processes on loopback) it
follows its parent's commands (build, step, ping, stats, params, exit) on pipe R and replies on W.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import json
import os
import signal
import socket
import statistics
import sys
import time
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from types import ModuleType
from typing import Any

from benchmarks import frameworks
from benchmarks.spec import Spec

START_TIMEOUT_S = 120  # interpreter + framework import + rendezvous, on a loaded 2-core machine
WARMUP_STEPS = 3  # as benchmarks.harness.WARMUP_STEPS (not imported here: the ranks stay light)
PROCESS_MODES = {"jax": ("jit", "spmd"), "torch": ("ddp",)}


@dataclass(frozen=True)
class Place:
    """Where this process stands in the run."""

    rank: int
    world: int
    local_rank: int
    coordinator: str  # host:port of rank 0's rendezvous (torch) or coordinator (jax)


def place(framework: str, env: Mapping[str, str] = os.environ) -> Place:
    """This process's place from the environment (module docstring); a ValueError in one line
    for a variable that is missing or not a number."""
    def first(*names: str) -> str | None:
        return next((env[name] for name in names if env.get(name)), None)

    jax = framework == "jax"
    rank, world = (first("JAX_PROCESS_ID", "RANK"), first("JAX_NUM_PROCESSES", "WORLD_SIZE")) if jax \
        else (first("RANK"), first("WORLD_SIZE"))
    master = f"{env['MASTER_ADDR']}:{env['MASTER_PORT']}" if env.get("MASTER_ADDR") and env.get("MASTER_PORT") else None
    coordinator = (first("JAX_COORDINATOR_ADDRESS") if jax else None) or master
    if rank is None and world is None and coordinator is None:
        return Place(0, 1, 0, f"127.0.0.1:{free_port()}")
    names = "JAX_PROCESS_ID / JAX_NUM_PROCESSES / JAX_COORDINATOR_ADDRESS" if jax else "RANK / WORLD_SIZE / MASTER_ADDR"
    if rank is None or world is None or coordinator is None:
        raise ValueError(f"set all of {names} (and MASTER_PORT), or none")
    try:
        where = Place(int(rank), int(world), int(env.get("LOCAL_RANK") or 0), coordinator)
    except ValueError:
        raise ValueError(f"{names} / LOCAL_RANK: expected integers, got {rank!r}, {world!r}") from None
    if not 0 <= where.rank < where.world:
        raise ValueError(f"rank {where.rank} is not in a world of {where.world}")
    return where


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def one_line(text: object) -> str:
    return " ".join(str(text).split())


def limit_jax_threads(threads: int, env: MutableMapping[str, str] = os.environ) -> None:
    """Size this process's XLA CPU client for `threads` cores, as torch.set_num_threads does a torch
    rank's intra-op threads: XLA reads PJRT_NPROC when it creates the client and sizes both its
    intra-op (Eigen) pool and its PjRt client pool by it, so call this before JAX is first used.
    XLA_FLAGS has no such knob: --xla_cpu_multi_thread_eigen=false leaves both pools as they are and
    intra_op_parallelism_threads is not an XLA flag (docs/data-parallel.md)."""
    env["PJRT_NPROC"] = str(threads)


def intra_op_threads(framework: str) -> int | None:
    """The intra-op threads this process has: torch's, or the threads of XLA's intra-op pool
    (named tf_XLAEigen) once JAX's CPU client exists; None where /proc cannot tell."""
    if framework == "torch":
        import torch

        return torch.get_num_threads()
    try:
        return sum((task / "comm").read_text().strip() == "tf_XLAEigen" for task in Path("/proc/self/task").iterdir())
    except OSError:
        return None


def die_with_parent(parent: int) -> None:
    """SIGKILL this process when its parent `parent` dies, however it dies (Linux); exit now if it already has."""
    import ctypes

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:
        os._exit(1)


class Rank:
    """This process's part of the data-parallel step for `spec` on a global batch of `batch`;
    `devices` is the mesh size (jax-jit: this process's devices; otherwise the world)."""

    def __init__(self, spec: Spec, where: Place, devices: int, batch: int, threads: int):
        self.spec, self.rank = spec, where.rank
        self.target: Any = None  # the mesh (jax) or this rank's device (torch), set by _join
        self.dp: ModuleType = self._join(where, devices, threads)
        from models import data

        self.be = frameworks.backend(spec)
        self.weights = data.mlp_weights(seed=0)
        self.x, self.y = data.synthetic_batch(batch, seed=1)
        self.info = {"pid": os.getpid(), "threads": intra_op_threads(spec.framework)}  # as measured here
        self.cold = contextlib.ExitStack()
        self.record: dict = {}
        self.new_round: Callable[[], None] | None = None
        self.fn: Callable[[], Any] | None = None
        self.out: Any = None  # the last step's (params, loss)
        self.times: list[float] = []
        self.compiles_at_warmup: int | None = None

    def _join(self, where: Place, devices: int, threads: int) -> ModuleType:
        """Import the framework, join the other processes; sets self.target (the mesh or device)."""
        cuda, spec = self.spec.device == "cuda", self.spec
        if spec.framework == "jax":
            if spec.mode == "spmd":  # jax-jit: one process, XLA's default (all cores)
                limit_jax_threads(threads)
            import jax

            from models import dp_jax

            jax.config.update("jax_default_matmul_precision",
                              "highest" if spec.matmul_precision == "highest" else "tensorfloat32")
            jax.config.update("jax_enable_compilation_cache", False)  # firstcall must pay the compile
            if spec.mode == "spmd":
                dp_jax.initialize(where.coordinator, where.world, where.rank, where.local_rank if cuda else None,
                                  START_TIMEOUT_S)
            self.target = dp_jax.mesh(devices, "gpu" if cuda else "cpu")
            return dp_jax
        import torch

        from models import dp_torch

        torch.set_num_threads(threads)
        torch.set_float32_matmul_precision("highest" if spec.matmul_precision == "highest" else "high")
        self.target = dp_torch.init(where.coordinator, where.rank, where.world, where.local_rank, spec.device,
                                    START_TIMEOUT_S)
        return dp_torch

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
        """One step, waited for on this process's devices; the global batch's loss."""
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
        """End the cold rounds, drop the step (DDP's reducer holds the process group, so the group
        would otherwise outlive destroy_process_group until the interpreter's own teardown), then
        leave the group."""
        self.cold.close()
        self.fn = self.out = None
        gc.collect()
        self.dp.close()


def serve(rank: Rank, commands: Connection, replies: Connection) -> None:
    """Run the parent's commands until `exit` or its end of the pipe closes; an error is replied
    in one line and ends the process."""
    while True:
        try:
            command, *args = commands.recv()
        except EOFError:  # the parent is gone
            return
        if command == "exit":
            return
        try:
            value = getattr(rank, command)(*args)
        except Exception as error:
            replies.send(("error", one_line(f"{type(error).__name__}: {error}")))
            return
        replies.send(("ok", value))


def alone(rank: Rank, steps: int) -> dict:
    """A cold first step, WARMUP_STEPS more, then `steps` steps, timed by this process: each of
    its steps waits for the step's collectives, so no process can be a step ahead of another."""
    rank.build(cold=True)
    first = time.perf_counter()
    rank.step()
    first = time.perf_counter() - first
    for _ in range(WARMUP_STEPS):
        rank.step()
    start = time.perf_counter()
    for _ in range(steps):
        loss = rank.step()
    total = time.perf_counter() - start
    times = rank.stats()["step_s"][1 + WARMUP_STEPS:]
    return {"first_step_s": first, "step_s_mean": total / steps, "step_s_median": statistics.median(times),
            "step_s_min": min(times), "loss": loss}


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="One rank of the data-parallel MLP training step.")
    parser.add_argument("--framework", choices=tuple(PROCESS_MODES), required=True)
    parser.add_argument("--mode", choices=("jit", "spmd", "ddp"), help="default: jax spmd, torch ddp")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--devices", type=int, help="jax-jit: this process's devices (default 1); else the world")
    parser.add_argument("--batch", type=int, default=1024, help="global batch (default 1024)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps when run alone (default 20)")
    parser.add_argument("--precision", choices=("highest", "tf32"), default="highest")
    parser.add_argument("--threads", type=int, default=max(1, (os.cpu_count() or 1) // int(
        os.environ.get("LOCAL_WORLD_SIZE") or 1)),
        help="intra-op threads of a torch-ddp rank or a jax-spmd process (default cores / LOCAL_WORLD_SIZE)")
    parser.add_argument("--serve", metavar="R,W", help="follow the parent's commands on these pipe fds")
    parser.add_argument("--parent", type=int, help="the parent's pid: die with it")
    args = parser.parse_args(argv)
    args.mode = args.mode or ("spmd" if args.framework == "jax" else "ddp")
    if args.mode not in PROCESS_MODES[args.framework]:
        parser.error(f"--mode {args.mode}: {args.framework} runs {', '.join(PROCESS_MODES[args.framework])}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    if args.parent:
        die_with_parent(args.parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C: the parent stops the group
    replies = Connection(int(args.serve.split(",")[1]), readable=False) if args.serve else None
    report = os.fdopen(os.dup(1), "w")  # stdout holds the JSON line alone: the libraries' prints go to stderr
    os.dup2(2, 1)
    try:
        where = place(args.framework)
        devices = args.devices or (1 if args.mode == "jit" else where.world)
        spec = Spec(args.framework, args.mode, args.device, f"batch{args.batch}x{devices}", devices, "steady",
                    matmul_precision=args.precision)
        rank = Rank(spec, where, devices, args.batch, args.threads)
    except Exception as error:
        message = one_line(f"{type(error).__name__}: {error}")
        if replies is None:
            print(f"dp_rank: error: {message}", file=sys.stderr)
            return 1
        replies.send(("error", message))
        return 0
    try:
        if replies is not None:
            replies.send(("ok", rank.info))
            serve(rank, Connection(int(args.serve.split(",")[0]), writable=False), replies)
        else:
            result = alone(rank, args.steps)
            getattr(rank.dp, "barrier", lambda: None)()  # a standalone run ends together (models/dp_torch.py)
            if where.rank == 0:
                print(json.dumps({"framework": args.framework, "mode": args.mode, "processes": where.world,
                                  "devices": devices, "global_batch": args.batch, "steps": args.steps,
                                  "threads": rank.info["threads"], **result}),
                      file=report, flush=True)
    finally:
        rank.close()
    return 0


if __name__ == "__main__":
    # The rank has left its group and said all it has to say: end the process here rather than in
    # the interpreter's teardown, where the frameworks' C++ threads (Gloo's, XLA's) can still be
    # running as Python's state goes away, an intermittent SIGABRT of a rank that had finished.
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
