"""The report as Markdown (its header, then each section of reporting/sections/ in order) and the
short summary a terminal shows."""
from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING

from benchmarks.spec import COMPILED_MODES
from reporting import ratios
from reporting.escape import for_markdown, for_terminal
from reporting.markdown import fmt_time
from reporting.ratios import Ratio
from reporting.sections import SECTIONS

if TYPE_CHECKING:
    from reporting.model import Report


def findings(r: Report) -> list[str]:
    """The first words of every output: what the JAX/PyTorch verdicts say (reporting/ratios.py)."""
    return ratios.sentences(r.rows["ratios"].ratios)  # none from a single run: its table says "one process: no interval"


def header(r: Report) -> list[str]:
    said = [for_markdown(line) for line in findings(r)]
    out = ["# Benchmark report", ""] + (said[:1] + [""] + [f"- {line}" for line in said[1:]] + [""] if said else [])
    out += [f"**{line}**" for line in r.verdict_lines(for_markdown)] + [""]
    out += [f"> WARNING: {for_markdown(w)}" for w in r.warnings]
    out += [f"Run: {for_markdown(', '.join(r.runs))}", ""]
    out += [f"> **{for_markdown(r.partial)}**", ""] if r.partial else []
    return out + [f"> {for_markdown(n)}" for n in r.notes]


def render_markdown(r: Report, leave_out: Collection[str] = ()) -> str:
    """report.md: the header and every section but those named in `leave_out`."""
    lines = header(r) + [line for s in SECTIONS if s.name not in leave_out for line in s.markdown(r)]
    return "\n".join(lines) + "\n"


def _span(values: Sequence[float], show) -> str:
    lo, hi = min(values), max(values)
    return show(lo) if lo == hi else f"{show(lo)}-{show(hi)}"


def compile_summary(rows: list[dict]) -> list[str]:
    """One line per compiled framework-mode: what its first call costs and when it pays off."""
    out = []
    for fw, mode in sorted({(x["framework"], x["mode"]) for x in rows if x["mode"] in COMPILED_MODES}):
        mine = [x for x in rows if (x["framework"], x["mode"]) == (fw, mode)]
        steps = [x["break_even"] for x in mine if isinstance(x["break_even"], int)]
        never = sum(x["break_even"] == "never" for x in mine)
        out.append(f"  {fw}-{mode}: first call {_span([x['overhead_s'] for x in mine], fmt_time)} over a steady "
                   f"step; pays off after {_span(steps, str) if steps else '-'} steps"
                   + (f" (never in {never} of {len(mine)})" if never else f" ({len(mine)} cases)"))
    return out


def _sizes(x: Ratio) -> str:
    n = x.size.removeprefix("gmean of ")
    return f"{n} size" if n == "1" else f"{n} sizes"


def _gmean_lines(gmeans: list[Ratio]) -> list[str]:
    if not gmeans:
        return []
    out = ["", f"JAX / PyTorch time, geometric mean over sizes (< 1: JAX faster; [{ratios.CONFIDENCE:.0%} "
               "interval, processes, verdict]):"]
    for w in sorted({x.workload for x in gmeans}):
        out.append(f"  {w:<16} " + "   ".join(
            f"{x.pairing} {x.ratio:.3g} ({_sizes(x)}) "
            + (f"[{x.interval}]" if x.processes <= 1 else f"[{x.interval}, {x.processes}, {x.word}]")
            + (f" {x.device}" if x.device != "cpu" else "") for x in gmeans if x.workload == w))
    return out


def render_summary(r: Report) -> str:
    """What a terminal shows: the findings, the verdict, JAX/PyTorch per workload, compile costs (report.md
    has the rest)."""
    out = findings(r) + [""] * bool(findings(r))
    out += r.verdict_lines() + ["", f"Run: {', '.join(r.runs)}"] + ([r.partial] if r.partial else [])
    out += [f"WARNING: {w}" for w in r.warnings] + r.notes + _gmean_lines(r.rows["ratios"].gmeans)
    agreements = r.rows["consistency"]
    gaps = [a for a in agreements if a.verdict != "agree"]
    if agreements:
        out += ["", f"Epoch vs step: {len(agreements) - len(gaps)} of {len(agreements)} agree"
                    + "".join(f"; {a.framework}-{a.mode} {a.size} {a.change_pct:+.0f}% ({a.verdict})" for a in gaps)]
    if r.rows["compile"]:
        out += ["", "Compile (firstcall - steady median; break-even against the same framework's eager):"]
        out += compile_summary(r.rows["compile"])
    return "\n".join(map(for_terminal, out)) + "\n"  # one line each, whatever the runs' strings hold
