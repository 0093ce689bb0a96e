"""The local launcher of a data-parallel benchmark: N rank processes on loopback, commanded over pipes.

`Group(spec, n, batch)` starts `python -m benchmarks.dp_rank` (the rank program) as a launcher
would, each told its place by the variables torchrun or a cluster sets (benchmarks/dp_rank.py):

- jax-jit: one process with N devices (on the CPU XLA_FLAGS=--xla_force_host_platform_device_count=N);
- jax-spmd: N processes, JAX_COORDINATOR_ADDRESS=127.0.0.1:<free port>, JAX_NUM_PROCESSES=N,
  JAX_PROCESS_ID=r, LOCAL_RANK=r (jax.distributed, Gloo collectives on the CPU, NCCL on GPUs);
- torch-ddp: N processes, MASTER_ADDR=127.0.0.1, MASTER_PORT=<free port>, RANK=r, WORLD_SIZE=N,
  LOCAL_RANK=r (a Gloo / NCCL process group).

The parent sends each rank a command on its own pipe and waits for every rank's reply:
`build(cold)` makes a fresh step (cold: a firstcall round, compile caches cleared), `step()` runs
one step and returns when every process has finished it (pytest-benchmark's timer around it
measures one whole step plus one pipe round-trip; `ping()` measures the round-trip alone).
Start-up and every command are bounded by a timeout; a rank that dies or fails stops the whole
group with a one-line `WorkerError`; `close()` (also at exit) leaves no process behind, and the
ranks die with their parent (PR_SET_PDEATHSIG) and ignore a terminal's Ctrl-C (the parent stops them).
"""
from __future__ import annotations

import atexit
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
import weakref
from multiprocessing.connection import Connection, wait
from pathlib import Path

from benchmarks.dp_rank import START_TIMEOUT_S, WARMUP_STEPS, free_port
from benchmarks.spec import Spec

COMMAND_TIMEOUT_S = 300.0  # a build, a cold first call (compile) or a step
ROOT = Path(__file__).resolve().parent.parent


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
    """A rank died, failed or did not answer in time; the group has been stopped."""


def rank_env(spec: Spec, n: int, rank: int, port: int) -> dict[str, str]:
    """The variables that place rank `rank` of `spec`'s N-way run on loopback."""
    if spec.mode == "jit":
        flag = f" --xla_force_host_platform_device_count={n}" if spec.device == "cpu" else ""
        return {"XLA_FLAGS": (os.environ.get("XLA_FLAGS", "") + flag).strip()}
    if spec.mode == "spmd":
        return {"JAX_COORDINATOR_ADDRESS": f"127.0.0.1:{port}", "JAX_NUM_PROCESSES": str(n),
                "JAX_PROCESS_ID": str(rank), "LOCAL_RANK": str(rank)}
    return {"MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(port), "RANK": str(rank), "WORLD_SIZE": str(n),
            "LOCAL_RANK": str(rank), "LOCAL_WORLD_SIZE": str(n)}


_live: weakref.WeakSet = weakref.WeakSet()


class Group:
    """The rank processes of `spec` (framework, mode, device, precision), N-way, on a global batch of `batch`."""

    def __init__(self, spec: Spec, n: int, batch: int, start_timeout: float = START_TIMEOUT_S):
        self.spec, self.n, self.batch = spec, n, batch
        self.name = f"data-parallel {spec.framework}-{spec.mode} x{n}"
        ranks = 1 if spec.mode == "jit" else n
        self.threads = max(1, (os.cpu_count() or 1) // ranks)  # ranks share the cores, not oversubscribe
        # (torch-ddp and jax-spmd ranks alike; the jax-jit process keeps XLA's default, all cores)
        port = free_port()
        self.procs: list[subprocess.Popen] = []
        self.pipes: list[tuple[Connection, Connection]] = []  # (commands, replies) per rank
        self.log = tempfile.NamedTemporaryFile(prefix="dp-ranks-", suffix=".log", delete=False)  # their output
        _live.add(self)
        try:
            for rank in range(ranks):
                self._start(rank, port)
            self.infos: list[dict] = self._ask("start-up", None, start_timeout)  # each rank's pid and threads
            self.info = self.infos[0]
        except BaseException:
            self.close()
            raise

    def _start(self, rank: int, port: int) -> None:
        (command_r, command_w), (reply_r, reply_w) = os.pipe(), os.pipe()
        args = ["--framework", self.spec.framework, "--mode", self.spec.mode, "--device", self.spec.device,
                "--devices", str(self.n), "--batch", str(self.batch), "--precision", self.spec.matmul_precision,
                "--threads", str(self.threads), "--serve", f"{command_r},{reply_w}", "--parent", str(os.getpid())]
        try:
            self.procs.append(subprocess.Popen(
                [sys.executable, "-m", "benchmarks.dp_rank", *args], cwd=ROOT, stdin=subprocess.DEVNULL,
                stdout=self.log, stderr=subprocess.STDOUT,
                pass_fds=(command_r, reply_w), env={**os.environ, **rank_env(self.spec, self.n, rank, port)}))
        finally:
            os.close(command_r)
            os.close(reply_w)
            self.pipes.append((Connection(command_w, readable=False), Connection(reply_r, writable=False)))

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.procs]

    def build(self, cold: bool) -> None:
        """A fresh step on every rank; cold: a firstcall round (compile caches cleared first)."""
        self._ask("build", ("build", cold))

    def step(self) -> float:
        """One data-parallel step on every rank, returned when every rank has finished it; the global batch's loss."""
        return self._ask("step", ("step",))[0]

    def ping(self) -> None:
        """A round-trip to every rank that does nothing: the IPC part of a timed step."""
        self._ask("ping", ("ping",))

    def stats(self) -> dict:
        """Rank 0's figures of the current build: its own per-step times, compiles after warm-up,
        and (after cold builds) the compile stages' medians."""
        return self._ask("stats", ("stats",))[0]

    def params(self) -> list[list[tuple]]:
        """Every rank's parameters as NumPy [(W (in, out), b), ...]."""
        return self._ask("params", ("params",))

    def _ask(self, what: str, command: tuple | None, timeout: float = COMMAND_TIMEOUT_S) -> list:
        """Send `command` to every rank and wait for every reply; any error, death or timeout stops the group."""
        if not self.pipes:
            raise WorkerError(f"{self.name}: the group is stopped")
        for commands, _ in self.pipes if command else ():
            with contextlib.suppress(OSError):  # a broken pipe: that rank is gone; found below
                commands.send(command)
        replies = [conn for _, conn in self.pipes]
        results: dict[int, object] = {}
        deadline = time.monotonic() + timeout
        while len(results) < len(replies):
            pending = [rank for rank in range(len(replies)) if rank not in results]
            ready = wait([replies[rank] for rank in pending], max(0.0, deadline - time.monotonic()))
            if not ready:
                self._fail(f"no reply to {what} from rank(s) {pending} within {timeout:.0f} s")
            for rank in (rank for rank in pending if replies[rank] in ready):
                try:
                    status, value = replies[rank].recv()
                except (EOFError, OSError):
                    self._died(rank, what)
                if status == "error":
                    self._first_death(what)  # a rank's death makes the others fail: name the cause
                    self._fail(f"rank {rank} failed during {what}: {value}")
                results[rank] = value
        return [results[rank] for rank in sorted(results)]

    def _first_death(self, what: str, grace: float = 0.5) -> None:
        deadline = time.monotonic() + grace
        for rank, proc in enumerate(self.procs):
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(max(0.0, deadline - time.monotonic()))
            if proc.returncode not in (None, 0):  # a failing rank reports, then exits 0
                self._died(rank, what)

    def _died(self, rank: int, what: str):
        proc = self.procs[rank]
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(1.0)
        self._fail(f"rank {rank} (pid {proc.pid}) died during {what} (exit code {proc.returncode})")

    def _fail(self, message: str):
        self.close(graceful=False, keep_log=True)
        raise WorkerError(f"{self.name}: {message}; all ranks stopped (their output: {self.log.name})") from None

    def close(self, graceful: bool = True, keep_log: bool = False) -> None:
        """Ask every rank to exit (graceful), then terminate / kill what is left and reap it; the
        ranks' output is deleted unless keep_log. Idempotent."""
        if self.log.closed:
            return
        for commands, _ in self.pipes if graceful else ():
            with contextlib.suppress(OSError):
                commands.send(("exit",))
        deadline = time.monotonic() + (10.0 if graceful else 0.0)
        for stop in ("wait", "terminate", "kill"):
            for proc in self.procs:
                if stop != "wait" and proc.poll() is None:
                    getattr(proc, stop)()
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(max(0.0, deadline - time.monotonic()) if stop == "wait" else 2.0)
        for pair in self.pipes:
            for conn in pair:
                conn.close()
        self.pipes = []
        self.log.close()
        if not keep_log:
            Path(self.log.name).unlink(missing_ok=True)
        _live.discard(self)

    def __enter__(self) -> Group:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


@atexit.register
def _close_all() -> None:
    for group in list(_live):
        group.close(graceful=False)


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
