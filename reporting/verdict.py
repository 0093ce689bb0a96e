"""The verdict of one report: what the first line says, what report/verdict.json holds, the exit code.

verdict.json is for scripts (the Makefile reads it, never the report's prose):
    {"exit_code": 0|1, "gated": bool, "sentence": str, "not_gated": [reason, ...],
     "slower": [pytest node id, ...], "baseline": str|null, "runs": [path, ...]}
"gated" is true when a baseline was allowed to set the exit code; "slower" lists only the gated
benchmarks judged slower (the comparison shown as information when not gated never lands there).
The words are make compare's: slower / faster / same / undecided (reporting.compare).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from reporting import EXIT_OK, EXIT_REGRESSION

NOTHING_SLOWER = "Nothing gated is slower."  # the sentence when a baseline gates and no benchmark is slower
MACHINE_HINT = ("A stored baseline judges only a machine that measures the same: run `make baseline` on this "
                "machine (and commit it), or compare A/B on this machine with `make compare`.")


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    gated: bool
    sentence: str
    not_gated: list[str] = field(default_factory=list)
    slower: list[str] = field(default_factory=list)  # fullnames (pytest node ids)
    slower_names: list[str] = field(default_factory=list)
    baseline: str | None = None
    runs: list[str] = field(default_factory=list)
    machine_differs: bool = False  # a blocker is about the machine (fingerprint or probes), not its load

    def lines(self) -> list[str]:
        """The first screen: the sentence, the hint where the machine differs, one line per gated slower benchmark."""
        return ([self.sentence] + ([MACHINE_HINT] if self.machine_differs else [])
                + [f"SLOWER: {name}" for name in self.slower_names])

    def write(self, path: Path) -> None:
        doc = {k: v for k, v in asdict(self).items() if k != "slower_names"}
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf8")


def gated_slower(rows: list[dict], blockers: list[str]) -> list[dict]:
    """The rows that set exit code 1: slower and gated, when nothing blocks the comparison."""
    if blockers:
        return []
    return [x for x in rows if x["verdict"] == "slower" and x["gated"]]


def verdict_of(blockers: list[str], rows: list[dict], baseline: str | None, baseline_note: str,
               runs: list[str]) -> Verdict:
    """From the report's comparison: blockers (why nothing gates), its rows, the baseline (or why none)."""
    slower = gated_slower(rows, blockers)
    common: dict[str, Any] = {"baseline": baseline, "runs": runs, "not_gated": list(blockers),
                              "slower": [x["fullname"] for x in slower], "slower_names": [x["name"] for x in slower]}
    if baseline is None:
        note = baseline_note or "No baseline."
        return Verdict(EXIT_OK, False, f"Not gated: {note[0].lower()}{note[1:]}", **common)
    if blockers:
        machine = any(": machine busy during the run" not in b for b in blockers)
        return Verdict(EXIT_OK, False, "Not gated: " + "; ".join(blockers) + ".", machine_differs=machine, **common)
    if slower:
        return Verdict(EXIT_REGRESSION, True, f"{len(slower)} gated benchmark(s) slower than the baseline {baseline}.",
                       **common)
    return Verdict(EXIT_OK, True, NOTHING_SLOWER, **common)
