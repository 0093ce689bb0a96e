"""The memory pass's fork server (benchmarks/forkserver.py): each case a fresh child with its own
variables and output file, a failing or crashing child reported by its status without stopping the
server, and a case over its time stopped with its whole server."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from benchmarks.forkserver import Server, ServerError

ROOT = Path(__file__).resolve().parents[1]
CASES = '''
import os, sys, time
from pathlib import Path

def test_fresh():
    assert "suite_leak" not in sys.modules  # what an earlier child imported is not here
    sys.modules["suite_leak"] = sys
    print("case", os.environ["CASE"], "in", os.getpid(), "of", os.getppid())

def test_fails():
    assert os.environ["CASE"] == "never"

def test_crashes():
    os.kill(os.getpid(), 9)

def test_hangs():
    Path(os.environ["PID_FILE"]).write_text(str(os.getpid()))
    time.sleep(60)
'''


@pytest.fixture
def server(tmp_path):
    (tmp_path / "test_cases.py").write_text(CASES)
    started = Server("numpy", str(ROOT), {**os.environ})
    yield started, tmp_path
    started.close()


def _run(server, tmp_path, name, case, timeout=120.0, **env):
    log = tmp_path / f"{name}-{case}.log"
    args = [f"{tmp_path / 'test_cases.py'}::{name}", "-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(tmp_path)]
    status = server.run(args, {"CASE": case, **env}, str(log), timeout)
    return status, log.read_text()


def test_each_case_is_a_fresh_child_with_its_variables_and_output(server):
    server, tmp = server
    for case in ("1", "2"):
        status, log = _run(server, tmp, "test_fresh", case)
        assert status == 0, log
        assert f"case {case} in " in log and f" of {server.proc.pid}" in log  # a child of the server
        assert "1 passed" in log
    assert server.alive


def test_a_failing_and_a_crashing_child_are_their_status_and_the_server_serves_on(server):
    server, tmp = server
    status, log = _run(server, tmp, "test_fails", "1")
    assert status == 1 and "1 failed" in log
    status, _ = _run(server, tmp, "test_crashes", "1")
    assert status == -9
    assert _run(server, tmp, "test_fresh", "3")[0] == 0


def test_a_case_over_its_time_stops_the_server_and_its_child(server):
    server, tmp = server
    pid_file = tmp / "pid"
    with pytest.raises(ServerError, match="ran over its time"):
        _run(server, tmp, "test_hangs", "1", timeout=5.0, PID_FILE=str(pid_file))
    assert not server.alive
    child = int(pid_file.read_text())
    for _ in range(50):  # SIGKILL to the server's session; the child is reaped by init
        try:
            if "zombie" in Path(f"/proc/{child}/status").read_text():
                break
        except FileNotFoundError:
            break
        time.sleep(0.1)
    else:
        pytest.fail(f"child {child} still runs")
    with pytest.raises(ServerError, match="gone"):
        server.run(["-q"], {}, str(tmp / "after.log"), 10.0)
