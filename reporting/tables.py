"""Tables of one set of runs: frameworks side by side, JAX/PyTorch ratios, compile vs steady,
peak memory, implementation size. Rows are plain dicts; the sections (reporting/sections/) format them."""
from __future__ import annotations

import math
import tokenize
from collections import defaultdict
from pathlib import Path

from benchmarks.modes import pairings
from benchmarks.spec import COMPILED_MODES
from reporting.load import Bench, number
from reporting.stats import gmean

PAIRINGS = pairings()  # (jax mode, torch mode) per pairing of the mode table (benchmarks/modes.py)


def gflops(b: Bench) -> float | None:
    flops = number(b.get("flops_per_call")) or number(b.get("flops_per_call_framework"))
    return flops / b.median / 1e9 if flops else None


def throughput(b: Bench) -> float | None:
    items = number(b.get("items_per_call"))
    return items / b.median if items else None


def peak_memory(b: Bench) -> float | None:
    return number(b.get("peak_memory_bytes"))


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


def group_key(b: Bench) -> tuple:
    return (str(b.get("workload")), str(b.get("device")), b.get("size_value") or 0, str(b.get("size")))


def side_by_side(benches: dict[str, Bench], peaks: dict) -> list[dict]:
    rows = []
    for b in sorted(benches.values(), key=lambda b: (group_key(b), str(b.get("framework")), str(b.get("mode")))):
        if b.get("phase") != "steady":
            continue
        rate, peak = gflops(b), peaks.get((b.run, b.get("device")))
        own = peaks.get((b.run, b.get("device"), b.get("framework")))
        rows.append({"workload": b.get("workload"), "size": b.get("size"), "device": b.get("device"),
                     "framework": b.get("framework"), "mode": b.get("mode"), "median_s": b.median,
                     "iqr_s": b.iqr, "items_per_s": throughput(b), "gflops": rate,
                     "share_of_peak": rate / peak if rate and peak else None,
                     "share_of_own_matmul": rate / own if rate and own else None,
                     "peak_memory_bytes": peak_memory(b), "name": b.name})
    return rows


def framework_pairs(benches: dict[str, Bench]):
    """(group key, "jaxmode/torchmode", jax bench, torch bench) for every steady case both measured."""
    by_case: defaultdict[tuple, dict[tuple, Bench]] = defaultdict(dict)
    for b in benches.values():
        if b.get("phase") == "steady":
            by_case[group_key(b)][(b.get("framework"), b.get("mode"))] = b
    for key in sorted(by_case):
        for jax_mode, torch_mode in PAIRINGS:
            jax, torch = by_case[key].get(("jax", jax_mode)), by_case[key].get(("torch", torch_mode))
            if jax and torch:
                yield key, f"{jax_mode}/{torch_mode}", jax, torch


def framework_ratios(benches: dict[str, Bench]) -> tuple[list[dict], list[dict]]:
    """JAX time / PyTorch time per (workload, size, device) and mode pairing, and their geometric means."""
    rows = [{"workload": key[0], "device": key[1], "size": key[3], "pairing": pairing, "jax_s": jax.median,
             "torch_s": torch.median, "ratio": jax.median / torch.median, "names": (jax.name, torch.name)}
            for key, pairing, jax, torch in framework_pairs(benches)]
    groups = defaultdict(list)
    for r in rows:
        groups[(r["workload"], r["device"], r["pairing"])].append(r["ratio"])
    gmeans = [{"workload": w, "device": d, "pairing": p, "n": len(v), "gmean": gmean(v)}
              for (w, d, p), v in sorted(groups.items())]
    return rows, gmeans


def memory_method(b: Bench) -> str:
    """How a benchmark's peak_memory_bytes was measured: its memory_note up to the first colon (the
    working set's note, or an older run's in-process figure): only equal methods are compared."""
    return str(b.get("memory_note") or "").split(":")[0]


def memory_table(benches: dict[str, Bench]) -> list[dict]:
    """Peak memory of JAX and PyTorch side by side, with the analytic floor, where both measured it
    the same way (older runs' in-process figures are not put beside working sets)."""
    rows = []
    for key, pairing, jax, torch in framework_pairs(benches):
        j, t = peak_memory(jax), peak_memory(torch)
        if j is None or t is None or memory_method(jax) != memory_method(torch):
            continue
        rows.append({"workload": key[0], "device": key[1], "size": key[3], "pairing": pairing,
                     "jax_bytes": j, "torch_bytes": t, "ratio": j / t if t else None,
                     "floor_bytes": number(jax.get("memory_floor_bytes")) or number(torch.get("memory_floor_bytes")),
                     "method": memory_method(jax)})
    return rows


def break_even(f_c: float, s_c: float, f_e: float, s_e: float) -> int | None:
    """Smallest n with F_c + (n-1) S_c <= F_e + (n-1) S_e; None means never."""
    if f_c <= f_e:
        return 1
    if s_c >= s_e:
        return None
    return 1 + math.ceil((f_c - f_e) / (s_e - s_c))


def _warm(warm: Bench | None, steady: Bench, eager: dict) -> dict:
    """A warm start beside the cold first call: its median, the cold first call of a fresh process
    (the child that filled the cache), what the cache saved, and break-even counted from it."""
    if warm is None:
        return {"warmstart_s": None, "cold_process_s": None, "cache_saved_s": None, "break_even_warm": None}
    cold = number(warm.get("fill_first_call_s"))
    steps = None
    if eager.get("steady"):
        s_e = eager["steady"].median
        f_e = eager["firstcall"].median if eager.get("firstcall") else s_e
        found = break_even(warm.median, steady.median, f_e, s_e)
        steps = "never" if found is None else found
    return {"warmstart_s": warm.median, "cold_process_s": cold, "cache_saved_s": cold - warm.median if cold else None,
            "break_even_warm": steps}


def _compile_row(key: tuple, first: Bench, steady: Bench, eager: dict, warm: Bench | None = None) -> dict:
    workload, device, _, size, framework, mode = key
    row = {"workload": workload, "size": size, "device": device, "framework": framework, "mode": mode,
           "firstcall_s": first.median, "steady_s": steady.median, "overhead_s": first.median - steady.median,
           "break_even": None, "note": "", "names": (first.name, steady.name), **_warm(warm, steady, eager)}
    if mode in COMPILED_MODES and eager.get("steady"):
        s_e = eager["steady"].median
        f_e = eager["firstcall"].median if eager.get("firstcall") else s_e
        steps = break_even(first.median, steady.median, f_e, s_e)
        row["break_even"] = "never" if steps is None else steps
        if not eager.get("firstcall"):
            row["note"] = "eager firstcall not measured: taken as its steady time"
    elif mode in COMPILED_MODES:
        row["note"] = f"no {framework} eager steady benchmark to break even against"
    return row


def compile_table(benches: dict[str, Bench]) -> list[dict]:
    cases: defaultdict[tuple, dict[str, Bench]] = defaultdict(dict)
    for b in benches.values():
        cases[group_key(b) + (str(b.get("framework")), str(b.get("mode")))][b.get("phase")] = b
    return [_compile_row(key, cases[key]["firstcall"], cases[key]["steady"], cases.get(key[:5] + ("eager",), {}),
                         cases[key].get("warmstart"))
            for key in sorted(cases) if cases[key].get("firstcall") and cases[key].get("steady")]


def code_lines(path: Path) -> int:
    """Non-blank, non-comment lines (docstrings count as code, as cloc counts them)."""
    with path.open("rb") as f:
        tokens = list(tokenize.tokenize(f.readline))
    skip = {tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
            tokenize.ENCODING, tokenize.ENDMARKER}
    lines: set[int] = set()
    for tok in tokens:
        if tok.type not in skip:
            lines.update(range(tok.start[0], tok.end[0] + 1))
    return len(lines)


def implementation_size(models: Path) -> list[dict]:
    """models/*_jax.py against *_torch.py, read as text (nothing is imported)."""
    rows = []
    for jax_file in sorted(models.glob("*_jax.py")):
        torch_file = jax_file.with_name(jax_file.name[: -len("_jax.py")] + "_torch.py")
        if torch_file.exists():
            j, t = code_lines(jax_file), code_lines(torch_file)
            rows.append({"model": jax_file.name[: -len("_jax.py")], "jax_lines": j, "torch_lines": t,
                         "ratio": j / t if t else None})
    return rows


def bandwidth_roofs(benches: dict[str, Bench]) -> dict[tuple, float]:
    """The highest GB/s among a run's steady stream_triad benchmarks, per (run, device)."""
    roofs: dict[tuple, float] = {}
    for b in benches.values():
        nbytes = number(b.get("bytes_per_call"))
        if b.get("workload") == "stream_triad" and b.get("phase") == "steady" and nbytes:
            key = (b.run, b.get("device"))
            roofs[key] = max(roofs.get(key, 0.0), nbytes / b.median / 1e9)
    return roofs


def roofline(benches: dict[str, Bench], peaks: dict[tuple, float]) -> dict:
    """Every steady benchmark that knows its FLOPs and bytes per call, under the run's two measured
    roofs: {"roofs": {(run, device): (GFLOP/s, GB/s)}, "points": [...], "unplaced": n}."""
    bandwidth = bandwidth_roofs(benches)
    roofs = {key: (peaks[key], bandwidth[key]) for key in bandwidth if key in peaks}
    points, unplaced = [], 0
    for b in sorted(benches.values(), key=lambda b: (group_key(b), b.name)):
        if b.get("phase") != "steady":
            continue
        flops, nbytes = number(b.get("flops_per_call")), number(b.get("bytes_per_call"))
        if not (flops and nbytes):
            unplaced += 1
            continue
        intensity, rate = flops / nbytes, flops / b.median / 1e9
        roof = roofs.get((b.run, b.get("device")))
        bound = min(roof[0], intensity * roof[1]) if roof else None
        points.append({"name": b.name, "workload": b.get("workload"), "size": b.get("size"),
                       "device": b.get("device"), "framework": b.get("framework"), "mode": b.get("mode"),
                       "intensity": intensity, "gflops": rate, "roof_gflops": bound,
                       "share_of_roof": rate / bound if bound else None,
                       "bound_by": (None if not roof else "memory" if intensity * roof[1] < roof[0] else "compute")})
    return {"roofs": roofs, "points": points, "unplaced": unplaced}
