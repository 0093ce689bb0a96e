"""The report as Markdown, one function per section, from the dict cli.build() returns."""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pytest_benchmark.utils import format_time

from benchmarks.spec import COMPILED_MODES
from reporting import consistency, ratios
from reporting.compare import MEMORY_MIN_BYTES, MEMORY_PCT
from reporting.escape import for_html, for_markdown, for_terminal, from_markdown
from reporting.machine import BUSY_SHARE
from reporting.ratios import Ratio
from reporting.scaling import FIT_TOLERANCE_PCT, dominant
from reporting.stats import ALPHA_ROUNDS

if TYPE_CHECKING:
    from reporting.model import Report


def fmt_time(s: float | None) -> str:
    return "" if s is None else f"{format_time(s)}s"


def fmt_bytes(n: float | None) -> str:
    return "" if n is None else f"{n / 2 ** 20:.1f} MiB"


def fmt(x, spec: str = ".3g") -> str:
    return "" if x is None else format(x, spec) if isinstance(x, float) else str(x)


def pct(x: float | None, spec: str = "+.1f") -> str:
    return "" if x is None else f"{x:{spec}}%"


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(for_markdown(str(c)) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def header(r: Report) -> list[str]:
    said = [for_markdown(line) for line in findings(r)]
    out = ["# Benchmark report", ""] + (said[:1] + [""] + [f"- {line}" for line in said[1:]] + [""] if said else [])
    out += [f"**{line}**" for line in verdict_lines(r, for_markdown)] + [""]
    out += [f"> WARNING: {for_markdown(w)}" for w in r.warnings]
    out += [f"Run: {for_markdown(', '.join(r.runs))}", ""]
    out += [f"> **{for_markdown(r.partial)}**", ""] if r.partial else []
    return out + [f"> {for_markdown(n)}" for n in r.notes]


def fmt_rate(f) -> str:
    t = f.throughput
    if t is None:
        return ""
    return f"{t / 1e9:.3g} GFLOP/s" if f.unit == "flop" else f"{t:.3g} items/s"


def size_word(row: dict) -> str:
    """The crossover in the sweep's own size words (batch17, n3.2e+03, size48)."""
    value = row["crossover_size"]
    if value is None:
        return ""
    prefix = re.sub(r"\d+$", "", row["sizes"][0])
    return f"{prefix}{value:.0f}" if value < 1e5 else f"{prefix}{value:.2g}"


def overhead_section(r: Report) -> list[str]:
    """Where the time goes: per steady size sweep, time = fixed + work / throughput (reporting/scaling.py)."""
    out = ["", "## Where the time goes: fixed cost per call vs throughput (steady)", "",
           "Fit of each size sweep: time per call = fixed + work / throughput (work = the analytic FLOPs, else "
           "the items, of a call; least squares in relative error, non-negative; 95% bootstrap intervals over the "
           f"raw rounds). Fixed = what a call costs whatever its size: dispatch, Python, launch, and any work that "
           f"does not grow with it (an SGD step's weight update). Crossover = the size at which the two are equal: "
           f"below it a call is mostly fixed cost. Fit error = the largest miss on a measured median (over "
           f"{FIT_TOLERANCE_PCT:g}%: not linear, figures not used).", ""]
    if not r.overhead:
        return out + ["No workload was measured at two or more sizes."]
    dispatch = {(d["workload"], d["device"], d["framework"], d["size"]): d for d in r.dispatch}
    rows = []
    for x in r.overhead:
        f = x["fit"]
        d = dispatch.get((x["workload"], x["device"], x["framework"], x["sizes"][0])) if x["mode"] == "eager" else None
        per_op = (f"; per-op dispatch: {d['ops']} ops x {fmt_time(d['overhead_per_op_s'])} beyond the compiled step "
                  f"= {d['ops'] * d['overhead_per_op_s'] / d['median_s']:.0%} of the call at {x['sizes'][0]}"
                  if d and d["overhead_per_op_s"] else "")
        fixed = (f"{fmt_time(f.fixed_s)} ({fmt_time(f.fixed_interval[0])}-{fmt_time(f.fixed_interval[1])})"
                 if f.linear else "")
        rows.append([x["workload"], x["device"], f"{x['framework']}-{x['mode']}", f"{x['sizes'][0]}-{x['sizes'][-1]}",
                     fixed, fmt_rate(f) if f.linear else "",
                     size_word(x) if f.linear else "", f"{f.max_error_pct:.1f}%", dominant(x) + per_op])
    return out + [md_table(["workload", "device", "framework-mode", "sizes", "fixed per call (95%)",
                            "throughput (large sizes)", "crossover size", "fit error", "what dominates"], rows)]


def dispatch_section(r: Report) -> list[str]:
    out = ["", "## Per-operation cost of eager modes (steady)", "",
           "Operations = what one eager call dispatches (JAX: the equations of its jaxpr; PyTorch: the ATen "
           "operators a TorchDispatchMode sees). Per op = eager median / operations. Beyond compiled = (eager "
           "median - the same framework's compiled median) / operations: the per-op cost the compiled step "
           "does not pay, the compiled step standing for the kernels' share.", ""]
    if not r.dispatch:
        return out + ["No eager benchmark counted its operations."]
    return out + [md_table(["workload", "size", "device", "framework", "operations", "eager median", "per op",
                            "compiled median", "beyond compiled, per op"],
                           [[x["workload"], x["size"], x["device"], x["framework"], x["ops"], fmt_time(x["median_s"]),
                             fmt_time(x["per_op_s"]), fmt_time(x["compiled_s"]) + (
                                 f" ({x['compiled_mode']})" if x["compiled_mode"] else ""),
                             fmt_time(x["overhead_per_op_s"])] for x in r.dispatch])]


def roofline_section(r: Report) -> list[str]:
    rf = r.roofline
    out = ["", "## Roofline (steady)", "",
           "Arithmetic intensity = flops_per_call / bytes_per_call (the analytic FLOPs and the bytes a call must "
           "move at least). Roofs, both measured in this run: compute = the best steady matmul GFLOP/s, "
           "bandwidth = the best steady STREAM triad GB/s; the roof at an intensity is min(compute, intensity x "
           "bandwidth). Plot: roofline.png.", ""]
    if not rf["roofs"]:
        return out + ["No roofline: the run needs a steady matmul and a steady stream_triad benchmark on a device "
                      "(both roofs are measured, never assumed)."]
    out.append("Roofs: " + "; ".join(f"{for_markdown(str(dev))}: {c:.3g} GFLOP/s, {bw:.3g} GB/s (ridge at {c / bw:.3g} flop/byte)"
                                    for (_, dev), (c, bw) in sorted(rf["roofs"].items())) + ".")
    if rf["unplaced"]:
        out.append(f"{rf['unplaced']} steady benchmarks record no FLOP or no byte count and are not placed.")
    return out + ["", md_table(["workload", "size", "device", "framework-mode", "flop/byte", "GFLOP/s", "roof",
                                "share of roof", "bound by"],
                               [[x["workload"], x["size"], x["device"], f"{x['framework']}-{x['mode']}",
                                 f"{x['intensity']:.3g}", f"{x['gflops']:.3g}", fmt(x["roof_gflops"]),
                                 fmt(x["share_of_roof"], ".1%"), x["bound_by"] or ""] for x in rf["points"]])]


def side_section(r: Report) -> list[str]:
    out = ["", "## Frameworks side by side (steady)", ""]
    if not r.peaks:
        out.append("Share of peak is empty: the run has no steady `matmul` benchmark to measure this "
                   "machine's matmul peak.\n")
    else:
        out.append("Share of peak = GFLOP/s / the best steady `matmul` GFLOP/s of the same run and device: "
                   + ", ".join(f"{for_markdown(str(key[1]))} {p:.3g} GFLOP/s"
                               for key, p in sorted(r.peaks.items()) if len(key) == 2)
                   + ". Share of own matmul = the same against the best matmul of the benchmark's own framework "
                   "(what its matmul kernels reach here).\n")
    out.append(md_table(["workload", "size", "device", "framework", "mode", "median", "IQR", "items/s",
                         "GFLOP/s", "share of peak", "share of own matmul", "peak memory"],
                        [[x["workload"], x["size"], x["device"], x["framework"], x["mode"], fmt_time(x["median_s"]),
                          fmt_time(x["iqr_s"]), fmt(x["items_per_s"]), fmt(x["gflops"]),
                          fmt(x["share_of_peak"], ".1%"), fmt(x["share_of_own_matmul"], ".1%"),
                          fmt_bytes(x["peak_memory_bytes"])] for x in r.side]))
    return out


def findings(r: Report) -> list[str]:
    """The first words of every output: what the JAX/PyTorch verdicts say (reporting/ratios.py)."""
    return ratios.sentences(r.ratios)  # none from a single run: its ratio table says "one process: no interval"


def _ratio_cells(x: Ratio) -> list[str]:
    return [f"{x.ratio:.3g}", x.interval, str(x.processes), x.word]


def ratio_section(r: Report) -> list[str]:
    out = ["", "## JAX / PyTorch time ratio (steady; < 1 means JAX is faster)", ""]
    if not r.ratios:
        return out + ["No workload has both a JAX and a PyTorch steady benchmark in a jit/compile or eager/eager "
                      "pairing."]
    out += [f"Each ratio: the Hodges-Lehmann estimate of JAX's over PyTorch's fastest round, one value per fresh "
            f"process, with its {ratios.CONFIDENCE:.0%} interval (Mann-Whitney); same = the interval within "
            f"+/-{ratios.SAME_PCT:g}%. JAX and PyTorch columns: the median over processes of each side's fastest "
            f"round (one process: the run's median).", ""]
    out.append(md_table(["workload", "size", "device", "jax/torch mode", "JAX", "PyTorch", "ratio",
                         f"{ratios.CONFIDENCE:.0%} interval", "processes", "verdict"],
                        [[x.workload, x.size, x.device, x.pairing, fmt_time(x.jax_s), fmt_time(x.torch_s),
                          *_ratio_cells(x)] for x in r.ratios]))
    return out + ["", md_table(["workload", "device", "jax/torch mode", "sizes", "geometric mean ratio",
                                f"{ratios.CONFIDENCE:.0%} interval", "processes", "verdict"],
                               [[x.workload, x.device, x.pairing, x.size.removeprefix("gmean of "), *_ratio_cells(x)]
                                for x in r.gmeans])]


def consistency_section(r: Report) -> list[str]:
    """An epoch's time per step against the step benchmark (reporting/consistency.py)."""
    if not r.consistency:
        return []
    out = ["", "## Epoch vs step: do related benchmarks agree?", "",
           f"One steady epoch of the MLP divided by its steps, against the steady step benchmark of the same case "
           f"(single passes of the main run). Agree: within +/-{consistency.AGREE_PCT:g}%; a larger gap is named with "
           f"its cause; beyond +/-{consistency.SUSPECT_PCT:g}%, or with no known cause, it says look.", ""]
    return out + [md_table(["framework-mode", "device", "size", "epoch per step", "step", "epoch / step", "verdict", "why"],
                           [[f"{a.framework}-{a.mode}", a.device, a.size, fmt_time(a.epoch_step_s), fmt_time(a.step_s),
                             f"{a.change_pct:+.1f}%", a.verdict, a.why] for a in r.consistency])]


def memory_section(r: Report) -> list[str]:
    out = ["", "## Memory: the working set of a step (steady; JAX / PyTorch)", "",
           "Each case in a fresh process: peak resident memory over its steps after build and warm-up, minus the "
           "process's memory after the framework's start-up and before the inputs were made, less library code "
           "pages (docs/measuring.md); on CUDA the allocator's peak over the same span. Floor = the least the math "
           "needs (inputs, parameters, gradients and optimiser state, the largest activation); a figure below "
           "0.9x its floor fails the run. Only figures measured the same way are put side by side.", ""]
    if not r.memory:
        return out + ["No JAX/PyTorch pair has a working set measured the same way (--memory off, or a case "
                      "outside the default memory set: --memory all)."]
    return out + [md_table(["workload", "size", "device", "jax/torch mode", "JAX", "PyTorch", "JAX / PyTorch",
                            "floor"],
                           [[x["workload"], x["size"], x["device"], x["pairing"], fmt_bytes(x["jax_bytes"]),
                             fmt_bytes(x["torch_bytes"]), fmt(x["ratio"]), fmt_bytes(x["floor_bytes"])]
                            for x in r.memory])]


def compile_section(r: Report) -> list[str]:
    out = ["", "## Compile vs steady", "",
           "Overhead = firstcall median - steady median. Break-even = smallest n with "
           "F_c + (n-1) S_c <= F_e + (n-1) S_e against the same framework's eager mode.", ""]
    if not r.compile:
        return out + ["No benchmark has both a firstcall and a steady phase."]
    table = md_table(["workload", "size", "device", "framework", "mode", "firstcall", "steady", "overhead",
                      "break-even steps", "note"],
                     [[x["workload"], x["size"], x["device"], x["framework"], x["mode"],
                       fmt_time(x["firstcall_s"]), fmt_time(x["steady_s"]), fmt_time(x["overhead_s"]),
                       fmt(x["break_even"]), x["note"]] for x in r.compile])
    warm = [x for x in r.compile if x["warmstart_s"] is not None]
    if not warm:
        return out + [table]
    return out + [table, "", "### Warm start: a new process's first call with the compile caches on disk warm", "",
                  "Cold (fresh process) = the first call of the child that filled the run's own, empty cache "
                  "directory; warm start = the median first call of later children with that cache (each round a new "
                  "process; its start-up and imports timed apart); saved = cold - warm. Both include what a new process "
                  "pays in its first call (Inductor's start-up among it), which the in-process firstcall above leaves "
                  "out. Break-even from warm: as above, with the warm start as the first call.", "",
                  md_table(["workload", "size", "device", "framework", "mode", "cold (fresh process)", "warm start",
                            "saved", "firstcall (in-process)", "steady", "break-even from warm"],
                           [[x["workload"], x["size"], x["device"], x["framework"], x["mode"],
                             fmt_time(x["cold_process_s"]), fmt_time(x["warmstart_s"]), fmt_time(x["cache_saved_s"]),
                             fmt_time(x["firstcall_s"]), fmt_time(x["steady_s"]), fmt(x["break_even_warm"])]
                            for x in warm])]


def regression_intro(r: Report) -> list[str]:
    out = [f"Baseline: {for_markdown(str(r.baseline))}. Compared: the fastest round of a run (the gate statistic: other "
           "processes only add time); with several runs on both sides, the fastest of each side's runs, else the "
           "current runs' fastest against the slowest baseline run's (several baseline runs set the noise floor). "
           "Slower = the current side is slower than the baseline side by more "
           f"than the benchmark's threshold (steady: {r.threshold:g}% or, if larger, the threshold calibrated on "
           f"this machine for that many runs a side; firstcall {r.firstcall_threshold:g}%). With several runs "
           "on both sides the sides' median runs must also differ by more than their own calibrated threshold "
           "(shown in the test column); with one run on a side the slow-down must be significant on each pair's "
           f"raw rounds (Mann-Whitney U, p < {ALPHA_ROUNDS:g}; p below is the largest). Faster = the mirror image. "
           "Same = the 95% interval of the current / baseline median (over every pair of runs) and the change "
           f"both lie inside ±{r.threshold:g}% (firstcall ±{r.firstcall_threshold:g}%), the smallest change that "
           "matters, and no calibration puts this machine's runs further apart than that (a change inside a wide "
           "noise floor is never same); anything else is undecided. Resolvable = half that interval's width, or "
           "the calibrated threshold where it is wider: about the smallest change these runs could tell from none. "
           "Spread = the baseline runs' slowest / fastest - 1. Only steady benchmarks measured on a quiet "
           f"machine set the exit code (gated = yes; a benchmark during which other processes took more than "
           f"{BUSY_SHARE:.0%} of the CPU is not gated). Memory: larger or smaller beyond {MEMORY_PCT:g}% and "
           f"{MEMORY_MIN_BYTES // 2 ** 20} MiB, else similar; never gated.", ""]
    if r.baseline_note:
        out += [for_markdown(r.baseline_note[0].upper() + r.baseline_note[1:]) + ".", ""]
    if r.calibration:
        out += [f"Calibration: {for_markdown(r.calibration)}.", ""]
    if len(r.runs) == 1:
        out += ["With one current run, a test on its rounds cannot tell a real slow-down from a run-level "
                "shift of this machine: confirm a slower verdict by measuring again and passing both runs "
                "(`make regress` does this), or compare A/B on this machine (`make compare`).", ""]
    return out


def regression_section(r: Report) -> list[str]:
    out = ["", "## Against the baseline: slower, faster, same or undecided", ""]
    if r.baseline is None:
        return out + [for_markdown(r.baseline_note)]
    out += regression_intro(r)
    out.append(md_table(["benchmark", "baseline", "spread", "current", "change", "threshold", "p", "test",
                         "95% interval", "resolvable", "gated", "verdict", "memory change", "memory verdict"],
                        [[x["name"], fmt_time(x["baseline_min_s"]), pct(x["baseline_spread_pct"], ".1f"),
                          fmt_time(x["current_min_s"]), pct(x["change_pct"]), pct(x["threshold_pct"], "g"),
                          fmt(x["p_value"], ".2g"), x["test"], interval_cell(x), pct(x["resolvable_pct"], ".1f"),
                          gated_cell(r, x), x["verdict"],
                          pct(x["memory_change_pct"]), x["memory_verdict"]] for x in r.regressions]))
    out += ["", "Machine differences noted: " + ("none." if not r.machine_diff else "")]
    return out + [f"- `{for_markdown(str(k))}`: {for_markdown(repr(b))} -> {for_markdown(repr(c))}"
                  for k, b, c in r.machine_diff]


def interval_cell(row: dict) -> str:
    """The 95% interval of current / baseline median, in %, or why there is none."""
    if row["interval_low_pct"] is None or row["interval_high_pct"] is None:
        return "none (too few raw rounds)" if row["change_pct"] is not None else ""
    return f"{row['interval_low_pct']:+.1f}% .. {row['interval_high_pct']:+.1f}%"


def gated_cell(r: Report, row: dict) -> str:
    """yes, or why not: the whole comparison (see the verdict), or this benchmark (firstcall, busy)."""
    if r.blockers:
        return "no: nothing gates (see the verdict)"
    return "yes" if row["gated"] else f"no: {row['not_gated']}"


def size_section(r: Report) -> list[str]:
    out = ["", "## Implementation size (non-blank, non-comment lines)", ""]
    if not r.size:
        return out + ["No models/*_jax.py + *_torch.py pairs found."]
    return out + [md_table(["model", "JAX", "PyTorch", "JAX/PyTorch"],
                           [[x["model"], x["jax_lines"], x["torch_lines"], fmt(x["ratio"])] for x in r.size])]


def verdict_lines(r: Report, escape=str) -> list[str]:
    """The verdict's lines, each escaped by `escape` for where they go (they name benchmarks and runs)."""
    assert r.verdict is not None  # cli.build sets it before anything is rendered
    return [escape(line) for line in r.verdict.lines()]


def verdict_section(r: Report) -> list[str]:
    return ["", "## Verdict", ""] + verdict_lines(r, for_markdown)


def render_markdown(r: Report) -> str:
    sections = (header, overhead_section, dispatch_section, side_section, roofline_section, ratio_section,
                consistency_section, memory_section, compile_section, regression_section, size_section, verdict_section)
    return "\n".join(line for section in sections for line in section(r)) + "\n"


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


def render_summary(r: Report) -> str:
    """What a terminal shows: the findings, the verdict, JAX/PyTorch per workload, compile costs (report.md
    has the rest)."""
    out = findings(r) + [""] * bool(findings(r))
    out += verdict_lines(r) + ["", f"Run: {', '.join(r.runs)}"] + ([r.partial] if r.partial else [])
    out += [f"WARNING: {w}" for w in r.warnings] + r.notes
    if r.gmeans:
        out += ["", f"JAX / PyTorch time, geometric mean over sizes (< 1: JAX faster; [{ratios.CONFIDENCE:.0%} "
                    "interval, processes, verdict]):"]
        for w in sorted({x.workload for x in r.gmeans}):
            out.append(f"  {w:<16} " + "   ".join(
                f"{x.pairing} {x.ratio:.3g} ({_sizes(x)}) "
                + (f"[{x.interval}]" if x.processes <= 1 else f"[{x.interval}, {x.processes}, {x.word}]")
                + (f" {x.device}" if x.device != "cpu" else "") for x in r.gmeans if x.workload == w))
    gaps = [a for a in r.consistency if a.verdict != "agree"]
    if r.consistency:
        out += ["", f"Epoch vs step: {len(r.consistency) - len(gaps)} of {len(r.consistency)} agree"
                    + "".join(f"; {a.framework}-{a.mode} {a.size} {a.change_pct:+.0f}% ({a.verdict})" for a in gaps)]
    if r.compile:
        out += ["", "Compile (firstcall - steady median; break-even against the same framework's eager):"]
        out += compile_summary(r.compile)
    return "\n".join(map(for_terminal, out)) + "\n"  # one line each, whatever the runs' strings hold


def _inline(text: str) -> str:
    text = for_html(from_markdown(text))
    text = re.sub(r"`([^`]*)`", r"<code>\1</code>", text)
    return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", text)


def _html_table(lines: list[str]) -> str:
    cells = [[c.strip() for c in line.strip().strip("|").split(" | ")] for line in lines if not line.startswith("|--")]
    head = "".join(f"<th>{_inline(c)}</th>" for c in cells[0])
    body = "".join("<tr>" + "".join(f"<td>{_inline(c)}</td>" for c in row) + "</tr>" for row in cells[1:])
    return f'<div class="scroll"><table class="data"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def markdown_html(markdown: str) -> str:
    """The subset of Markdown report.md uses (headings, tables, quotes, lists, paragraphs) as HTML,
    so every table of report.md is in the page with the same text."""
    out, table = [], []
    for line in markdown.splitlines() + [""]:
        if line.startswith("|"):
            table.append(line)
            continue
        if table:
            out.append(_html_table(table))
            table = []
        if m := re.match(r"(#+) (.*)", line):
            level = min(len(m[1]) + 1, 6)
            out.append(f'<h{level} id="{re.sub(r"[^a-z0-9]+", "-", m[2].lower()).strip("-")}">'
                       f"{_inline(m[2])}</h{level}>")
        elif line.startswith("> "):
            out.append(f"<blockquote>{_inline(line[2:])}</blockquote>")
        elif line.startswith("- "):
            out.append(f"<ul><li>{_inline(line[2:])}</li></ul>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
    return "\n".join(out)
