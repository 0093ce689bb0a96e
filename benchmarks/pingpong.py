"""Ping-pong: how much of a busy host's noise cancels when two processes take turns on the machine.

A measurement of the noise's structure, for the design of make compare's time signal
(docs/regression-gate.md, "Measured: taking turns"). PAIRS pairs of fresh processes of this tree
(an A/A: both sides run the same code) each build one workload's step, warm it up, then take
turns: one side times a window of WINDOW seconds (the fastest synced step in it, as make
compare's processes keep the fastest round), then the other, WINDOWS times, in a random order
within each turn. It prints, as standard deviations of log time:

- one window a process, unpaired (what make compare's processes give each benchmark today);
- the fastest of a process's windows, unpaired;
- the difference of two adjacent windows, one a side (a pair's turn);
- each pair's median of those differences, between pairs (what a paired A/B would judge);

and the smallest change each way of judging resolves on these processes (half the width of its
99.9% interval, as make compare's "resolvable"; reporting/sequential.py): make compare's unpaired
interval over one window a process (7 pairs or more), and the paired signed-rank interval over one
turn a pair and over each pair's median of all its turns (11 pairs or more).

    python -m benchmarks.pingpong --workload mlp_train_step --framework torch --mode eager \
        --pairs 8 --windows 20 --window 0.2 [--gap 1.0] [--one-thread] [--out FILE]

--gap leaves GAP seconds idle between the two windows of a turn (how fast the pairing decays);
--one-thread pins both sides to core 0 with one thread each (make compare's duet variables).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKLOADS = ("mlp_train_step", "jit_elementwise")


def build(workload: str, framework: str, mode: str):
    """The benchmark's own synced step (benchmarks/harness.timed) for a steady CPU case at the quick set's size."""
    from benchmarks import frameworks, harness, test_jit, test_mlp
    from benchmarks.plugin.session import set_precision
    from benchmarks.spec import Spec

    size, value = ("batch64", 64) if workload == "mlp_train_step" else ("n10000", 10000)
    spec = Spec(framework=framework, mode=mode, device="cpu", size=size, size_value=value, phase="steady",  # type: ignore[arg-type]
                memory=False)
    set_precision(spec.matmul_precision)
    be = frameworks.backend(spec)
    work = (test_mlp.train_step_workload if workload == "mlp_train_step" else test_jit.elementwise_workload)(spec)
    be.before_steady()
    call = harness.timed(be, work.build(be))
    for _ in range(harness.WARMUP_STEPS + 7):
        call()
    return call


def child(workload: str, framework: str, mode: str, window: float) -> None:
    """One side: after 'ready', times one window per 'go' line on stdin and prints its fastest step."""
    call = build(workload, framework, mode)
    print("ready", flush=True)
    for line in sys.stdin:
        if line.strip() != "go":
            break
        best, end = math.inf, time.perf_counter() + window
        while True:
            t0 = time.perf_counter()
            call()
            t1 = time.perf_counter()
            best = min(best, t1 - t0)
            if t1 >= end:
                break
        print(best, flush=True)


def pair(args: argparse.Namespace, rng: random.Random) -> list[list[float]]:
    """One pair of fresh processes taking turns: [[a, b] per turn] (each side's fastest step in its window)."""
    env = dict(os.environ)
    pin: list[str] = []
    if args.one_thread:
        from benchmarks.instructions import ONE_THREAD

        env.update(ONE_THREAD)
        pin = ["taskset", "-c", "0"]
    cmd = [*pin, sys.executable, "-m", "benchmarks.pingpong", "--child", "--workload", args.workload,
           "--framework", args.framework, "--mode", args.mode, "--window", str(args.window)]
    sides = [subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(2)]
    try:
        for side in sides:
            if side.stdout is None or side.stdout.readline().strip() != "ready":
                raise SystemExit(f"benchmarks.pingpong: a side did not start (exit {side.wait()})")
        turns = []
        for _ in range(args.windows):
            turn = [0.0, 0.0]
            for n, i in enumerate(rng.sample([0, 1], 2)):
                if n and args.gap:
                    time.sleep(args.gap)
                sides[i].stdin.write("go\n")  # type: ignore[union-attr]
                sides[i].stdin.flush()  # type: ignore[union-attr]
                turn[i] = float(sides[i].stdout.readline())  # type: ignore[union-attr]
            turns.append(turn)
        return turns
    finally:
        for side in sides:
            if side.stdin:
                side.stdin.close()
            side.wait(timeout=60)


def summary(pairs: list[list[list[float]]]) -> dict[str, float]:
    """The standard deviations of log time the module's docstring lists, and the median step."""
    logs = [[(math.log(a), math.log(b)) for a, b in turns] for turns in pairs]
    sd = statistics.stdev
    return {
        "one_window_a_process": sd([x for turns in logs for x in turns[0]]),
        "fastest_window_a_process": sd([x for turns in logs for x in (min(t[0] for t in turns),
                                                                       min(t[1] for t in turns))]),
        "adjacent_difference": sd([b - a for turns in logs for a, b in turns]),
        "pair_median_difference": sd([statistics.median(b - a for a, b in turns) for turns in logs]),
        "median_step_s": math.exp(statistics.median(x for turns in logs for t in turns for x in t)),
    }


def resolvable(pairs: list[list[list[float]]]) -> dict[str, float | None]:
    """The smallest change (%) each way of judging resolves on these pairs, half its 99.9% interval
    (None: too few pairs): unpaired over one window a process, paired over one turn a pair, and
    paired over each pair's median of all its turns."""
    from reporting.sequential import paired_shift, shift

    def half_width(estimate_low_high: tuple[float, float | None, float | None]) -> float | None:
        _, low, high = estimate_low_high
        return None if low is None or high is None else 100 * (math.expm1(high) - math.expm1(low)) / 2
    logs = [[math.log(b) - math.log(a) for a, b in turns] for turns in pairs]
    return {"unpaired_one_window": half_width(shift([t[0][0] for t in pairs], [t[0][1] for t in pairs])),
            "paired_one_turn": half_width(paired_shift([d[0] for d in logs])),
            "paired_all_turns": half_width(paired_shift([statistics.median(d) for d in logs]))}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pingpong", description=__doc__.split("\n\n")[0])
    p.add_argument("--workload", choices=WORKLOADS, default="mlp_train_step")
    p.add_argument("--framework", choices=("jax", "torch"), default="torch")
    p.add_argument("--mode", default="eager", help="jax: jit or eager; torch: eager (default eager)")
    p.add_argument("--pairs", type=int, default=8)
    p.add_argument("--windows", type=int, default=20, help="turns a pair takes (default 20)")
    p.add_argument("--window", type=float, default=0.2, help="seconds a side times in a turn (default 0.2)")
    p.add_argument("--gap", type=float, default=0.0, help="idle seconds between a turn's two windows")
    p.add_argument("--one-thread", action="store_true")
    p.add_argument("--out", type=Path, help="every window's fastest step and the summary, as JSON")
    p.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.pairs < 2 or args.windows < 1 or args.window <= 0 or args.gap < 0:
        p.error("--pairs needs at least 2, --windows at least 1, --window above 0 and --gap at least 0")
    if args.mode not in {"jax": ("jit", "eager"), "torch": ("eager",)}[args.framework]:
        p.error(f"--mode {args.mode!r} is not a steady CPU mode of {args.framework} here (jax: jit, eager; torch: eager)")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        child(args.workload, args.framework, args.mode, args.window)
        return 0
    rng, pairs, started = random.Random(0), [], time.monotonic()
    for n in range(args.pairs):
        pairs.append(pair(args, rng))
        print(f"pair {n + 1}/{args.pairs}: first turn {pairs[-1][0][0] * 1e3:.3f} / {pairs[-1][0][1] * 1e3:.3f} ms",
              flush=True)
    result, changes = summary(pairs), resolvable(pairs)
    print(f"{args.framework}-{args.mode} {args.workload}, {args.pairs} pairs x {args.windows} turns of {args.window:g} s"
          f"{f', gap {args.gap:g} s' if args.gap else ''}{', one thread, core 0' if args.one_thread else ''}; "
          f"{time.monotonic() - started:.0f} s; median step {result['median_step_s'] * 1e3:.3f} ms; "
          "standard deviation of log time:")
    for key in ("one_window_a_process", "fastest_window_a_process", "adjacent_difference", "pair_median_difference"):
        print(f"  {key.replace('_', ' ')}: {result[key]:.4f}")
    print("resolvable change (half the 99.9% interval):")
    for key, words in (("unpaired_one_window", "unpaired, one window a process (make compare's way)"),
                       ("paired_one_turn", "paired, one turn a pair"),
                       ("paired_all_turns", f"paired, the median of {args.windows} turns a pair")):
        value = changes[key]
        print(f"  {words}: " + (f"{value:.1f}%" if value is not None else "too few pairs"))
    if args.out:
        args.out.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "pairs": pairs,
                                        "summary": result, "resolvable_pct": changes}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
