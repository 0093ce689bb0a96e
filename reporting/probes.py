"""Do the current runs and the baseline runs come from machines that measure the same?

Every saved run carries reference probes (benchmarks/probes.py: kernels independent of this
suite's code, timed at the start and at the end of the run) in its top-level "suite" key. A
stored baseline may gate only when every probe's fastest time agrees between the two sides within
its noise: max(TOLERANCE_PCT, NOISE_FACTOR x the largest spread either side shows for that probe,
within a run (start vs end) or between its runs). A run or a baseline without probes cannot show
that it measures the same, so it does not gate either. docs/regression-gate.md has the figures.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

from reporting import BadInput
from reporting.load import Run, number

TOLERANCE_PCT = 10.0  # the smallest difference between machines that counts, whatever the noise
NOISE_FACTOR = 2.0  # a probe's allowance: this many times the spread it showed


@dataclass(frozen=True)
class ProbeCheck:
    """The outcome: `agree` or the one sentence that says how the machines differ."""
    agree: bool
    reason: str = ""  # "" when agree
    ratios: dict[str, float] = field(default_factory=dict)  # probe -> current / baseline fastest time
    tolerance_pct: dict[str, float] = field(default_factory=dict)


def probes_of(run: Run) -> dict[str, dict] | None:
    """{probe: {"best_s", "spread_pct"}} of a run, checked, or None when it recorded none."""
    record = run.suite.get("probes")
    if record is None:
        return None
    probes = record.get("probes") if isinstance(record, dict) else None
    if not isinstance(probes, dict) or not probes:
        raise BadInput(run.path, "suite.probes has no 'probes' object")
    for name, p in probes.items():
        ok = isinstance(p, dict) and (number(p.get("best_s")) or 0) > 0 and number(p.get("spread_pct")) is not None
        if not ok:
            raise BadInput(run.path, f"suite.probes.probes.{name} is {p!r}, not {{best_s: positive, spread_pct: number}}")
    return probes


def _version(run: Run) -> object:
    return run.suite["probes"].get("version")


def _spread_pct(values: list[float]) -> float:
    return 100 * (max(values) / min(values) - 1)


def _missing(runs: list[Run], side: str) -> str:
    lacking = [run for run in runs if probes_of(run) is None]
    if not lacking:
        return ""
    if side == "baseline":
        return ("the baseline runs record no reference probes (taken before the suite measured them), so nothing "
                "shows this machine measures like theirs; `make baseline` takes new ones")
    return f"{lacking[0].path} records no reference probes, so nothing shows its machine measures like the baseline's"


def _sentence(ratios: dict[str, float], tolerance: dict[str, float], outside: list[str]) -> str:
    gmean = math.exp(sum(math.log(r) for r in ratios.values()) / len(ratios))
    worst = max(outside, key=lambda n: abs(math.log(ratios[n])))
    r = ratios[worst]
    detail = (f"{worst} {r:.2f}x {'slower' if r > 1 else 'faster'}, outside its +/-{tolerance[worst]:.0f}% noise; "
              f"{len(outside)} of {len(ratios)} probes differ")
    if abs(math.log(gmean)) < math.log(1 + TOLERANCE_PCT / 100):
        return f"this machine runs the reference probes differently from the baseline's ({detail})"
    how = f"{gmean:.2g}x slower" if gmean > 1 else f"{1 / gmean:.2g}x faster"
    return f"this machine runs the reference probes {how} than the baseline's ({detail})"


def compare(current: list[Run], baseline: list[Run]) -> ProbeCheck:
    """Whether the two sides measure the same on every probe both recorded."""
    missing = _missing(baseline, "baseline") or _missing(current, "current")
    if missing:
        return ProbeCheck(False, missing)
    if len({_version(run) for run in current + baseline}) > 1:
        return ProbeCheck(False, "the reference probes of the two sides are of different versions (not comparable)")
    sides = [[probes_of(run) or {} for run in runs] for runs in (current, baseline)]
    names = sorted(set.intersection(*(set(p) for side in sides for p in side)))
    if not names:
        return ProbeCheck(False, "the two sides share no reference probe")
    ratios, tolerance = {}, {}
    for name in names:
        best = [[p[name]["best_s"] for p in side] for side in sides]
        noise = max([p[name]["spread_pct"] for side in sides for p in side] + [_spread_pct(b) for b in best])
        ratios[name] = min(best[0]) / min(best[1])
        tolerance[name] = max(TOLERANCE_PCT, NOISE_FACTOR * noise)
    outside = [n for n in names if abs(math.log(ratios[n])) > math.log(1 + tolerance[n] / 100)]
    reason = _sentence(ratios, tolerance, outside) if outside else ""
    return ProbeCheck(not outside, reason, ratios, tolerance)


def newest_machine(runs: list[Run]) -> tuple[list[Run], list[Run]]:
    """Baseline runs stored over time in one folder may come from several machines of one id (VMs
    of a name but another speed): the newest run, and those earlier runs whose reference probes
    agree with it (or, where it has none, the earlier runs without probes), in their order; and the
    runs left out. `make baseline` on a new machine so replaces what gates without deleting history."""
    newest = runs[-1]
    if probes_of(newest) is None:
        keep = [run for run in runs if probes_of(run) is None]
    else:
        keep = [run for run in runs[:-1] if probes_of(run) is not None and compare([run], [newest]).agree] + [newest]
    return keep, [run for run in runs if run not in keep]
