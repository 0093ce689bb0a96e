"""Same-machine A/B: measure a base git ref and the working tree alternately, then gate with report.py.

    python -m reporting.ab --base REF [--pairs K] [--out DIR] [--threshold PCT] [-- PYTEST ARGS...]

A git worktree of REF is made in a temporary folder (removed afterwards, also on an error, Ctrl-C
or SIGTERM). The quick set (PYTEST ARGS, `make compare` passes QUICK_ARGS) then runs K times in
each tree, alternately base, head, base, head, ..., each in a fresh `python -m pytest benchmarks`
process started with this interpreter (the head's venv) in that tree's own folder. Alternating
spreads a drift of the machine over both sides; several runs per side let report.py compare each
side's fastest round and median run against thresholds calibrated for that many runs a side,
instead of trusting the rounds of one run. No stored baseline is needed:
the head runs are the current runs, the base runs the baseline. Exit code: report.py's.
"""
from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

from reporting import EXIT_BAD_INPUT, EXIT_INTERNAL, ROOT, BadInput, cli

PAIRS = 3  # a quick-set run takes about 60 s with start-up on the 2-core machine: 3 pairs take ~6 minutes


def git(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BadInput(f"git {' '.join(args)}", proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                       else f"exited {proc.returncode}")
    return proc.stdout.strip()


@contextmanager
def worktree(ref: str):
    """A detached checkout of `ref` in a temporary folder, removed on the way out whatever happens."""
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BadInput:
        raise BadInput(ref, "not a git commit here (fetch it, e.g. actions/checkout with fetch-depth: 0)") from None
    tmp = Path(tempfile.mkdtemp(prefix="reporting-ab-"))
    tree = tmp / "base"
    try:
        git("worktree", "add", "--detach", str(tree), commit)
        yield tree, commit
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)


def measure(tree: Path, json_path: Path, pytest_args: list[str]) -> Path:
    """One fresh pytest process in `tree`, its results in `json_path`."""
    cmd = [sys.executable, "-m", "pytest", "benchmarks", *pytest_args, "-q", f"--benchmark-json={json_path}"]
    print(f"reporting.ab: {tree}: {' '.join(cmd[1:])}", flush=True)
    code = subprocess.run(cmd, cwd=tree).returncode
    if code != 0:
        raise BadInput(tree, f"the benchmark run exited {code}: nothing to compare")
    return json_path


def alternate(base: Path, head: Path, pairs: int, folder: Path, pytest_args: list[str]):
    base_runs, head_runs = [], []
    for i in range(pairs):
        base_runs.append(measure(base, folder / f"base-{i}.json", pytest_args))
        head_runs.append(measure(head, folder / f"head-{i}.json", pytest_args))
    return base_runs, head_runs


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = cli.Parser(prog="python -m reporting.ab", description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, metavar="REF", help="git ref to compare the working tree with")
    p.add_argument("--pairs", type=int, default=PAIRS, metavar="K", help=f"base/head run pairs (default {PAIRS})")
    p.add_argument("--out", type=Path, default=Path("report-compare"), metavar="DIR")
    p.add_argument("--threshold", type=cli.percentage, default=10.0, metavar="PCT")
    p.add_argument("--keep", type=Path, metavar="DIR", help="also keep the runs' JSON files in DIR")
    p.add_argument("pytest_args", nargs="*", metavar="PYTEST ARGS", help="after --: the selection to measure")
    args = p.parse_args(argv)
    if args.pairs < 1:
        p.error(f"--pairs: {args.pairs} is not a positive number of pairs")
    return args


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through worktree(): the checkout is removed


def run(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="reporting-ab-runs-") as tmp, worktree(args.base) as (base, commit):
        print(f"reporting.ab: base {args.base} ({commit[:12]}) vs the working tree, {args.pairs} pair(s)", flush=True)
        base_runs, head_runs = alternate(base, ROOT, args.pairs, Path(tmp), args.pytest_args)
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for run in base_runs + head_runs:
                shutil.copy2(run, args.keep / run.name)
        baseline = [arg for path in base_runs for arg in ("--baseline", str(path))]
        code = cli.main([*map(str, head_runs), *baseline, "--out", str(args.out),
                         "--threshold", str(args.threshold)])
    verdict = {0: "no gated regression", 1: "REGRESSED against the base", 2: "bad input"}.get(code, "failed")
    print(f"reporting.ab: {verdict} (head vs {args.base}, {args.pairs} pairs; report in {args.out}/)")
    return code


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    signal.signal(signal.SIGTERM, _terminate)
    try:
        return run(args)
    except BadInput as exc:
        print(f"reporting.ab: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001
        print(f"reporting.ab: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_INTERNAL


if __name__ == "__main__":
    sys.exit(main())
