"""The memory pass's fork servers (benchmarks/plugin/memory_pass.py): fresh children without paying the imports again.

A working set is read in a fresh process running one case (docs/measuring.md, Memory), and most
of such a child's time was its imports (PyTorch with Dynamo, JAX with optax), most of what a small
case took on two cores (docs/measuring.md has the figures). A `Server` is one process per framework that imports
pytest and that framework once (and benchmarks/dp_rank.py's helpers, which import no framework)
and then forks a child for each case it is sent. It imports modules only: no runtime is started
(no XLA client, no PyTorch thread pool, no compile worker), so
nothing but the import is shared, and fork copies no running thread's state. The child then
does what a fresh interpreter would: pytest collects the case, the working set's baseline is
read once the framework's runtime has started in the child, and the case runs alone.

Protocol: the parent writes one JSON line a case, {"args": pytest's arguments, "env": variables
to set, "log": the file for the child's output, optionally "err": one for its stderr and
"whole_env": true (env replaces the environment)}; the server forks; the child sends its stdout
and stderr to `log` (or `err`), sets `env`, runs pytest.main(args) in the server's folder and exits with
pytest's status; the server waits for it and answers one JSON line {"exit": status}. One case
at a time per server; both die with their parent (PR_SET_PDEATHSIG).

`python -m benchmarks.forkserver jax|torch|numpy` serves on stdin / stdout.
"""
from __future__ import annotations

import importlib
import json
import os
import select
import signal
import subprocess
import sys
import traceback
from typing import IO, Any

from benchmarks.dp_rank import die_with_parent

# what a server imports once; a NumPy case's children import neither framework
PRELOAD = {"jax": ("jax", "jax.numpy", "optax"), "torch": ("torch", "torch._dynamo"), "numpy": ()}
PRELOAD["all"] = PRELOAD["jax"] + PRELOAD["torch"]  # the unit tests' collections (tests/collect.py)
COMMON = ("numpy", "pytest", "pytest_benchmark.plugin")
START_TIMEOUT_S = 120.0  # interpreter + the framework's import, on a loaded 2-core machine


class ServerError(RuntimeError):
    """The server did not start, died, or a case ran over its time (the server was stopped)."""


class Server:
    """One fork server for `framework` (started in `cwd` with `env`), serving one case at a time."""

    def __init__(self, framework: str, cwd: str, env: dict[str, str]):
        self.framework = framework
        self.proc = subprocess.Popen([sys.executable, "-m", "benchmarks.forkserver", framework], cwd=cwd, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True, start_new_session=True)
        self._reply(START_TIMEOUT_S, "start-up")

    def run(self, args: list[str], env: dict[str, str], log: str, timeout: float, err: str | None = None,
            whole_env: bool = False) -> int:
        """Run pytest with `args` in a fresh child; returns its exit status (negative: killed by that signal).
        `err`: its stderr apart from `log`; `whole_env`: `env` is the child's whole environment."""
        assert self.proc.stdin is not None
        request = {"args": args, "env": env, "log": log, "err": err or log, "whole_env": whole_env}
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except (OSError, ValueError) as err:  # a broken pipe, or a server this side closed
            self.close()
            raise ServerError(f"the {self.framework} fork server is gone ({err})") from None
        return int(self._reply(timeout, "case")["exit"])

    def _reply(self, timeout: float, what: str) -> dict[str, Any]:
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout)
        line = self.proc.stdout.readline() if ready else None
        if not line:
            self.close()
            raise ServerError(f"the {self.framework} fork server's {what} "
                              + ("ran over its time" if line is None else "ended it (the server died)"))
        return json.loads(line)

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def close(self) -> None:
        """Stop the server and any child it still runs (its whole session)."""
        if self.proc.stdin is not None:
            try:
                self.proc.stdin.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # a child left running, or a server that did not stop
        except (ProcessLookupError, PermissionError):
            pass
        self.proc.wait()


# --- the server side ------------------------------------------------------------------------------

def serve(framework: str, requests: IO[str], replies: IO[str]) -> None:
    for name in COMMON + PRELOAD[framework]:
        importlib.import_module(name)
    replies.write(json.dumps({"ready": framework}) + "\n")
    replies.flush()
    for line in requests:
        request = json.loads(line)
        server = os.getpid()
        pid = os.fork()
        if pid == 0:
            _child(request, replies, server)
        _, status = os.waitpid(pid, 0)
        replies.write(json.dumps({"exit": os.waitstatus_to_exitcode(status)}) + "\n")
        replies.flush()


def _child(request: dict, replies: IO[str], server: int) -> None:
    """The forked child: its own output file, the case's variables, pytest; never returns."""
    status = 70  # EX_SOFTWARE: the child failed before pytest could say why
    try:
        die_with_parent(server)
        replies.close()
        out = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        err = out if request.get("err", request["log"]) == request["log"] else \
            os.open(request["err"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out, 1)
        os.dup2(err, 2)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115 - the child's whole life
        sys.stdout = sys.__stdout__  # the server wrote its prints to stderr (main); the child's go to fd 1 again
        if request.get("whole_env"):
            os.environ.clear()
        os.environ.update(request["env"])
        import pytest

        status = int(pytest.main(request["args"]))
    except BaseException:  # noqa: BLE001 - whatever it was goes to the child's log, and its status says so
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)


def main() -> None:
    framework = sys.argv[1] if len(sys.argv) == 2 else ""
    if framework not in PRELOAD:
        sys.exit(f"usage: python -m benchmarks.forkserver {'|'.join(PRELOAD)}")
    die_with_parent(os.getppid())
    replies = os.fdopen(os.dup(1), "w")  # the protocol's own descriptor: a stray print cannot corrupt it
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    serve(framework, sys.stdin, replies)


if __name__ == "__main__":
    main()
