"""The memory pass: the working set of each queued steady case, each in a fresh child, after timing.

benchmarks/memory.py queues a case and measures inside a child; this runs the children (forked from
per-framework servers, benchmarks/forkserver.py), two at a time, once every benchmark of the run has
been timed, puts each figure into its benchmark's extra_info and fails the run on a figure below
memory.FLOOR_SHARE x its analytic floor.
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from benchmarks import memory
from benchmarks.plugin.options import SIZE_KINDS
from benchmarks.plugin.session import settings, suite
from benchmarks.spec import Spec


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """In a memory child: the working set's baseline, after the framework's start-up and before the
    test body makes its inputs (so inputs count for every framework alike)."""
    callspec = getattr(item, "callspec", None)
    spec = callspec.params.get("spec") if callspec is not None else None
    if memory.in_child() and isinstance(spec, Spec) and spec.phase == "steady":
        from benchmarks import frameworks

        memory.CHILD["set"] = memory.WorkingSet(spec)
        memory.CHILD["set"].start(frameworks.backend(spec))
    return (yield)


MEMORY_CHILD_TIMEOUT_S = 600


def _child_args(config: pytest.Config, device: str) -> list[str]:
    """The options a memory child needs to collect the same case as this run."""
    run = settings(config)
    args = ["--benchmark-disable", "-q", "-p", "no:cacheprovider", "--device", device, "--memory", "all",
            "--matmul-precision", run.matmul_precision, "--gpt-configs", ",".join(run.gpt_configs)]
    for kind in SIZE_KINDS:
        args += [f"--{kind}-sizes", ",".join(map(str, run.sizes[kind]))]
    for option, value in (("--text", run.gpt_text), ("--data-root", run.data_root)):
        if value:
            args += [option, value]
    return args


def _measure_in_child(config: pytest.Config, case: dict, servers: _Servers) -> dict:
    import json
    import tempfile

    from benchmarks.forkserver import ServerError

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="memory-child-") as tmp:
        out, log = Path(tmp) / "result.json", Path(tmp) / "child.log"
        env = {memory.CHILD_ENV: str(out), memory.CHILD_FRAMEWORK_ENV: case["framework"]}
        try:
            status = servers.get(case["framework"]).run([case["fullname"], *_child_args(config, case["device"])],
                                                        env, str(log), MEMORY_CHILD_TIMEOUT_S)
        except ServerError as err:
            return {"memory_note": f"working set not measured: {err}"}
        if status != 0 or not out.is_file():
            text = log.read_text(errors="replace") if log.is_file() else ""
            tail = text.strip().splitlines()[-1:] or ["no output"]
            return {"memory_note": f"working set not measured: its child failed (exit {status}: {tail[0]})"}
        return {**json.loads(out.read_text()), "memory_child_s": round(time.perf_counter() - started, 2)}


class _Servers:
    """The fork servers (benchmarks/forkserver.py) of the memory pass's worker threads: one per
    thread and framework (JAX, PyTorch, or neither for NumPy and SciPy cases), started on first use."""

    def __init__(self, config: pytest.Config):
        import threading

        self.cwd, self.local = str(config.rootpath), threading.local()
        self.started: list = []

    def get(self, framework: str):
        from benchmarks.forkserver import PRELOAD, Server

        kind = framework if framework in PRELOAD else "numpy"
        if not hasattr(self.local, "servers"):
            self.local.servers = {}
        mine = self.local.servers
        if kind not in mine or not mine[kind].alive:
            mine[kind] = Server(kind, self.cwd, {**os.environ, memory.CHILD_FRAMEWORK_ENV: kind})
            self.started.append(mine[kind])
        return mine[kind]

    def close(self) -> None:
        for server in self.started:
            server.close()


def _child_cost(case: dict) -> int:
    """A memory child's rough cost rank: GPT steps, then torch.compile (Inductor's start-up), then
    PyTorch's import, then JAX's eager op-by-op first steps; the rest take about a second."""
    name = case["fullname"]
    return (2 * ("test_gpt" in name) + 2 * ("-compile-" in name) + (case["framework"] == "torch")
            + (case["framework"] == "jax" and "-eager-" in name))


def working_sets(config: pytest.Config, benchmarks: list[dict]) -> None:
    """Each queued steady case's working set, measured in a fresh child, two at a time, after every
    benchmark of this run has been timed; a figure below 0.9 x its analytic floor fails the run."""
    from concurrent.futures import ThreadPoolExecutor

    run = suite(config)
    cases, memory.PENDING[:] = list(memory.PENDING), []
    if cases:  # measured once; pytest-benchmark builds its JSON once per output (--benchmark-json, the storage)
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(f"memory: the working set of {len(cases)} steady cases, each in a fresh process")
        started = time.perf_counter()
        cases.sort(key=_child_cost, reverse=True)  # longest first: no long child left alone at the end
        servers = _Servers(config)
        try:
            with ThreadPoolExecutor(max_workers=2) as pool:
                run.working_sets = dict(zip([c["fullname"] for c in cases], pool.map(
                    lambda c: _measure_in_child(config, c, servers), cases), strict=True))
        finally:
            servers.close()
        run.memory_pass_s = time.perf_counter() - started
        if reporter is not None:
            reporter.write_line(f"memory: {len(cases)} working sets measured in {run.memory_pass_s:.0f} s")
    results = run.working_sets
    failures = run.memory_failures = []
    for bench in benchmarks:
        result = results.get(str(bench.get("fullname")))
        if result is None:
            continue
        info = bench.setdefault("extra_info", {})
        info.update(result)
        peak, floor = info.get("peak_memory_bytes"), info.get("memory_floor_bytes")
        if peak is not None and floor:
            info["memory_floor_ok"] = peak >= memory.FLOOR_SHARE * floor
            if not info["memory_floor_ok"]:
                failures.append(f"{bench['fullname']}: working set {peak / 2**20:.1f} MiB is below "
                                              f"{memory.FLOOR_SHARE} x its analytic floor {floor / 2**20:.1f} MiB")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    failures = suite(session.config).memory_failures
    for line in failures:
        print(f"\nMEMORY FLOOR FAILED: {line}")
    if failures:
        session.exitstatus = 1
