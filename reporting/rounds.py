"""The schedule of make compare's time rounds (reporting/ab.py): when a side's processes are
judged (looks), whether another round fits in the budget, the reserve kept for confirming a
"slower" (reporting/sequential.py), and the note when the budget cannot reach a first decision."""
from __future__ import annotations

import argparse
import math

from reporting.sequential import CONFIDENCE, CONFIRM_PROCESSES, interval_rank

MIN_PROCESSES = next(n for n in range(2, 20) if interval_rank(n, n) is not None)  # 7 at 99.9%
LOOK_EVERY = 3  # decide after MIN_PROCESSES processes a side, then every 3 more: few looks, few false alarms


def looks_at(n: int, duet: bool = False) -> bool:
    """Whether the decision is taken after n processes a side. Duet: after every even number from
    MIN_PROCESSES on, when each side has run as often on one core as on the other."""
    if duet:
        return n >= MIN_PROCESSES and n % 2 == 0
    return n >= MIN_PROCESSES and (n - MIN_PROCESSES) % LOOK_EVERY == 0


def first_look(duet: bool) -> int:
    """Processes a side at the first decision."""
    return MIN_PROCESSES + MIN_PROCESSES % 2 if duet else MIN_PROCESSES


def too_short(first_round_s: float, budget: float, before: float = 0.0, first: int = MIN_PROCESSES,
              before_what: str = "counting instructions") -> str:
    """Why no benchmark can be decided, when a round (a process a side) costs so much here that the
    `budget` left for time (after `before` seconds of counting) cannot reach the first decision
    (after `first` processes a side); else "". (A real run has spent the first round or two before
    it knows: the fit is counted from zero, so a borderline budget may still reach it.)"""
    fits = int(budget // first_round_s)
    if fits >= first:
        return ""
    need = math.ceil(((first + 1) * first_round_s + before) / 100) * 100  # a round of slack: rounds vary
    left = f"the {budget:.0f} s the budget left after {before_what} ({before:.0f} s)" if before else \
        f"the {budget:g} s budget"
    duet = ", an even number in a duet" if first > MIN_PROCESSES else ""
    return (f"a round (one process a side) takes {first_round_s:.0f} s on this machine, so {left} "
            f"fits about {fits} processes a side, fewer than the {first} a first decision needs "
            f"({MIN_PROCESSES} for the {CONFIDENCE:.1%} interval{duet}): every benchmark will stay undecided by "
            f"time (a budget of about {need:.0f} s would decide)")


def gave_way(round_s: float, args: argparse.Namespace) -> str:
    """The note when the time rounds stop after their first, too short to reach a decision, and
    leave their time to the paired stage."""
    first = first_look(args.duet)
    need = math.ceil(((first + 1) * round_s + args.budget - args.time_budget) / 100) * 100
    return (f"the time rounds stopped after their first: a round took {round_s:.0f} s, so the {args.time_budget:.0f} s "
            f"that counting and the paired stage's share (--paired {args.paired:g}) left them fits fewer than the "
            f"{first} processes a side a first decision needs; their time went to the paired stage, and the benchmarks "
            f"it does not judge are left to instructions (a budget of about {need:.0f} s would give the rounds a decision)")


def fits(counter: int, spent: float, cost: float, budget: float, duet: bool) -> bool:
    """Whether another round of a kind (counter: rounds of that kind so far) fits in `budget`. Duet
    rounds come in pairs, so that each side runs as often on one core as on the other: after an odd
    one the next always runs, and after an even one the next two must fit."""
    if duet:
        return counter % 2 == 1 or spent + 2 * cost <= budget
    return spent + cost <= budget


def last_round(number: int, spent: float, last: float, args: argparse.Namespace, reserve: float = 0.0) -> bool:
    """Whether measuring round `number` of the benchmarks is the last: --rounds reached, or the
    next would overrun the time budget less `reserve` (kept for confirming a "slower")."""
    if args.rounds:
        return number >= args.rounds
    return not fits(number, spent, last, args.time_budget - reserve, args.duet)


class Rounds:
    """The time rounds' schedule. Measuring rounds run the undecided benchmarks; once a look reads a
    benchmark slower, confirming rounds run only the pending ones (CONFIRM_PROCESSES of them,
    reporting/sequential.py) before anything else. Measuring rounds keep a reserve of the budget
    for that; when the reserve is all that is left and nothing is pending, it goes to more
    measuring rounds, and a "slower" read after that may find no budget to be confirmed in."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.count = {"measure": 0, "confirm": 0}
        self.costs: dict[str, list[float]] = {"measure": [], "confirm": []}
        self.reserve_spent = bool(args.rounds)  # --rounds: N rounds, decided once, nothing confirmed

    def reserve(self) -> float:
        """Seconds kept for confirming: CONFIRM_PROCESSES confirming rounds, each costing what the
        cheapest did so far, or half a measuring round before one has run (a confirming round runs
        few benchmarks: its cost is mostly the processes' start; measured in docs/regression-gate.md)."""
        return 0.0 if self.reserve_spent else CONFIRM_PROCESSES * self.confirm_cost()

    def confirm_cost(self) -> float:
        """A confirming round's cost: the cheapest so far, or half the cheaper of the first two
        measuring rounds before one has run."""
        return min(self.costs["confirm"]) if self.costs["confirm"] else min(self.costs["measure"][:2]) / 2

    def stage_fits(self, spent: float) -> bool:
        """Whether a whole further stage of CONFIRM_PROCESSES confirming rounds fits in the budget."""
        return spent + CONFIRM_PROCESSES * self.confirm_cost() <= self.args.time_budget

    def last_measuring(self, spent: float) -> bool:
        """Whether the measuring round just run is the last one the reserve allows."""
        return last_round(self.count["measure"], spent, self.costs["measure"][-1], self.args, self.reserve())

    def next_fits(self, kind: str, spent: float) -> bool:
        """Whether a round of `kind` fits next; a measuring round that fits only in the reserve
        spends it (nothing is pending then)."""
        if kind == "confirm":
            return fits(self.count["confirm"], spent, self.confirm_cost(), self.args.time_budget, self.args.duet)
        if not last_round(self.count["measure"], spent, self.costs["measure"][-1], self.args, self.reserve()):
            return True
        if self.reserve_spent or last_round(self.count["measure"], spent, self.costs["measure"][-1], self.args):
            return False
        self.reserve_spent = True
        return True
