"""reporting/pingpong.py (with benchmarks/pingpong.py, a side): its statistics, its paired verdict, and short real runs."""
from __future__ import annotations

import json
import math
import random
import subprocess
import sys
import time

import pytest

from reporting import pingpong, sequential
from tests.test_options import ROOT


def test_a_slow_spell_shared_by_both_windows_of_a_turn_cancels_in_the_difference():
    # every turn slowed by its own host factor (up to 1.6x), the same for both sides of the turn;
    # side b 5% slower than side a in every pair: only the unpaired figures see the spells
    factors = [1.0, 1.6, 1.1, 1.3, 1.0, 1.45]
    pairs = [[[2e-3 * f * p, 2.1e-3 * f * p] for f in factors[k:] + factors[:k]] for k, p in enumerate((1.0, 1.2, 0.9))]
    s = pingpong.summary(pairs)
    assert s["adjacent_difference"] == pytest.approx(0.0, abs=1e-12)
    assert s["pair_median_difference"] == pytest.approx(0.0, abs=1e-12)
    assert s["one_window_a_process"] > 0.1 and s["fastest_window_a_process"] > 0.05
    assert s["median_step_s"] > 2e-3


def test_paired_judging_resolves_what_shared_spells_hide_from_the_unpaired_interval():
    rng = random.Random(5)
    # 12 pairs, each turn slowed by a host factor the two sides share; b 5% slower, its own noise 0.5%
    pairs = [[[a * f, a * f * 1.05 * rng.uniform(0.995, 1.005)] for f in (rng.uniform(1, 1.8) for _ in range(5))]
             for a in (rng.uniform(2e-3, 3e-3) for _ in range(12))]
    changes = pingpong.resolvable(pairs)
    assert changes["paired_all_turns"] < 1.0 and changes["paired_one_turn"] < 1.0
    assert changes["unpaired_one_window"] > 10.0
    assert pingpong.resolvable(pairs[:10])["paired_all_turns"] is None  # the signed-rank interval needs 11 at 99.9%


def test_the_paired_verdict_calls_a_shared_spell_hidden_slow_down_slower_and_an_aa_same():
    rng = random.Random(7)

    def pairs(change: float) -> list[list[list[float]]]:
        return [[[a * f * rng.uniform(0.99, 1.01), a * f * change * rng.uniform(0.99, 1.01)]
                 for f in (rng.uniform(1, 1.8) for _ in range(5))] for a in (rng.uniform(2e-3, 3e-3) for _ in range(12))]
    slower = sequential.decide_paired("x", pingpong.differences(pairs(1.06)), 3)
    assert slower.verdict == "slower" and slower.low_pct > 0 and 5 < slower.change_pct < 7
    assert sequential.decide_paired("x", pingpong.differences(pairs(1.0)), 3).verdict == "same"
    assert sequential.decide_paired("x", pingpong.differences(pairs(1.06)[:10]), 3).verdict == "undecided"


def test_a_real_short_run_against_a_base_commit_writes_every_window_the_summary_and_the_verdict(tmp_path):
    pytest.importorskip("torch")
    out = tmp_path / "pp.json"
    proc = subprocess.run([sys.executable, "-m", "reporting.pingpong", "--base", "HEAD", "--pairs", "2", "--turns", "2",
                           "--window", "0.02", "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "adjacent difference:" in proc.stdout and "pair median difference:" in proc.stdout, proc.stdout
    assert "head against base: undecided (too few pairs" in proc.stdout, proc.stdout
    stored = json.loads(out.read_text())
    assert stored["verdict"] == "undecided" and len(stored["base"]) == 12  # the worktree's commit
    assert not list(tmp_path.glob("*.tmp"))
    assert len(stored["pairs"]) == 2 and all(len(turns) == 2 for turns in stored["pairs"])
    assert all(0 < x < 1 and math.isfinite(x) for turns in stored["pairs"] for turn in turns for x in turn)


@pytest.mark.parametrize("args, message", [
    (["--pairs", "1"], "--pairs needs at least 2"),
    (["--framework", "torch", "--mode", "jit"],
     "--mode 'jit' is not a steady CPU mode of torch here (jax: jit, eager; torch: eager)"),
    (["--out", "/nonexistent-folder/x.json"], "--out /nonexistent-folder/x.json: its folder does not exist"),
    (["--base", "no-such-ref"], "no-such-ref: not a git commit here"),
])
def test_bad_arguments_are_one_line(args, message):
    proc = subprocess.run([sys.executable, "-m", "reporting.pingpong", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 2 and message in proc.stderr.splitlines()[-1], proc.stderr
    assert "Traceback" not in proc.stderr


def test_validate_finds_few_false_alarms_on_an_aa_and_catches_a_clear_slow_down():
    rng = random.Random(11)
    aa = [[[a * f * rng.uniform(0.97, 1.03), a * f * rng.uniform(0.97, 1.03)] for f in (rng.uniform(1, 1.8) for _ in range(5))]
          for a in (rng.uniform(2e-3, 3e-3) for _ in range(30))]
    shares = pingpong.validate(aa, 12, 400, threshold=3)
    assert shares["slower"] <= 0.01 and shares["faster"] <= 0.01 and sum(shares.values()) == pytest.approx(1)
    assert pingpong.validate(aa, 12, 400, threshold=3, change_pct=10)["slower"] >= 0.95


def test_validate_reads_stored_runs_and_refuses_a_bad_file_in_one_line(tmp_path):
    good, bad = tmp_path / "aa.json", tmp_path / "bad.json"
    good.write_text(json.dumps({"pairs": [[[2e-3, 2.01e-3 + i * 1e-6], [2.1e-3, 2.08e-3]] for i in range(12)]}))
    bad.write_text(json.dumps({"pairs": [[[2e-3, "x"]]]}))
    ok = subprocess.run([sys.executable, "-m", "reporting.pingpong", "--validate", str(good), "--trials", "50"],
                        cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0 and "| aa.json | 12 |" in ok.stdout, ok.stdout + ok.stderr
    for path, message in ((bad, "not a reporting.pingpong --out file"), (good, "12 pairs stored, fewer than the 13")):
        args = ["--pairs", "13"] if path == good else []
        proc = subprocess.run([sys.executable, "-m", "reporting.pingpong", "--validate", str(path), *args],
                              cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1 and message in proc.stderr, proc.stderr


def test_a_base_too_old_to_build_the_step_is_refused_in_one_line():
    root = subprocess.run(["git", "rev-list", "--max-parents=0", "HEAD"], cwd=ROOT, capture_output=True,
                          text=True).stdout.split()
    if not root:
        pytest.skip("no git history here")
    proc = subprocess.run([sys.executable, "-m", "reporting.pingpong", "--base", root[0], "--pairs", "2", "--turns", "1",
                           "--window", "0.02"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    (error,) = proc.stderr.strip().splitlines()
    assert error.startswith(f"reporting.pingpong: base {root[0][:12]}: its ping-pong side did not start (exit 1: ")


def test_make_compare_names_the_paired_command_for_what_time_left_undecided_and_only_that():
    def d(name: str, verdict: str) -> sequential.Decision:
        return sequential.Decision(f"benchmarks/test_x.py::{name}", verdict, 1.0, -20.0, 25.0, 8, 8)
    decisions = [d("test_mlp_train_step[torch-eager-cpu-batch64-steady]", "undecided"),
                 d("test_mlp_train_step[jax-eager-cpu-batch64-steady]", "undecided"),
                 d("test_mlp_train_step[jax-jit-cpu-batch64-steady]", "same"),  # decided: no hint
                 d("test_mlp_train_step[torch-eager-cpu-batch256-steady]", "undecided"),  # a size a side does not build
                 d("test_matmul[torch-eager-cpu-size256-steady]", "undecided"),  # not a ping-pong workload
                 d("test_jit_elementwise[jax-jit-cpu-n10000-steady]", "undecided")]
    (note,) = pingpong.paired_hint(decisions, "0123456789abcdef")
    assert note.startswith("time left 3 benchmark(s) undecided")
    assert "`python -m reporting.pingpong --base 0123456789ab --workload mlp_train_step --framework torch --mode eager`" in note
    assert "--framework jax --mode eager --window 0.5`" in note
    assert "--workload jit_elementwise --framework jax --mode jit`" in note
    assert note.count("--workload mlp_train_step") == 2 and "batch256" not in note and "matmul" not in note
    assert pingpong.paired_hint(decisions[2:3], "0123456789abcdef") == []


def test_one_pair_of_processes_times_every_case_it_builds_in_turns():
    pytest.importorskip("torch")
    cases = [("mlp_train_step", "torch", "eager", 0.02), ("jit_elementwise", "torch", "eager", 0.01)]
    result = pingpong.pair([ROOT, ROOT], ["base", "head"], cases, 2, random.Random(0))
    assert len(result) == 2 and all(len(turns) == 2 and all(len(t) == 2 for t in turns) for turns in result)
    assert all(0 < x < 1 for turns in result for turn in turns for x in turn)


def test_each_side_of_a_pair_keeps_its_own_jax_compile_cache(tmp_path):
    pytest.importorskip("jax")
    cases = [("jit_elementwise", "jax", "jit", 0.01)]
    caches = [tmp_path / "base", tmp_path / "head"]
    for _ in range(2):  # the first pair fills each side's cache, the second loads from it
        result = pingpong.pair([ROOT, ROOT], ["base", "head"], cases, 1, random.Random(0), caches=caches)
        assert all(0 < x < 1 for x in result[0][0])
    assert all(any(c.iterdir()) for c in caches)
    assert pingpong.compile_cache(None) == {}


def _decision(case: tuple[str, str, str], verdict: str = "undecided") -> sequential.Decision:
    return sequential.Decision("benchmarks/test_mlp.py::" + pingpong.case_name(*case), verdict, 3.0, -30.0, 40.0, 8, 8)


def test_the_paired_stage_judges_its_cases_among_the_selection_and_replaces_their_unpaired_decisions(monkeypatch,
                                                                                                     tmp_path):
    rng = random.Random(3)
    calls = []

    def fake_pair(trees, names, cases, turns, rng_, one_thread=False, gap=0.0, caches=None):
        calls.append([c[:3] for c in cases])
        assert [c[3] for c in cases] == [0.2, 0.2]  # 0.5 s for jax-eager's step only
        # per case: a host factor shared by the turn's two windows; head 20% slower in the jax-jit step only
        return [[[a * f, a * f * (1.2 if c[2] == "jit" else 1.0) * rng.uniform(0.995, 1.005)]
                 for f in (rng.uniform(1, 1.8) for _ in range(turns))] for c, a in ((c, rng.uniform(2e-3, 3e-3))
                                                                                  for c in cases)]
    monkeypatch.setattr(pingpong, "pair", fake_pair)
    jit, eager = ("mlp_train_step", "jax", "jit"), ("mlp_train_step", "torch", "eager")
    other = sequential.Decision("benchmarks/test_matmul.py::test_matmul[jax-jit-cpu-size256-steady]", "same", 1, -2, 3, 8, 8)
    decisions, (note,) = pingpong.paired_stage({"base": ROOT, "head": ROOT}, "abc", [_decision(jit), _decision(eager),
                                                                                     other], 1e6, 10, tmp_path, tmp_path / "kept")
    assert len(calls) == pingpong.STAGE_MAX_PAIRS and calls[0] == [jit, eager]  # jax-eager was not selected
    kept = pingpong.read_pairs(tmp_path / "kept" / "paired-jax-jit-mlp_train_step.json")
    assert len(kept) == pingpong.STAGE_MAX_PAIRS and len(kept[0]) == pingpong.STAGE_TURNS
    by_name = {d.name: d for d in decisions}
    assert by_name[_decision(jit).name].verdict == "slower" and by_name[_decision(jit).name].paired
    assert by_name[_decision(eager).name].verdict == "same" and by_name[_decision(eager).name].n_base == 30
    assert by_name[other.name] is other  # not a paired case: untouched
    assert note.startswith("time of 2 benchmark(s) judged paired") and "30 pairs" in note and "Only" not in note


def test_the_paired_stage_stops_at_its_budget_and_says_too_few_pairs(monkeypatch, tmp_path):
    def slow_pair(trees, names, cases, turns, rng_, one_thread=False, gap=0.0, caches=None):
        time.sleep(0.05)
        return [[[2e-3, 2e-3]] * turns for _ in cases]
    monkeypatch.setattr(pingpong, "pair", slow_pair)
    windows = []
    monkeypatch.setattr(pingpong, "pair", lambda *a, **k: windows.append(a[2][0][3]) or slow_pair(*a, **k))
    unpaired = [_decision(("mlp_train_step", "jax", "eager"), "same")]
    decisions, (note,) = pingpong.paired_stage({"base": ROOT, "head": ROOT}, "abc", unpaired, 0.12, 10, tmp_path)
    assert 1 <= len(windows) <= 3 and set(windows) == {0.5}  # jax-eager's slower step: 0.5 s windows
    assert decisions == unpaired  # too few pairs for the interval: the time rounds' decision stands
    assert ("fewer than the 11 its 99.9% interval needs, so the time rounds' decisions (undecided where they did not run) "
            "stand for jax-eager") in note
    unjudged = [sequential.Decision("benchmarks/test_matmul.py::test_matmul[jax-jit-cpu-size256-steady]", "same", 0, -1,
                                    1, 8, 8)]
    assert pingpong.paired_stage({}, "abc", unjudged, 10, 10, tmp_path) == (unjudged, [
        "--paired: none of the selected benchmarks is one the paired stage judges (the steady CPU MLP train step at "
        "batch 64: jax-jit, jax-eager, torch-eager)"])


def test_a_side_that_cannot_build_the_steps_stops_the_paired_stage_and_the_rounds_decisions_stand(monkeypatch,
                                                                                                  tmp_path):
    def failing_pair(trees, names, cases, turns, rng_, one_thread=False, gap=0.0, caches=None):
        raise pingpong.BadInput(names[0], "its ping-pong side did not start (exit 1: ImportError: no pingpong)")
    monkeypatch.setattr(pingpong, "pair", failing_pair)
    unpaired = [_decision(("mlp_train_step", "torch", "eager"), "same")]
    decisions, (note,) = pingpong.paired_stage({"base": ROOT, "head": ROOT}, "abc", unpaired, 100, 10, tmp_path)
    assert decisions == unpaired
    assert note.startswith("the paired stage stopped: base abc: its ping-pong side did not start")
    assert note.endswith("the time rounds' decisions stand (undecided where the rounds did not run)")


def test_a_window_holds_at_least_min_steps_so_one_stalled_step_is_never_its_fastest():
    from benchmarks import pingpong as child

    durations = iter([0.05, 0.001, 0.001, 0.001, 0.002, 0.001])  # a stall longer than the window, then normal steps
    calls = []

    def step():
        calls.append(1)
        time.sleep(next(durations))
    best = child.window(step, 0.01)
    assert len(calls) == child.MIN_STEPS and best < 0.01
