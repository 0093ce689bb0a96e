"""Same-machine A/B: many short processes of a base git ref and of the working tree, interleaved,
judged with their own between-process noise (reporting/sequential.py); no calibration file needed.

    python -m reporting.ab --base REF [--budget S] [--threshold PCT] [--out DIR] [--keep DIR] [-- PYTEST ARGS...]

A git worktree of REF is made in a temporary folder (removed afterwards, also on an error, Ctrl-C
or SIGTERM). Then rounds: each round runs one fresh, short `python -m pytest benchmarks` process
per side (PYTEST ARGS, the quick set from `make compare`, plus SHORT_ARGS: few rounds, no memory
pass; each side's JAX compile cache, filled by its first process: --compile-cache), base and
head in a random order (seeded), each with this interpreter in its own tree. Each
process gives one value per benchmark, its fastest round. From MIN_PROCESSES a side on, after
every LOOK_EVERY rounds each benchmark is decided: slower, faster, same or undecided; decided
benchmarks are not measured again, the undecided get the next processes, until all are decided or the next round
would overrun --budget. A benchmark that reads slower is first measured alone in CONFIRM_PROCESSES
more processes a side, which must confirm it on their own (reporting/sequential.py; when they
read above the threshold but too noisily, and the budget allows, as many more); else it is
undecided. Exit 1 when a benchmark is slower, else 0 (undecided ones are listed with the smallest
change this run could have resolved). Writes DIR/ab.json and DIR/ab.md.

Before the time rounds, a second signal (--signals both, the default): each side's instructions
per step counted once under callgrind, both sides at once (reporting/instructions.py), in at most
--count-budget seconds of the budget. A benchmark whose instructions rose by more than
--instructions-threshold (default 5%) is slower whatever its time says; the time rounds get what
the counting left of --budget. Exit 1 when either signal says slower. --paired S keeps S seconds
of it (from the counting's share first) for the MLP train steps judged by pairs of processes taking
turns (reporting.pingpong's paired_stage), replacing the rounds' decision for them. The rounds get
what counting and that share leave, and stop after their first when that cannot reach a decision:
then the paired stage has their time, and the other benchmarks instructions only."""
from __future__ import annotations

import argparse
import dataclasses
import json
import random
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from reporting import EXIT_BAD_INPUT, EXIT_INTERNAL, EXIT_OK, EXIT_REGRESSION, ROOT, BadInput
from reporting.args import Parser, check_folder, folder_name, percentage, positive_float, positive_int, seconds
from reporting.escape import for_markdown, for_terminal, for_terminal_lines
from reporting.instructions import THRESHOLD_PCT, Count, aa_noise, count_instructions
from reporting.pingpong import paired_hint, paired_stage, stage_names
from reporting.processes import collected, compile_caches, fastest_rounds, measure, measure_duet
from reporting.rounds import LOOK_EVERY, MIN_PROCESSES, Rounds, first_look, gave_way, looks_at, too_short
from reporting.sequential import (
    CONFIDENCE,
    CONFIRM_CONFIDENCE,
    CONFIRM_PROCESSES,
    CONFIRM_STAGES,
    Confirmation,
    Decision,
    another_stage,
    confirm,
    confirmation_note,
    decide_all,
    settle,
)
from reporting.worktree import worktree

BUDGET_S = 600  # seconds of measuring; what a round costs on a given machine is in docs/regression-gate.md
COUNT_BUDGET_S = 400  # at most this much of it counting instructions (both sides at once); time gets the rest
PAIRED_S = 200  # the paired stage's share of it, for the MLP train steps' time (what it holds: docs/regression-gate.md)
ROUNDS_MIN_S = 120  # the least the rounds' first decision (8 duet rounds) took on the VMs measured (docs/regression-gate.md)
SEED = 0


class Sides:
    """The processes measured so far: per side, per benchmark, one value per process."""

    def __init__(self) -> None:
        self.values: dict[str, dict[str, list[float]]] = {"base": {}, "head": {}}
        self.runs: list[Path] = []
        self.notes: list[str] = []  # what the reader must know about this run of the A/B

    def add(self, side: str, path: Path) -> None:
        self.runs.append(path)
        for name, value in fastest_rounds(path).items():
            self.values[side].setdefault(name, []).append(value)

    def decisions(self, threshold: float) -> list[Decision]:
        return decide_all(self.values["base"], self.values["head"], threshold)


def sequential(trees: dict[str, Path], args: argparse.Namespace, folder: Path
               ) -> tuple[list[Decision], Sides, dict[str, Confirmation]]:
    """Rounds of one process a side, in a random order, until every benchmark is decided (a "slower"
    confirmed or not) or the budget would be overrun by one more round."""
    rng, sides, started = random.Random(SEED), Sides(), time.monotonic()
    caches, why = compile_caches(trees, folder)
    if why:
        print(f"reporting.ab: {why}", flush=True)
    side_args = {side: [*args.pytest_args, *caches[side]] for side in trees}
    undecided: list[str] = []  # node ids still undecided (empty: the whole selection, first rounds)
    pending: dict[str, tuple[Decision, int, int]] = {}  # read slower at a look: that look, each side's processes then
    confirmations: dict[str, Confirmation] = {}
    schedule, looked = Rounds(args), False

    def confirmation(name: str) -> Confirmation:  # what the processes since its "slower" say
        first, n_base, n_head = pending[name]
        return confirm(first, sides.values["base"][name][n_base:], sides.values["head"][name][n_head:])
    for number in range(1, 1000):
        kind = "confirm" if pending else "measure"
        schedule.count[kind] += 1
        k, round_start = schedule.count[kind], time.monotonic()
        selection = sorted(pending) if pending else undecided
        order = rng.sample(["base", "head"], 2)
        paths = {side: folder / f"{side}-{number:02d}.json" for side in order}
        if args.duet:  # at once, one core each; the sides swap cores every round of a kind
            order = ["base", "head"] if k % 2 else ["head", "base"]
            measure_duet([(trees[side], paths[side], side_args[side]) for side in order], selection)
        else:
            for side in order:
                measure(trees[side], paths[side], side_args[side], selection)
        for side in order:
            sides.add(side, paths[side])
        spent, last = time.monotonic() - started, time.monotonic() - round_start
        schedule.costs[kind].append(last)
        if number == 1 and args.paired and not args.rounds:
            if not stage_names(sides.values["base"]):  # nothing for the paired stage: its share goes to the rounds
                args.time_budget, args.paired = args.time_budget + args.paired, 0.0
            elif too_short(last, args.time_budget, first=first_look(args.duet)):
                sides.notes.append(gave_way(last, args))
                print(f"reporting.ab: {sides.notes[-1]}", flush=True)
                break
        if kind == "confirm":
            for name in list(pending):
                if (c := confirmation(name)).confirmed is None or c.n_base % CONFIRM_PROCESSES:
                    continue  # a stage is judged whole
                again = another_stage(c, args.threshold) and schedule.stage_fits(spent)
                if not again:
                    confirmations[name] = c
                    del pending[name]
                print(for_terminal(f"reporting.ab: round {number} ({spent:.0f} s): {name.split('::')[-1]} "
                                   f"{'confirmed' if c.confirmed else 'not confirmed'} slower by {c.n_base} more "
                                   f"processes a side ({c.change_pct:+.1f}%)"
                                   + (f"; {CONFIRM_PROCESSES} more a side" if again else "")), flush=True)
        else:
            # judged on the cheaper of the first two rounds: the first also pays one-off costs (the worktree's
            # caches, filling the compile caches)
            counting, before = args.budget - args.time_budget, "counting instructions" + (
                " and the paired stage's share" if args.paired else "")
            if (k == 2 or (k == 1 and schedule.last_measuring(spent))) and (note := too_short(
                    min(schedule.costs["measure"]), args.time_budget, counting, first_look(args.duet), before)):
                sides.notes.append(note)
                print(f"reporting.ab: {note}", flush=True)
            if (looks_at(k, args.duet) and not args.rounds) or (schedule.last_measuring(spent) and k >= MIN_PROCESSES):
                looked = True
                decisions = [d for d in sides.decisions(args.threshold) if not undecided or d.name in undecided]
                for d in decisions:
                    if d.verdict == "slower" and not args.rounds:
                        pending[d.name] = (d, len(sides.values["base"][d.name]), len(sides.values["head"][d.name]))
                undecided = [d.name for d in decisions if d.verdict == "undecided"]
                print(f"reporting.ab: round {number} ({spent:.0f} s): " + ", ".join(
                    f"{sum(d.verdict == v for d in decisions)} {v}" for v in ("slower", "faster", "same", "undecided"))
                      + (f"; confirming {len(pending)} 'slower' in {CONFIRM_PROCESSES} more processes a side"
                         if pending else ""), flush=True)
            else:
                print(f"reporting.ab: round {number} ({spent:.0f} s): {k} process(es) a side, deciding after "
                      f"{first_look(args.duet)}, then every {2 if args.duet else LOOK_EVERY}", flush=True)
        if pending:
            if not schedule.next_fits("confirm", spent):
                break
        elif (looked and not undecided) or not schedule.next_fits("measure", spent):
            break
    k = schedule.count["measure"]
    if not looked and k < first_look(args.duet) and not args.rounds and not sides.notes:
        note = (f"the time rounds ended after {k} process(es) a side, fewer than the {first_look(args.duet)} "
                f"a first decision needs: time decided nothing (it had {args.time_budget:.0f} s of the budget)")
        sides.notes.append(note)
        print(f"reporting.ab: {note}", flush=True)
    confirmations.update({name: confirmation(name) for name in pending})  # the budget ended first
    decisions = sides.decisions(args.threshold)
    if not looked and not args.rounds:  # too few processes for an interval: no change figure without its spread
        decisions = [dataclasses.replace(d, change_pct=None, low_pct=None, high_pct=None) for d in decisions]
    if not args.rounds:  # --rounds N: decided once at the end, nothing confirmed
        decisions = [settle(d, confirmations.get(d.name)) for d in decisions]
    final = {d.name: d for d in decisions}
    sides.notes.extend(confirmation_note(c, final[name], args.threshold) for name, c in sorted(confirmations.items()))
    if why:  # the compile caches' note, after the time notes
        sides.notes.append(why)
    return decisions, sides, confirmations


def time_rounds(trees: dict[str, Path], args: argparse.Namespace, folder: Path, started: float
                ) -> tuple[list[Decision], Sides, dict[str, Confirmation]]:
    """The time rounds, with what counting and the paired stage's share left of the budget; none when
    that is under ROUNDS_MIN_S and the paired stage has benchmarks to judge (then each selected
    benchmark, untimed, and the paired stage gets it)."""
    args.time_budget = max(0.0, args.budget - (time.monotonic() - started) - args.paired)
    if args.paired and args.time_budget < ROUNDS_MIN_S and not args.rounds:
        names = collected(trees["head"], args.pytest_args)
        if stage_names(names):
            sides = Sides()
            sides.notes.append(f"the time rounds did not run: beside the paired stage's share (--paired {args.paired:g}) "
                               f"counting left them {args.time_budget:.0f} s, under the {ROUNDS_MIN_S} s their first "
                               "decision needs at the least, so the paired stage has it and the benchmarks it does not "
                               "judge are left to instructions (a larger budget gives the rounds time)")
            return [Decision(n, "undecided", None, None, None, 0, 0) for n in names], sides, {}
        args.time_budget, args.paired = args.time_budget + args.paired, 0.0
    return sequential(trees, args, folder)


def combined(d: Decision, count: Count | None) -> str:
    """One word from both signals: either one slower -> slower; else either faster -> faster; else
    time's word (instructions alone never make "same": they do not see memory stalls or threads)."""
    words = {d.verdict, count.verdict if count else "undecided"}
    return "slower" if "slower" in words else "faster" if "faster" in words else d.verdict


def instruction_cell(count: Count | None, noise: dict[str, float], compared: bool, why: str) -> str:
    if count is None:
        return "-" if why and not compared else "not counted"
    seen = noise.get(count.name)
    return f"{count.change_pct:+.2f}% ({count.verdict})" + (f", A/A noise {seen:.2f}%" if seen is not None else "")


def time_cell(d: Decision, args: argparse.Namespace, confirmation: Confirmation | None = None) -> str:
    if d.change_pct is None:
        return "not timed (--signals instructions)" if args.signals == "instructions" else (
            f"not judged ({d.n_base} / {d.n_head} processes: too few)" if d.n_base else "not timed")
    said = {True: ", confirmed", False: ", read slower once, not confirmed", None: ", read slower once, not yet confirmed"}
    return f"{d.change_pct:+.1f}% ({d.verdict}{', paired' if d.paired else ''}" \
        f"{said[confirmation.confirmed] if confirmation and not d.paired else ''})"


def confirmation_json(c: Confirmation | None) -> dict | None:
    if c is None:
        return None
    return {"confirmed": c.confirmed, "first": c.first.__dict__, "change_pct": c.change_pct, "low_pct": c.low_pct,
            "high_pct": c.high_pct, "confidence": CONFIRM_CONFIDENCE, "n_base": c.n_base, "n_head": c.n_head,
            "stage": c.stage, "earlier": confirmation_json(c.earlier)}


def render(decisions: list[Decision], args: argparse.Namespace, commit: str, spent: float,
           counts: dict[str, Count] | None = None, why: str = "",
           confirmations: dict[str, Confirmation] | None = None) -> str:
    counts, confirmations = counts or {}, confirmations or {}
    noise, noise_files = aa_noise() if counts else ({}, "")
    timed = (f"Time: not measured (--signals instructions). {spent:.0f} s of a {args.budget:g} s budget.\n\n"
             if args.signals == "instructions" else
             ("Each value: one fresh process's fastest "
             f"round. Change: Hodges-Lehmann shift of log time, head vs base, with its {CONFIDENCE:.1%} interval "
             f"(Mann-Whitney). Slower: change > +{args.threshold:g}% and the interval above 0, then confirmed by "
             f"{CONFIRM_PROCESSES} more processes a side whose own {CONFIRM_CONFIDENCE:.0%} interval is above 0 (or, "
             f"when they read above +{args.threshold:g}% but not above 0, by {CONFIRM_PROCESSES} more and all "
             f"{CONFIRM_STAGES * CONFIRM_PROCESSES} together); "
             f"same: the interval inside +/-{args.threshold:g}%; else undecided (resolvable = half the interval's width). "
             f"{spent:.0f} s of a {args.budget:g} s budget.\n\n"))
    head = f"# A/B: the working tree vs {args.base} ({commit[:12]})\n\n" + timed + signals_note(args, counts, why,
                                                                                           noise_files)
    rows = ["| benchmark | verdict | time change | time interval | resolvable | processes base / head | instructions |",
            "|---|---|---|---|---|---|---|"]
    for d in sorted(decisions, key=lambda d: (combined(d, counts.get(d.name)) != "slower", d.verdict, d.name)):
        interval = f"{d.low_pct:+.1f}% .. {d.high_pct:+.1f}%" if d.low_pct is not None else ""
        resolvable = f"{d.resolvable_pct:.1f}%" if d.resolvable_pct is not None else ""
        processes = f"{d.n_base} pairs" if d.paired else f"{d.n_base} / {d.n_head}"
        rows.append(f"| {for_markdown(d.name.split('::')[-1])} | {combined(d, counts.get(d.name))} | "
                    f"{time_cell(d, args, confirmations.get(d.name))} | {interval} | {resolvable} | {processes} | "
                    f"{instruction_cell(counts.get(d.name), noise, bool(counts), why)} |")
    return head + "\n".join(rows) + "\n"


def signals_note(args: argparse.Namespace, counts: dict[str, Count], why: str, noise_files: str) -> str:
    if args.signals == "time":
        return "Instructions: not counted (--signals time).\n\n"
    if why and not counts:
        return f"Instructions: not compared: {for_markdown(why)}.\n\n"
    if not counts:
        return "Instructions: none of the selected benchmarks is counted (torch-compile cases are time only).\n\n"
    return (f"Instructions per step: callgrind, one process a side, {len(counts)} benchmarks counted (torch-compile "
            f"cases are time only){'; ' + for_markdown(why) if why else ''}; slower / faster beyond "
            f"+/-{args.instructions_threshold:g}%; A/A noise from "
            f"{noise_files or 'no stored A/A file for this machine'}. Instructions do not see memory stalls, "
            "threads or GPU work.\n\n")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = Parser(prog="python -m reporting.ab", description=__doc__.split("\n")[0])
    p.add_argument("--base", required=True, metavar="REF", help="git ref to compare the working tree with")
    p.add_argument("--budget", type=positive_float, default=BUDGET_S, metavar="S",
                   help=f"seconds of measuring, at most (default {BUDGET_S})")
    p.add_argument("--out", type=folder_name, default=Path("report-compare"), metavar="DIR")
    p.add_argument("--threshold", type=percentage, default=10.0, metavar="PCT",
                   help="the smallest change that counts (default 10)")
    p.add_argument("--keep", type=folder_name, metavar="DIR", help="also keep the processes' JSON files in DIR")
    p.add_argument("--rounds", type=positive_int, default=0, metavar="N",
                   help="exactly N rounds of the whole selection, decided once at the end, whatever --budget "
                        "(to collect A/A processes with --keep for python -m reporting.validate_ab)")
    p.add_argument("--duet", action="store_true",
                   help="time both sides at once, one core and one thread each, swapping cores every round")
    p.add_argument("--signals", choices=("both", "time", "instructions"), default="both",
                   help="time rounds, instructions counted under callgrind, or both (default both)")
    p.add_argument("--instructions-threshold", type=percentage, default=THRESHOLD_PCT, metavar="PCT",
                   help=f"instructions per step up by more than this: slower (default {THRESHOLD_PCT:g})")
    p.add_argument("--count-budget", type=positive_float, default=COUNT_BUDGET_S, metavar="S",
                   help=f"seconds of --budget the counting may take, at most (default {COUNT_BUDGET_S})")
    p.add_argument("--paired", type=seconds, metavar="S",
                   help="S seconds of the budget kept for judging the MLP train steps paired (reporting.pingpong), "
                        f"after the time rounds; 0: no paired stage (default {PAIRED_S} when --budget is at least "
                        "three times that, else 0)")
    p.add_argument("pytest_args", nargs="*", metavar="PYTEST ARGS", help="after --: the selection to measure")
    args = p.parse_args(argv)
    if args.paired is None or args.signals == "instructions":
        args.paired = float(PAIRED_S) if args.budget >= 3 * PAIRED_S and args.signals != "instructions" else 0.0
    elif args.paired >= args.budget:
        p.error(f"--paired {args.paired:g} leaves nothing of --budget {args.budget:g}: make it smaller, or --paired 0")
    args.time_budget = args.budget  # less what counting instructions took, once it has
    return args


def check_outputs(args: argparse.Namespace) -> None:
    check_folder(args.out, "--out")
    if args.keep is not None:
        check_folder(args.keep, "--keep")


LEFT_OUT = ("make compare leaves torch-compile out of its default duet: its cases would make each round about half "
            "as long again, too few rounds beside the counting (docs/regression-gate.md); `make compare "
            "COMPARE_K=\"steady and torch-compile\"` times them in a duet of their own")


def _terminate(signum, frame):
    raise SystemExit(128 + signum)  # unwinds through worktree(): the checkout is removed


def run(args: argparse.Namespace) -> int:
    check_outputs(args)  # before the worktree and the first measurement
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="reporting-ab-runs-") as tmp, worktree(args.base) as (base, commit):
        print(f"reporting.ab: base {args.base} ({commit[:12]}) vs the working tree, budget {args.budget:g} s",
              flush=True)
        trees = {"base": base, "head": ROOT}
        counts, why = count_instructions(trees, args, Path(tmp))
        if args.signals != "instructions":
            decisions, sides, confirmations = time_rounds(trees, args, Path(tmp), started)
            unpaired = {d.name: d for d in decisions}
            if args.paired:
                decisions, notes = paired_stage(trees, commit, decisions, args.budget - (time.monotonic() - started),
                                                args.threshold, Path(tmp), args.keep)
                sides.notes.extend(notes)
            if args.duet and any("not torch-compile" in a for a in args.pytest_args):
                sides.notes.append(LEFT_OUT)
            sides.notes.extend(paired_hint(decisions, commit))
        else:
            decisions, sides = [Decision(n, "undecided", None, None, None, 0, 0) for n in counts], Sides()
            confirmations, unpaired = {}, {}
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            for path in sides.runs:
                shutil.copy2(path, args.keep / path.name)
    spent = time.monotonic() - started
    args.out.mkdir(parents=True, exist_ok=True)
    text = render(decisions, args, commit, spent, counts, why, confirmations) + "".join(f"\nNote: {n}.\n" for n in sides.notes)
    (args.out / "ab.md").write_text(text, encoding="utf8")
    (args.out / "ab.json").write_text(json.dumps(
        {"base": args.base, "commit": commit, "threshold_pct": args.threshold, "confidence": CONFIDENCE,
         "seconds": round(spent, 1), "notes": sides.notes, "instructions_threshold_pct": args.instructions_threshold,
         "instructions_note": why, "decisions": [
             {**d.__dict__, "resolvable_pct": d.resolvable_pct, "verdict": combined(d, counts.get(d.name)),
              "time_verdict": d.verdict, "time_unpaired": unpaired[d.name].__dict__ if d.paired else None,
              "instructions": counts[d.name].__dict__ if d.name in counts else None,
              "confirmation": confirmation_json(confirmations.get(d.name))}
             for d in decisions]}, indent=2) + "\n", encoding="utf8")
    print(for_terminal_lines(text), end="")
    slower = [d for d in decisions if combined(d, counts.get(d.name)) == "slower"]
    undecided = [d for d in decisions if d.verdict == "undecided"]
    said = "SLOWER: " + ", ".join(d.name.split("::")[-1] for d in slower) if slower else "nothing slower"
    unconfirmed = sum(not c.confirmed for c in confirmations.values())
    timing = "not timed" if args.signals == "instructions" else f"{len(undecided)} undecided" + (
        f", {unconfirmed} of them read slower once and not confirmed" if unconfirmed else "")
    print(for_terminal(f"reporting.ab: {said} ({timing}; head vs {args.base}; {spent:.0f} s; "
                       f"{args.out}/ab.md)"))
    return EXIT_REGRESSION if slower else EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    before = signal.signal(signal.SIGTERM, _terminate)  # given back after: a caller's own handling stands
    try:
        return run(args)
    except BadInput as exc:
        print(for_terminal(f"reporting.ab: error: {exc}"), file=sys.stderr)
        return EXIT_BAD_INPUT
    except Exception as exc:  # noqa: BLE001
        print(for_terminal(f"reporting.ab: internal error: {type(exc).__name__}: {exc}"), file=sys.stderr)
        return EXIT_INTERNAL
    finally:
        signal.signal(signal.SIGTERM, before)


if __name__ == "__main__":
    sys.exit(main())
