"""Offline check of make compare's decision rule on stored processes of one commit (A/A data).

    python -m reporting.validate_ab RUN.json RUN.json ... [--per-side K ...] [--threshold PCT] [--trials N]
        [--confidence C] [--save FILE]
    python -m reporting.validate_ab AA-SET.json [--per-side K ...]   (a set written by --save)

RUN.json: fresh quick-set processes of one commit, taken as make compare takes them
(reporting.processes.SHORT_ARGS). Each trial draws two disjoint random sets of processes as base and
head, and decides every benchmark as reporting.ab does, looking after each round from
MIN_PROCESSES, every LOOK_EVERY more and at K a side (a decision at any look stops, as it would in
the run; a "slower" is then confirmed, or not, by CONFIRM_PROCESSES more processes a side drawn
from the rest, and by as many again when those read above the threshold, as reporting.ab does
when its budget allows: the model assumes it always does):

- false alarms: the share of trials in which a benchmark is called slower, per benchmark;
- detection: the same with one benchmark's head values scaled by 1 + s (s = 10, 15, 25%), one
  benchmark at a time, and the share called slower, or at least not "same".

With --instructions AA.json (reporting/instructions.py's A/A file: counting runs of one commit),
each trial also draws two distinct counting processes as base and head, and a benchmark counted
there is slower when its head count (scaled by 1 + s for a slow-down) is above base by more than
--instructions-threshold: the columns then give time alone, instructions alone and either (the
verdict make compare gives from both). A slow-down is modelled as more work for instructions: one
that comes from the same instructions running slower shows in time only.

Prints a Markdown table (docs/regression-gate.md has the one measured here).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from reporting import BadInput
from reporting.ab import fastest_rounds
from reporting.instructions import read_aa
from reporting.rounds import MIN_PROCESSES, looks_at
from reporting.sequential import CONFIDENCE, CONFIRM_PROCESSES, CONFIRM_STAGES, another_stage, confirm, decide, settle

SLOWDOWNS = (0.10, 0.15, 0.25)
MORE = CONFIRM_STAGES * CONFIRM_PROCESSES  # confirming processes a side a split may need


def looks(base: np.ndarray, head: np.ndarray, threshold: float, duet: bool = False,
          confidence: float = CONFIDENCE, more: tuple[np.ndarray, np.ndarray] | None = None,
          stages: int = CONFIRM_STAGES) -> str:
    """The verdict a sequential run reaches: the first decided one over looks MIN_PROCESSES..K a side,
    a "slower" settled by the confirming processes `more` (base, head; None: not confirmed)."""
    verdict = "undecided"
    for n in range(MIN_PROCESSES, len(base) + 1):
        if not (looks_at(n, duet) or n == len(base)):  # as reporting.ab: every LOOK_EVERY rounds, and at the end
            continue
        first = decide("b", list(base[:n]), list(head[:n]), threshold, confidence)
        verdict = first.verdict
        if verdict == "slower":
            more_base, more_head = (list(more[0]), list(more[1])) if more is not None else ([], [])
            m = CONFIRM_PROCESSES
            c = confirm(first, more_base[:m], more_head[:m])
            while another_stage(c, threshold) and m < min(len(more_base), stages * CONFIRM_PROCESSES):
                m += CONFIRM_PROCESSES
                c = confirm(first, more_base[:m], more_head[:m])
            pooled = decide("b", list(base[:n]) + more_base[:m], list(head[:n]) + more_head[:m], threshold,
                            confidence)
            return settle(pooled, c).verdict
        if verdict != "undecided":
            return verdict
    return verdict


def evaluate(values: dict[str, np.ndarray], per_side: int, threshold: float, trials: int, seed: int = 0,
             counts: dict[str, np.ndarray] | None = None, count_threshold: float = 5.0, duet: bool = False,
             confidence: float = CONFIDENCE, stages: int = CONFIRM_STAGES) -> dict:
    """{benchmark: {"false_alarm": rate, "same": rate, s: (slower rate, not-same rate), ("both", s):
    rate of either signal slower}}; s = 0 is the A/A false alarm of either signal."""
    rng = np.random.default_rng(seed)
    n = len(next(iter(values.values())))
    if n < 2 * (per_side + MORE):
        raise ValueError(f"{per_side} a side and {MORE} more to confirm need {2 * (per_side + MORE)} processes, {n} given")
    counts = counts or {}
    out: dict[str, dict] = {name: {"false_alarm": 0, "same": 0, **{s: [0, 0] for s in SLOWDOWNS},
                                   **{("both", s): 0 for s in (0.0, *SLOWDOWNS)},
                                   **{("count", s): 0 for s in (0.0, *SLOWDOWNS)}, "resolvable": []} for name in values}
    for _ in range(trials):
        order = rng.permutation(n)
        a, b = order[:per_side], order[per_side:2 * per_side]
        more_a, more_b = order[2 * per_side:2 * per_side + MORE], order[2 * per_side + MORE:2 * (per_side + MORE)]
        for name, v in values.items():
            row = out[name]
            pair = rng.choice(len(counts[name]), 2, replace=False) if name in counts else None
            row["resolvable"].append(decide("b", list(v[a]), list(v[b]), threshold, confidence).resolvable_pct)
            for s in (0.0, *SLOWDOWNS):
                verdict = looks(v[a], v[b] * (1 + s), threshold, duet, confidence, (v[more_a], v[more_b] * (1 + s)),
                                stages)
                counted = pair is not None and (
                    counts[name][pair[1]] * (1 + s) / counts[name][pair[0]] - 1) * 100 > count_threshold
                row["count", s] += counted
                row["both", s] += verdict == "slower" or counted
                if s == 0.0:
                    row["false_alarm"] += verdict == "slower"
                    row["same"] += verdict == "same"
                else:
                    row[s][0] += verdict == "slower"
                    row[s][1] += verdict != "same"
    for row in out.values():
        widths = [w for w in row.pop("resolvable") if w is not None]
        for key in list(row):
            row[key] = (row[key][0] / trials, row[key][1] / trials) if isinstance(row[key], list) else row[key] / trials
        row["resolvable"] = float(np.median(widths)) if widths else None
    return out


def table(rows: dict[str, dict], per_side: int, counted: set[str] | None = None) -> str:
    if counted is not None:
        return both_table(rows, per_side, counted)
    head = (f"| benchmark ({per_side} processes a side at most) | false 'slower' (A/A) | 'same' (A/A) | "
            + " | ".join(f"+{s:.0%}: slower / not same" for s in SLOWDOWNS) + " |")
    lines = [head, "|" + "---|" * (3 + len(SLOWDOWNS))]
    for name, r in sorted(rows.items()):
        cells = " | ".join(f"{r[s][0]:.0%} / {r[s][1]:.0%}" for s in SLOWDOWNS)
        lines.append(f"| {name.split('::')[-1]} | {r['false_alarm']:.1%} | {r['same']:.0%} | {cells} |")
    return "\n".join(lines)


def both_table(rows: dict[str, dict], per_side: int, counted: set[str]) -> str:
    """Time, instructions and either, per benchmark; the last line counts those caught in 80%."""
    head = (f"| benchmark ({per_side} processes a side at most) | time resolvable at {per_side} (median) | "
            "false 'slower' (A/A): time / either | "
            + " | ".join(f"+{s:.0%} slower: time / instructions / either" for s in SLOWDOWNS) + " |")
    lines = [head, "|" + "---|" * (3 + len(SLOWDOWNS))]
    for name, r in sorted(rows.items()):
        cells = " | ".join(f"{r[s][0]:.0%} / {r['count', s]:.0%} / {r['both', s]:.0%}" if name in counted
                           else f"{r[s][0]:.0%} / not counted / {r['both', s]:.0%}" for s in SLOWDOWNS)
        width = f"{r['resolvable']:.1f}%" if r["resolvable"] is not None else "-"
        lines.append(f"| {name.split('::')[-1]} | {width} | {r['false_alarm']:.1%} / {r['both', 0.0]:.1%} | {cells} |")
    caught = {s: sum(r["both", s] >= 0.8 for r in rows.values()) for s in SLOWDOWNS}
    lines.append("\nCaught in at least 80% of the splits by either signal: " + ", ".join(
        f"+{s:.0%}: {caught[s]} of {len(rows)}" for s in SLOWDOWNS) + "; largest false 'slower' by either: "
        f"{max(r['both', 0.0] for r in rows.values()):.1%}.")
    return "\n".join(lines)


def instruction_counts(path: Path) -> dict[str, np.ndarray]:
    """{benchmark: every counting process's instructions per step} from an instruction A/A file."""
    runs = [run for pair in read_aa(path) for run in pair]
    names = set.intersection(*(set(run) for run in runs))
    return {name: np.array([run[name] for run in runs]) for name in names}


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
    p.add_argument("--instructions", type=Path, metavar="AA.json",
                   help="an instruction A/A file (python -m reporting.instructions --aa): judge both signals")
    p.add_argument("--instructions-threshold", type=float, default=5.0)
    p.add_argument("--confidence", type=float, default=CONFIDENCE,
                   help=f"the intervals' confidence (default make compare's {CONFIDENCE}): what a laxer one would cost")
    p.add_argument("--duet", action="store_true", help="look as make compare --duet does (even rounds from 8 on)")
    p.add_argument("--confirm-stages", type=int, choices=range(1, CONFIRM_STAGES + 1), default=CONFIRM_STAGES,
                   help=f"confirming stages allowed (default make compare's {CONFIRM_STAGES}): 1 is the rule before "
                        "a second stage")
    p.add_argument("--save", type=Path, metavar="FILE",
                   help="also write the processes' values (one fastest round per benchmark each) to FILE, "
                        "a compact A/A set that this command reads back in place of the RUN.json files")
    args = p.parse_args(argv)
    if not 0.5 < args.confidence < 1:
        print(f"validate_ab: error: --confidence: expected a number between 0.5 and 1, got {args.confidence:g}",
              file=sys.stderr)
        return 2
    try:
        per_run = processes(args.runs)
        counts = instruction_counts(args.instructions) if args.instructions else None
    except (BadInput, OSError, ValueError, KeyError) as exc:
        print(f"validate_ab: error: {exc}", file=sys.stderr)
        return 2
    if args.save:
        save(args.save, args.runs, per_run)
    names = sorted(set.intersection(*(set(r) for r in per_run)))
    values = {name: np.array([r[name] for r in per_run]) for name in names}
    for k in args.per_side:
        if 2 * (k + MORE) > len(per_run):
            print(f"validate_ab: {k} a side needs {2 * (k + MORE)} runs (up to {MORE} more a side "
                  f"to confirm a 'slower'), {len(per_run)} given", file=sys.stderr)
            return 2
        rows = evaluate(values, k, args.threshold, args.trials, counts=counts,
                        count_threshold=args.instructions_threshold, duet=args.duet, confidence=args.confidence,
                        stages=args.confirm_stages)
        print(table(rows, k, set(counts) & set(values) if counts is not None else None) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
