"""Offline check of make compare's decision rule on stored processes of one commit (A/A data).

    python -m reporting.validate_ab RUN.json RUN.json ... [--per-side K ...] [--threshold PCT] [--trials N]

RUN.json: fresh quick-set processes of one commit, taken as make compare takes them
(reporting.ab.SHORT_ARGS). Each trial draws two disjoint random sets of processes as base and
head, and decides every benchmark as reporting.ab does, looking after each round from
MIN_PROCESSES, every LOOK_EVERY more and at K a side (a "slower" at any look counts, as it would
stop the run):

- false alarms: the share of trials in which a benchmark is called slower, per benchmark;
- detection: the same with one benchmark's head values scaled by 1 + s (s = 10, 15, 25%), one
  benchmark at a time, and the share called slower, or at least not "same".

Prints a Markdown table (docs/regression-gate.md has the one measured here).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from reporting.ab import MIN_PROCESSES, fastest_rounds, looks_at
from reporting.sequential import decide

SLOWDOWNS = (0.10, 0.15, 0.25)


def looks(base: np.ndarray, head: np.ndarray, threshold: float) -> str:
    """The verdict a sequential run reaches: the first decided one over looks MIN_PROCESSES..K a side."""
    verdict = "undecided"
    for n in range(MIN_PROCESSES, len(base) + 1):
        if not (looks_at(n) or n == len(base)):  # as reporting.ab: every LOOK_EVERY rounds, and at the end
            continue
        verdict = decide("b", list(base[:n]), list(head[:n]), threshold).verdict
        if verdict != "undecided":
            return verdict
    return verdict


def evaluate(values: dict[str, np.ndarray], per_side: int, threshold: float, trials: int, seed: int = 0) -> dict:
    """{benchmark: {"false_alarm": rate, "same": rate, 0.1: (slower rate, not-same rate), ...}}."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(values.values())))
    out: dict[str, dict] = {name: {"false_alarm": 0, "same": 0, **{s: [0, 0] for s in SLOWDOWNS}} for name in values}
    for _ in range(trials):
        order = rng.permutation(n)
        a, b = order[:per_side], order[per_side:2 * per_side]
        for name, v in values.items():
            verdict = looks(v[a], v[b], threshold)
            out[name]["false_alarm"] += verdict == "slower"
            out[name]["same"] += verdict == "same"
            for s in SLOWDOWNS:
                verdict = looks(v[a], v[b] * (1 + s), threshold)
                out[name][s][0] += verdict == "slower"
                out[name][s][1] += verdict != "same"
    for row in out.values():
        row["false_alarm"] /= trials
        row["same"] /= trials
        for s in SLOWDOWNS:
            row[s] = (row[s][0] / trials, row[s][1] / trials)
    return out


def table(rows: dict[str, dict], per_side: int) -> str:
    head = (f"| benchmark ({per_side} processes a side at most) | false 'slower' (A/A) | 'same' (A/A) | "
            + " | ".join(f"+{s:.0%}: slower / not same" for s in SLOWDOWNS) + " |")
    lines = [head, "|" + "---|" * (3 + len(SLOWDOWNS))]
    for name, r in sorted(rows.items()):
        cells = " | ".join(f"{r[s][0]:.0%} / {r[s][1]:.0%}" for s in SLOWDOWNS)
        lines.append(f"| {name.split('::')[-1]} | {r['false_alarm']:.1%} | {r['same']:.0%} | {cells} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m reporting.validate_ab", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--per-side", type=int, nargs="+", default=[8])
    p.add_argument("--threshold", type=float, default=10.0)
    p.add_argument("--trials", type=int, default=400)
    args = p.parse_args(argv)
    per_run = [fastest_rounds(path) for path in args.runs]
    names = sorted(set.intersection(*(set(r) for r in per_run)))
    values = {name: np.array([r[name] for r in per_run]) for name in names}
    for k in args.per_side:
        if 2 * k > len(per_run):
            print(f"validate_ab: {k} a side needs {2 * k} runs, {len(per_run)} given", file=sys.stderr)
            return 2
        print(table(evaluate(values, k, args.threshold, args.trials), k) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
