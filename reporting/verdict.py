"""The verdict of one report: what the first line says, what report/verdict.json holds, the exit code.

verdict.json is for scripts (the Makefile reads it, never the report's prose):
    {"exit_code": 0|1, "gated": bool, "sentence": str, "not_gated": [reason, ...],
     "regressed": [pytest node id, ...], "baseline": str|null, "runs": [path, ...]}
"gated" is true when a baseline was allowed to set the exit code; "regressed" lists only gated
regressions (the comparison shown as information when not gated never lands there).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from reporting import EXIT_OK, EXIT_REGRESSION
from reporting.compare import gated_regressions

if TYPE_CHECKING:
    from reporting.model import Report

MACHINE_HINT = ("A stored baseline judges only a machine that measures the same: run `make baseline` on this "
                "machine (and commit it), or compare A/B on this machine with `make compare`.")


@dataclass(frozen=True)
class Verdict:
    exit_code: int
    gated: bool
    sentence: str
    not_gated: list[str] = field(default_factory=list)
    regressed: list[str] = field(default_factory=list)  # fullnames (pytest node ids)
    regressed_names: list[str] = field(default_factory=list)
    baseline: str | None = None
    runs: list[str] = field(default_factory=list)
    machine_differs: bool = False  # a blocker is about the machine (fingerprint or probes), not its load

    def lines(self) -> list[str]:
        """The first screen: the sentence, the hint where the machine differs, one line per gated regression."""
        return ([self.sentence] + ([MACHINE_HINT] if self.machine_differs else [])
                + [f"REGRESSED: {name}" for name in self.regressed_names])

    def write(self, path: Path) -> None:
        doc = {k: v for k, v in asdict(self).items() if k != "regressed_names"}
        path.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf8")


def verdict_of(r: Report) -> Verdict:
    """From the report's comparison: blockers (why nothing gates), rows, baseline."""
    blockers, rows = r.blockers, r.regressions
    regressed = gated_regressions(rows, blockers)
    common: dict[str, Any] = {"baseline": r.baseline, "runs": r.runs, "not_gated": list(blockers),
                              "regressed": [x["fullname"] for x in regressed], "regressed_names": [x["name"] for x in regressed]}
    if r.baseline is None:
        note = r.baseline_note or "No baseline."
        return Verdict(EXIT_OK, False, f"Not gated: {note[0].lower()}{note[1:]}", **common)
    if blockers:
        machine = any(": machine busy during the run" not in b for b in blockers)
        return Verdict(EXIT_OK, False, "Not gated: " + "; ".join(blockers) + ".", machine_differs=machine, **common)
    if regressed:
        return Verdict(EXIT_REGRESSION, True, f"{len(regressed)} gated regression(s) against {r.baseline}.",
                       **common)
    return Verdict(EXIT_OK, True, "No gated regression.", **common)
