"""Cross-check the suite's steady medians against plain hand-written timing loops of the same steps.

    python -m benchmarks.crosscheck [--repeats 3] [--steps 100] [--batch-sizes ...] [--matrix-sizes ...]

Alternates, `--repeats` times: one pytest run of the steady `mlp_train_step` and `matmul`
benchmarks (CPU, JSON to a temporary file), then a bare `time.perf_counter()` loop of the same
steps built by the same model builders (no pytest, no harness), synced the same way, in a fresh
process. It prints, per benchmark,
the median over repeats of each side and their ratio. Alternating cancels most of this shared
machine's drift; agreement within a few percent says the harness adds and hides nothing.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict

from benchmarks import frameworks
from benchmarks.spec import Spec
from models import data, functions


def loop_median(step, steps: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        step()
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bare_step(info: dict):
    """The benchmark's own model builder on a fresh backend, synced, with no pytest and no harness."""
    spec = Spec(info["framework"], info["mode"], "cpu", info["size"], info["size_value"], "steady")
    be = frameworks.backend(spec)
    if info["workload"] == "mlp_train_step":
        weights, x, y = data.mlp_weights(seed=0), *data.synthetic_batch(spec.size_value, seed=1)
        step = importlib.import_module(f"models.mlp_{spec.framework}").train_step(weights, x, y, be)
    else:
        step = functions.matmul_step(*functions.matmul_inputs(spec.size_value), be)
    return lambda: be.sync(step())


def loops(run: dict, steps: int) -> dict[str, float]:
    """Hand-loop medians for the steady mlp_train_step / matmul benchmarks of a run (by name)."""
    return {bench["name"]: loop_median(bare_step(bench["extra_info"]), steps) for bench in run["benchmarks"]
            if bench.get("extra_info", {}).get("workload") in ("mlp_train_step", "matmul")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--batch-sizes", default="64,256,1024")
    parser.add_argument("--matrix-sizes", default="256,1024,2048")
    parser.add_argument("--loops-from", metavar="RUN.json", help=argparse.SUPPRESS)  # internal: child process
    args = parser.parse_args(argv)
    if args.loops_from:
        _precision()
        with open(args.loops_from) as f:
            json.dump(loops(json.load(f), args.steps), sys.stdout)
        return 0
    suite, loop = defaultdict(list), defaultdict(list)
    with tempfile.TemporaryDirectory() as tmp:
        run_json = os.path.join(tmp, "run.json")
        for _ in range(args.repeats):
            subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_mlp.py", "benchmarks/test_matmul.py",
                            "-q", "--device", "cpu", "-k", "steady and (train_step or matmul)",
                            f"--batch-sizes={args.batch_sizes}", f"--matrix-sizes={args.matrix_sizes}",
                            f"--benchmark-json={run_json}"], check=True, stdout=subprocess.DEVNULL)
            with open(run_json) as f:
                for bench in json.load(f)["benchmarks"]:
                    suite[bench["name"]].append(bench["stats"]["median"])
            child = subprocess.run([sys.executable, "-m", "benchmarks.crosscheck", "--loops-from", run_json,
                                    "--steps", str(args.steps)], check=True, capture_output=True, text=True)
            for name, median in json.loads(child.stdout).items():
                loop[name].append(median)
    print(f"{'benchmark':62s} {'suite ms':>10s} {'loop ms':>10s} {'suite/loop':>10s}")
    for name in suite:
        s, lp = statistics.median(suite[name]), statistics.median(loop[name])
        print(f"{name:62s} {s * 1e3:10.3f} {lp * 1e3:10.3f} {s / lp:10.3f}")
    return 0


def _precision() -> None:
    import jax
    import torch

    jax.config.update("jax_default_matmul_precision", "highest")
    torch.set_float32_matmul_precision("highest")


if __name__ == "__main__":
    sys.exit(main())
