"""The A/B's second signal: instructions per step, counted by callgrind once a side (benchmarks/instructions.py).

A count barely moves between fresh processes of one commit (the A/A noise, stored per machine in
baselines/ab-aa/instructions-*.json by `python -m reporting.instructions --aa`), so one process a
side is enough: head vs base changes by more than the threshold (default 5%) -> slower / faster;
within it -> same. Both sides are counted at the same time, one core each: valgrind runs a
process on one thread, and a count does not depend on the load beside it.

What a count cannot see (docs/regression-gate.md): memory stalls, threading, GPU work, waiting.
Inductor-compiled cases (torch-compile) are not counted (benchmarks/modes.py `uncounted`): time only.

    python -m reporting.instructions --aa OUT.json [--pairs 5] -- PYTEST ARGS   (the A/A noise file)
    python -m reporting.instructions --aa OUT.json --from-ab DIR1/ab.json ... -- PYTEST ARGS
        (the same from A/A runs of make compare, `BASE=HEAD AB_ARGS="--out DIRn"`: each run's base,
        counted in a worktree under the temporary folder, against its head, counted in the checkout)
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from reporting import ROOT, BadInput
from reporting.escape import for_terminal

THRESHOLD_PCT = 5.0
AA_GLOB = "baselines/ab-aa/instructions-*.json"


@dataclass
class Count:
    name: str
    verdict: str  # slower | faster | same
    change_pct: float
    base: float  # instructions per step
    head: float


def count_sides(trees: dict[str, Path], pytest_args: list[str], folder: Path, timeout: float
                ) -> tuple[dict[str, dict[str, float]], str]:
    """Both sides counted at once ({side: {node id: instructions per step}}, ""), or ({}, why not).
    Counting that reaches `timeout` is stopped: then the benchmarks both sides had finished, and a
    note saying so ({} if there are none)."""
    from benchmarks import instructions

    extra, alike = dispatch_alike(trees)
    procs, dumps, logs, stopped = {}, [], {}, ""
    try:
        for side, tree in trees.items():
            logs[side] = open(folder / f"count-{side}.log", "w", encoding="utf8")
            proc, dump = instructions.start(folder / f"count-{side}.json", ["benchmarks", *pytest_args, *extra[side]],
                                            tree, stdout=logs[side], stderr=subprocess.STDOUT, start_new_session=True)
            procs[side] = proc
            dumps.append(dump)
        deadline = time.monotonic() + timeout
        codes = {side: proc.wait(timeout=max(1.0, deadline - time.monotonic())) for side, proc in procs.items()}
    except instructions.Unavailable as exc:
        return {}, str(exc)
    except subprocess.TimeoutExpired:
        stopped = f"counting was stopped at its share of the budget ({timeout:.0f} s)"
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        for log in logs.values():
            log.close()
        for dump in dumps:
            shutil.rmtree(dump, ignore_errors=True)
    if stopped:
        sides, note = finished(trees, folder, stopped)
        return sides, "; ".join(filter(None, (note, alike))) if sides else note
    failed = [side for side, code in codes.items() if code != 0]
    if failed:
        return {}, (f"the counting run of {' and '.join(failed)} exited {codes[failed[0]]} "
                    f"(an older base may lack --count-instructions; log: {folder}/count-{failed[0]}.log)")
    return {side: instructions.read(folder / f"count-{side}.json") for side in trees}, alike


def count_instructions(trees: dict[str, Path], args: argparse.Namespace, folder: Path) -> tuple[dict[str, Count], str]:
    """Each side's instructions per step, head vs base ({node id: Count}), or ({}, why none)."""
    if args.signals == "time":
        return {}, ""
    share = min(args.count_budget, args.budget - args.paired)  # the paired stage's share is kept from it
    print(f"reporting.ab: counting instructions under callgrind, both sides at once (at most {share:g} s)", flush=True)
    sides, why = count_sides(trees, args.pytest_args, folder, share)
    if not sides:
        print(for_terminal(f"reporting.ab: instructions not compared: {why}"), flush=True)
        return {}, why
    counts = {c.name: c for c in compare(sides["base"], sides["head"], args.instructions_threshold)}
    print(f"reporting.ab: instructions counted for {len(counts)} benchmarks: " + ", ".join(
        f"{sum(c.verdict == v for c in counts.values())} {v}" for v in ("slower", "faster", "same"))
        + (for_terminal(f" ({why})") if why else ""), flush=True)
    return counts, why


def dispatch_alike(trees: dict[str, Path]) -> tuple[dict[str, list[str]], str]:
    """Both sides counted with JAX's computations where the older one runs them: a tree that predates
    --jax-dispatch (inline by default under counting) counts with JAX's async dispatch, and so must the other
    ({side: extra pytest args}, a note; no args and no note when both have the option)."""
    from reporting.processes import has_option

    older = [side for side, tree in trees.items() if not has_option(tree, "--jax-dispatch")]
    if not older:
        return {side: [] for side in trees}, ""
    return ({side: [] if side in older else ["--jax-dispatch=async"] for side in trees},
            f"the {' and '.join(older)} predates --jax-dispatch: both sides counted with JAX's async "
            "dispatch, whose counts of small JAX steps move by up to 1.8% between processes of one commit")


def finished(trees: dict[str, Path], folder: Path, stopped: str) -> tuple[dict[str, dict[str, float]], str]:
    """What stopped counting runs had written: the benchmarks both sides finished, and a note."""
    from benchmarks import instructions

    sides = {}
    for side in trees:
        path = folder / f"count-{side}.json"
        try:
            sides[side] = instructions.read(path) if path.exists() else {}
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            sides[side] = {}
    both = set.intersection(*(set(counts) for counts in sides.values()))
    if not both:
        return {}, f"{stopped} before both sides had counted a benchmark: not compared"
    return ({side: {name: value for name, value in counts.items() if name in both} for side, counts in sides.items()},
            f"{stopped}: {len(both)} benchmarks counted on both sides, the others by time alone, where timed")


def compare(base: dict[str, float], head: dict[str, float], threshold: float = THRESHOLD_PCT) -> list[Count]:
    """Per benchmark counted on both sides: head vs base, and its word at `threshold` percent."""
    out = []
    for name in sorted(base.keys() & head.keys()):
        change = (head[name] / base[name] - 1) * 100
        verdict = "slower" if change > threshold else "faster" if change < -threshold else "same"
        out.append(Count(name, verdict, change, base[name], head[name]))
    return out


def read_aa(path: Path) -> list[list[dict[str, float]]]:
    """An instruction A/A file's pairs of counting processes ([[{node id: count}, {...}], ...])."""
    try:
        pairs = json.loads(path.read_text(encoding="utf8"))["pairs"]
        out = [[{str(k): float(v) for k, v in run.items()} for run in pair] for pair in pairs]
        if not out or any(len(pair) != 2 or not all(pair) or min(min(run.values()) for run in pair) <= 0 for pair in out):
            raise ValueError("a pair is not two runs of positive counts")
        return out
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise BadInput(path, f"not an instruction A/A file ({{'pairs': [[{{node id: count}}, {{...}}], ...]}}: {exc})") from None


def aa_noise(root: Path = ROOT) -> tuple[dict[str, float], str]:
    """Per benchmark, the largest A/A difference (%) in the stored noise files, and their names."""
    noise: dict[str, float] = {}
    files = sorted(root.glob(AA_GLOB))
    for path in files:
        for base, head in read_aa(path):
            for name in base.keys() & head.keys():
                noise[name] = max(noise.get(name, 0.0), abs(head[name] / base[name] - 1) * 100)
    return noise, ", ".join(p.relative_to(root).as_posix() for p in files)


def record_aa(out: Path, pairs: int, pytest_args: list[str]) -> int:
    """`pairs` pairs of counting runs of this tree, both of a pair at once: the A/A noise file,
    rewritten after each pair (a stopped recording keeps the pairs it finished)."""
    done: list[list[dict[str, float]]] = []
    with tempfile.TemporaryDirectory(prefix="instructions-aa-") as tmp:
        for number in range(pairs):
            folder = Path(tmp) / str(number)
            folder.mkdir()
            counts, why = count_sides({"a": ROOT, "b": ROOT}, pytest_args, folder, timeout=3600)
            if why:  # stopped, even with some benchmarks counted: a pair counts them all
                raise BadInput(out, f"pair {number + 1}: {why}")
            done.append([counts["a"], counts["b"]])
            save_aa(out, done, pytest_args)
            worst = max(abs(counts["b"][k] / counts["a"][k] - 1) * 100 for k in counts["a"].keys() & counts["b"].keys())
            print(f"reporting.instructions: pair {number + 1} of {pairs}: {len(counts['a'])} benchmarks, "
                  f"largest difference {worst:.3f}%", flush=True)
    return 0


def pairs_of_ab(files: list[Path]) -> list[list[dict[str, float]]]:
    """[[{node id: base count}, {node id: head count}], ...]: one pair per make compare result that has counts."""
    pairs = []
    for path in files:
        try:
            decisions = json.loads(path.read_text(encoding="utf8"))["decisions"]
            counted = [d["instructions"] for d in decisions if d.get("instructions")]
            pair = [{str(c["name"]): float(c[side]) for c in counted} for side in ("base", "head")]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BadInput(path, f"not a make compare result with instruction counts (ab.json): {exc}") from None
        if not counted:
            raise BadInput(path, "no instruction counts in it (run with --signals both or instructions)")
        pairs.append(pair)
    return pairs


def save_aa(out: Path, pairs: list[list[dict[str, float]]], pytest_args: list[str]) -> None:
    partial = out.with_name(f".{out.name}.tmp")
    partial.write_text(json.dumps({"pytest_args": pytest_args, "pairs": pairs}, indent=1, sort_keys=True) + "\n",
                       encoding="utf8")
    partial.replace(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m reporting.instructions", description=__doc__.split("\n")[0])
    p.add_argument("--aa", type=Path, required=True, metavar="OUT.json", help="write the A/A noise file here")
    p.add_argument("--pairs", type=int, default=5)
    p.add_argument("--from-ab", type=Path, nargs="+", metavar="AB.json",
                   help="no counting: the pairs are these A/A make compare results' base and head counts")
    p.add_argument("pytest_args", nargs="*", metavar="PYTEST ARGS")
    args = p.parse_args(argv)
    try:
        if args.aa.exists():
            raise BadInput(args.aa, "exists: choose a new file")
        if args.from_ab:
            pairs = pairs_of_ab(args.from_ab)
            save_aa(args.aa, pairs, args.pytest_args)
            print(f"reporting.instructions: {len(pairs)} pairs from make compare results -> {args.aa}")
            return 0
        return record_aa(args.aa, args.pairs, args.pytest_args)
    except BadInput as exc:
        print(f"reporting.instructions: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
