"""What a run was measured on: the fingerprint of what decides speed, and how busy the machine was.

A baseline gates only a run with the same fingerprint; a run measured on a busy machine (its
machine_info["suite"]["load"]["busy"]) gates nothing; a benchmark whose own other_cpu_share is
above BUSY_SHARE is not gated either.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from reporting import BadInput
from reporting.load import Run

# machine_info keys that decide speed (flattened with dots); suite.env.* is taken whole. A CPU name
# is not enough (virtual machines report generic ones): what cpuinfo says beyond it counts too, and
# the reference probes must agree besides (reporting/probes.py).
FINGERPRINT = ("cpu.brand_raw", "cpu.vendor_id_raw", "cpu.family", "cpu.model", "cpu.stepping", "cpu.flags_digest",
               "cpu.l2_cache_size", "cpu.l3_cache_size", "cpu.count", "gpu.name", "gpu.driver", "jax", "jaxlib", "torch", "numpy",
               "torch_threads", "torch_interop_threads", "suite.matmul_precision", "suite.cpu_affinity")
ENV_PREFIX = "suite.env."
# machine_info keys that differ between any two runs without meaning anything
NOISE = ("node", "cpu.hz_actual", "cpu.hz_actual_friendly", "python_build", "suite.load", "suite.firstcall_rounds",
         "suite.memory_pass")
BUSY_SHARE = 0.10  # a benchmark during which other processes took more than this share of the CPU


def flatten(d: dict, prefix: str = "") -> dict:
    """Nested keys joined with dots; cpu.flags (a long list) becomes cpu.flags_digest."""
    out: dict = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if key == "cpu.flags" and isinstance(v, list):
            key, v = "cpu.flags_digest", hashlib.sha256(" ".join(sorted(map(str, v))).encode()).hexdigest()[:12]
        out.update(flatten(v, key + ".") if isinstance(v, dict) else {key: v})
    return out


def fingerprint(run: Run) -> dict:
    """The speed-deciding fields of a run's machine_info that it has, as scalars."""
    flat = flatten(run.machine_info)
    fp = {k: flat[k] for k in sorted(flat) if k in FINGERPRINT or k.startswith(ENV_PREFIX)}
    for key, value in fp.items():
        if not isinstance(value, (str, int, float, bool, type(None))):
            raise BadInput(run.path, f"machine_info.{key} is {value!r}, not a string or number")
    return fp


def fingerprint_hash(fp: dict) -> str:
    return hashlib.sha256(json.dumps(fp, sort_keys=True).encode()).hexdigest()[:12]


def fingerprint_diff(baseline: dict, current: dict) -> list[tuple[str, object, object]]:
    """Fields that differ. An environment variable that only one run records (a suite version that
    did not record it yet) is unknown on the other side, not a difference."""
    keys = (set(baseline) | set(current)) - {k for k in set(baseline) ^ set(current) if k.startswith(ENV_PREFIX)}
    return [(k, baseline.get(k), current.get(k)) for k in sorted(keys) if baseline.get(k) != current.get(k)]


def describe_diff(diff: list[tuple[str, object, object]]) -> str:
    return ", ".join(f"{k} ({b!r} vs {c!r})" for k, b, c in diff)


def same_machine(runs: list[Run], side: str) -> dict:
    """The one fingerprint of several runs on one side, or BadInput naming two that differ."""
    first = fingerprint(runs[0])
    for run in runs[1:]:
        diff = fingerprint_diff(first, fingerprint(run))
        if diff:
            raise BadInput(run.path, f"{side} runs from different machines: {runs[0].path} and {run.path} "
                                     f"differ in {describe_diff(diff)}")
    return first


def machine_differences(current: dict, baseline: dict) -> list[tuple[str, object, object]]:
    """Every machine_info difference worth a note (not only the fingerprint's)."""
    cur, base = flatten(current), flatten(baseline)
    return [(k, base.get(k), cur.get(k)) for k in sorted(set(cur) | set(base))
            if cur.get(k) != base.get(k) and not k.startswith(NOISE)]


def busy_reason(run: Run) -> str | None:
    """Why this run must not gate (the machine was busy), or None."""
    load = run.load
    if not load or not load.get("busy"):
        return None
    share = load.get("other_cpu_share")
    what = f"other processes used {share:.0%} of the CPU" if share is not None else "marked busy"
    note = f" ({load['note']})" if load.get("note") else ""
    return f"{run.path}: machine busy during the run: {what}{note}"


@dataclass(frozen=True)
class MachineCheck:
    """The machines of the two sides, held against each other once."""
    differs: str  # "baseline machine differs in ...": its fingerprint is another machine's; "" when the same
    differences: list[tuple[str, object, object]]  # every machine_info difference worth a note
    busy: list[str]  # why a run (current or baseline) measured on a busy machine gates nothing


def check(current: list[Run], baseline: list[Run], cur_fp: dict) -> MachineCheck:
    """The baseline runs' one fingerprint against the current runs' (`cur_fp`), and which runs of
    either side were measured on a busy machine."""
    busy = [reason for run in current + baseline if (reason := busy_reason(run))]
    if not baseline:
        return MachineCheck("", [], busy)
    diff = fingerprint_diff(same_machine(baseline, "baseline"), cur_fp)
    return MachineCheck(f"baseline machine differs in {describe_diff(diff)}" if diff else "",
                        machine_differences(current[-1].machine_info, baseline[-1].machine_info), busy)


def calibration_path(folder: Path, machine: str, fp: dict) -> Path:
    return folder / machine / f"calibration-{fingerprint_hash(fp)}.json"
