"""The A/B's benchmark processes: one fresh, short `python -m pytest benchmarks` process of a tree
(alone, or two at once in a duet), its value per benchmark, and each side's compile cache.
reporting/ab.py runs the rounds and decides."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from reporting import BadInput
from reporting.load import load_run

SHORT_ARGS = ["--memory", "off", "--benchmark-max-time=0.2", "--benchmark-min-rounds=5"]


def pytest_command(json_path: Path, pytest_args: list[str], selection: list[str]) -> list[str]:
    """One short process over `selection` (node ids; none: all of benchmarks/ that PYTEST ARGS select)."""
    return [sys.executable, "-m", "pytest", *(selection or ["benchmarks"]), *pytest_args, *SHORT_ARGS, "-q",
            "-p", "no:cacheprovider", f"--benchmark-json={json_path}"]


def collected(tree: Path, pytest_args: list[str]) -> list[str]:
    """The node ids PYTEST ARGS select in `tree`, collected, not run."""
    cmd = [sys.executable, "-m", "pytest", "benchmarks", *pytest_args, "--collect-only", "-q", "-p", "no:cacheprovider"]
    done = subprocess.run(cmd, cwd=tree, capture_output=True, text=True)
    check_exit(done.returncode, tree, cmd)
    return [line for line in done.stdout.splitlines() if "::" in line]


def check_exit(code: int, tree: Path, cmd: list[str]) -> None:
    if code != 0:
        raise BadInput(tree, f"the benchmark run exited {code}: nothing to compare (run `{' '.join(cmd[1:])}` there)")


def measure(tree: Path, json_path: Path, pytest_args: list[str], selection: list[str]) -> Path:
    """One fresh pytest process in `tree`, alone on the machine, its results in `json_path`."""
    cmd = pytest_command(json_path, pytest_args, selection)
    check_exit(subprocess.run(cmd, cwd=tree, stdout=subprocess.DEVNULL).returncode, tree, cmd)
    return json_path


def measure_duet(runs: list[tuple[Path, Path, list[str]]], selection: list[str]) -> list[Path]:
    """Duet: one fresh process per (tree, json_path, pytest_args) at the same time, the i-th pinned
    to core i (taskset) with one thread (benchmarks/instructions.ONE_THREAD's variables); their JSON paths."""
    from benchmarks.instructions import ONE_THREAD

    procs = []
    try:
        for core, (tree, json_path, pytest_args) in enumerate(runs):
            cmd = ["taskset", "-c", str(core), *pytest_command(json_path, pytest_args, selection)]
            procs.append((subprocess.Popen(cmd, cwd=tree, stdout=subprocess.DEVNULL, env={**os.environ, **ONE_THREAD},
                                           start_new_session=True), tree, cmd))
        for proc, tree, cmd in procs:
            check_exit(proc.wait(), tree, cmd)
    finally:
        for proc, _, _ in procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return [json_path for _, json_path, _ in runs]


def fastest_rounds(path: Path) -> dict[str, float]:
    """One process's value per steady benchmark: its fastest round (node id -> seconds)."""
    return {b.fullname: b.min_s for b in load_run(path).benches.values() if b.get("phase") == "steady"}


def has_option(tree: Path, option: str) -> bool:
    """Whether the checkout `tree` defines the benchmarks' pytest `option` (in one of its plugin modules)."""
    try:
        return any(f'"{option}"' in path.read_text(encoding="utf8", errors="replace")
                   for path in (tree / "benchmarks/plugin").glob("*.py"))
    except OSError:
        return False


def compile_caches(trees: dict[str, Path], folder: Path) -> tuple[dict[str, list[str]], str]:
    """Each side's time processes keep JAX's compiled code in a cache folder of that side's own
    (benchmarks' --compile-cache): the first round compiles and fills it, later rounds load it, so
    a round costs less. The steps run the same compiled code, loaded instead of compiled (what the
    shorter processes do to the spread: docs/regression-gate.md). Both sides or neither: a tree
    older than the option gets none, nor does the other ({side: []}, why)."""
    older = [side for side, tree in trees.items() if not has_option(tree, "--compile-cache")]
    if older:
        return {side: [] for side in trees}, (f"the time processes compiled in every round: the {older[0]} tree "
                                              "predates --compile-cache, so neither side kept a compile cache")
    return {side: ["--compile-cache", str(folder / f"compile-cache-{side}")] for side in trees}, ""
