"""Ping-pong: two processes taking turns on the machine, and how much of a busy host's noise cancels.

A measurement of the noise's structure, and a paired A/B of one workload (docs/regression-gate.md,
"Measured: taking turns"; make compare's --paired stage, paired_stage() below, judges the MLP
train steps the same way, several steps a pair). PAIRS pairs of fresh processes, one
of the base tree and one of this tree, each build one workload's steady CPU step
(benchmarks/pingpong.py, run in its side's tree), warm it up, then take turns: one side times a
window of WINDOW seconds (its fastest synced step in it, as make compare's processes keep the
fastest round), then the other at once, TURNS times, in a random order within each turn; the
machine is never idle between a turn's two windows. Without --base both sides are this tree (an
A/A). It prints, as standard deviations of log time:

- one window a process, unpaired (what make compare's processes give each benchmark today);
- the fastest of a process's windows, unpaired;
- the difference of a turn's two windows;
- each pair's median of those differences, between pairs (what the paired judgement uses);

the smallest change each way of judging resolves on these processes (half its 99.9% interval,
as make compare's "resolvable"): make compare's unpaired interval over one window a process (7
pairs or more), the paired signed-rank interval over one turn a pair and over each pair's median
of its turns (11 pairs or more); and the paired verdict, head against base: slower, faster, same
or undecided (reporting/sequential.decide_paired, --threshold).

    python -m reporting.pingpong [--base REF] --framework torch --mode eager --pairs 12 --turns 5 \\
        [--window 0.2] [--gap 1.0] [--one-thread] [--out FILE]
    python -m reporting.pingpong --validate AA.json ... [--pairs 12] [--threshold 3] [--trials 1000]

--validate checks the paired verdict offline on stored A/A runs (--out files of one commit
against itself): each trial draws PAIRS of a file's pairs, swaps each pair's sides at random (an
A/A's sides are exchangeable), and decides; the table gives the share of trials called slower
(false alarms), faster, same and undecided, and, with head made 5% and 10% slower, the share
called slower.

--gap leaves GAP seconds idle between the two windows of a turn (how fast the pairing decays);
--one-thread pins both sides to core 0 with one thread each (make compare's duet variables).
Exit 0 whatever the verdict (this is a measurement, not a gate), 2 on bad input.
"""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from benchmarks.pingpong import MODES, SIZES, WORKLOADS
from reporting import BadInput
from reporting.sequential import CONFIDENCE, Decision, decide_paired, paired_shift, shift

ROOT = Path(__file__).resolve().parent.parent
CHILD = ROOT / "benchmarks" / "pingpong.py"  # this tree's child, run in each side's tree
WORDS = ("slower", "faster", "same", "undecided")


Case = tuple[str, str, str, float]  # workload, framework, mode, window seconds


def pair(trees: list[Path], names: list[str], cases: list[Case], turns: int, rng: random.Random,
         one_thread: bool = False, gap: float = 0.0, caches: list[Path | None] | None = None) -> list[list[list[float]]]:
    """One pair of fresh processes (base, head: trees, named in errors by names) taking turns, each
    building every case: per case, [[base, head] per turn], each side's fastest step in its window.
    A turn times every case once a side, the sides in a random order case by case. With `caches`
    (a folder a side), each side's JAX compilation cache: the same compiled code, loaded instead of
    compiled once a side's first process has filled it, so a pair starts sooner. Once the last
    window is read the sides are killed: they have nothing left to say, and their exit is slow."""
    env = dict(os.environ)
    pin: list[str] = []
    if one_thread:
        from benchmarks.instructions import ONE_THREAD

        env.update(ONE_THREAD)
        pin = ["taskset", "-c", "0"]
    cmd = [*pin, sys.executable, str(CHILD), *(":".join(map(str, case)) for case in cases)]
    with contextlib.ExitStack() as stack:
        errors = [stack.enter_context(tempfile.TemporaryFile("w+")) for _ in trees]  # a side's stderr, for its last line
        sides = [subprocess.Popen(cmd, cwd=tree, env={**env, **compile_cache(cache)}, stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, stderr=err, text=True)
                 for tree, err, cache in zip(trees, errors, caches or [None] * len(trees), strict=True)]

        def line(i: int, what: str) -> str:  # the side's next line, or one line saying why it has none
            text = sides[i].stdout.readline()  # type: ignore[union-attr]
            if text:
                return text
            errors[i].seek(0)
            last = (errors[i].read().strip().splitlines() or ["no output"])[-1]
            raise BadInput(names[i], f"its ping-pong side {what} (exit {sides[i].wait()}: {last})")
        try:
            for i in range(len(sides)):
                if line(i, "did not start").strip() != "ready":
                    raise BadInput(names[i], "its ping-pong side did not say 'ready'")
            result: list[list[list[float]]] = [[] for _ in cases]
            for _ in range(turns):
                for c in range(len(cases)):
                    turn = [0.0, 0.0]
                    for n, i in enumerate(rng.sample([0, 1], 2)):
                        if n and gap:
                            time.sleep(gap)
                        sides[i].stdin.write(f"go {c}\n")  # type: ignore[union-attr]
                        sides[i].stdin.flush()  # type: ignore[union-attr]
                        turn[i] = float(line(i, "stopped while timing"))
                    result[c].append(turn)
            return result
        finally:
            for side in sides:
                with contextlib.suppress(OSError):
                    side.stdin.close()  # type: ignore[union-attr]
                side.kill()
                side.wait()


def compile_cache(folder: Path | None) -> dict[str, str]:
    """The environment that gives a side's process JAX's persistent compilation cache in `folder`
    (benchmarks' own settings, as variables), or none. JAX reads them at import, whatever the tree's code."""
    if folder is None:
        return {}
    from benchmarks.plugin.session import jax_cache_settings

    return {name.upper(): str(value).lower() if isinstance(value, bool) else str(value)
            for name, value in jax_cache_settings(folder).items()}


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


def differences(pairs: list[list[list[float]]]) -> list[float]:
    """Each pair's median over its turns of log(head) - log(base): the paired values judged."""
    return [statistics.median(math.log(b) - math.log(a) for a, b in turns) for turns in pairs]


def resolvable(pairs: list[list[list[float]]]) -> dict[str, float | None]:
    """The smallest change (%) each way of judging resolves on these pairs, half its 99.9% interval
    (None: too few pairs): unpaired over one window a process, paired over one turn a pair, and
    paired over each pair's median of all its turns."""
    def half_width(estimate_low_high: tuple[float, float | None, float | None]) -> float | None:
        _, low, high = estimate_low_high
        return None if low is None or high is None else 100 * (math.expm1(high) - math.expm1(low)) / 2
    return {"unpaired_one_window": half_width(shift([t[0][0] for t in pairs], [t[0][1] for t in pairs])),
            "paired_one_turn": half_width(paired_shift([math.log(t[0][1]) - math.log(t[0][0]) for t in pairs])),
            "paired_all_turns": half_width(paired_shift(differences(pairs)))}


def validate(pairs: list[list[list[float]]], n: int, trials: int, threshold: float, change_pct: float = 0.0,
             seed: int = 0) -> dict[str, float]:
    """The share of each verdict over `trials` draws of n of these A/A pairs, each pair's sides
    swapped at random, head made change_pct slower."""
    rng = np.random.default_rng(seed)
    d, shift_log = np.asarray(differences(pairs)), math.log1p(change_pct / 100)
    counts = dict.fromkeys(WORDS, 0)
    for _ in range(trials):
        drawn = d[rng.choice(len(d), n, replace=False)] * rng.choice([-1.0, 1.0], n) + shift_log
        counts[decide_paired("", list(drawn), threshold).verdict] += 1
    return {word: counts[word] / trials for word in WORDS}


def validation_table(paths: list[Path], n: int, trials: int, threshold: float) -> str:
    rows = [f"| A/A file ({n} of its pairs a trial, {trials} trials, threshold {threshold:g}%) | pairs stored | "
            "slower (false) | faster | same | undecided | +5%: slower | +10%: slower |", "|---|---|---|---|---|---|---|---|"]
    for path in paths:
        pairs = read_pairs(path)
        if len(pairs) < n:
            raise BadInput(path, f"{len(pairs)} pairs stored, fewer than the {n} a trial draws (--pairs)")
        aa = validate(pairs, n, trials, threshold)
        caught = [validate(pairs, n, trials, threshold, change)["slower"] for change in (5.0, 10.0)]
        rows.append(f"| {path.name} | {len(pairs)} | " + " | ".join(f"{100 * x:.1f}%" for x in (*aa.values(), *caught))
                    + " |")
    return "\n".join(rows)


def read_pairs(path: Path) -> list[list[list[float]]]:
    """The pairs of a --out file, checked: [[base, head] per turn] per pair, positive seconds."""
    try:
        pairs = json.loads(path.read_text())["pairs"]
        if not pairs or not all(turns and all(len(t) == 2 and all(isinstance(x, float) and x > 0 for x in t)
                                              for t in turns) for turns in pairs):
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise BadInput(path, "not a reporting.pingpong --out file (a 'pairs' list of [base, head] seconds per turn)"
                       + (f": {e.strerror}" if isinstance(e, OSError) else "")) from None
    return pairs


WINDOW_S = 0.2
SLOW_STEP_WINDOW_S = {("mlp_train_step", "jax", "eager"): 0.5}  # 0.2 s holds too few of its steps (docs: "taking turns")


def window_for(workload: str, framework: str, mode: str) -> float:
    """The window a pair times a case in, in seconds (the slow jax-eager MLP step gets a longer one)."""
    return SLOW_STEP_WINDOW_S.get((workload, framework, mode), WINDOW_S)


def paired_hint(decisions: list[Decision], commit: str) -> list[str]:
    """make compare's note (reporting.ab) for the benchmarks this tool can judge paired that time
    left undecided: the command for each; none when there are none."""
    from benchmarks.spec import parse_name

    commands = []
    for d in decisions:
        f = parse_name(d.name.split("::")[-1])
        if d.verdict != "undecided" or d.paired or not f or f["device"] != "cpu" or f["phase"] != "steady" or \
                SIZES.get(f["workload"], ("",))[0] != f["size"] or f["mode"] not in MODES.get(f["framework"], ()):
            continue
        window = window_for(f["workload"], f["framework"], f["mode"])
        commands.append(f"`python -m reporting.pingpong --base {commit[:12]} --workload {f['workload']} "
                        f"--framework {f['framework']} --mode {f['mode']}"
                        f"{f' --window {window:g}' if window != WINDOW_S else ''}`")
    if not commands:
        return []
    return [f"time left {len(commands)} benchmark(s) undecided that two processes taking turns on the machine can "
            "judge paired, which cancels most of a busy host's noise (docs/regression-gate.md, \"Measured: taking "
            "turns\"; not a gate): " + "; ".join(commands)]


STAGE_CASES = [("mlp_train_step", "jax", "jit"), ("mlp_train_step", "jax", "eager"), ("mlp_train_step", "torch", "eager")]
STAGE_TURNS = 5
STAGE_MAX_PAIRS = 30
PAIRED_MIN = 11  # pairs the signed-rank interval needs at 99.9%


def case_name(workload: str, framework: str, mode: str) -> str:
    """The benchmark's name in the quick set (a decision's node id after its "::")."""
    return f"test_{workload}[{framework}-{mode}-cpu-{SIZES[workload][0]}-steady]"


def stage_names(names: Iterable[str]) -> list[str]:
    """The node ids among `names` whose benchmarks the paired stage judges."""
    return [n for n in names if n.split("::")[-1] in {case_name(*c) for c in STAGE_CASES}]


def paired_stage(trees: dict[str, Path], commit: str, decisions: list[Decision], budget: float,
                 threshold: float, folder: Path, keep: Path | None = None) -> tuple[list[Decision], list[str]]:
    """make compare's --paired: the STAGE_CASES among `decisions` (the time rounds' benchmarks)
    judged again by pairs of fresh processes, one a side, each building all of them and taking
    turns on the whole machine (pair()), as many pairs as fit in `budget` seconds (at most
    STAGE_MAX_PAIRS); each is decided on its pairs' medians over STAGE_TURNS turns
    (decide_paired), and that decision, marked paired, replaces the unpaired one (with fewer than
    PAIRED_MIN pairs, too few for the interval, the unpaired ones stand); each side's JAX compile
    cache lives in `folder`, filled by the first pair. Returns the
    decisions and the notes for ab.md. With `keep`, each benchmark's pairs are also written there as
    paired-<framework>-<mode>-<workload>.json, a file --validate reads."""
    names = {d.name.split("::")[-1]: d.name for d in decisions}
    cases = [(*c, window_for(*c)) for c in STAGE_CASES if case_name(*c) in names]
    if not cases:
        return decisions, ["--paired: none of the selected benchmarks is one the paired stage judges (the steady CPU "
                           "MLP train step at batch 64: jax-jit, jax-eager, torch-eager)"]
    rng, started = random.Random(0), time.monotonic()
    pairs: list[list[list[list[float]]]] = []
    costs: list[float] = []
    print(f"reporting.ab: the paired stage: {len(cases)} benchmark(s), pairs of processes taking turns, "
          f"{budget:.0f} s left", flush=True)
    while len(pairs) < STAGE_MAX_PAIRS and (not costs or time.monotonic() - started + max(costs[1:] or costs) <= budget):
        # (the first pair also fills the compile caches: the later ones say what another costs)
        t0 = time.monotonic()
        try:
            pairs.append(pair([trees["base"], trees["head"]], [f"base {commit[:12]}", "head (this tree)"], cases,
                              STAGE_TURNS, rng, caches=[folder / "paired-cache-base", folder / "paired-cache-head"]))
        except BadInput as e:  # a side that cannot build the steps (a base too old): the rounds' work is kept
            print(f"reporting.ab: the paired stage stopped: {e}", flush=True)
            return decisions, [f"the paired stage stopped: {e}; the time rounds' decisions stand "
                               "(undecided where the rounds did not run)"]
        costs.append(time.monotonic() - t0)
        print(f"reporting.ab: paired: pair {len(pairs)} ({time.monotonic() - started:.0f} s)", flush=True)
    if keep:
        for i, (workload, framework, mode, window) in enumerate(cases):
            write_json(keep / f"paired-{framework}-{mode}-{workload}.json",
                       {"base": commit, "window_s": window, "turns": STAGE_TURNS, "pairs": [p[i] for p in pairs]})
    if len(pairs) < PAIRED_MIN:
        return decisions, [f"the paired stage ran {len(pairs)} pairs of processes in its {budget:.0f} s, fewer than the "
                           f"{PAIRED_MIN} its {CONFIDENCE:.1%} interval needs, so the time rounds' decisions "
                           "(undecided where they did not run) stand for "
                           f"{', '.join(c[1] + '-' + c[2] for c in cases)} (a pair took about "
                           f"{statistics.median(costs):.0f} s here: about {math.ceil(PAIRED_MIN * max(costs) / 10) * 10:.0f} s "
                           "would do; --paired S)"]
    paired = {}
    for i, c in enumerate(cases):
        name = names[case_name(*c[:3])]
        paired[name] = dataclasses.replace(decide_paired(name, differences([p[i] for p in pairs]), threshold), paired=True)
    windows = ", ".join(f"{c[1]}-{c[2]} {c[3]:g} s" for c in cases)
    note = (f"time of {len(paired)} benchmark(s) judged paired (marked paired; their processes column counts pairs): "
            f"{len(pairs)} pairs of fresh processes, one a side, each building all of them and taking turns on the "
            f"whole machine, {STAGE_TURNS} turns of one window a benchmark a side (its fastest step; windows {windows}); "
            f"change: the Hodges-Lehmann shift of each pair's median log(head / base), with its {CONFIDENCE:.1%} "
            f"signed-rank interval, the same words and threshold; {time.monotonic() - started:.0f} s; "
            f"the unpaired rounds' reading is in ab.json (time_unpaired)")
    return [paired.get(d.name, d) for d in decisions], [note]


def write_json(path: Path, value: object) -> None:
    """`value` as JSON at `path`, whole or not at all (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(value, indent=1))
    tmp.replace(path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m reporting.pingpong", description=__doc__.split("\n\n")[0])
    p.add_argument("--base", help="a git commit of this repository: the base side's tree (default: this tree, an A/A)")
    p.add_argument("--workload", choices=WORKLOADS, default="mlp_train_step")
    p.add_argument("--framework", choices=tuple(MODES), default="torch")
    p.add_argument("--mode", default="eager", help="jax: jit or eager; torch: eager (default eager)")
    p.add_argument("--pairs", type=int, default=12, help="pairs of fresh processes (default 12; 11 or more to judge)")
    p.add_argument("--turns", type=int, default=5, help="turns a pair takes (default 5)")
    p.add_argument("--window", type=float, default=WINDOW_S, help=f"seconds a side times in a turn (default {WINDOW_S:g})")
    p.add_argument("--gap", type=float, default=0.0, help="idle seconds between a turn's two windows (default 0)")
    p.add_argument("--threshold", type=float, default=10.0, help="the smallest change that matters, %% (default 10)")
    p.add_argument("--one-thread", action="store_true")
    p.add_argument("--out", type=Path, help="every window's fastest step, the summary and the verdict, as JSON")
    p.add_argument("--validate", type=Path, nargs="+", metavar="AA.json", help="judge stored A/A runs offline (above)")
    p.add_argument("--trials", type=int, default=1000, help="--validate's draws (default 1000)")
    args = p.parse_args(argv)
    if args.pairs < 2 or args.turns < 1 or args.window <= 0 or args.gap < 0 or args.threshold <= 0 or args.trials < 1:
        p.error("--pairs needs at least 2, --turns and --trials at least 1, --window and --threshold above 0, "
                "--gap at least 0")
    if args.mode not in MODES[args.framework]:
        modes = "; ".join(f"{framework}: " + ", ".join(m) for framework, m in MODES.items())
        p.error(f"--mode {args.mode!r} is not a steady CPU mode of {args.framework} here ({modes})")
    if args.out and not args.out.parent.is_dir():
        p.error(f"--out {args.out}: its folder does not exist")
    return args


def report(args: argparse.Namespace, pairs: list[list[list[float]]], seconds: float, commit: str) -> Decision:
    result, changes = summary(pairs), resolvable(pairs)
    decision = decide_paired(f"{args.framework}-{args.mode} {args.workload}", differences(pairs), args.threshold)
    print(f"{decision.name}, base {commit}, {args.pairs} pairs x {args.turns} turns of {args.window:g} s"
          f"{f', gap {args.gap:g} s' if args.gap else ''}{', one thread, core 0' if args.one_thread else ''}; "
          f"{seconds:.0f} s; median step {result['median_step_s'] * 1e3:.3f} ms; standard deviation of log time:")
    for key in ("one_window_a_process", "fastest_window_a_process", "adjacent_difference", "pair_median_difference"):
        print(f"  {key.replace('_', ' ')}: {result[key]:.4f}")
    print(f"resolvable change (half the {CONFIDENCE:.1%} interval):")
    for key, words in (("unpaired_one_window", "unpaired, one window a process (make compare's way)"),
                       ("paired_one_turn", "paired, one turn a pair"),
                       ("paired_all_turns", f"paired, the median of {args.turns} turns a pair")):
        value = changes[key]
        print(f"  {words}: " + (f"{value:.1f}%" if value is not None else "too few pairs"))
    if decision.low_pct is None or decision.high_pct is None:
        print(f"head against base: {decision.verdict} (too few pairs for a {CONFIDENCE:.1%} paired interval)")
    else:
        print(f"head against base: {decision.verdict}, {decision.change_pct:+.1f}% "
              f"({CONFIDENCE:.1%} interval {decision.low_pct:+.1f}% .. {decision.high_pct:+.1f}%, threshold {args.threshold:g}%)")
    if args.out:
        write_json(args.out, {"args": {k: str(v) for k, v in vars(args).items()}, "base": commit, "pairs": pairs,
                              "summary": result, "resolvable_pct": changes, "verdict": decision.verdict,
                              "change_pct": decision.change_pct, "low_pct": decision.low_pct,
                              "high_pct": decision.high_pct})
    return decision


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        if args.validate:
            print(validation_table(args.validate, args.pairs, args.trials, args.threshold))
            return 0
        with contextlib.ExitStack() as stack:
            if args.base:
                from reporting.worktree import worktree

                base, commit = stack.enter_context(worktree(args.base))
            else:
                base, commit = ROOT, "this tree"
            caches = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="pingpong-caches-")))
            rng, pairs, started = random.Random(0), [], time.monotonic()
            for n in range(args.pairs):
                pairs.append(pair([base, ROOT], [f"base {commit[:12]}", "head (this tree)"],
                                  [(args.workload, args.framework, args.mode, args.window)], args.turns, rng,
                                  args.one_thread, args.gap, [caches / "base", caches / "head"])[0])
                print(f"pair {n + 1}/{args.pairs}: first turn base {pairs[-1][0][0] * 1e3:.3f} ms, "
                      f"head {pairs[-1][0][1] * 1e3:.3f} ms", flush=True)
            report(args, pairs, time.monotonic() - started, commit[:12])
    except BadInput as e:
        print(f"reporting.pingpong: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
