"""Instructions per step (benchmarks/instructions.py, reporting/instructions.py) and the A/B's verdict
from both signals: a real callgrind count of a small loop, the dump parser, the words, and
reporting.ab with doctored counts. No timing."""
from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks import instructions
from reporting import ab, rounds
from reporting.instructions import Count, compare
from reporting.sequential import Decision
from tests.test_report import ROOT, SLOWED, load, save

LOOP = """
import json
import numpy as np
from benchmarks import instructions
a = np.random.default_rng(0).standard_normal((128, 128))
one = lambda: a @ a
two = lambda: (a @ a, a @ a)
one(); two()  # warm, as the harness warms a step before counting it
print(json.dumps([instructions.count(f, f"step{k}", steps=3) for k, f in enumerate([one, one, two])]))
"""


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_callgrind_counts_only_the_steps_and_repeats_them_to_a_tenth_of_a_percent(tmp_path):
    """Under callgrind, the same step counted twice agrees within 0.1%, and a step doing twice the
    work counts twice the instructions (within 2%): start-up and imports are not in the count."""
    proc, dumps = instructions.start(tmp_path / "unused.json", [], ROOT)
    proc.kill()
    proc.wait()
    cmd = [*instructions.VALGRIND, f"--callgrind-out-file={dumps}/callgrind.out.%p", sys.executable, "-c", LOOP]
    out = subprocess.run(cmd, cwd=ROOT, env=instructions.environment(dumps), capture_output=True, text=True, timeout=300)
    shutil.rmtree(dumps, ignore_errors=True)
    assert out.returncode == 0, out.stderr[-2000:]
    first, again, double = json.loads(out.stdout.strip().splitlines()[-1])
    assert abs(again / first - 1) < 0.001
    assert 1.96 < double / first < 2.04


def test_counting_outside_callgrind_is_refused_in_one_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "pytest", "benchmarks/test_jit.py", "--benchmark-disable",
                           f"--count-instructions={tmp_path / 'c.json'}", "-p", "no:cacheprovider"],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 4 and "Traceback" not in proc.stderr
    assert "--count-instructions needs valgrind's callgrind around pytest" in proc.stderr
    assert not (tmp_path / "c.json").exists()


def test_the_dump_of_a_named_client_request_is_found(tmp_path):
    (tmp_path / "callgrind.out.7.1").write_text("desc: Trigger: Client Request: other\nsummary: 5\ntotals: 5\n")
    (tmp_path / "callgrind.out.7.2").write_text("desc: Trigger: Client Request: before-mine\nsummary: 0\n")
    (tmp_path / "callgrind.out.7.3").write_text("desc: Trigger: Client Request: mine\nevents: Ir\nsummary: 1234\n")
    assert instructions.totals(tmp_path, "mine") == 1234
    assert [p.name for p in tmp_path.iterdir()] == ["callgrind.out.7.1"]  # its two dumps are removed
    with pytest.raises(instructions.Unavailable, match="no dump for absent"):
        instructions.totals(tmp_path, "absent")


def test_the_spinning_pool_thread_is_taken_out_of_a_dump_with_what_it_calls(tmp_path):
    dump = ("desc: Trigger: Client Request: step\npositions: line\nevents: Ir\nsummary: 1000\n"
            "fn=main_loop\n10 500\n+2 100\n"
            "fn=Eigen::ThreadPoolTempl<tsl::thread::EigenEnvironment>::MaybeGetTask(Task*)\n5 300\n"
            "cfn=spin_helper\ncalls=3 0\n* 50\n"
            "fn=spin_helper\n1 50\ntotals: 1000\n")
    assert instructions.spinning(dump) == 350
    (tmp_path / "callgrind.out.9.2").write_text(dump)
    assert instructions.totals(tmp_path, "step") == 650


@pytest.mark.parametrize("per_step, counted", [
    (1_200_000, [1, 7]),  # 8 steps in all: 4 would span 4.8M, under MIN_COUNTED (5M)
    (30_000_000, [1]),  # one step spans MIN_COUNTED: counted once
    (10, [1, instructions.MAX_STEPS - 1]),  # a tiny step: at most MAX_STEPS in all
])
def test_a_small_step_is_counted_to_a_power_of_two_steps_including_the_first(per_step, counted, monkeypatch):
    calls = []

    def fake_count(call, name, steps):
        calls.append(steps)
        return per_step * steps

    monkeypatch.setattr(instructions, "_count", fake_count)
    assert instructions.count(lambda: None, "case", steps=1) == per_step
    assert calls == counted
    total = sum(calls)
    assert total == instructions.MAX_STEPS or (total & (total - 1)) == 0  # a power of two, the first step in it
    assert total == 1 or per_step * (total // 2) < instructions.MIN_COUNTED <= per_step * total or total == instructions.MAX_STEPS


def test_jax_runs_inline_when_counted_or_asked_and_async_otherwise(monkeypatch):
    """JAX reads jax_cpu_enable_async_dispatch from its config only (its environment variable does
    nothing): --jax-dispatch sets it there, inline by default under counting, async otherwise."""
    from benchmarks.plugin import session

    assert session.jax_dispatch(None, counting=False) == "async"
    assert session.jax_dispatch(None, counting=True) == "inline"
    assert session.jax_dispatch("async", counting=True) == "async"
    assert session.jax_dispatch("inline", counting=False) == "inline"
    jax = pytest.importorskip("jax")
    updates = []
    monkeypatch.setattr(jax.config, "update", lambda name, value: updates.append((name, value)))
    session.set_jax_dispatch("inline")
    session.set_jax_dispatch("async")
    assert updates == [("jax_cpu_enable_async_dispatch", False), ("jax_cpu_enable_async_dispatch", True)]


def test_instruction_words_at_the_threshold():
    counts = {c.name: c.verdict for c in compare({"a": 100.0, "b": 100.0, "c": 100.0, "d": 1.0},
                                                 {"a": 105.1, "b": 94.0, "c": 104.9, "e": 1.0}, threshold=5)}
    assert counts == {"a": "slower", "b": "faster", "c": "same"}  # d and e are on one side only


@pytest.mark.parametrize("time_word, count_word, word", [
    ("undecided", "slower", "slower"), ("faster", "slower", "slower"), ("slower", "faster", "slower"),
    ("undecided", "faster", "faster"), ("undecided", "same", "undecided"), ("same", "same", "same"),
    ("same", None, "same"), ("slower", None, "slower"),
])
def test_one_word_from_both_signals(time_word, count_word, word):
    d = Decision("n", time_word, 0.0, -1.0, 1.0, 7, 7)
    count = Count("n", count_word, 0.0, 1.0, 1.0) if count_word else None
    assert ab.combined(d, count) == word


@pytest.fixture(autouse=True)
def no_default_paired_stage(monkeypatch):
    """The paired stage runs real processes: off by default here (tests/test_pingpong.py has its tests)."""
    monkeypatch.setattr(ab, "PAIRED_S", 0)


def doctored_processes(monkeypatch, calls: list):
    def fake_measure(tree, json_path, pytest_args, selection):
        calls.append(pytest_args)
        return save(load(), json_path)
    monkeypatch.setattr(ab, "measure", fake_measure)


def counted_with(monkeypatch, slowed: float, others: float) -> list:
    """Time processes doctored (identical sides); counts: head's SLOWED step times `slowed`, the
    others times `others`. Returns the list the time processes' calls go to."""
    calls: list = []
    doctored_processes(monkeypatch, calls)
    names = [b["fullname"] for b in load()["benchmarks"]]
    base = {n: 1e6 for n in names}
    head = {n: 1e6 * (slowed if n.endswith(SLOWED) else others) for n in names}
    monkeypatch.setattr(
        "reporting.instructions.count_sides", lambda trees, args, folder, timeout: ({"base": base, "head": head}, ""))
    return calls


def test_ab_names_a_benchmark_whose_instructions_rose_and_nothing_else(tmp_path, capsys, monkeypatch):
    """Time sees nothing (identical processes); head's SLOWED step runs 8% more instructions: exit 1,
    SLOWED alone is slower, and ab.md shows both signals."""
    counted_with(monkeypatch, slowed=1.08, others=1.0003)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--budget", "30", "--", "-k", "steady"])
    out = capsys.readouterr().out
    assert code == 1 and f"reporting.ab: SLOWER: {SLOWED} " in out
    doc = json.loads((tmp_path / "out" / "ab.json").read_text())
    slower = [d["name"] for d in doc["decisions"] if d["verdict"] == "slower"]
    assert [n.split("::")[-1] for n in slower] == [SLOWED]
    row = next(line for line in (tmp_path / "out" / "ab.md").read_text().splitlines() if SLOWED in line)
    assert "| slower |" in row and "+8.00% (slower)" in row


def test_ab_without_counts_says_why_and_judges_time_alone(tmp_path, capsys, monkeypatch):
    calls: list = []
    doctored_processes(monkeypatch, calls)
    monkeypatch.setattr(
        "reporting.instructions.count_sides", lambda *a: ({}, "valgrind is not installed (apt-get install valgrind)"))
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--budget", "30", "--", "-k", "steady"])
    out = capsys.readouterr().out
    assert code == 0 and "instructions not compared: valgrind is not installed" in out
    assert "Instructions: not compared: valgrind is not installed" in (tmp_path / "out" / "ab.md").read_text()
    assert calls  # the time rounds ran


def test_each_side_times_with_a_compile_cache_of_its_own(tmp_path, monkeypatch):
    calls: list = []
    doctored_processes(monkeypatch, calls)
    monkeypatch.setattr(ab, "worktree", lambda ref: contextlib.nullcontext((ab.ROOT, "0" * 40)))  # base: this tree
    assert ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--budget", "30", "--signals", "time",
                    "--", "-k", "steady"]) == 0
    caches = {tuple(args[args.index("--compile-cache"):][:2]) for args in calls}
    assert {Path(folder).name for _, folder in caches} == {"compile-cache-base", "compile-cache-head"}


def test_time_processes_keep_a_compile_cache_on_both_sides_or_on_neither(tmp_path):
    """A base older than --compile-cache would refuse it: then neither side keeps one (both sides
    measured the same way), and the note says why."""
    old = tmp_path / "old"
    (old / "benchmarks" / "plugin").mkdir(parents=True)
    (old / "benchmarks" / "plugin" / "options.py").write_text('group.addoption("--memory")\n')
    caches, why = ab.compile_caches({"base": old, "head": ab.ROOT}, tmp_path)
    assert caches == {"base": [], "head": []} and "the base tree predates --compile-cache" in why
    caches, why = ab.compile_caches({"base": ab.ROOT, "head": ab.ROOT}, tmp_path)
    assert why == "" and caches == {side: ["--compile-cache", str(tmp_path / f"compile-cache-{side}")]
                                    for side in ("base", "head")}


def test_a_base_older_than_inline_jax_counting_is_counted_alike(tmp_path, monkeypatch):
    """A base without --jax-dispatch counts with JAX's async dispatch: head is asked for the
    same, and the note says so; two current trees get no extra argument and no note."""
    from reporting import instructions as counting

    old = tmp_path / "old"
    (old / "benchmarks" / "plugin").mkdir(parents=True)
    (old / "benchmarks" / "plugin" / "instructions.py").write_text('group.addoption("--count-steps")\n')
    started = {}

    def fake_start(out, pytest_args, cwd, **popen):
        side = out.stem.removeprefix("count-")
        started[side] = pytest_args
        out.write_text(json.dumps({"steps": 1, "counts": {"a": 10.0}, "complete": True}))
        dumps = tmp_path / f"dumps-{side}"
        dumps.mkdir(exist_ok=True)
        return subprocess.Popen([sys.executable, "-c", "pass"], **popen), dumps

    monkeypatch.setattr(instructions, "start", fake_start)
    sides, note = counting.count_sides({"base": old, "head": ROOT}, ["-m", "quick"], tmp_path, timeout=60)
    assert sides == {"base": {"a": 10.0}, "head": {"a": 10.0}}
    assert started == {"base": ["benchmarks", "-m", "quick"],
                       "head": ["benchmarks", "-m", "quick", "--jax-dispatch=async"]}
    assert note.startswith("the base predates --jax-dispatch: both sides counted with JAX's async dispatch")
    assert counting.count_sides({"base": ROOT, "head": ROOT}, [], tmp_path, timeout=60)[1] == ""
    assert started["head"] == ["benchmarks"]


def test_counting_stopped_at_its_share_compares_what_both_sides_finished(tmp_path, monkeypatch):
    """A counting run past its time share is stopped; the benchmarks both sides had counted (the
    file is rewritten after each case) are compared, the rest go to time alone, and the note says so."""
    from reporting import instructions as counting

    written = {"base": {"a": 10.0, "b": 20.0, "c": 30.0}, "head": {"a": 10.0, "b": 21.0}}

    def slow_start(out, pytest_args, cwd, **popen):
        side = out.stem.removeprefix("count-")
        out.write_text(json.dumps({"steps": 2, "counts": written[side], "complete": False}))
        dumps = tmp_path / f"dumps-{side}"
        dumps.mkdir()
        return subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], **popen), dumps

    monkeypatch.setattr(instructions, "start", slow_start)
    trees = {"base": ROOT, "head": ROOT}
    sides, note = counting.count_sides(trees, [], tmp_path, timeout=1)
    assert sides == {"base": {"a": 10.0, "b": 20.0}, "head": {"a": 10.0, "b": 21.0}}
    assert note == "counting was stopped at its share of the budget (1 s): 2 benchmarks counted on both sides, " \
                   "the others by time alone, where timed"
    assert not list(tmp_path.glob("dumps-*"))  # removed
    written["head"] = {}
    assert counting.count_sides(trees, [], tmp_path, timeout=1) == (
        {}, "counting was stopped at its share of the budget (1 s) before both sides had counted a benchmark: "
            "not compared")


def test_ab_with_part_of_the_counts_judges_those_and_says_why_the_others_are_not(tmp_path, capsys, monkeypatch):
    calls: list = []
    doctored_processes(monkeypatch, calls)
    names = [b["fullname"] for b in load()["benchmarks"]]
    counted = {n: 1e6 for n in names if n.endswith(SLOWED)}
    note = ("counting was stopped at its share of the budget (420 s): 1 benchmarks counted on both sides, the others by "
            "time alone, where timed")
    monkeypatch.setattr(
        "reporting.instructions.count_sides", lambda *a: ({"base": counted, "head": {n: 1.08e6 for n in counted}}, note))
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--budget", "30", "--", "-k", "steady"])
    assert code == 1 and f"SLOWER: {SLOWED} " in capsys.readouterr().out
    md = (tmp_path / "out" / "ab.md").read_text()
    assert "1 benchmarks counted (torch-compile cases are time only); counting was stopped at its share" in md
    rows = [line for line in md.splitlines() if line.startswith("| test_")]
    assert len(rows) > 1 and sum("not counted" in row for row in rows) == len(rows) - 1


def test_duet_decides_and_ends_on_even_rounds_only():
    """Each side must have run as often on one core as on the other when it is judged."""
    import argparse

    assert [n for n in range(1, 15) if rounds.looks_at(n, duet=True)] == [8, 10, 12, 14]
    args = argparse.Namespace(rounds=0, duet=True, time_budget=100.0)
    assert not rounds.last_round(7, spent=95, last=10, args=args)  # odd: the next one always runs
    assert rounds.last_round(8, spent=85, last=10, args=args)  # two more would overrun
    assert not rounds.last_round(8, spent=70, last=10, args=args)
    args.duet = False
    assert rounds.last_round(7, spent=95, last=10, args=args)


def test_counting_skips_the_uncounted_modes_and_counts_jax_eager_last():
    """Under counting, torch-compile skips with its reason and jax-eager's cases come after the others
    (a run stopped at its share of the budget leaves the costliest, least steady counts to time)."""
    from types import SimpleNamespace

    from benchmarks.plugin import instructions as plugin
    from benchmarks.spec import Spec

    class Item(SimpleNamespace):
        __hash__ = object.__hash__  # as pytest's items

        def add_marker(self, marker):
            self.skipped = marker.kwargs["reason"]

    def item(framework, mode, name):
        spec = Spec(framework, mode, "cpu", "n10000", 10000, "steady")
        return Item(name=name, callspec=SimpleNamespace(params={"spec": spec}), skipped=None)

    items = [item("jax", "eager", "a"), item("jax", "jit", "b"), item("torch", "compile", "c"),
             item("jax", "eager", "d"), item("numpy", "plain", "e")]
    config = SimpleNamespace(getoption=lambda name: "counts.json")
    plugin.pytest_collection_modifyitems(config, items)
    assert [i.name for i in items] == ["b", "c", "e", "a", "d"]
    assert [i.name for i in items if i.skipped] == ["c"] and "torch-compile" in items[1].skipped


def test_time_rounds_that_end_before_a_first_decision_say_so(tmp_path, capsys, monkeypatch):
    """The budget left after counting held 3 rounds, fewer than the first decision needs: ab.md says
    that time decided nothing, instead of a table of bare "undecided"."""
    calls: list = []
    doctored_processes(monkeypatch, calls)
    monkeypatch.setattr(
        "reporting.instructions.count_sides", lambda *a: ({}, "valgrind is not installed (apt-get install valgrind)"))
    monkeypatch.setattr(rounds, "last_round", lambda number, spent, last, args, reserve=0.0: number >= 3)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--budget", "30", "--", "-k", "steady"])
    assert code == 0 and len(calls) == 6
    md = (tmp_path / "out" / "ab.md").read_text()
    assert "Note: the time rounds ended after 3 process(es) a side, fewer than the 7 a first decision needs: " \
           "time decided nothing" in md
    assert "| not judged (3 / 3 processes: too few) |" in md and "% (undecided)" not in md  # no figure without its spread


def test_an_aa_noise_file_from_make_compare_results_pairs_each_base_with_its_head(tmp_path, capsys):
    from reporting import instructions as counting

    def result(name, base, head):
        path = tmp_path / name
        path.write_text(json.dumps({"decisions": [
            {"name": "t[a]", "instructions": {"name": "t[a]", "base": base, "head": head, "change_pct": 0.0}},
            {"name": "t[torch-compile]", "instructions": None}]}), encoding="utf8")
        return str(path)

    out = tmp_path / "aa.json"
    assert counting.main(["--aa", str(out), "--from-ab", result("1.json", 100.0, 101.0),
                          result("2.json", 200.0, 199.0), "--", "-m", "quick"]) == 0
    assert counting.read_aa(out) == [[{"t[a]": 100.0}, {"t[a]": 101.0}], [{"t[a]": 200.0}, {"t[a]": 199.0}]]
    assert json.loads(out.read_text(encoding="utf8"))["pytest_args"] == ["-m", "quick"]
    capsys.readouterr()
    timed_only = tmp_path / "3.json"
    timed_only.write_text(json.dumps({"decisions": [{"name": "t[a]", "instructions": None}]}), encoding="utf8")
    for bad, words in ((timed_only, "no instruction counts"), (tmp_path / "missing.json", "not a make compare result")):
        assert counting.main(["--aa", str(tmp_path / "new.json"), "--from-ab", str(bad)]) == 2
        err = capsys.readouterr().err
        assert str(bad) in err and words in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "new.json").exists()
    assert counting.main(["--aa", str(out), "--from-ab", result("4.json", 1.0, 1.0)]) == 2  # never overwritten
    assert "exists" in capsys.readouterr().err


def test_ab_on_instructions_alone_names_the_step_and_says_time_was_not_measured(tmp_path, capsys, monkeypatch):
    """--signals instructions: no time process runs, and ab.md says so instead of a time change."""
    calls = counted_with(monkeypatch, slowed=1.07, others=1.0)
    code = ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), "--signals", "instructions", "--", "-k", "steady"])
    out = capsys.readouterr().out
    assert code == 1 and f"reporting.ab: SLOWER: {SLOWED} (not timed;" in out
    assert not calls  # no time process
    text = (tmp_path / "out" / "ab.md").read_text()
    assert "Time: not measured (--signals instructions)" in text and "Hodges-Lehmann" not in text
    row = next(line for line in text.splitlines() if SLOWED in line)
    assert "| slower | not timed (--signals instructions) |" in row and "+7.00% (slower)" in row
