"""Cross-check a saved run against plain hand-written timing loops of the same steps.

    python -m benchmarks.crosscheck RUN.json [--steps 50]

For every steady `mlp_train_step` and `matmul` benchmark in RUN.json (on the CPU), times the same
step with a bare `time.perf_counter()` loop (no pytest, no harness), synced the same way, and
prints the suite's median next to the loop's median. Agreement within a few percent says the
harness adds nothing and hides nothing. Run it on a quiet machine right after the run.
"""
from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from models import data, functions


def loop_median(step, sync, steps: int, warmup: int = 3) -> float:
    for _ in range(warmup):
        sync(step())
    times = []
    for _ in range(steps):
        start = time.perf_counter()
        sync(step())
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def mlp_step(framework: str, mode: str, batch: int):
    weights, x, y = data.mlp_weights(seed=0), *data.synthetic_batch(batch, seed=1)
    if framework == "jax":
        import jax

        from models import mlp_jax

        update, state = mlp_jax.train_step(jit=mode == "jit"), [mlp_jax.init_params(weights)]

        def step():
            state[0], loss = update(state[0], x, y)
            return state[0], loss

        return step, jax.block_until_ready
    import torch

    from models import mlp_torch

    model = mlp_torch.init_params(weights)
    optimizer, update = mlp_torch.optimizer(model), mlp_torch.train_step(compile=mode == "compile")
    tx, ty = torch.from_numpy(x), torch.from_numpy(y).long()
    return (lambda: update(model, optimizer, tx, ty)), (lambda out: out)


def matmul_step(framework: str, n: int):
    a, b = functions.matmul_inputs(n)
    if framework == "jax":
        import jax

        f, ja, jb = jax.jit(lambda p, q: p @ q), jax.numpy.asarray(a), jax.numpy.asarray(b)
        return (lambda: f(ja, jb)), jax.block_until_ready
    if framework == "torch":
        import torch

        ta, tb = torch.from_numpy(a), torch.from_numpy(b)
        return (lambda: ta @ tb), (lambda out: out)
    return (lambda: a @ b), (lambda out: out)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="pytest-benchmark JSON (--benchmark-json or .benchmarks/...)")
    parser.add_argument("--steps", type=int, default=50)
    args = parser.parse_args(argv)
    try:
        with open(args.run) as f:
            benchmarks = json.load(f)["benchmarks"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        print(f"crosscheck: {args.run}: not a readable pytest-benchmark run ({exc})", file=sys.stderr)
        return 2
    _precision()
    print(f"{'benchmark':62s} {'suite ms':>10s} {'loop ms':>10s} {'suite/loop':>10s}")
    for bench in benchmarks:
        info = bench.get("extra_info", {})
        if info.get("phase") != "steady" or info.get("device") != "cpu":
            continue
        if info.get("workload") == "mlp_train_step":
            step, sync = mlp_step(info["framework"], info["mode"], info["size_value"])
        elif info.get("workload") == "matmul":
            step, sync = matmul_step(info["framework"], info["size_value"])
        else:
            continue
        loop = loop_median(step, sync, args.steps)
        suite = bench["stats"]["median"]
        print(f"{bench['name']:62s} {suite * 1e3:10.3f} {loop * 1e3:10.3f} {suite / loop:10.3f}")
    return 0


def _precision() -> None:
    import jax
    import torch

    jax.config.update("jax_default_matmul_precision", "highest")
    torch.set_float32_matmul_precision("highest")


if __name__ == "__main__":
    sys.exit(main())
