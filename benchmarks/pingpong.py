"""One side of a ping-pong pair (reporting/pingpong.py drives the pair and judges it).

Builds each case's steady CPU step at the quick set's size, the benchmark's own synced step
(benchmarks/harness.timed, built as the benchmark builds it), warms them up, prints "ready", then
for each "go I" line on stdin times one window of case I (its WINDOW seconds) and prints its
fastest step in seconds, until stdin closes. The driver runs this file from each side's tree
(cwd), so the steps are that tree's code:

    python benchmarks/pingpong.py WORKLOAD:FRAMEWORK:MODE:WINDOW ...
"""
from __future__ import annotations

import math
import sys
import time

SIZES = {"mlp_train_step": ("batch64", 64), "jit_elementwise": ("n10000", 10000)}  # the quick set's: (id word, value)
WORKLOADS = tuple(SIZES)
MODES = {"jax": ("jit", "eager"), "torch": ("eager",)}  # the steady CPU modes a pair may time


def build(workload: str, framework: str, mode: str):
    """The benchmark's synced step for a steady CPU case at the quick set's size, warmed up."""
    from benchmarks import frameworks, harness, test_jit, test_mlp
    from benchmarks.plugin.session import set_precision
    from benchmarks.spec import Spec

    size, value = SIZES[workload]
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


MIN_STEPS = 5  # a window holds at least this many steps: one stalled step is never a window's fastest


def window(call, seconds: float) -> float:
    """The fastest synced step in a window of `seconds` (and of MIN_STEPS steps at least)."""
    best, end, n = math.inf, time.perf_counter() + seconds, 0
    while True:
        t0 = time.perf_counter()
        call()
        t1 = time.perf_counter()
        best, n = min(best, t1 - t0), n + 1
        if t1 >= end and n >= MIN_STEPS:
            return best


def main(cases: list[str]) -> None:
    steps = []
    for case in cases:
        workload, framework, mode, seconds = case.split(":")
        steps.append((build(workload, framework, mode), float(seconds)))
    print("ready", flush=True)
    for line in sys.stdin:
        words = line.split()
        if len(words) != 2 or words[0] != "go":
            break
        call, length = steps[int(words[1])]
        print(window(call, length), flush=True)


if __name__ == "__main__":
    if len(sys.argv) < 2 or any(a.count(":") != 3 for a in sys.argv[1:]):
        sys.exit("usage: python benchmarks/pingpong.py WORKLOAD:FRAMEWORK:MODE:WINDOW ... "
                 "(driven by reporting/pingpong.py)")
    sys.path[0] = ""  # the packages of the tree it runs in (cwd), not this file's folder
    main(sys.argv[1:])
