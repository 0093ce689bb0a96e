"""make bench's repeated processes: the steady JAX/PyTorch pairs measured in several fresh processes.

    python -m reporting.repeat --out DIR [--budget S] [-- PYTEST ARGS...]

Each process is one fresh, short `python -m pytest benchmarks` over PYTEST ARGS (make bench's
RATIO_ARGS: the steady cases whose ratios the report states) plus reporting.ab's SHORT_ARGS (few
rounds, no memory pass) and `--shuffle N`, so frameworks and cases run in another order in every
process. Processes run one after another until the next one would overrun --budget, and never
fewer than MIN_PROCESSES (fewer give no interval at reporting/ratios.py's confidence). Each writes
DIR/proc-NN.json; report.py judges every JAX/PyTorch ratio across them (reporting/ratios.py) and
finds them by themselves beside a run (`<run>.processes/`). First calls, training runs and the
memory pass are not repeated: they stay single passes of the main run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

from reporting import EXIT_BAD_INPUT, EXIT_OK, ROOT, BadInput
from reporting.args import Parser, check_folder, folder_name, positive_float
from reporting.escape import for_terminal
from reporting.processes import SHORT_ARGS
from reporting.ratios import CONFIDENCE
from reporting.sequential import interval_rank

BUDGET_S = 240.0
MIN_PROCESSES = next(n for n in range(2, 20) if interval_rank(n, n, CONFIDENCE) is not None)  # 4 at 95%
MAX_PROCESSES = 40


def measure(json_path: Path, pytest_args: list[str], seed: int) -> None:
    cmd = [sys.executable, "-m", "pytest", "benchmarks", *pytest_args, *SHORT_ARGS, "--shuffle", str(seed), "-q",
           "-p", "no:cacheprovider", f"--benchmark-json={json_path}"]
    code = subprocess.run(cmd, cwd=ROOT, stdout=subprocess.DEVNULL).returncode
    if code != 0:
        raise BadInput(json_path, f"the benchmark process exited {code} (run `{' '.join(cmd[1:])}` to see why)")


def repeat(out: Path, budget: float, pytest_args: list[str]) -> int:
    """Processes into `out` until the budget is spent (at least MIN_PROCESSES); their number."""
    started, costs = time.monotonic(), []
    for n in range(1, MAX_PROCESSES + 1):
        t0 = time.monotonic()
        measure(out / f"proc-{n:02d}.json", pytest_args, n)
        costs.append(time.monotonic() - t0)
        spent = time.monotonic() - started
        print(f"reporting.repeat: process {n} done ({costs[-1]:.0f} s; {spent:.0f} of {budget:g} s)", flush=True)
        if n >= MIN_PROCESSES and spent + min(costs) > budget:
            return n
    return MAX_PROCESSES


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog="python -m reporting.repeat", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=folder_name, required=True, metavar="DIR",
                   help="a new folder for the processes' JSON (proc-NN.json)")
    p.add_argument("--budget", type=positive_float, default=BUDGET_S, metavar="S",
                   help=f"seconds of measuring; at least {MIN_PROCESSES} processes are run (default {BUDGET_S:g})")
    p.add_argument("pytest_args", nargs="*", metavar="PYTEST ARGS", help="after --: the steady cases to measure")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        check_folder(args.out, "--out")
        if args.out.exists() and any(args.out.iterdir()):
            raise BadInput(args.out, "--out exists and is not empty: give a new folder")
        args.out.mkdir(parents=True, exist_ok=True)
        n = repeat(args.out, args.budget, args.pytest_args)
    except (BadInput, OSError) as exc:
        print(for_terminal(f"reporting.repeat: error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"reporting.repeat: {n} processes in {os.fspath(args.out)}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
