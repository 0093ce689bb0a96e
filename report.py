"""Stored pytest-benchmark JSON -> tables, plots, CSV, regression verdicts and an exit code.

    python report.py [RUN.json ...] [--baseline PATH] [--out DIR] [--threshold PCT] [--history]

Reads only JSON (and models/*.py as text for the implementation-size table): nothing from models/
or benchmarks/ is imported. load -> compare -> render, as small functions; scipy.stats for the
statistics, matplotlib (imported only when plotting) for the figures.

Exit 0: no gated regression. 1: at least one steady benchmark is slower than its baseline by more
than --threshold and the slow-down is significant (one-sided Mann-Whitney U on the raw rounds,
p < 0.01; threshold only when a side has no raw rounds or too few of them). 2: bad input.
firstcall benchmarks (trace + compile + one step, 5 cold rounds by default) get verdicts against
their own looser --firstcall-threshold but never set the exit code: a handful of cold rounds gives
a weak test (3 rounds cannot reach p < 0.01 at all), and compile time on a shared runner drifts
between runs more than steady time does.
"""
from __future__ import annotations

import argparse
import csv
import io
import json
import math
import os
import re
import shutil
import sys
import tempfile
import tokenize
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import stats

EXIT_OK, EXIT_REGRESSION, EXIT_BAD_INPUT = 0, 1, 2
ALPHA = 0.01  # one-sided Mann-Whitney U significance level
RUN_GLOB = "[0-9][0-9][0-9][0-9]_*.json"  # pytest-benchmark storage: <storage>/<machine-id>/NNNN_name.json
COMPILED_MODES = ("jit", "scan", "compile")
PAIRINGS = (("jit", "compile"), ("eager", "eager"))  # (jax mode, torch mode)
ID_RE = re.compile(r"^test_(?P<workload>\w+)\[(?P<framework>[^-\]]+)-(?P<mode>[^-\]]+)-(?P<device>[^-\]]+)-"
                   r"(?P<size>.+)-(?P<phase>steady|firstcall)\]$")
DATA_RE = re.compile(r'"data":\s*\[[^\]]*\]')  # raw rounds: only numbers, so no ']' inside
# machine_info keys that differ between any two runs without meaning anything
MACHINE_NOISE = ("node", "cpu.hz_actual", "cpu.hz_actual_friendly", "python_build")
PLOTS = ("ratio_to_baseline.png", "history.png", "scaling.png", "compile_vs_steady.png")


class BadInput(Exception):
    """One line for the user: which file, what is wrong with it."""

    def __init__(self, path, problem: str):
        super().__init__(f"{path}: {problem}")


# ---------------------------------------------------------------- load

@dataclass
class Bench:
    name: str  # test_<workload>[<framework>-<mode>-<device>-<size>-<phase>]
    fullname: str  # matching key between runs
    run: str  # file it came from
    median: float  # seconds per call
    iqr: float | None
    rounds: int
    data: np.ndarray | None  # raw per-round seconds (--benchmark-save-data)
    info: dict  # extra_info, with workload/framework/... filled from the id where missing
    stats_median: float | None = None  # set only when stats.median disagrees with the raw rounds

    def get(self, key: str):
        return self.info.get(key)


@dataclass
class Run:
    path: Path
    machine_info: dict
    benches: dict[str, Bench]  # by fullname
    notes: list[str]


def _number(value) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) else None


def parse_bench(raw: dict, path: Path) -> Bench:
    st = raw["stats"]
    name = raw.get("name") or raw["fullname"]
    info = dict(raw["extra_info"]) if isinstance(raw.get("extra_info"), dict) else {}
    match = ID_RE.match(name)
    for key in ("workload", "framework", "mode", "device", "size", "phase"):
        if info.get(key) is None and match:
            info[key] = match[key]
    if info.get("size_value") is None and info.get("size"):
        digits = re.search(r"(\d+)$", str(info["size"]))
        info["size_value"] = int(digits[1]) if digits else None
    data = st.get("data")
    try:
        data = np.asarray(data, dtype=float) if isinstance(data, list) and len(data) > 0 else None
    except (TypeError, ValueError):  # not a list of numbers: a run from some other tool
        data = None
    if data is not None and not np.isfinite(data).all():
        data = None
    if data is not None:  # the raw rounds are the truth; stats are derived from them
        q1, median, q3 = np.percentile(data, [25, 50, 75])
        iqr = q3 - q1
    else:
        median, iqr = _number(st.get("median")), _number(st.get("iqr"))
    stats_median = _number(st.get("median"))
    if stats_median is not None and math.isclose(stats_median, median, rel_tol=1e-6):
        stats_median = None
    return Bench(name=name, fullname=raw.get("fullname") or name, run=str(path), median=float(median),
                 iqr=iqr, rounds=int(_number(st.get("rounds")) or (len(data) if data is not None else 0)),
                 data=data, info=info, stats_median=stats_median)


def load_run(path: Path, keep_data: bool = True) -> Run:
    try:
        text = path.read_text(encoding="utf8")
    except OSError as exc:
        raise BadInput(path, f"cannot read ({exc.strerror or exc})") from None
    except UnicodeDecodeError:
        raise BadInput(path, "not a pytest-benchmark run (not UTF-8 text)") from None
    doc = None
    if not keep_data:  # history only needs medians: skip parsing the raw rounds
        try:
            doc = json.loads(DATA_RE.sub('"data": null', text))
        except json.JSONDecodeError:
            doc = None
    if doc is None:
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise BadInput(path, f"not valid JSON, truncated? ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    benches_raw = doc.get("benchmarks") if isinstance(doc, dict) else None
    if not isinstance(benches_raw, list):
        raise BadInput(path, "not a pytest-benchmark run (no 'benchmarks' list)")
    if not benches_raw:
        raise BadInput(path, "pytest-benchmark run with no benchmarks in it")
    benches, notes, disagree = {}, [], 0
    for i, raw in enumerate(benches_raw):
        ok = (isinstance(raw, dict) and isinstance(raw.get("stats"), dict)
              and _number(raw["stats"].get("median")) is not None
              and isinstance(raw.get("fullname") or raw.get("name"), str))
        if not ok:
            raise BadInput(path, f"not a pytest-benchmark run (benchmark #{i} has no name or stats.median)")
        bench = parse_bench(raw, path)
        if not bench.median > 0:
            raise BadInput(path, f"not a pytest-benchmark run (benchmark #{i} has a median of {bench.median:g} s)")
        if bench.stats_median is not None:
            disagree += 1
        if not keep_data:
            bench.data = None
        benches[bench.fullname] = bench
    if disagree:
        notes.append(f"{path}: stats.median disagrees with the raw rounds for {disagree} benchmark(s); "
                     "the raw rounds were used")
    machine_info = doc.get("machine_info") if isinstance(doc.get("machine_info"), dict) else {}
    return Run(path=path, machine_info=machine_info, benches=benches, notes=notes)


def _history_run(path: Path) -> Run | str:
    """A run as the history plot needs it (medians, workload, phase), or the one-line error."""
    try:
        run = load_run(path, keep_data=False)
    except BadInput as exc:
        return str(exc)
    for b in run.benches.values():
        b.info = {"workload": b.get("workload"), "phase": b.get("phase")}  # less to send back
    run.machine_info = {}
    return run


def load_history(paths: list[Path]) -> list[Run]:
    """Every stored run, parsed on all cores when there are many (200 runs: about twice as fast)."""
    if len(paths) < 16 or (os.cpu_count() or 1) < 2:
        runs = [_history_run(p) for p in paths]
    else:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(max_workers=min(os.cpu_count(), 4)) as pool:
            runs = list(pool.map(_history_run, paths, chunksize=8))
    for run in runs:
        if isinstance(run, str):
            raise BadInput(*run.split(": ", 1))
    return runs


def stored_runs(folder: Path) -> list[Path]:
    """Runs in a pytest-benchmark storage folder (or one machine-id folder of it), oldest first."""
    files = list(folder.glob(RUN_GLOB)) + list(folder.glob(f"*/{RUN_GLOB}"))
    return sorted(files, key=lambda f: (f.stat().st_mtime, f.name))


def machine_id(path: Path, machine_info: dict | None = None) -> str | None:
    """The storage machine-id folder a run sits in, e.g. Linux-CPython-3.11-64bit.

    For a loose file (--benchmark-json, a copy) the id is rebuilt from its machine_info the way
    pytest-benchmark names its folders: <system>-<implementation>-<major.minor>-64bit.
    """
    if re.fullmatch(r"\d{4}_.*\.json", path.name):
        return path.parent.name
    info = machine_info or {}
    system, impl, version = info.get("system"), info.get("python_implementation"), info.get("python_version")
    if not (isinstance(system, str) and isinstance(impl, str) and isinstance(version, str)):
        return None
    bits = "64bit" if str(info.get("machine", "")).endswith("64") else "32bit"
    return f"{system}-{impl}-{'.'.join(version.split('.')[:2])}-{bits}"


def newest_run(folder: Path, prefer_machine: str | None = None) -> Path:
    if not folder.is_dir():
        raise BadInput(folder, "no such storage folder")
    runs = stored_runs(folder)
    if not runs:
        raise BadInput(folder, f"storage folder holds no pytest-benchmark runs ({RUN_GLOB})")
    same = [r for r in runs if prefer_machine and r.parent.name == prefer_machine]
    return sorted(same, key=lambda f: f.name)[-1] if same else runs[-1]


def resolve_run(arg: str, prefer_machine: str | None = None) -> Path:
    path = Path(arg)
    if path.is_dir():
        return newest_run(path, prefer_machine)
    if not path.exists():
        raise BadInput(path, "no such file")
    return path


def baseline_paths(arg: str, machine: str | None, names: set[str]) -> list[Path]:
    """--baseline PATH: a run file, or a storage folder's runs for this machine and selection (all
    of them: several runs of one baseline measure the machine's run-to-run noise)."""
    path = Path(arg)
    if not path.is_dir():
        return [resolve_run(arg)]
    return machine_baselines(path, machine, names) or [newest_run(path)]


def machine_baselines(folder: Path, machine: str | None, names: set[str]) -> list[Path]:
    """The runs stored in `folder` for `machine` taken with the same selection as the current run."""
    same = [r for r in stored_runs(folder) if r.parent.name == machine] if folder.is_dir() else []
    return sorted(matching_selection(same, names), key=lambda f: f.name) if same else []


def matching_selection(paths: list[Path], current: set[str]) -> list[Path]:
    """The baseline runs taken with the same selection of benchmarks as the current run.

    What ran before a benchmark in the same process moves its time on a small machine, so a
    quick-set run is compared with quick-set baselines and a full run with full ones: the runs
    whose benchmark set covers most of the current run, the smallest such set first.
    """
    names = {p: _benchmark_names(p) for p in paths}
    best = max(names.values(), key=lambda n: (len(n & current), -len(n - current)))
    return [p for p in paths if names[p] == best]


def _benchmark_names(path: Path) -> set[str]:
    try:
        return set(load_run(path, keep_data=False).benches)
    except BadInput:
        return set()  # reported properly if this run is chosen and loaded


def default_baseline(current: Path, folder: Path, machine_info: dict,
                     names: set[str]) -> tuple[list[Path], str]:
    """The runs in baselines/ of a matching machine id and benchmark selection, or none and why not."""
    machine = machine_id(current, machine_info)
    runs = machine_baselines(folder, machine, names)
    if runs:
        return runs, ""
    if machine is None:
        return [], (f"No baseline: {current} is not in pytest-benchmark storage (<machine-id>/NNNN_*.json) "
                    "and its machine_info does not name the machine; pass --baseline PATH.")
    return [], f"No baseline: {folder}/{machine}/ holds no run; pass --baseline PATH to compare against one."


def merge(runs: list[Run]) -> dict[str, Bench]:
    merged: dict[str, Bench] = {}
    for run in runs:
        merged.update(run.benches)
    return merged


# ---------------------------------------------------------------- compare

def gflops(b: Bench) -> float | None:
    flops = _number(b.get("flops_per_call")) or _number(b.get("flops_per_call_framework"))
    return flops / b.median / 1e9 if flops and b.median > 0 else None


def throughput(b: Bench) -> float | None:
    items = _number(b.get("items_per_call"))
    return items / b.median if items and b.median > 0 else None


def matmul_peaks(benches: dict[str, Bench]) -> dict[tuple, float]:
    """The highest GFLOP/s among a run's steady matmul benchmarks: per (run, device), the machine's
    peak, and per (run, device, framework), what that framework's own matmul reaches."""
    peaks: dict[tuple, float] = {}
    for b in benches.values():
        rate = gflops(b)
        if b.get("workload") == "matmul" and b.get("phase") == "steady" and rate:
            for key in ((b.run, b.get("device")), (b.run, b.get("device"), b.get("framework"))):
                peaks[key] = max(peaks.get(key, 0.0), rate)
    return peaks


def _group_key(b: Bench) -> tuple:
    return (str(b.get("workload")), str(b.get("device")), b.get("size_value") or 0, str(b.get("size")))


def side_by_side(benches: dict[str, Bench], peaks: dict) -> list[dict]:
    rows = []
    for b in sorted(benches.values(), key=lambda b: (_group_key(b), str(b.get("framework")), str(b.get("mode")))):
        if b.get("phase") == "firstcall":
            continue
        rate, peak = gflops(b), peaks.get((b.run, b.get("device")))
        own = peaks.get((b.run, b.get("device"), b.get("framework")))
        rows.append({"workload": b.get("workload"), "size": b.get("size"), "device": b.get("device"),
                     "framework": b.get("framework"), "mode": b.get("mode"), "median_s": b.median,
                     "iqr_s": b.iqr, "items_per_s": throughput(b), "gflops": rate,
                     "share_of_peak": rate / peak if rate and peak else None,
                     "share_of_own_matmul": rate / own if rate and own else None, "name": b.name})
    return rows


def framework_ratios(benches: dict[str, Bench]) -> tuple[list[dict], list[dict]]:
    """JAX time / PyTorch time per (workload, size, device) and mode pairing, and their geometric means."""
    by_case = defaultdict(dict)
    for b in benches.values():
        if b.get("phase") != "firstcall":
            by_case[_group_key(b)][(b.get("framework"), b.get("mode"))] = b
    rows = []
    for key in sorted(by_case):
        case = by_case[key]
        for jax_mode, torch_mode in PAIRINGS:
            jax, torch = case.get(("jax", jax_mode)), case.get(("torch", torch_mode))
            if jax and torch and torch.median > 0:
                rows.append({"workload": key[0], "device": key[1], "size": key[3],
                             "pairing": f"{jax_mode}/{torch_mode}", "jax_s": jax.median,
                             "torch_s": torch.median, "ratio": jax.median / torch.median,
                             "names": (jax.name, torch.name)})
    groups = defaultdict(list)
    for r in rows:
        groups[(r["workload"], r["device"], r["pairing"])].append(r["ratio"])
    gmeans = [{"workload": w, "device": d, "pairing": p, "n": len(v), "gmean": float(stats.gmean(v))}
              for (w, d, p), v in sorted(groups.items())]
    return rows, gmeans


def break_even(f_c: float, s_c: float, f_e: float, s_e: float) -> int | None:
    """Smallest n with F_c + (n-1) S_c <= F_e + (n-1) S_e; None means never."""
    if f_c <= f_e:
        return 1
    if s_c >= s_e:
        return None
    return 1 + math.ceil((f_c - f_e) / (s_e - s_c))


def compile_table(benches: dict[str, Bench]) -> list[dict]:
    cases = defaultdict(dict)
    for b in benches.values():
        key = (str(b.get("workload")), str(b.get("device")), b.get("size_value") or 0, str(b.get("size")),
               str(b.get("framework")), str(b.get("mode")))
        cases[key][b.get("phase")] = b
    rows = []
    for key in sorted(cases):
        workload, device, _, size, framework, mode = key
        first, steady = cases[key].get("firstcall"), cases[key].get("steady")
        if not (first and steady):
            continue
        row = {"workload": workload, "size": size, "device": device, "framework": framework, "mode": mode,
               "firstcall_s": first.median, "steady_s": steady.median,
               "overhead_s": first.median - steady.median, "break_even": None, "note": "",
               "names": (first.name, steady.name)}
        eager = cases.get(key[:5] + ("eager",), {})
        if mode in COMPILED_MODES and eager.get("steady"):
            s_e = eager["steady"].median
            f_e = eager["firstcall"].median if eager.get("firstcall") else s_e
            steps = break_even(first.median, steady.median, f_e, s_e)
            row["break_even"] = "never" if steps is None else steps
            if not eager.get("firstcall"):
                row["note"] = "eager firstcall not measured: taken as its steady time"
        elif mode in COMPILED_MODES:
            row["note"] = f"no {framework} eager steady benchmark to break even against"
        rows.append(row)
    return rows


def significance(cur: Bench, base: Bench, alternative: str) -> tuple[float | None, str]:
    """(p, how): one-sided Mann-Whitney U on raw rounds that `cur` is `alternative` ("greater":
    slower, "less": faster) than `base`, or None and why threshold only."""
    if cur.data is None or base.data is None:
        side = "both" if cur.data is None and base.data is None else ("current" if cur.data is None else "baseline")
        return None, f"threshold only: no raw rounds in {side}"
    n1, n2 = len(cur.data), len(base.data)
    if 1 / math.comb(n1 + n2, n1) >= ALPHA:
        return None, f"threshold only: too few rounds ({n1} vs {n2})"
    return float(stats.mannwhitneyu(cur.data, base.data, alternative=alternative).pvalue), "Mann-Whitney U"


def _claims(b: Bench) -> list[float]:
    """The medians a benchmark claims: stats.median too where an edited file disagrees with its rounds."""
    return [b.median] if b.stats_median is None else [b.median, b.stats_median]


def regressions(current: dict[str, list[Bench]], baseline: dict[str, list[Bench]], threshold: float,
                firstcall_threshold: float) -> list[dict]:
    """Verdicts of one or more current runs against one or more baseline runs.

    Several runs on a side measure the machine's run-to-run noise, which a test on the rounds of
    one run cannot see: a benchmark has regressed only when its *fastest* current run is slower
    than the *slowest* baseline run by more than the threshold, and every current run is
    significantly slower than every baseline run (improved: the mirror image). With one run on
    each side this is the plain threshold + Mann-Whitney U test.
    """
    rows = []
    for name in sorted(set(current) | set(baseline)):
        curs, bases = current.get(name, []), baseline.get(name, [])
        any_b = (curs or bases)[0]
        firstcall = any_b.get("phase") == "firstcall"
        base_median = float(np.median([b.median for b in bases])) if bases else None
        row = {"name": any_b.name, "fullname": name, "phase": any_b.get("phase"),
               "baseline_s": base_median, "current_s": float(np.median([c.median for c in curs])) if curs else None,
               "baseline_runs": len(bases), "current_runs": len(curs),
               "spread_pct": 100 * (max(b.median for b in bases) / min(b.median for b in bases) - 1)
               if len(bases) > 1 else None,
               "change_pct": None, "p_value": None, "test": "", "gated": not firstcall,
               "threshold_pct": firstcall_threshold if firstcall else threshold}
        if not bases or not curs:
            row["verdict"] = "new" if curs else "missing"
            rows.append(row)
            continue
        limit = row["threshold_pct"]
        change = 100 * (row["current_s"] / base_median - 1) if base_median > 0 else math.inf
        # one direction is enough: a regression needs the medians' change > 0, an improvement < 0
        tests = [significance(c, b, "greater" if change >= 0 else "less") for c in curs for b in bases]
        how = next((how for p, how in tests if p is None), tests[0][1])
        p = None if any(p is None for p, _ in tests) else max(p for p, _ in tests)
        if any(b.stats_median is not None for b in curs + bases):
            p, how = None, "threshold only: stats.median and raw rounds disagree (edited file?)"
        # an edited run counts at its slower claim when judging a slow-down, at its faster for a speed-up
        slow_cur, slow_base = min(max(_claims(c)) for c in curs), max(max(_claims(b)) for b in bases)
        fast_cur, fast_base = max(min(_claims(c)) for c in curs), min(min(_claims(b)) for b in bases)
        significant = p is None or p < ALPHA
        if 100 * (slow_cur / slow_base - 1) > limit and significant:
            verdict = "regressed"
            change = max(change, 100 * (slow_cur / base_median - 1))
        elif 100 * (fast_cur / fast_base - 1) < -limit and significant:
            verdict = "improved"
        else:
            verdict = "unchanged"
        row.update(change_pct=change, p_value=p, test=how, verdict=verdict)
        rows.append(row)
    return rows


def flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        out.update(flatten(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


def machine_differences(current: dict, baseline: dict) -> list[tuple[str, object, object]]:
    cur, base = flatten(current), flatten(baseline)
    return [(k, base.get(k), cur.get(k)) for k in sorted(set(cur) | set(base))
            if cur.get(k) != base.get(k) and k not in MACHINE_NOISE]


def code_lines(path: Path) -> int:
    """Non-blank, non-comment lines (docstrings count as code, as cloc counts them)."""
    with path.open("rb") as f:
        tokens = list(tokenize.tokenize(f.readline))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    lines = set()
    for tok in tokens:
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines)


def implementation_size(models: Path) -> list[dict]:
    rows = []
    for jax_file in sorted(models.glob("*_jax.py")):
        torch_file = jax_file.with_name(jax_file.name[: -len("_jax.py")] + "_torch.py")
        if torch_file.exists():
            j, t = code_lines(jax_file), code_lines(torch_file)
            rows.append({"model": jax_file.name[: -len("_jax.py")], "jax_lines": j, "torch_lines": t,
                         "ratio": j / t if t else None})
    return rows


# ---------------------------------------------------------------- render

def fmt_time(s: float | None) -> str:
    if s is None:
        return ""
    for unit, scale in (("s", 1), ("ms", 1e-3), ("us", 1e-6)):
        if abs(s) >= scale:
            return f"{s / scale:.3g} {unit}"
    return f"{s / 1e-9:.3g} ns"


def fmt(x, spec: str = ".3g") -> str:
    return "" if x is None else format(x, spec) if isinstance(x, float) else str(x)


def md_table(header: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def gated_regressions(r: dict) -> list[dict]:
    return [x for x in r["regressions"] if x["verdict"] == "regressed" and x["gated"]]


def render_markdown(r: dict) -> str:
    out = ["# Benchmark report", "", f"Run: {', '.join(r['runs'])}", ""]
    out += [f"> {n}" for n in r["notes"]]
    out += ["", "## Frameworks side by side (steady)", ""]
    if not r["peaks"]:
        out.append("Share of peak is empty: the run has no steady `matmul` benchmark to measure this "
                   "machine's matmul peak.\n")
    else:
        out.append("Share of peak = GFLOP/s / the best steady `matmul` GFLOP/s of the same run and device: "
                   + ", ".join(f"{key[1]} {p:.3g} GFLOP/s" for key, p in sorted(r["peaks"].items()) if len(key) == 2)
                   + ". Share of own matmul = the same against the best matmul of the benchmark's own framework "
                   "(what its matmul kernels reach here).\n")
    out.append(md_table(["workload", "size", "device", "framework", "mode", "median", "IQR", "items/s",
                         "GFLOP/s", "share of peak", "share of own matmul"],
                        [[x["workload"], x["size"], x["device"], x["framework"], x["mode"], fmt_time(x["median_s"]),
                          fmt_time(x["iqr_s"]), fmt(x["items_per_s"]), fmt(x["gflops"]),
                          fmt(x["share_of_peak"], ".1%"), fmt(x["share_of_own_matmul"], ".1%")]
                         for x in r["side"]]))
    out += ["", "## JAX / PyTorch time ratio (steady; < 1 means JAX is faster)", ""]
    if r["ratios"]:
        out.append(md_table(["workload", "size", "device", "jax/torch mode", "JAX", "PyTorch", "ratio"],
                            [[x["workload"], x["size"], x["device"], x["pairing"], fmt_time(x["jax_s"]),
                              fmt_time(x["torch_s"]), f"{x['ratio']:.3g}"] for x in r["ratios"]]))
        out += ["", md_table(["workload", "device", "jax/torch mode", "sizes", "geometric mean ratio"],
                             [[x["workload"], x["device"], x["pairing"], x["n"], f"{x['gmean']:.3g}"]
                              for x in r["gmeans"]])]
    else:
        out.append("No workload has both a JAX and a PyTorch steady benchmark in a jit/compile or eager/eager pairing.")
    out += ["", "## Compile vs steady", "",
            "Overhead = firstcall median - steady median. Break-even = smallest n with "
            "F_c + (n-1) S_c <= F_e + (n-1) S_e against the same framework's eager mode.", ""]
    out.append(md_table(["workload", "size", "device", "framework", "mode", "firstcall", "steady", "overhead",
                         "break-even steps", "note"],
                        [[x["workload"], x["size"], x["device"], x["framework"], x["mode"],
                          fmt_time(x["firstcall_s"]), fmt_time(x["steady_s"]), fmt_time(x["overhead_s"]),
                          fmt(x["break_even"]), x["note"]] for x in r["compile"]]) if r["compile"]
               else "No benchmark has both a firstcall and a steady phase.")
    out += ["", "## Regression vs baseline", ""]
    if r["baseline"] is None:
        out.append(r["baseline_note"])
    else:
        out += [f"Baseline: {r['baseline']}. Regressed = the fastest current run is slower than the slowest "
                f"baseline run by more than the threshold ({r['threshold']:g}% steady, "
                f"{r['firstcall_threshold']:g}% firstcall) and, where the runs kept raw rounds, every current run is "
                "significantly slower than every baseline run by a one-sided Mann-Whitney U test "
                f"(p < {ALPHA:g}; p below is the largest). Baseline and current = median of their runs' medians; "
                "spread = the baseline runs' slowest / fastest - 1, the machine's run-to-run noise. "
                "Only steady benchmarks set the exit code (gated = yes).", ""]
        if len(r["runs"]) == 1:
            out += ["With one current run, a test on its rounds cannot tell a real slow-down from a run-level "
                    "shift of this machine: confirm a regression by measuring again and passing both runs "
                    "(`make regress` does this).", ""]
        out.append(md_table(["benchmark", "baseline", "spread", "current", "change", "p", "test", "gated", "verdict"],
                            [[x["name"], fmt_time(x["baseline_s"]),
                              "" if x["spread_pct"] is None else f"{x['spread_pct']:.1f}%", fmt_time(x["current_s"]),
                              "" if x["change_pct"] is None else f"{x['change_pct']:+.1f}%", fmt(x["p_value"], ".2g"),
                              x["test"], "yes" if x["gated"] else "no", x["verdict"]] for x in r["regressions"]]))
        diffs = r["machine_diff"]
        out += ["", "Machine differences noted: " + ("none." if not diffs else "")]
        out += [f"- `{k}`: {b!r} -> {c!r}" for k, b, c in diffs]
    out += ["", "## Implementation size (non-blank, non-comment lines)", ""]
    out.append(md_table(["model", "JAX", "PyTorch", "JAX/PyTorch"],
                        [[x["model"], x["jax_lines"], x["torch_lines"], fmt(x["ratio"])] for x in r["size"]])
               if r["size"] else "No models/*_jax.py + *_torch.py pairs found.")
    regressed = [x["name"] for x in gated_regressions(r)]
    out += ["", "## Verdict", ""]
    out += [f"REGRESSED: {name}" for name in regressed] or ["No gated regression."]
    return "\n".join(out) + "\n"


CSV_COLUMNS = ["name", "fullname", "run", "workload", "framework", "mode", "device", "size", "size_value", "phase",
               "median_s", "iqr_s", "rounds", "items_per_s", "gflops", "share_of_peak", "share_of_own_matmul",
               "jax_torch_ratio",
               "firstcall_s", "steady_s", "overhead_s", "break_even_steps", "baseline_median_s", "baseline_runs",
               "baseline_spread_pct", "change_pct", "p_value", "test", "gated", "verdict"]


def render_csv(r: dict) -> str:
    rows = {}
    for b in r["current"].values():
        rows[b.name] = {"name": b.name, "fullname": b.fullname, "run": b.run, "median_s": b.median, "iqr_s": b.iqr,
                        "rounds": b.rounds, "items_per_s": throughput(b), "gflops": gflops(b),
                        **{k: b.get(k) for k in ("workload", "framework", "mode", "device", "size", "size_value",
                                                  "phase")}}
    for x in r["side"]:
        rows[x["name"]].update(share_of_peak=x["share_of_peak"], share_of_own_matmul=x["share_of_own_matmul"])
    for x in r["ratios"]:
        for name in x["names"]:
            rows[name]["jax_torch_ratio"] = x["ratio"]
    for x in r["compile"]:
        for name in x["names"]:
            rows[name].update(firstcall_s=x["firstcall_s"], steady_s=x["steady_s"], overhead_s=x["overhead_s"],
                              break_even_steps=x["break_even"])
    for x in r["regressions"]:
        row = rows.setdefault(x["name"], {"name": x["name"], "fullname": x["fullname"], "phase": x["phase"]})
        row.update(baseline_median_s=x["baseline_s"], baseline_runs=x["baseline_runs"],
                   baseline_spread_pct=x["spread_pct"], change_pct=x["change_pct"], p_value=x["p_value"],
                   test=x["test"], gated=x["gated"], verdict=x["verdict"])
    buf = io.StringIO()
    writer = csv.DictWriter(buf, CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows.values())
    return buf.getvalue()


def median_interval(b: Bench) -> tuple[float, float] | None:
    """95% distribution-free confidence interval of the median: the order statistics whose ranks
    are the binomial(n, 1/2) 2.5% and 97.5% quantiles."""
    if b.data is None or len(b.data) < 6:
        return None
    data = np.sort(b.data)
    n = len(data)
    lo, hi = stats.binom.ppf([0.025, 0.975], n, 0.5).astype(int)
    low, high = data[max(lo - 1, 0)], data[min(hi, n - 1)]
    return (float(low), float(high)) if low > 0 else None


def ratio_interval(cur: Bench, base: Bench) -> tuple[float, float] | None:
    """Conservative interval of median(current) / median(baseline) from the two medians' intervals."""
    c, b = median_interval(cur), median_interval(base)
    return (c[0] / b[1], c[1] / b[0]) if c and b else None


def _left_margin(labels: list[str], width_in: float, fontsize: float = 7) -> float:
    """Room for the longest y tick label, so no layout engine has to measure every text."""
    return min(0.7, (0.3 + 0.6 * fontsize / 72 * max(map(len, labels), default=1)) / width_in)


def plot_ratio_to_baseline(plt, r: dict, path: Path) -> None:
    rows = [x for x in r["regressions"] if x["change_pct"] is not None]
    fig, ax = plt.subplots(figsize=(11, 1.5 + 0.2 * len(rows)))
    y = np.arange(len(rows))
    ratios = np.array([1 + x["change_pct"] / 100 for x in rows])
    lo, hi = [], []
    for x, ratio in zip(rows, ratios):
        bases = sorted(r["baseline_benches"][x["fullname"]], key=lambda b: b.median)
        ci = ratio_interval(r["current"][x["fullname"]], bases[len(bases) // 2]) if len(bases) else None
        lo.append(ratio - ci[0] if ci else 0)
        hi.append(ci[1] - ratio if ci else 0)
    colors = ["tab:red" if x["verdict"] == "regressed" else "tab:green" if x["verdict"] == "improved" else "tab:blue"
              for x in rows]
    ax.errorbar(ratios, y, xerr=[np.maximum(lo, 0), np.maximum(hi, 0)], fmt="none", ecolor="gray")
    gated = np.array([x["gated"] for x in rows], dtype=bool)
    colors = np.array(colors)
    ax.scatter(ratios[gated], y[gated], c=colors[gated], zorder=3, label="steady (gated)")
    ax.scatter(ratios[~gated], y[~gated], facecolors="none", edgecolors=colors[~gated], zorder=3,
               label=f"firstcall (not gated, ±{r['firstcall_threshold']:g}%)")
    ax.set_ylim(len(rows) - 0.5, -0.5)
    t = r["threshold"] / 100
    ax.axvspan(1 - t, 1 + t, color="tab:gray", alpha=0.15, label=f"±{r['threshold']:g}% threshold")
    ax.axvline(1, color="black", lw=0.8)
    labels = [x["name"] for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_xlabel("current / baseline median (95% intervals of both medians combined)")
    ax.legend(loc="lower right", fontsize=7)
    fig.subplots_adjust(left=_left_margin(labels, 11), right=0.97, bottom=1.0 / fig.get_figheight(), top=0.98)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_history(plt, history: list[Run], path: Path) -> None:
    series = defaultdict(list)  # workload -> bench name -> [(run index, median)]
    by_name = defaultdict(dict)
    for i, run in enumerate(history):
        for b in run.benches.values():
            by_name[b.fullname][i] = b
    for name, points in by_name.items():
        any_b = next(iter(points.values()))
        series[(any_b.get("workload"), any_b.get("phase"))].append(points)
    keys = sorted(series, key=str)
    ncols = min(3, len(keys))
    nrows = math.ceil(len(keys) / ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(4.5 * ncols, 2.8 * nrows), squeeze=False)
    for ax, key in zip(axes.flat, keys):
        for points in series[key]:
            idx = sorted(points)
            medians = np.array([points[i].median for i in idx])
            ax.plot(idx, medians / np.median(medians), lw=0.8, marker=".", ms=3)
        ax.set_title(f"{key[0]} ({key[1]})", fontsize=9)
        ax.set_ylabel("median / its own median", fontsize=7)
        ax.tick_params(labelsize=7)
    for ax in list(axes.flat)[len(keys):]:
        ax.set_visible(False)
    fig.supxlabel(f"run (oldest to newest, {len(history)} runs)", fontsize=8)
    fig.subplots_adjust(left=0.08, right=0.98, hspace=0.45, wspace=0.3)
    fig.savefig(path, dpi=80)
    plt.close(fig)


def plot_scaling(plt, benches: dict[str, Bench], path: Path) -> bool:
    lines = defaultdict(lambda: defaultdict(list))  # workload -> label -> [(size, median, throughput)]
    for b in benches.values():
        if b.get("phase") != "firstcall" and isinstance(b.get("size_value"), int):
            label = f"{b.get('framework')}-{b.get('mode')}-{b.get('device')}"
            lines[b.get("workload")][label].append((b.get("size_value"), b.median, throughput(b)))
    workloads = sorted(w for w, ls in lines.items() if any(len(p) > 1 for p in ls.values()))
    if not workloads:
        return False
    fig, axes = plt.subplots(2, len(workloads), figsize=(4 * len(workloads), 6), squeeze=False)
    for col, w in enumerate(workloads):
        for label, points in sorted(lines[w].items()):
            points.sort()
            sizes = [p[0] for p in points]
            axes[0, col].loglog(sizes, [p[1] for p in points], marker="o", label=label)
            if all(p[2] for p in points):
                axes[1, col].loglog(sizes, [p[2] for p in points], marker="o", label=label)
        axes[0, col].set_title(w, fontsize=9)
        axes[0, col].set_ylabel("median time per call (s)", fontsize=7)
        axes[1, col].set_ylabel("items/s", fontsize=7)
        axes[1, col].set_xlabel("size (batch / elements / matrix side)", fontsize=7)
        axes[0, col].legend(fontsize=6, loc="upper left")
    for ax in axes.flat:
        ax.minorticks_off()  # log-axis minor ticks cost more to draw than the data
    fig.subplots_adjust(left=0.06, right=0.98, wspace=0.35, hspace=0.25)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def plot_compile(plt, rows: list[dict], path: Path) -> bool:
    if not rows:
        return False
    fig, ax = plt.subplots(figsize=(8, 1.5 + 0.3 * len(rows)))
    y = np.arange(len(rows))
    ax.barh(y - 0.2, [x["firstcall_s"] for x in rows], height=0.4, label="firstcall (compile + 1 step)")
    ax.barh(y + 0.2, [x["steady_s"] for x in rows], height=0.4, label="steady step")
    ax.set_xscale("log")
    labels = [f"{x['workload']} {x['size']} {x['framework']}-{x['mode']}-{x['device']}" for x in rows]
    ax.set_yticks(y, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("median seconds per call")
    ax.legend(fontsize=7, loc="lower right")
    fig.subplots_adjust(left=_left_margin(labels, 8), right=0.97, bottom=0.9 / fig.get_figheight(), top=0.98)
    fig.savefig(path, dpi=80)
    plt.close(fig)
    return True


def render_plots(r: dict, folder: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if r["baseline"] is not None:
        plot_ratio_to_baseline(plt, r, folder / "ratio_to_baseline.png")
    if r["history"] and len(r["history"]) > 1:
        plot_history(plt, r["history"], folder / "history.png")
    plot_scaling(plt, r["current"], folder / "scaling.png")
    plot_compile(plt, r["compile"], folder / "compile_vs_steady.png")


def write_outputs(r: dict, out: Path, markdown: str) -> None:
    """Render everything into a temporary folder inside `out`, then move each file into place."""
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".report-tmp-", dir=out))
    except OSError as exc:
        raise BadInput(out, f"output folder cannot be written ({exc.strerror or exc})") from None
    try:
        (tmp / "report.md").write_text(markdown, encoding="utf8")
        (tmp / "results.csv").write_text(render_csv(r), encoding="utf8")
        (tmp / "regressed.txt").write_text("".join(f"{x['fullname']}\n" for x in gated_regressions(r)),
                                           encoding="utf8")  # pytest node ids, for a confirming re-run
        render_plots(r, tmp)
        for stale in PLOTS:  # a plot this report did not draw must not survive from an older one
            if not (tmp / stale).exists():
                (out / stale).unlink(missing_ok=True)
        for f in tmp.iterdir():
            os.replace(f, out / f.name)
    except OSError as exc:
        raise BadInput(out, f"output folder cannot be written ({exc.strerror or exc})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------- main

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("runs", nargs="*", metavar="RUN.json",
                   help="pytest-benchmark JSON files (or storage folders: their newest run); "
                        "several are merged. Default: the newest run in .benchmarks/")
    p.add_argument("--baseline", metavar="PATH", action="append",
                   help="baseline JSON file, or storage folder (its runs for this machine); repeatable. "
                        "Default: every run for this machine in baselines/")
    p.add_argument("--out", default="report", type=Path, metavar="DIR", help="output folder (default report/)")
    p.add_argument("--threshold", default=10.0, type=float, metavar="PCT",
                   help="steady slow-down that counts as a regression, in %% (default 10)")
    p.add_argument("--firstcall-threshold", default=25.0, type=float, metavar="PCT",
                   help="same for firstcall benchmarks, reported but not gated (default 25)")
    p.add_argument("--history", action="store_true",
                   help="also plot every run stored next to the current one (history.png)")
    args = p.parse_args(argv)
    if args.threshold <= 0 or args.firstcall_threshold <= 0:
        p.error("thresholds must be positive percentages")
    return args


def build(args: argparse.Namespace) -> dict:
    run_paths = [resolve_run(a) for a in args.runs] or [newest_run(Path(".benchmarks"))]
    runs = [load_run(p) for p in run_paths]
    current = merge(runs)
    notes = [n for run in runs for n in run.notes]
    machine = machine_id(run_paths[-1], runs[-1].machine_info)
    if args.baseline:
        base_paths = [p for arg in args.baseline for p in baseline_paths(arg, machine, set(current))]
        baseline_note = ""
    else:
        base_paths, baseline_note = default_baseline(run_paths[-1], Path(__file__).resolve().parent / "baselines",
                                                     runs[-1].machine_info, set(current))
    base_runs = [load_run(p) for p in base_paths]
    baseline_benches: dict[str, list[Bench]] = defaultdict(list)
    for run in base_runs:
        notes += run.notes
        for name, bench in run.benches.items():
            baseline_benches[name].append(bench)
    reg_rows, diffs = [], []
    if base_runs and not set(current) & set(baseline_benches):
        if args.baseline:
            raise BadInput(base_paths[0], "baseline has no benchmark in common with "
                           + ", ".join(str(p) for p in run_paths))
        baseline_note = f"No baseline: the default {base_paths[0].parent} has no benchmark in common with this run."
        base_paths, base_runs, baseline_benches = [], [], {}
    if base_runs:
        current_runs: dict[str, list[Bench]] = defaultdict(list)
        for run in runs:
            for name, bench in run.benches.items():
                current_runs[name].append(bench)
        reg_rows = regressions(current_runs, baseline_benches, args.threshold, args.firstcall_threshold)
        diffs = machine_differences(runs[-1].machine_info, base_runs[-1].machine_info)
    history = None
    if args.history:
        paths = sorted(run_paths[-1].parent.glob(RUN_GLOB), key=lambda f: f.name) or run_paths
        history = load_history(paths)
        if len(history) < 2:
            notes.append(f"history: only {len(history)} run in {run_paths[-1].parent}; no history plot")
    ratios, gmeans = framework_ratios(current)
    peaks = matmul_peaks(current)
    return {"runs": [str(p) for p in run_paths], "current": current, "notes": notes,
            "peaks": peaks, "side": side_by_side(current, peaks),
            "ratios": ratios, "gmeans": gmeans, "compile": compile_table(current),
            "baseline": ", ".join(str(p) for p in base_paths) or None, "baseline_note": baseline_note,
            "baseline_benches": baseline_benches, "regressions": reg_rows, "machine_diff": diffs,
            "threshold": args.threshold, "firstcall_threshold": args.firstcall_threshold,
            "size": implementation_size(Path(__file__).resolve().parent / "models"), "history": history}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        r = build(args)
        markdown = render_markdown(r)
        write_outputs(r, args.out, markdown)
    except BadInput as exc:
        print(f"report.py: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(markdown, end="")
    print(f"\nWrote {args.out}/report.md, {args.out}/results.csv and plots.")
    return EXIT_REGRESSION if gated_regressions(r) else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
