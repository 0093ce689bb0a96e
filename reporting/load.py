"""pytest-benchmark JSON files -> validated Run and Bench objects; anything malformed is BadInput.

Benchmark names are parsed with benchmarks/spec.py's grammar (stdlib only, the one module of the
suite that report code imports). A file that contradicts itself (duplicate names, a stats.median
the raw rounds do not bear out, a string where a number belongs) is bad input, not a guess.
"""
from __future__ import annotations

import hashlib
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from benchmarks.spec import parse_name
from reporting import BadInput

DATA_RE = re.compile(r'"data":\s*\[[^\]]*\]')  # raw rounds: only numbers, so no ']' inside
ID_FIELDS = ("workload", "framework", "mode", "device", "size", "phase")
STRING_FIELDS = ID_FIELDS + ("memory_note",)
NUMBER_FIELDS = ("size_value", "items_per_call", "flops_per_call", "flops_per_call_framework",
                 "peak_memory_bytes", "other_cpu_share", "memory_floor_bytes", "bytes_per_call", "ops_per_call",
                 "round1_s", "later_rounds_median_s", "time_to_accuracy_s", "steps_per_epoch", "batch_size")
SHARE_FIELDS = ("other_cpu_share",)  # a share of the machine: 0..1
REL_TOL = 1e-6  # stats.median vs the raw rounds' median
MIN_TIME_S = 1e-10  # below a tenth of a nanosecond per call no clock measured anything
MAX_DIGITS = 30  # a JSON integer longer than this is no count or size a run can hold


@dataclass
class Bench:
    name: str  # test_<workload>[<framework>-<mode>-<device>-<size>-<phase>]
    fullname: str  # matching key between runs
    run: str  # file it came from
    median: float  # seconds per call
    min_s: float  # the gate statistic, "min": the run's fastest round (interference only adds time)
    iqr: float | None
    rounds: int
    data: np.ndarray | None  # raw per-round seconds (--benchmark-save-data)
    info: dict  # extra_info, with workload/framework/... filled from the id where missing
    peak_memory_bytes: float | None = None  # extra_info's, as a number (checked above: finite, >= 0)
    other_cpu_share: float | None = None  # extra_info's: the share of the CPU other processes took

    def get(self, key: str):
        return self.info.get(key)


@dataclass
class Run:
    path: Path
    machine_info: dict
    benches: dict[str, Bench]  # by fullname
    digest: str = ""  # sha256 of the file's bytes: the same run given twice is caught by it
    datetime: str = ""  # pytest-benchmark's ISO start time of the run ("" if absent)
    suite: dict = field(default_factory=dict)  # the JSON's "suite" key: this run's probes, load, options
    notes: list[str] = field(default_factory=list)
    load: dict | None = None  # suite.load, checked ({other_cpu_share: number or None, busy, note}); None: unrecorded


def number(value) -> float | None:
    """A finite int/float as float, else None (bool is not a number here, nor an int past float's range)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return None
    try:
        value = float(value)
    except OverflowError:
        return None
    return value if math.isfinite(value) else None


def _check_fields(info: dict, where: str, path: Path) -> None:
    for key in STRING_FIELDS:
        if info.get(key) is not None and not isinstance(info[key], str):
            raise BadInput(path, f"{where}: extra_info.{key} is {info[key]!r}, not a string")
    for key in NUMBER_FIELDS:
        if info.get(key) is None:
            continue
        value = number(info[key])
        if value is None or value < 0:
            raise BadInput(path, f"{where}: extra_info.{key} is {_short(info[key])}, not a finite number >= 0")
        if key in SHARE_FIELDS and value > 1:
            raise BadInput(path, f"{where}: extra_info.{key} is {value!r}, not a share between 0 and 1")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _info(raw: dict, name: str, path: Path) -> dict:
    extra = raw.get("extra_info")
    if extra is not None and not isinstance(extra, dict):
        raise BadInput(path, f"{name}: extra_info is {type(extra).__name__}, not an object")
    info = dict(extra or {})
    _check_fields(info, name, path)
    parsed = parse_name(name) or {}
    for key in ID_FIELDS:
        if info.get(key) is None and key in parsed:
            info[key] = parsed[key]
    if info.get("size_value") is None and info.get("size"):
        digits = re.search(r"(\d+)$", info["size"])
        info["size_value"] = int(digits[1]) if digits else None
    return info


def _rounds(st: dict, name: str, path: Path) -> np.ndarray | None:
    data = st.get("data")
    if data is None or data == []:
        return None
    values = [number(x) for x in data] if isinstance(data, list) else [None]
    if any(v is None or v <= 0 for v in values):
        raise BadInput(path, f"{name}: stats.data is not a list of positive numbers")
    return np.asarray(values, dtype=float)


def parse_bench(raw: dict, index: int, path: Path) -> Bench:
    name = raw.get("name") or raw.get("fullname") if isinstance(raw, dict) else None
    st = raw.get("stats") if isinstance(raw, dict) else None
    if not isinstance(name, str) or not isinstance(st, dict) or number(st.get("median")) is None:
        raise BadInput(path, f"not a pytest-benchmark run (benchmark #{index} has no name or stats.median)")
    info, data = _info(raw, name, path), _rounds(st, name, path)
    median, iqr = number(st["median"]), number(st.get("iqr"))
    assert median is not None  # stats.median was checked to be a number above
    if not median > 0:
        raise BadInput(path, f"{name}: stats.median is {median:g} s, not a positive time")
    if data is not None:
        q1, raw_median, q3 = np.percentile(data, [25, 50, 75])
        if not math.isclose(median, raw_median, rel_tol=REL_TOL):
            raise BadInput(path, f"{name}: stats.median {median:.6g} s contradicts its raw rounds' median "
                                 f"{raw_median:.6g} s (edited file?)")
        iqr = float(q3 - q1)
    min_s = float(data.min()) if data is not None else number(st.get("min")) or median
    rounds = _check_stats(st, name, path, median, iqr, data)
    return Bench(name=name, fullname=raw.get("fullname") or name, run=str(path), median=median, min_s=min_s,
                 iqr=iqr, rounds=rounds, data=data, info=info, peak_memory_bytes=number(info.get("peak_memory_bytes")),
                 other_cpu_share=number(info.get("other_cpu_share")))


def _stat(st: dict, key: str, name: str, path: Path) -> float | None:
    if st.get(key) is None:
        return None
    value = number(st[key])
    if value is None:
        raise BadInput(path, f"{name}: stats.{key} is {_short(st[key])}, not a finite number")
    return value


def _check_stats(st: dict, name: str, path: Path, median: float, iqr: float | None, data) -> int:
    """stats that agree with themselves: median >= MIN_TIME_S, min <= median <= max, IQR >= 0, whole
    rounds >= 1 (as many as the raw rounds, where kept). Returns the number of rounds."""
    if median < MIN_TIME_S:
        raise BadInput(path, f"{name}: stats.median is {median:g} s, below {MIN_TIME_S:g} s: not a measured time")
    low, high = _stat(st, "min", name, path), _stat(st, "max", name, path)
    slack = median * REL_TOL
    if (low is not None and low > median + slack) or (high is not None and high < median - slack):
        raise BadInput(path, f"{name}: stats min {low!r} / median {median!r} / max {high!r} are not in order")
    if iqr is not None and iqr < 0:
        raise BadInput(path, f"{name}: stats.iqr is {iqr!r}, negative")
    rounds = _stat(st, "rounds", name, path)
    if rounds is None:
        return len(data) if data is not None else 0
    if rounds < 1 or rounds != int(rounds):
        raise BadInput(path, f"{name}: stats.rounds is {_short(st['rounds'])}, not a whole number >= 1")
    if data is not None and len(data) != int(rounds):
        raise BadInput(path, f"{name}: stats.rounds is {int(rounds)} but stats.data holds {len(data)} rounds")
    return int(rounds)


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise BadInput(path, f"cannot read ({exc.strerror or exc})") from None


def _int(text: str) -> int:
    """json's parse_int: a bounded integer, so no number past float's range enters a run."""
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise ValueError(f"an integer of {len(text.lstrip('-'))} digits")
    return int(text)


def parse_json(text: str):
    """json.loads with bounded integers: a ValueError (JSONDecodeError among them) on bad input."""
    return json.loads(text, parse_int=_int)


def _decode(path: Path, blob: bytes, keep_data: bool):
    try:
        text = blob.decode("utf8")
    except UnicodeDecodeError:
        raise BadInput(path, "not a pytest-benchmark run (not UTF-8 text)") from None
    if not keep_data:  # history only needs medians: skip parsing the raw rounds
        try:
            return parse_json(DATA_RE.sub('"data": null', text))
        except ValueError:
            pass
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise BadInput(path, f"not valid JSON, truncated? ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
    except ValueError as exc:
        raise BadInput(path, f"not a pytest-benchmark run ({exc})") from None
    except RecursionError:
        raise BadInput(path, "not a pytest-benchmark run (JSON nested too deeply)") from None


def load_run(path: Path, keep_data: bool = True) -> Run:
    blob = _read(path)
    doc = _decode(path, blob, keep_data)
    benches_raw = doc.get("benchmarks") if isinstance(doc, dict) else None
    if not isinstance(benches_raw, list):
        raise BadInput(path, "not a pytest-benchmark run (no 'benchmarks' list)")
    if not benches_raw:
        raise BadInput(path, "pytest-benchmark run with no benchmarks in it")
    benches: dict[str, Bench] = {}
    for i, raw in enumerate(benches_raw):
        bench = parse_bench(raw, i, path)
        if bench.fullname in benches:
            raise BadInput(path, f"benchmark {bench.fullname} appears twice in one run")
        if not keep_data:
            bench.data = None
        benches[bench.fullname] = bench
    machine_info = doc.get("machine_info", {})
    if not isinstance(machine_info, dict):
        raise BadInput(path, "machine_info is not an object")
    suite = doc.get("suite") or {}
    if not isinstance(suite, dict):
        raise BadInput(path, "the suite key is not an object")
    when = doc.get("datetime")
    return Run(path=path, machine_info=machine_info, benches=benches, digest=hashlib.sha256(blob).hexdigest(),
               datetime=when if isinstance(when, str) else "", suite=suite, load=_load_of(path, machine_info, suite))


def _load_of(path: Path, machine_info: dict, suite: dict) -> dict | None:
    """The run's suite.load (machine_info.suite.load in runs of older versions), checked, with its
    other_cpu_share as a number; None when the run did not record it."""
    legacy = machine_info.get("suite")
    load = suite.get("load") or (legacy.get("load") if isinstance(legacy, dict) else None)
    if load is None:
        return None
    share = load.get("other_cpu_share") if isinstance(load, dict) else None
    if not isinstance(load, dict) or not isinstance(load.get("busy", False), bool) or (
            share is not None and number(share) is None) or not isinstance(load.get("note", ""), str):
        raise BadInput(path, f"suite.load is {load!r}, not "
                             "{other_cpu_share: number, busy: bool, note: str}")
    return {**load, "other_cpu_share": number(share)}


def check_distinct(paths: list[Path], runs: list[Run]) -> None:
    """The same run twice cannot confirm itself: same path, or the same bytes under another name."""
    seen: dict[object, Path] = {}
    for path, run in zip(paths, runs, strict=False):
        for key in (("path", os.path.realpath(path)), ("digest", run.digest)):
            if key in seen:
                raise BadInput(path, f"is the same run as {seen[key]} (given twice, it cannot confirm itself)")
            seen[key] = path


def load_each(paths: list[Path]) -> tuple[list[Run], list[str]]:
    """The runs in `paths` that load, and the one-line problem of each that does not."""
    runs, problems = [], []
    for path in paths:
        try:
            runs.append(load_run(path))
        except BadInput as exc:
            problems.append(str(exc))
    return runs, problems


def load_others(paths: list[Path], runs: list[Run], others: list[Path]) -> tuple[list[Run], list[str]]:
    """The runs in `others` that are none of `runs` (read from `paths`), by path or by content, and
    those left out: a run never counts against itself."""
    own_paths = {os.path.realpath(p) for p in paths}
    own_digests = {run.digest for run in runs}
    kept, own = [], []
    for p in others:
        run = None if os.path.realpath(p) in own_paths else load_run(p)
        if run is None or run.digest in own_digests:
            own.append(str(p))
        else:
            kept.append(run)
    return kept, own
