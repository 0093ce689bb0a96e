"""Warm start: the first call of a new process whose compile caches on disk are already warm.

What a restarted job, a new worker or a model server waits for: neither the cold first call (every
cache cleared) nor the steady state. A warmstart benchmark (benchmarks/test_warmstart.py):

1. makes a cache directory of its own (never the user's) and runs one child that fills it (untimed);
2. runs each round as a new child (`python -m benchmarks.warmstart JOB OUT`) that turns the caches
   on at that directory, imports the framework, builds the workload and times its first call
   (trace, cache lookup and load, one synced step); the child's start-up (interpreter up to its
   main) and its imports are timed apart and stored beside it, never mixed in;
3. records each round's first-call time as the round (a clock that only the children's timed
   first calls advance), the cache's size on disk, and the cache hits and misses of every round:
   a warm round that compiled anyway (a miss) fails the benchmark and says so.

The caches: JAX's persistent compilation cache (`jax_compilation_cache_dir`, every entry kept:
min compile time 0, min entry size 0); Inductor's FX-graph and AOTAutograd caches and Triton's,
under the directory (`TORCHINDUCTOR_CACHE_DIR`, `TRITON_CACHE_DIR`). Hits and misses are the
frameworks' own counters: JAX's `/jax/compilation_cache/cache_hits|cache_misses` events, Inductor's
`fxgraph_cache_hit|miss`.
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path

import pytest

from benchmarks.spec import Spec

ROOT = Path(__file__).resolve().parent.parent
CHILD_TIMEOUT_S = 600
TEST_CACHE_SALT = "SUITE_WARMSTART_TEST_SALT"  # tests only: a child whose cache key differs (a miss)


def cache_env(cache: Path) -> dict[str, str]:
    """The environment a child needs: PyTorch's caches under `cache` (JAX's is set in the child)."""
    return {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(cache / "inductor"), "TRITON_CACHE_DIR": str(cache / "triton"),
            "TORCHINDUCTOR_FX_GRAPH_CACHE": "1", "TORCHINDUCTOR_AUTOGRAD_CACHE": "1",
            "TORCHINDUCTOR_FORCE_DISABLE_CACHES": "0", "XLA_PYTHON_CLIENT_PREALLOCATE": "false"}


def run_child(job: dict, cache: Path, env: dict[str, str] | None = None) -> dict:
    """One child: its figures, or pytest.fail with its last line."""
    with tempfile.TemporaryDirectory(prefix="warmstart-child-") as tmp:
        out = Path(tmp) / "out.json"
        proc = subprocess.run([sys.executable, "-m", "benchmarks.warmstart", json.dumps(job), str(out)], cwd=ROOT,
                              env=env or cache_env(cache), capture_output=True, text=True, timeout=CHILD_TIMEOUT_S)
        if proc.returncode != 0 or not out.is_file():
            tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            pytest.fail(f"warm-start child failed (exit {proc.returncode}): {tail}", pytrace=False)
        return json.loads(out.read_text())


def size_on_disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def measure(benchmark, spec: Spec, workload: str, rounds: int, options: dict | None = None) -> dict:
    """The warm-start benchmark of `workload` for `spec`: fill, then `rounds` timed children."""
    cache = Path(tempfile.mkdtemp(prefix="warmstart-cache-"))
    job = {"spec": asdict(spec), "workload": workload, "cache": str(cache), **(options or {})}
    try:
        fill = run_child(job, cache)
        clock = [0.0]
        children: list[dict] = []

        def one_round() -> None:
            child = run_child(job, cache)
            children.append(child)
            clock[0] += child["first_call_s"]

        benchmark._timer = lambda: clock[0]  # a round's time is the child's own timed first call
        benchmark.pedantic(one_round, rounds=rounds, iterations=1, warmup_rounds=0)
        record = summary(fill, children, size_on_disk(cache))
    finally:
        shutil.rmtree(cache, ignore_errors=True)
    benchmark.extra_info.update({**describe(spec, job), **record})
    missed = [i + 1 for i, c in enumerate(children) if c["misses"] or not c["hits"]]
    if missed:
        pytest.fail(f"{spec.id}: warm round(s) {missed} compiled anyway (cache misses "
                    f"{[c['misses'] for c in children]}, hits {[c['hits'] for c in children]}): not a warm start",
                    pytrace=False)
    return record


def describe(spec: Spec, job: dict) -> dict:
    """The design's extra_info fields of the case (benchmarks/harness.py), from the workload the
    children build, made here too (nothing runs); a warm start has no memory figure."""
    from benchmarks import frameworks, harness, memory

    return {**harness.describe(spec, _workload(job, spec), frameworks.backend(spec)), **memory.FIRSTCALL}


def summary(fill: dict, children: list[dict], cache_bytes: int) -> dict:
    def median(key: str) -> float:
        return statistics.median(c[key] for c in children)
    return {"fill_first_call_s": fill["first_call_s"], "fill_cache_misses": fill["misses"],
            "cache_bytes": cache_bytes, "cache_hits": [c["hits"] for c in children],
            "cache_misses": [c["misses"] for c in children], "process_start_s": median("start_s"),
            "import_s": median("import_s"), "warm_first_call_s": [c["first_call_s"] for c in children],
            "firstcall_includes": "a new process's first call with warm compile caches on disk: trace, cache "
                                  "lookup and load, one step (process start and imports timed apart)"}


# --- the child -------------------------------------------------------------------------------------

def _process_age_s() -> float:
    """Seconds since this process started (Linux /proc), else 0."""
    try:
        start_ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - start_ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return 0.0


class _Counts:
    """The framework's own cache hits and misses while the first call runs."""

    def __init__(self, framework: str):
        self.framework, self.jax = framework, {"hits": 0, "misses": 0}
        if framework == "jax":
            import jax

            def on_event(event: str, **kwargs) -> None:
                if event == "/jax/compilation_cache/cache_hits":
                    self.jax["hits"] += 1
                elif event == "/jax/compilation_cache/cache_misses":
                    self.jax["misses"] += 1
            jax.monitoring.register_event_listener(on_event)

    def read(self) -> dict[str, int]:
        if self.framework == "jax":
            return dict(self.jax)
        from torch._dynamo.utils import counters

        return {"hits": counters["inductor"]["fxgraph_cache_hit"], "misses": counters["inductor"]["fxgraph_cache_miss"]}


def _caches_on(framework: str, cache: str) -> None:
    if framework == "jax":
        import jax

        from benchmarks.plugin.session import set_compile_cache

        set_compile_cache(cache)  # every entry kept, under cache/jax: as --compile-cache does
        salt = os.environ.get(TEST_CACHE_SALT)
        if salt:  # tests only: another XLA flag value makes another cache key
            jax.config.update("jax_default_matmul_precision", salt)


def _workload(job: dict, spec: Spec):
    from benchmarks import test_gpt, test_jit, test_mlp

    name = job["workload"]
    if name == "mlp_train_step":
        return test_mlp.train_step_workload(spec)
    if name == "jit_elementwise":
        return test_jit.elementwise_workload(spec)
    if name == "gpt_train_step":
        return test_gpt.train_step_workload(spec, job.get("gpt_text"))
    raise ValueError(f"no warm-start workload {name!r}")


def child(job: dict, out: Path) -> None:
    start_s = _process_age_s()
    t0 = time.perf_counter()
    spec = Spec(**job["spec"])
    from benchmarks import frameworks, harness
    from benchmarks.plugin.session import set_precision

    set_precision(spec.matmul_precision)  # as the benchmark process does
    _caches_on(spec.framework, job["cache"])  # the caches on, at the run's own directory
    be = frameworks.backend(spec)
    counts = _Counts(spec.framework)
    work = _workload(job, spec)
    import_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    harness.timed(be, work.build(be))()
    first_call_s = time.perf_counter() - t1
    out.write_text(json.dumps({"start_s": start_s, "import_s": import_s, "first_call_s": first_call_s,
                               **counts.read()}))


if __name__ == "__main__":
    child(json.loads(sys.argv[1]), Path(sys.argv[2]))
