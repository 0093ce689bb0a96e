"""Offline check of make compare's decision rule on stored processes of one commit (A/A data).

    python -m reporting.validate_ab RUN.json RUN.json ... [--per-side K ...] [--threshold PCT] [--trials N] [--save FILE]
    python -m reporting.validate_ab AA-SET.json [--per-side K ...]   (a set written by --save)

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
import json
import sys
from pathlib import Path

import numpy as np

from reporting import BadInput
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


def processes(paths: list[Path]) -> list[dict[str, float]]:
    """One {benchmark: fastest round} per process: from pytest-benchmark JSON files, or from one
    compact A/A set written by --save. Processes that measured fewer benchmarks than the fullest
    (make compare's later rounds measure only the undecided) are left out, and the count said."""
    try:
        stored = json.loads(paths[0].read_text(encoding="utf8")) if len(paths) == 1 else {}
    except ValueError as exc:
        raise BadInput(paths[0], f"not JSON ({exc})") from None
    if "processes" in stored:
        names = stored["benchmarks"]
        per_run = [dict(zip(names, values, strict=True)) for values in stored["processes"]]
    else:
        per_run = [fastest_rounds(path) for path in paths]
    full = max(len(r) for r in per_run)
    kept = [r for r in per_run if len(r) == full]
    if len(kept) < len(per_run):
        print(f"validate_ab: {len(per_run) - len(kept)} of {len(per_run)} processes measured only part of the "
              f"selection and are left out; {len(kept)} kept", file=sys.stderr)
    return kept


def save(target: Path, paths: list[Path], per_run: list[dict[str, float]]) -> None:
    """The A/A set as one small JSON: the benchmarks' names once, then each process's values in that
    order, with the machine and commit they came from."""
    first = json.loads(paths[0].read_text(encoding="utf8"))
    info = first.get("machine_info", {})
    names = sorted(per_run[0])
    meta = {"what": "fresh quick-set processes of one commit, as make compare runs them; per process, each "
                    "steady benchmark's fastest round in seconds",
            "commit": first.get("commit_info", {}).get("id"), "datetime": first.get("datetime"),
            "machine": {k: info.get(k) for k in ("node", "machine", "processor", "cpu", "python_version", "jax",
                                                 "torch", "numpy")},
            "benchmarks": names}
    rows = (json.dumps([values[n] for n in names]) for values in per_run)  # one process a line
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(json.dumps(meta)[:-1] + ',\n "processes": [\n' + ",\n".join(rows) + "\n]}\n", encoding="utf8")
    tmp.replace(target)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m reporting.validate_ab", description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="+", type=Path)
    p.add_argument("--per-side", type=int, nargs="+", default=[8])
    p.add_argument("--threshold", type=float, default=10.0)
    p.add_argument("--trials", type=int, default=400)
    p.add_argument("--save", type=Path, metavar="FILE",
                   help="also write the processes' values (one fastest round per benchmark each) to FILE, "
                        "a compact A/A set that this command reads back in place of the RUN.json files")
    args = p.parse_args(argv)
    try:
        per_run = processes(args.runs)
    except (BadInput, OSError, ValueError, KeyError) as exc:
        print(f"validate_ab: error: {exc}", file=sys.stderr)
        return 2
    if args.save:
        save(args.save, args.runs, per_run)
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
