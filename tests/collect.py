"""`python -m pytest PATH --collect-only ...` for the unit tests, without a new interpreter each time.

Many unit tests read what pytest collects (ids, -k selections, one-line usage errors). Each such
run in a new interpreter pays pytest's, JAX's and PyTorch's imports again, most of such a run.
These runs go to a fork server that imported them once (benchmarks/forkserver.py, "all"): each is
a forked child that runs pytest.main with the test's arguments and its whole environment, its
stdout and stderr kept apart, as a subprocess would give them. Where the server cannot start, a
subprocess does it.
"""
from __future__ import annotations

import atexit
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.forkserver import Server, ServerError

ROOT = Path(__file__).resolve().parent.parent
_server: list[Server] = []  # the one server of this test process, started at first use


def _started() -> Server | None:
    if _server and _server[0].alive:
        return _server[0]
    _server.clear()
    try:
        server = Server("all", str(ROOT), dict(os.environ))
    except ServerError:
        return None
    _server.append(server)
    atexit.register(server.close)
    return server


def pytest_collect(path: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """What `python -m pytest PATH ARGS` (with --collect-only among ARGS) returns: exit status, stdout, stderr."""
    command = [sys.executable, "-m", "pytest", path, *args]
    server = _started()
    if server is None:
        return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    with tempfile.TemporaryDirectory(prefix="collect-") as tmp:
        out, err = Path(tmp) / "stdout", Path(tmp) / "stderr"
        try:
            code = server.run([path, *args], dict(os.environ), str(out), timeout, err=str(err), whole_env=True)
        except ServerError:
            return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
        return subprocess.CompletedProcess(command, code, out.read_text(errors="replace"),
                                           err.read_text(errors="replace"))
