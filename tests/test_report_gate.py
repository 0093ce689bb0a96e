"""The regression gate that never cries wolf: machine fingerprints, busy machines, the gate
statistic of a side, calibration per runs a side, memory, exit codes. Doctored copies of tests/data runs,
no timing."""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import reporting.cli
from reporting import calibrate
from tests.test_report import DATA, MACHINE, ROOT, SLOWED, bench, csv_rows, load, run_report, save, scaled, set_rounds

AMD = "AMD EPYC 7B13"
MiB = 2 ** 20


def amd(doc: dict) -> dict:
    doc["machine_info"]["cpu"]["brand_raw"] = AMD
    return doc


def busy(doc: dict, share: float = 0.4) -> dict:
    doc["suite"]["load"] = {"other_cpu_share": share, "busy": True, "note": "a compiler ran"}
    return doc


def with_rounds(doc: dict, name: str, data: list[float]) -> dict:
    set_rounds(bench(doc, name)["stats"], data)
    return doc


def test_a_baseline_from_another_cpu_does_not_gate_and_says_why_in_one_line(tmp_path, capsys):
    base = save(load(), tmp_path / "base.json")
    cur = save(amd(scaled(load(), SLOWED, 1.3)), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 0
    lines = [line for line in out.splitlines() if line.startswith("Not gated")]
    assert lines == [f"Not gated: baseline machine differs in cpu.brand_raw ('Intel(R) Xeon(R) Processor' vs '{AMD}')."]
    assert csv_rows(tmp_path)[SLOWED]["verdict"] == "slower"  # the comparison is still shown
    assert (tmp_path / "out" / "slower.txt").read_text() == ""


def test_the_committed_intel_baselines_do_not_gate_an_amd_run(tmp_path, capsys):
    quick = ROOT / "baselines" / MACHINE / "0004_quick.json"
    cur = save(amd(json.loads(quick.read_text())), tmp_path / "run.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur))
    assert code == 0 and "0005_quick.json" in out
    assert f"Not gated: baseline machine differs in cpu.brand_raw ('Intel(R) Xeon(R) Processor' vs '{AMD}')" in out


@pytest.mark.parametrize("field, value", [("torch_threads", 1), ("jaxlib", "9.9"), ("suite.env.OMP_NUM_THREADS", "1")])
def test_every_speed_deciding_field_is_in_the_fingerprint(tmp_path, capsys, field, value):
    doc = scaled(load(), SLOWED, 1.3)
    *parents, last = field.split(".")
    node = doc["machine_info"]
    for key in parents:
        node = node.setdefault(key, {})
    node[last] = value
    base_doc = load()
    if field.startswith("suite.env."):  # a real run records every variable it watches, unset ones as null
        base_doc["machine_info"].setdefault("suite", {}).setdefault("env", {})[last] = None
    base, cur = save(base_doc, tmp_path / "base.json"), save(doc, tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 0 and f"Not gated: baseline machine differs in {field} (" in out


@pytest.mark.parametrize("side", ["current", "baseline"])
def test_a_busy_run_is_warned_about_and_does_not_gate(tmp_path, capsys, side):
    base_doc, cur_doc = load(), scaled(load(), SLOWED, 1.3)
    busy(cur_doc if side == "current" else base_doc)
    base, cur = save(base_doc, tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    busy_file = cur if side == "current" else base
    assert code == 0
    warning = next(line for line in out.splitlines() if line.startswith("> WARNING"))
    assert warning.startswith(f"> WARNING: not gated: {busy_file}: machine busy during the run: "
                              "other processes used 40% of the CPU (a compiler ran)")
    assert f"Not gated: {busy_file}: machine busy" in out


def test_a_quiet_load_record_gates_as_usual(tmp_path, capsys):
    cur_doc = scaled(load(), SLOWED, 1.3)
    cur_doc["suite"]["load"] = {"other_cpu_share": 0.01, "busy": False, "note": ""}
    base, cur = save(load(), tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 1 and "WARNING" not in out


def test_a_benchmark_measured_while_others_took_the_cpu_is_marked_and_not_gated(tmp_path, capsys):
    other = "test_mlp_train_step[torch-eager-cpu-batch64-steady]"
    cur_doc = scaled(scaled(load(), SLOWED, 1.3), other, 1.3)
    bench(cur_doc, SLOWED)["extra_info"]["other_cpu_share"] = 0.25
    base, cur = save(load(), tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    rows = csv_rows(tmp_path)
    assert (rows[SLOWED]["verdict"], rows[SLOWED]["gated"]) == ("slower", "False")
    assert rows[SLOWED]["not_gated"] == "busy (other processes 25% of the CPU)"
    assert code == 1 and [x for x in out.splitlines() if x.startswith("SLOWER: ")] == [f"SLOWER: {other}"]


def test_a_median_shift_with_the_fastest_rounds_as_before_is_not_slower(tmp_path, capsys):
    """Interference on a shared machine slows most rounds of a run; the fastest stay where they were."""
    data = np.array(bench(load(), SLOWED)["stats"]["data"])
    fast = data <= np.percentile(data, 10)
    cur = save(with_rounds(load(), SLOWED, np.where(fast, data, data * 1.5)), tmp_path / "cur.json")
    base = save(load(), tmp_path / "base.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"]) == (0, "undecided")  # the medians moved: not "same" either
    assert float(row["current_min_s"]) == pytest.approx(float(row["baseline_min_s"]))


def runs(tmp_path, prefix: str, factors: list[float]) -> list[str]:
    return [str(save(scaled(load(), SLOWED, f), tmp_path / f"{prefix}{i}.json")) for i, f in enumerate(factors)]


def test_several_runs_per_side_compare_each_sides_fastest_round(tmp_path, capsys):
    base = runs(tmp_path, "base", [1.0, 1.02, 0.99])
    head = runs(tmp_path, "head", [1.3, 1.31, 1.29])
    code, out, _ = run_report(tmp_path, capsys, *head, *[a for b in base for a in ("--baseline", b)])
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], row["p_value"]) == (1, "slower", "")
    assert row["test"] == "fastest round per side (3 vs 3 runs); median run +30.0% vs threshold 10%"
    assert float(row["change_pct"]) == pytest.approx(100 * (1.29 / 0.99 - 1))
    assert float(row["median_run_change_pct"]) == pytest.approx(30)


def test_one_base_run_faster_than_all_others_is_not_a_regression(tmp_path, capsys):
    """Seen here: one JAX process of six dispatched 10-12% faster than every other run; the fastest
    rounds alone called the five others a regression, the median runs did not."""
    base, head = runs(tmp_path, "base", [1.0, 1.001, 0.87]), runs(tmp_path, "head", [1.0, 1.01, 1.002])
    code, _, _ = run_report(tmp_path, capsys, *head, *[a for b in base for a in ("--baseline", b)])
    row = csv_rows(tmp_path)[SLOWED]
    assert float(row["change_pct"]) > 10 and abs(float(row["median_run_change_pct"])) < 1
    assert (code, row["verdict"]) == (0, "undecided")


def test_a_slow_spell_in_one_base_run_does_not_hide_a_slow_down(tmp_path, capsys):
    """On a shared VM a slow spell hits some runs of an A/B and not others: a rank test across runs
    (3 vs 3 needs every head run slower than every base run) misses this 30% slow-down."""
    base, head = runs(tmp_path, "base", [1.0, 1.5, 1.01]), runs(tmp_path, "head", [1.3, 1.31, 1.32])
    code, _, _ = run_report(tmp_path, capsys, *head, *[a for b in base for a in ("--baseline", b)])
    assert (code, csv_rows(tmp_path)[SLOWED]["verdict"]) == (1, "slower")


def calibration_runs(tmp_path) -> list[str]:
    return runs(tmp_path, "aa", [1.0, 1.2, 1.1])


def test_calibration_writes_per_benchmark_thresholds_no_tighter_than_the_aa_spread(tmp_path, capsys):
    assert calibrate.main([*calibration_runs(tmp_path), "--out-dir", str(tmp_path / "baselines")]) == 0
    out = capsys.readouterr().out
    (path,) = (tmp_path / "baselines" / MACHINE).glob("calibration-*.json")
    doc = json.loads(path.read_text())
    assert doc["fingerprint"]["cpu.brand_raw"] == "Intel(R) Xeon(R) Processor"
    row = doc["benchmarks"][bench(load(), SLOWED)["fullname"]]
    assert row["spread_pct"] == pytest.approx(20) and row["threshold_pct"] == pytest.approx(23)
    assert row["false_alarm_rate"] == 0 and row["detectable_pct"] == pytest.approx(100 * (1.23 * 1.2 - 1))
    quiet = doc["benchmarks"][bench(load(), "test_matmul[jax-jit-cpu-size32-steady]")["fullname"]]
    assert quiet["threshold_pct"] == 10 and quiet["false_alarm_rate"] == 0  # floored at --threshold
    assert f"Wrote {path}" in out


def test_report_uses_the_calibration_of_its_own_machine_fingerprint(tmp_path, capsys, monkeypatch):
    calibrate.main([*calibration_runs(tmp_path), "--out-dir", str(tmp_path / "baselines")])
    base, cur = save(load(), tmp_path / "base.json"), save(scaled(load(), SLOWED, 1.15), tmp_path / "cur.json")
    monkeypatch.setattr(reporting.cli, "ROOT", tmp_path)
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], float(row["threshold_pct"])) == (0, "undecided", pytest.approx(23))
    assert "Calibration: " + str(tmp_path / "baselines" / MACHINE) in out
    amd_cur = save(amd(scaled(load(), SLOWED, 1.15)), tmp_path / "amd.json")
    run_report(tmp_path, capsys, str(amd_cur), "--baseline", str(save(amd(load()), tmp_path / "amd_base.json")))
    assert float(csv_rows(tmp_path)[SLOWED]["threshold_pct"]) == 10  # another fingerprint: not used


def test_30_percent_inside_a_wide_calibrated_threshold_is_undecided_never_same(tmp_path, capsys, monkeypatch):
    """A/A runs 80% apart calibrate the one-run threshold to 83%: a +30% slow-down does not gate, and
    the report says undecided, with by how much it could have resolved, never same."""
    calibrate.main([*runs(tmp_path, "aa", [1.0, 1.8, 1.4]), "--out-dir", str(tmp_path / "baselines")])
    monkeypatch.setattr(reporting.cli, "ROOT", tmp_path)
    base, cur = save(load(), tmp_path / "base.json"), save(scaled(load(), SLOWED, 1.3), tmp_path / "cur.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], float(row["threshold_pct"])) == (0, "undecided", pytest.approx(83))
    assert float(row["change_pct"]) == pytest.approx(30, abs=0.01) and float(row["interval_low_pct"]) > 10
    assert float(row["resolvable_pct"]) == pytest.approx(83)  # one run here resolves no less than its noise floor
    line = next(x for x in (tmp_path / "out" / "report.md").read_text().splitlines() if x.startswith(f"| {SLOWED} |"))
    assert "| undecided |" in line and "| same |" not in line
    # the same +30% without the calibration: slower, as before
    monkeypatch.setattr(reporting.cli, "ROOT", tmp_path / "elsewhere")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert (code, csv_rows(tmp_path)[SLOWED]["verdict"]) == (1, "slower") and f"SLOWER: {SLOWED}" in out


def test_an_aa_pair_inside_a_wide_calibrated_threshold_is_undecided_not_same(tmp_path, capsys, monkeypatch):
    """Its rounds' interval fits inside +/-10%, but this machine's A/A runs land 80% apart: one run
    cannot show that nothing changed. Without that calibration the same pair is same."""
    base, cur = save(load(), tmp_path / "base.json"), save(load(), tmp_path / "cur.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"]) == (0, "same") and float(row["resolvable_pct"]) < 10
    calibrate.main([*runs(tmp_path, "aa", [1.0, 1.8, 1.4]), "--out-dir", str(tmp_path / "baselines")])
    monkeypatch.setattr(reporting.cli, "ROOT", tmp_path)
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], float(row["threshold_pct"])) == (0, "undecided", pytest.approx(83))
    assert -10 < float(row["interval_low_pct"]) and float(row["interval_high_pct"]) < 10
    assert float(row["resolvable_pct"]) == pytest.approx(83)


def test_a_loose_run_that_names_no_machine_compares_without_a_calibration(tmp_path, capsys):
    """Its machine id cannot be rebuilt (machine_info without system/implementation/version): no
    calibration file can be its machine's, so none is looked up (this once raised TypeError, exit 3)."""
    anonymous = load()
    for key in ("system", "python_implementation", "python_version"):
        anonymous["machine_info"].pop(key, None)
    base, cur = save(anonymous, tmp_path / "base.json"), save(scaled(anonymous, SLOWED, 1.3), tmp_path / "cur.json")
    code, out, err = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert (code, err) == (1, "") and f"SLOWER: {SLOWED}" in out


def timed_runs(tmp_path, factors: list[float]) -> list[str]:
    """A/A runs with the benchmark slowed by `factors`, started a minute apart in that order."""
    paths = []
    for i, f in enumerate(factors):
        doc = scaled(load(), SLOWED, f)
        doc["datetime"] = f"2026-11-23T10:{i:02d}:00.000000+00:00"
        paths.append(str(save(doc, tmp_path / f"timed{i}.json")))
    return paths


def test_calibration_per_runs_a_side_uses_windows_of_consecutive_runs_in_the_order_they_ran(tmp_path):
    paths = timed_runs(tmp_path, [1.0, 1.2, 1.1, 1.05, 1.0, 1.01])
    assert calibrate.main([*reversed(paths), "--out-dir", str(tmp_path / "baselines")]) == 0  # order: datetime
    (path,) = (tmp_path / "baselines" / MACHINE).glob("calibration-*.json")
    row = json.loads(path.read_text())["benchmarks"][bench(load(), SLOWED)["fullname"]]
    assert row["spread_pct"] == pytest.approx(20) and row["threshold_pct"] == pytest.approx(23)
    # k = 2: windows of 4 consecutive runs; worst split = the window's 2 slowest vs its fastest
    two = row["runs_a_side"]["2"]  # windows 1.0 1.2 1.1 1.05 | 1.2 1.1 1.05 1.0 | 1.1 1.05 1.0 1.01
    assert two["spread_pct"] == pytest.approx(10) and two["threshold_pct"] == pytest.approx(13)
    # median runs: {1.2, 1.1} vs {1.0, 1.05} in the first two windows
    assert two["median_spread_pct"] == pytest.approx(100 * (1.15 / 1.025 - 1))
    three = row["runs_a_side"]["3"]  # one window: fastest 1.05 / 1.0; median runs {1.2, 1.1, 1.05} vs the rest
    assert (three["spread_pct"], three["median_spread_pct"]) == (pytest.approx(5), pytest.approx(10))
    assert (three["threshold_pct"], three["median_threshold_pct"]) == (10, pytest.approx(13))
    assert set(row["runs_a_side"]) == {"2", "3"}


def test_report_takes_the_threshold_calibrated_for_its_runs_a_side(tmp_path, capsys, monkeypatch):
    calibrate.main([*timed_runs(tmp_path, [1.0, 1.2, 1.1, 1.05, 1.0, 1.01]), "--out-dir", str(tmp_path / "baselines")])
    monkeypatch.setattr(reporting.cli, "ROOT", tmp_path)
    base, head = runs(tmp_path, "base", [1.0, 1.0]), runs(tmp_path, "head", [1.17, 1.18])
    code, _, _ = run_report(tmp_path, capsys, *head, *[a for b in base for a in ("--baseline", b)])
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], float(row["threshold_pct"])) == (1, "slower", pytest.approx(13))  # k = 2
    code, _, _ = run_report(tmp_path, capsys, head[0], "--baseline", base[0])
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], float(row["threshold_pct"])) == (0, "undecided", pytest.approx(23))  # k = 1
    five = runs(tmp_path, "five", [1.15 + i / 1000 for i in range(5)])  # distinct files: copies are refused
    base5 = runs(tmp_path, "b5", [1.0 + i / 1000 for i in range(5)])
    assert run_report(tmp_path, capsys, *five, *[a for b in base5 for a in ("--baseline", b)])[0] == 1
    assert float(csv_rows(tmp_path)[SLOWED]["threshold_pct"]) == pytest.approx(10)  # k = 3 (5 %) floored at 10


def test_calibration_needs_two_distinct_runs_from_one_machine(tmp_path, capsys):
    one = runs(tmp_path, "aa", [1.0])
    assert calibrate.main([*one, "--out-dir", str(tmp_path)]) == 2
    other = str(save(amd(load()), tmp_path / "amd.json"))
    assert calibrate.main([*one, other, "--out-dir", str(tmp_path)]) == 2
    assert "different machines" in capsys.readouterr().err


def with_memory(doc: dict, jax_bytes, torch_bytes, torch_note: str = "working set: ...") -> dict:
    for fw, value, note in (("jax-jit", jax_bytes, "working set: ..."), ("torch-compile", torch_bytes, torch_note)):
        info = bench(doc, f"test_mlp_train_step[{fw}-cpu-batch64-steady]")["extra_info"]
        info["peak_memory_bytes"], info["memory_note"], info["memory_floor_bytes"] = value, note, 8 * MiB
    return doc


def test_memory_is_shown_side_by_side_with_its_floor_and_in_the_csv(tmp_path, capsys):
    cur = save(with_memory(load(), 30 * MiB, 20 * MiB), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur))
    assert code == 0
    assert "| mlp_train_step | batch64 | cpu | jit/compile | 30.0 MiB | 20.0 MiB | 1.5 | 8.0 MiB |" in out
    assert csv_rows(tmp_path)[SLOWED]["peak_memory_bytes"] == str(30 * MiB)


def test_memory_measured_two_ways_is_not_put_side_by_side(tmp_path, capsys):
    cur = save(with_memory(load(), 30 * MiB, 20 * MiB, torch_note="CPU: peak resident memory during one step"),
               tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur))
    assert code == 0 and "| mlp_train_step | batch64 | cpu | jit/compile | 30.0 MiB" not in out


@pytest.mark.parametrize("before, after, verdict", [
    (100 * MiB, 120 * MiB, "larger"),  # +20%, +20 MiB
    (100 * MiB, 105 * MiB, "similar"),  # +5%: below 10%
    (1024, 4096, "similar"),  # +300% but 3 KiB: below 1 MiB
    (100 * MiB, 80 * MiB, "smaller"),
])
def test_memory_regressions_are_flagged_but_do_not_gate(tmp_path, capsys, before, after, verdict):
    base = save(with_memory(load(), before, before), tmp_path / "base.json")
    cur = save(with_memory(load(), after, after), tmp_path / "cur.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert (code, csv_rows(tmp_path)[SLOWED]["memory_verdict"]) == (0, verdict)


@pytest.mark.parametrize("option", ["--threshold", "--firstcall-threshold"])
@pytest.mark.parametrize("value", ["nan", "inf", "-1", "0", "ten"])
def test_a_threshold_that_is_not_a_positive_finite_percentage_is_a_one_line_usage_error(capsys, option, value):
    with pytest.raises(SystemExit) as exc:
        reporting.cli.main([str(DATA / "run_a.json"), f"{option}={value}"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and len(err.strip().splitlines()) == 1
    assert err.startswith(f"report.py: error: argument {option}: '{value}' is not a positive finite percentage")


def test_an_unexpected_failure_exits_3_with_one_line_and_a_traceback_only_with_debug(tmp_path, capsys, monkeypatch):
    def exhausted(r):
        raise MemoryError("out of memory")

    monkeypatch.setattr(reporting.cli, "render_markdown", exhausted)
    code, out, err = run_report(tmp_path, capsys, str(DATA / "run_a.json"))
    assert (code, out) == (3, "") and err == "report.py: internal error: MemoryError: out of memory " \
                                             "(run with --debug for the traceback)\n"
    code, _, err = run_report(tmp_path, capsys, str(DATA / "run_a.json"), "--debug")
    assert code == 3 and "Traceback" in err and "exhausted" in err


def test_a_mistyped_field_names_the_file_and_the_benchmark_without_a_traceback(tmp_path):
    doc = load()
    bench(doc, SLOWED)["extra_info"]["framework"] = {"a": 1}
    path = save(doc, tmp_path / "cur.json")
    proc = subprocess.run([sys.executable, str(ROOT / "report.py"), str(path), "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr == f"report.py: error: {path}: {SLOWED}: extra_info.framework is {{'a': 1}}, not a string\n"


def test_no_arguments_says_which_run_it_picked(tmp_path, capsys, monkeypatch):
    save(load("run_a"), tmp_path / ".benchmarks" / MACHINE / "0001_a.json")
    newest = save(load("run_b"), tmp_path / ".benchmarks" / MACHINE / "0002_b.json")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_report(tmp_path, capsys)
    assert f"> No RUN.json given: picked the newest run in .benchmarks/, {newest.relative_to(tmp_path)}" in out


@pytest.fixture(autouse=True)
def no_default_paired_stage(monkeypatch):
    """These tests doctor the time rounds' processes; the paired stage runs real ones, so it is off by
    default here (PAIRED_S 0) and faked where a test is about it (below, and tests/test_pingpong.py)."""
    monkeypatch.setattr("reporting.ab.PAIRED_S", 0)


def doctored_ab(monkeypatch, slow_head_processes: int = 10 ** 6, slow_base_alone: int = 0) -> list:
    """reporting.ab's processes doctored: each side's values vary by a few % from process to process,
    and the first `slow_head_processes` head processes that measure SLOWED run it 30% slower (the
    first `slow_base_alone` base processes that measure it alone, 60% slower). Returns the calls:
    (side, tree, selection)."""
    from reporting import ab

    calls, rng = [], np.random.default_rng(0)

    def fake_measure(tree, json_path, pytest_args, selection):  # no benchmarking in tests
        side = "head" if tree == ROOT else "base"
        calls.append((side, tree, list(selection)))
        slow = sum(s == "head" and (not sel or any(n.endswith(SLOWED) for n in sel)) for s, _, sel in calls)
        alone = sum(s == "base" and len(sel) == 1 and sel[0].endswith(SLOWED) for s, _, sel in calls)
        doc = scaled(load(), SLOWED, 1.3 if side == "head" and slow <= slow_head_processes else
                     1.6 if side == "base" and 0 < alone <= slow_base_alone and len(selection) == 1 else 1.0)
        for b in doc["benchmarks"]:
            set_rounds(b["stats"], [t * (1 + 0.02 * rng.standard_normal()) for t in b["stats"]["data"]])
        return save(doc, json_path)

    monkeypatch.setattr(ab, "measure", fake_measure)
    return calls


def ab_decisions(out) -> dict:
    return {d["name"].split("::")[-1]: d for d in json.loads((out / "ab.json").read_text())["decisions"]}


def test_ab_interleaves_short_processes_decides_confirms_and_removes_its_worktree(tmp_path, capsys, monkeypatch):
    """Doctored processes, the head's SLOWED benchmark 30% slower. It reads slower after
    MIN_PROCESSES a side, is measured alone in CONFIRM_PROCESSES more a side, which confirm it: every
    benchmark is decided, nothing else is slower."""
    from reporting import ab, rounds
    from reporting.sequential import CONFIRM_PROCESSES

    calls = doctored_ab(monkeypatch)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--", "-k", "steady"])
    out = capsys.readouterr().out
    sides = [side for side, _, _ in calls]
    assert sorted(sides[:2]) == ["base", "head"] and sides.count("base") == sides.count("head") >= rounds.MIN_PROCESSES
    alone = [sel for _, _, sel in calls if len(sel) == 1 and sel[0].endswith(SLOWED)]
    assert len(alone) == 2 * CONFIRM_PROCESSES  # the confirming rounds measured it alone, no more
    assert code == 1 and f"reporting.ab: SLOWER: {SLOWED} " in out
    decisions = ab_decisions(tmp_path / "out")
    assert decisions[SLOWED]["verdict"] == "slower" and 25 < decisions[SLOWED]["change_pct"] < 35
    assert decisions[SLOWED]["confirmation"]["confirmed"] is True
    assert decisions[SLOWED]["n_head"] == decisions[SLOWED]["confirmation"]["first"]["n_head"] + CONFIRM_PROCESSES
    assert [n for n, d in decisions.items() if d["verdict"] == "slower"] == [SLOWED]
    md = (tmp_path / "out" / "ab.md").read_text()
    assert "(slower, confirmed)" in md and f"{CONFIRM_PROCESSES} more a side confirmed it" in md
    base_tree = calls[0][1] if calls[0][0] == "base" else calls[1][1]
    assert (base_tree / "report.py").is_file() is False  # the worktree is gone afterwards
    assert str(base_tree) not in subprocess.run(["git", "worktree", "list"], cwd=ROOT, capture_output=True,
                                                text=True).stdout


def test_a_slower_the_first_confirming_stage_reads_too_noisily_is_confirmed_by_a_second(tmp_path, capsys,
                                                                                           monkeypatch):
    """One of the 6 confirming base processes is slow: their 95% interval reaches below 0 though their
    shift is about +30%, above the threshold. So 6 more a side are measured, and all 12 together
    confirm it; ab.md and ab.json say both stages."""
    from reporting import ab, rounds
    from reporting.sequential import CONFIRM_PROCESSES, CONFIRM_STAGES

    calls = doctored_ab(monkeypatch, slow_base_alone=1)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--", "-k", "steady"])
    out = capsys.readouterr().out
    alone = [sel for _, _, sel in calls if len(sel) == 1 and sel[0].endswith(SLOWED)]
    assert len(alone) == 2 * CONFIRM_STAGES * CONFIRM_PROCESSES
    assert code == 1 and f"not confirmed slower by {CONFIRM_PROCESSES} more processes a side" in out
    c = ab_decisions(tmp_path / "out")[SLOWED]["confirmation"]
    assert c["confirmed"] is True and c["stage"] == 2 and c["n_base"] == 2 * CONFIRM_PROCESSES
    assert c["earlier"]["confirmed"] is False and c["earlier"]["change_pct"] > 10 and c["earlier"]["low_pct"] <= 0
    md = (tmp_path / "out" / "ab.md").read_text()
    assert (f"{CONFIRM_PROCESSES} more a side did not confirm it" in md and "so 6 more a side were measured; all 12 "
            "together confirmed it" in md and "(slower, confirmed)" in md)

    monkeypatch.setattr(rounds.Rounds, "stage_fits", lambda self, spent: False)  # no room for the second stage
    calls.clear()
    assert ab.main(["--base", "HEAD", "--out", str(tmp_path / "out2"), "--signals", "time", "--", "-k", "steady"]) == 0
    capsys.readouterr()
    assert ab_decisions(tmp_path / "out2")[SLOWED]["verdict"] == "undecided"
    assert "did not fit in the budget (a larger budget would settle it)" in (tmp_path / "out2" / "ab.md").read_text()


def test_the_torch_compile_note_only_where_the_selection_left_torch_compile_out(tmp_path, capsys, monkeypatch):
    """A duet of make compare's default selection says torch-compile was left out and how to time it;
    a duet of a selection with torch-compile (COMPARE_K="steady and torch-compile") does not."""
    from reporting import ab

    doctored_ab(monkeypatch)
    monkeypatch.setattr(ab, "measure_duet", lambda runs, selection: [ab.measure(*run, selection) for run in runs])
    for selection, noted in (("steady and not torch-compile", True), ("steady and torch-compile", False)):
        out = tmp_path / selection.replace(" ", "-")
        ab.main(["--base", "HEAD", "--out", str(out), "--signals", "time", "--duet", "--rounds", "8", "--",
                 "-k", selection])
        notes = json.loads((out / "ab.json").read_text())["notes"]
        assert (ab.LEFT_OUT in notes) is noted
        assert ('COMPARE_K="steady and torch-compile"' in (out / "ab.md").read_text()) is noted
    assert ab.signals_note(argparse.Namespace(signals="both"), {}, "", "") == (
        "Instructions: none of the selected benchmarks is counted (torch-compile cases are time only).\n\n")
    capsys.readouterr()


def test_a_slower_reading_the_confirming_processes_do_not_repeat_is_undecided_and_passes(tmp_path, capsys,
                                                                                           monkeypatch):
    """The A/A false alarm of a busy hour: the head's first processes happen to be slow for SLOWED,
    the confirming ones are not. Not slower, exit 0, and ab.md says what happened."""
    from reporting import ab, rounds

    doctored_ab(monkeypatch, slow_head_processes=rounds.first_look(False))
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--", "-k", "steady"])
    out = capsys.readouterr().out
    assert code == 0 and "1 of them read slower once and not confirmed" in out
    d = ab_decisions(tmp_path / "out")[SLOWED]
    assert d["verdict"] == "undecided" and d["confirmation"]["confirmed"] is False
    assert d["confirmation"]["first"]["verdict"] == "slower" and d["confirmation"]["low_pct"] <= 0
    md = (tmp_path / "out" / "ab.md").read_text()
    assert "read slower once, not confirmed" in md and "more a side did not confirm it" in md


def test_a_slower_reading_the_budget_cannot_confirm_is_undecided_and_says_so(tmp_path, capsys, monkeypatch):
    from reporting import ab, rounds

    doctored_ab(monkeypatch)
    monkeypatch.setattr(rounds.Rounds, "next_fits", lambda self, kind, spent: kind == "measure" and
                        self.count["measure"] < rounds.first_look(False))
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--", "-k", "steady"])
    assert code == 0
    d = ab_decisions(tmp_path / "out")[SLOWED]
    assert d["verdict"] == "undecided" and d["confirmation"]["confirmed"] is None
    assert "the budget ended with 0 of the 6 more processes a side that confirm a time 'slower': undecided" in \
        (tmp_path / "out" / "ab.md").read_text()


def test_rounds_n_decides_once_at_the_end_without_confirming_rounds(tmp_path, capsys, monkeypatch):
    """--rounds N collects A/A processes: exactly N rounds of the whole selection, one decision, no
    confirming rounds (its "slower" is one reading)."""
    from reporting import ab

    calls = doctored_ab(monkeypatch)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--rounds", "8", "--",
                    "-k", "steady"])
    assert code == 1 and len(calls) == 16 and all(sel == [] for _, _, sel in calls)
    d = ab_decisions(tmp_path / "out")[SLOWED]
    assert d["verdict"] == "slower" and d["confirmation"] is None


def test_the_confirming_rounds_have_a_reserve_until_only_it_is_left():
    """Measuring rounds stop short of a reserve for CONFIRM_PROCESSES confirming rounds (half a
    measuring round each until one has run); with nothing pending the reserve goes to measuring."""
    import argparse

    from reporting import rounds
    from reporting.sequential import CONFIRM_PROCESSES

    schedule = rounds.Rounds(argparse.Namespace(rounds=0, duet=False, time_budget=100.0))
    schedule.count["measure"], schedule.costs["measure"] = 8, [10.0, 10.0]
    assert schedule.reserve() == CONFIRM_PROCESSES * 5
    assert schedule.next_fits("measure", spent=60) and not schedule.reserve_spent
    assert schedule.next_fits("measure", spent=75) and schedule.reserve_spent  # only the reserve was left
    assert schedule.reserve() == 0 and not schedule.next_fits("measure", spent=95)
    schedule.costs["confirm"] = [4.0]
    assert schedule.next_fits("confirm", spent=95) and not schedule.next_fits("confirm", spent=97)


def test_ab_with_an_unknown_ref_is_bad_input(tmp_path, capsys):
    from reporting import ab

    assert ab.main(["--base", "no-such-ref-xyz", "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == ("reporting.ab: error: no-such-ref-xyz: not a git commit here "
                                       "(fetch it, e.g. actions/checkout with fetch-depth: 0)\n")


def test_an_environment_variable_the_baseline_did_not_record_is_no_difference():
    from reporting.machine import fingerprint_diff

    old = {"cpu.brand_raw": "X", "suite.env.XLA_FLAGS": None}
    new = {"cpu.brand_raw": "X", "suite.env.XLA_FLAGS": None, "suite.env.XLA_PYTHON_CLIENT_PREALLOCATE": "false"}
    assert fingerprint_diff(old, new) == []
    assert fingerprint_diff(old, {**new, "suite.env.XLA_FLAGS": "--x"}) == [("suite.env.XLA_FLAGS", None, "--x")]
    assert fingerprint_diff(old, {**new, "gpu.name": "H100"}) == [("gpu.name", None, "H100")]


def test_ab_paired_judges_the_mlp_train_steps_again_and_its_slower_fails_the_gate(tmp_path, capsys, monkeypatch):
    """--paired: after the time rounds (doctored, nothing slower), the paired stage (its pairs
    doctored: the jax-jit MLP train step 20% slower on the head, every turn's two windows sharing a
    host factor) replaces the MLP train steps' decisions; the slower one fails the gate, ab.md marks
    it paired and counts pairs, ab.json keeps the unpaired reading."""
    from reporting import ab, pingpong

    doctored_ab(monkeypatch, slow_head_processes=0)
    rng = np.random.default_rng(1)

    def fake_pair(trees, names, cases, turns, rng_, one_thread=False, gap=0.0, caches=None):
        assert trees[1] == ROOT and names[0].startswith("base ")
        return [[[2e-3 * f, 2e-3 * f * (1.2 if c[:3] == ("mlp_train_step", "jax", "jit") else 1.0)
                  * (1 + 0.002 * rng.standard_normal())] for f in rng.uniform(1, 1.8, turns)] for c in cases]
    monkeypatch.setattr(pingpong, "pair", fake_pair)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--rounds", "8",
                    "--paired", "60", "--", "-k", "steady"])
    out = capsys.readouterr().out
    assert code == 1 and f"reporting.ab: SLOWER: {SLOWED} " in out, out
    d = ab_decisions(tmp_path / "out")
    assert d[SLOWED]["verdict"] == "slower" and d[SLOWED]["paired"] and d[SLOWED]["n_base"] == pingpong.STAGE_MAX_PAIRS
    assert d[SLOWED]["time_unpaired"]["verdict"] != "slower" and not d[SLOWED]["time_unpaired"]["paired"]
    torch_eager = "test_mlp_train_step[torch-eager-cpu-batch64-steady]"
    assert d[torch_eager]["verdict"] == "same" and d[torch_eager]["paired"]
    assert sorted(n for n, x in d.items() if x["paired"]) == [  # the steps a pair builds: batch 64, no torch-compile
        f"test_mlp_train_step[{m}-cpu-batch64-steady]" for m in ("jax-eager", "jax-jit", "torch-eager")]
    md = (tmp_path / "out" / "ab.md").read_text()
    assert "(slower, paired) | " in md and f"| {pingpong.STAGE_MAX_PAIRS} pairs |" in md
    assert "judged paired (marked paired" in md


def fake_paired_stage(monkeypatch) -> list:
    """reporting.ab's paired stage faked: it records the budget it was given and the benchmarks, and
    judges nothing. Returns the calls: (budget, node ids)."""
    from reporting import ab

    calls: list = []

    def stage(trees, commit, decisions, budget, threshold, folder, keep=None):
        calls.append((budget, [d.name for d in decisions]))
        return decisions, ["paired stage ran"]
    monkeypatch.setattr(ab, "paired_stage", stage)
    return calls


def test_the_default_budget_keeps_the_paired_stage_its_share_from_counting_first(monkeypatch):
    from reporting import ab

    monkeypatch.setattr(ab, "PAIRED_S", 200)
    shares = []
    monkeypatch.setattr("reporting.instructions.count_sides",
                        lambda trees, args, folder, timeout: shares.append(timeout) or ({}, "no valgrind"))
    for argv, paired, share in ((["--budget", "600"], 200, 400), (["--budget", "500"], 0, 400),
                                (["--budget", "900", "--paired", "600"], 600, 300), (["--paired", "0"], 0, 400)):
        args = ab.parse_args(["--base", "HEAD", *argv])
        assert args.paired == paired
        ab.count_instructions({}, args, Path("."))
        assert shares[-1] == share
    assert ab.parse_args(["--base", "HEAD", "--signals", "instructions"]).paired == 0


@pytest.mark.parametrize("argv, message", [
    (["--paired", "600"], "--paired 600 leaves nothing of --budget 600: make it smaller, or --paired 0"),
    (["--paired", "-5"], "argument --paired: '-5' is not 0 or a positive number of seconds (ASCII digits)"),
])
def test_a_paired_share_that_cannot_be_is_one_line(argv, message, capsys):
    from reporting import ab

    with pytest.raises(SystemExit) as exc:
        ab.parse_args(["--base", "HEAD", *argv])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err == f"python -m reporting.ab: error: {message}\n"


def test_rounds_too_short_for_a_decision_stop_after_their_first_and_the_paired_stage_gets_their_time(
        tmp_path, capsys, monkeypatch):
    from reporting import ab

    calls = doctored_ab(monkeypatch)
    stage = fake_paired_stage(monkeypatch)
    monkeypatch.setattr(ab, "too_short", lambda *a, **k: "too short")
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--paired", "200", "--",
                    "-k", "steady"])
    capsys.readouterr()
    assert code == 0 and len(calls) == 2  # one round: a process a side
    (budget, names), = stage
    assert budget > 590 and any(n.endswith(SLOWED) for n in names)  # everything the one round left
    notes = json.loads((tmp_path / "out" / "ab.json").read_text())["notes"]
    assert notes[0].startswith("the time rounds stopped after their first: a round took ") and "paired stage ran" in notes
    assert "their time went to the paired stage, and the benchmarks it does not judge are left to instructions" in notes[0]
    assert all(d["change_pct"] is None for d in ab_decisions(tmp_path / "out").values())  # one process a side: no figure


def test_when_counting_leaves_only_the_paired_share_no_round_runs_and_every_selected_benchmark_is_listed(
        tmp_path, capsys, monkeypatch):
    from reporting import ab

    calls = doctored_ab(monkeypatch)
    stage = fake_paired_stage(monkeypatch)
    names = [b["fullname"] for b in load()["benchmarks"] if b["fullname"].endswith("steady]")]
    monkeypatch.setattr(ab, "collected", lambda tree, pytest_args: names)
    monkeypatch.setattr(ab, "count_instructions", lambda trees, args, folder: (time.sleep(0.3), ({}, ""))[1])
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--budget", "0.5", "--paired", "0.3", "--",
                    "-k", "steady"])
    capsys.readouterr()
    assert code == 0 and calls == []  # no round ran
    assert stage and stage[0][1] == names
    doc = json.loads((tmp_path / "out" / "ab.json").read_text())
    assert doc["notes"][0].startswith("the time rounds did not run: beside the paired stage's share (--paired 0.3) "
                                      "counting left them ")
    assert {d["name"] for d in doc["decisions"]} == set(names) and all(d["n_base"] == 0 for d in doc["decisions"])
    assert "| not timed |" in (tmp_path / "out" / "ab.md").read_text()


def test_a_selection_without_the_paired_stages_benchmarks_gives_its_share_back_to_the_rounds(tmp_path, capsys,
                                                                                              monkeypatch):
    from reporting import ab

    doctored_ab(monkeypatch)
    stage = fake_paired_stage(monkeypatch)
    monkeypatch.setattr(ab, "stage_names", lambda names: [])
    budgets = []
    real = ab.sequential
    monkeypatch.setattr(ab, "sequential", lambda trees, args, folder: (real(trees, args, folder),
                                                                       budgets.append(args.time_budget))[0])
    ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "time", "--paired", "200", "--",
             "-k", "steady"])
    capsys.readouterr()
    assert stage == [] and budgets[0] > 590


def test_ab_gives_back_the_callers_sigterm_handling(tmp_path, capsys):
    """reporting.ab turns SIGTERM into an orderly exit (its worktree removed) while it runs, and gives
    the caller's handler back when it returns (a test run calling it in-process stays stoppable)."""
    import signal

    from reporting import ab

    before = signal.getsignal(signal.SIGTERM)
    assert ab.main(["--base", "no-such-ref-xyz", "--out", str(tmp_path / "out")]) == 2
    capsys.readouterr()
    assert signal.getsignal(signal.SIGTERM) is before
