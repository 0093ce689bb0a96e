"""Do make bench's JAX/PyTorch verdicts contradict each other? Checked offline on stored processes.

    python -m reporting.validate_ratios baselines/ab-aa/amd-epyc-2cpu-2026-12-02.json [--per-run 8] [--trials 20]

The stored A/A set (reporting/validate_ab.py's format: fresh quick-set processes of one commit, one
fastest round per benchmark each) is split at random into disjoint groups of --per-run processes,
as many make bench runs; each group judges every JAX/PyTorch pair as report.py does
(reporting/ratios.py). A contradiction is one group saying "JAX faster" where another says
"PyTorch faster" for the same pair. Prints the contradictions and the share of decided verdicts.
"""
from __future__ import annotations

import argparse
import itertools
import random
import sys
from pathlib import Path

import numpy as np

from reporting import EXIT_BAD_INPUT, BadInput, ratios
from reporting.args import Parser, positive_int
from reporting.tables import PAIRINGS
from reporting.validate_ab import processes

DECIDED = ("JAX faster", "PyTorch faster", "same")



def pairs(names: list[str]) -> list[tuple[int, int, str]]:
    """(JAX column, PyTorch column, label) of every pairing the stored benchmarks allow."""
    index = {name.split("::")[-1]: i for i, name in enumerate(names)}
    out = []
    for jax_mode, torch_mode in PAIRINGS:
        for name, i in index.items():
            twin = name.replace(f"[jax-{jax_mode}-", f"[torch-{torch_mode}-")
            if twin != name and twin in index:
                out.append((i, index[twin], f"{name.split('[')[0]} {jax_mode}/{torch_mode}"))
    return out


def verdicts(values: np.ndarray, group: list[int], judged: list[tuple[int, int, str]]) -> dict[str, str]:
    out = {}
    for j, t, label in judged:
        _, low, high = ratios.judge(list(values[group, j]), list(values[group, t]))
        out[label] = ratios.word(low, high, len(group))
    return out


def check(values: np.ndarray, names: list[str], per_run: int, trials: int, seed: int = 0) -> dict:
    judged, rng = pairs(names), random.Random(seed)
    contradictions = compared = decided = said = 0
    for _ in range(trials):
        order = list(range(len(values)))
        rng.shuffle(order)
        runs = [verdicts(values, order[i:i + per_run], judged) for i in range(0, len(order) - per_run + 1, per_run)]
        for a, b in itertools.combinations(runs, 2):
            compared += len(a)
            contradictions += sum({a[k], b[k]} == {"JAX faster", "PyTorch faster"} for k in a)
        decided += sum(word in DECIDED for run in runs for word in run.values())
        said += sum(len(run) for run in runs)
    return {"pairs": len(judged), "contradictions": contradictions, "compared": compared,
            "decided_share": decided / said if said else 0.0}


def main(argv: list[str] | None = None) -> int:
    p = Parser(prog="python -m reporting.validate_ratios", description=__doc__.split("\n")[0])
    p.add_argument("aa_set", type=Path)
    p.add_argument("--per-run", type=positive_int, default=8, help="processes a make bench run has (default 8)")
    p.add_argument("--trials", type=positive_int, default=20, help="random splits (default 20)")
    args: argparse.Namespace = p.parse_args(argv)
    try:
        per_run = processes([args.aa_set])
    except (BadInput, OSError, KeyError, ValueError) as exc:
        print(f"reporting.validate_ratios: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    names = sorted(per_run[0])
    values = np.array([[run[n] for n in names] for run in per_run], dtype=float)
    r = check(values, names, args.per_run, args.trials)
    print(f"{r['pairs']} JAX/PyTorch pairs, runs of {args.per_run} processes: {r['contradictions']} contradictions "
          f"in {r['compared']} comparisons of two runs; {r['decided_share']:.0%} of the verdicts decided")
    return 0


if __name__ == "__main__":
    sys.exit(main())
