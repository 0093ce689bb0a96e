"""report.py on real pytest-benchmark JSON (tests/data/run_*.json) and doctored copies of it.

No timing: the fixture runs were recorded once by tests/data/generate.py; here they are copied,
scaled and broken in tmp_path, and report.py's verdicts, exit codes and outputs are checked.
"""
from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
import report  # noqa: E402
import reporting.cli  # noqa: E402
import reporting.plots  # noqa: E402
from reporting import tables  # noqa: E402
from reporting.output import MARKER  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"
MACHINE = "Linux-CPython-3.11-64bit"  # any storage machine-id folder name
SLOWED = "test_mlp_train_step[jax-jit-cpu-batch64-steady]"
TIME_STATS = ("min", "max", "mean", "stddev", "median", "iqr", "q1", "q3", "ld15iqr", "hd15iqr", "total")
OUTPUTS = {"report.md", "results.csv", "slower.txt", "verdict.json", "scaling.png", "compile_vs_steady.png", "index.html"}


def load(name: str = "run_a") -> dict:
    return json.loads((DATA / f"{name}.json").read_text())


def save(doc: dict, path: Path) -> Path:
    """`doc` as the run `path`: two saved runs are distinct files, as two real runs are (a byte copy is
    the same run, which report.py never takes as its own baseline)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**doc, "saved_as": str(path)}, indent=4))
    return path


def set_rounds(st: dict, data) -> None:
    """Raw rounds and the statistics report.py checks against them, kept consistent."""
    st["data"] = [float(t) for t in data]
    st["median"], st["min"], st["max"] = float(np.median(data)), float(min(data)), float(max(data))
    st["rounds"] = len(st["data"])


def bench(doc: dict, name: str) -> dict:
    return next(b for b in doc["benchmarks"] if b["name"] == name)


def scaled(doc: dict, name: str, factor: float) -> dict:
    """A copy of the run with one benchmark's raw rounds and time statistics scaled by `factor`."""
    doc = copy.deepcopy(doc)
    st = bench(doc, name)["stats"]
    st["data"] = [t * factor for t in st["data"]]
    for key in TIME_STATS:
        st[key] *= factor
    return doc


def run_report(tmp_path: Path, capsys, *args: str) -> tuple[int, str, str]:
    code = report.main([*args, "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def csv_rows(tmp_path: Path) -> dict[str, dict]:
    with (tmp_path / "out" / "results.csv").open() as f:
        return {row["name"]: row for row in csv.DictReader(f)}


def test_aa_copy_is_clean(tmp_path, capsys):
    base = save(load(), tmp_path / "base.json")
    cur = save(load(), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 0
    assert "Nothing gated is slower." in out
    rows = csv_rows(tmp_path).values()
    # same is earned: every steady benchmark's 95% interval lies inside +/-10%; the firstcall ones have
    # 3 rounds, too few for an interval, so they stay undecided (never "same" on no evidence)
    assert {r["verdict"] for r in rows if r["phase"] == "steady"} == {"same"}
    assert all(-10 < float(r["interval_low_pct"]) <= float(r["interval_high_pct"]) < 10
               and float(r["resolvable_pct"]) < 10 for r in rows if r["phase"] == "steady")
    assert {(r["verdict"], r["interval_low_pct"]) for r in rows if r["phase"] == "firstcall"} == {("undecided", "")}


def test_aa_on_noisy_rounds_is_undecided_not_same(tmp_path, capsys):
    """An A/A pair whose rounds are too noisy for its interval to fit inside +/-10%: no change, but
    not "same" either; the row says by how much it could have resolved."""
    base, cur = noisy_pair(tmp_path, 1.0)
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"]) == (0, "undecided")
    assert float(row["interval_high_pct"]) > 10 or float(row["interval_low_pct"]) < -10
    assert float(row["resolvable_pct"]) > 10


def test_30_percent_slowdown_exits_1_naming_only_that_benchmark(tmp_path, capsys):
    base = save(load(), tmp_path / "base.json")
    cur = save(scaled(load(), SLOWED, 1.3), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 1
    assert [line for line in out.splitlines() if line.startswith("SLOWER: ")] == [f"SLOWER: {SLOWED}"]
    rows = csv_rows(tmp_path)
    assert [name for name, r in rows.items() if r["verdict"] == "slower"] == [SLOWED]
    assert rows[SLOWED]["test"] == "Mann-Whitney U" and float(rows[SLOWED]["p_value"]) < 0.01
    assert float(rows[SLOWED]["change_pct"]) == pytest.approx(30, abs=0.01)


def test_30_percent_slowdown_without_raw_rounds_is_threshold_only(tmp_path, capsys):
    base_doc, cur_doc = load(), scaled(load(), SLOWED, 1.3)
    for doc in (base_doc, cur_doc):
        for b in doc["benchmarks"]:
            del b["stats"]["data"]
    base, cur = save(base_doc, tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 1
    assert csv_rows(tmp_path)[SLOWED]["test"] == "threshold only: no raw rounds in both"


def test_several_baseline_runs_set_the_noise_floor(tmp_path, capsys):
    """Two baseline runs 40% apart on one benchmark: a current run as slow as the slower one is
    noise, not a regression; 30% beyond the slower one is a regression."""
    fast, slow = load(), scaled(load(), SLOWED, 1.4)
    storage = tmp_path / "baselines" / MACHINE
    save(fast, storage / "0001_baseline.json")
    save(slow, storage / "0002_baseline.json")
    as_slow = save(scaled(load(), SLOWED, 1.42), tmp_path / "as_slow.json")
    code, _, _ = run_report(tmp_path, capsys, str(as_slow), "--baseline", str(tmp_path / "baselines"))
    row = csv_rows(tmp_path)[SLOWED]
    assert (code, row["verdict"], row["baseline_runs"]) == (0, "undecided", "2")  # within the noise: not "same"
    assert float(row["baseline_spread_pct"]) == pytest.approx(40, abs=0.01)
    beyond = save(scaled(load(), SLOWED, 1.4 * 1.3), tmp_path / "beyond.json")
    code, out, _ = run_report(tmp_path, capsys, str(beyond), "--baseline", str(tmp_path / "baselines"))
    assert code == 1 and f"SLOWER: {SLOWED}" in out


def test_default_baseline_is_the_same_selection_of_benchmarks(tmp_path, capsys, monkeypatch):
    """A quick-set run is compared with the quick-set baselines, not with the full runs."""
    full, quick = load(), load()
    quick["benchmarks"] = [b for b in quick["benchmarks"] if "batch64" in b["name"]]
    storage = tmp_path / "baselines" / MACHINE
    save(full, storage / "0001_baseline.json")
    save(full, storage / "0002_baseline.json")
    save(quick, storage / "0003_quick.json")
    current = save(scaled(quick, SLOWED, 1.3), tmp_path / "current.json")
    monkeypatch.setattr(reporting.cli, "ROOT", tmp_path)  # baselines/ in the repository root
    code, out, _ = run_report(tmp_path, capsys, str(current))
    assert code == 1 and "0003_quick.json" in out and "0001_baseline.json" not in out
    assert csv_rows(tmp_path)[SLOWED]["baseline_runs"] == "1"


def test_a_slowdown_must_show_in_every_current_run(tmp_path, capsys):
    """A confirming re-run that is back to normal clears a one-run shift; one that repeats it confirms."""
    base = save(load(), tmp_path / "base.json")
    shifted = save(scaled(load(), SLOWED, 1.3), tmp_path / "shifted.json")
    normal = save(load(), tmp_path / "normal.json")
    again = save(scaled(load(), SLOWED, 1.35), tmp_path / "again.json")
    code, _, _ = run_report(tmp_path, capsys, str(shifted), str(normal), "--baseline", str(base))
    assert (code, csv_rows(tmp_path)[SLOWED]["verdict"]) == (0, "undecided")  # one run +30%, one not
    assert (tmp_path / "out" / "slower.txt").read_text() == ""
    code, _, _ = run_report(tmp_path, capsys, str(shifted), str(again), "--baseline", str(base))
    assert (code, csv_rows(tmp_path)[SLOWED]["verdict"]) == (1, "slower")
    assert (tmp_path / "out" / "slower.txt").read_text() == bench(load(), SLOWED)["fullname"] + "\n"


def noisy_pair(tmp_path: Path, change: float) -> tuple[Path, Path]:
    """Baseline and current with the same noisy distribution (lognormal, sigma 0.3), current x `change`."""
    rng = np.random.default_rng(0)
    base_doc, cur_doc = load(), load()
    for doc, factor in ((base_doc, 1.0), (cur_doc, change)):
        st = bench(doc, SLOWED)["stats"]
        set_rounds(st, 1e-3 * factor * rng.lognormal(0, 0.3, 15))
    return save(base_doc, tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")


def test_3_percent_on_noisy_rounds_is_not_a_regression(tmp_path, capsys):
    base, cur = noisy_pair(tmp_path, 1.03)
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 0
    assert csv_rows(tmp_path)[SLOWED]["verdict"] == "undecided"  # the noise hides a 3% change either way
    # even with the threshold below the observed change, the noise makes it not significant
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base), "--threshold", "1")
    row = csv_rows(tmp_path)[SLOWED]
    assert float(row["change_pct"]) > 1 and float(row["p_value"]) > 0.01
    assert (code, row["verdict"]) == (0, "undecided")


def test_firstcall_gets_a_verdict_but_does_not_gate(tmp_path, capsys):
    name = "test_mlp_train_step[jax-jit-cpu-batch64-firstcall]"
    base = save(load(), tmp_path / "base.json")
    cur = save(scaled(load(), name, 2.0), tmp_path / "cur.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    row = csv_rows(tmp_path)[name]
    assert (code, row["verdict"], row["gated"]) == (0, "slower", "False")
    assert row["test"] == "threshold only: too few rounds (3 vs 3)"


def test_new_and_missing_benchmarks_are_listed(tmp_path, capsys):
    cur_doc, base_doc = load(), load()
    gone = cur_doc["benchmarks"].pop(0)["name"]
    added = base_doc["benchmarks"].pop(1)["name"]
    base, cur = save(base_doc, tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")
    code, _, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    rows = csv_rows(tmp_path)
    assert (code, rows[gone]["verdict"], rows[added]["verdict"]) == (0, "missing", "new")


def test_plots_csv_and_markdown_are_written(tmp_path, capsys):
    storage = tmp_path / "storage" / MACHINE
    save(load("run_a"), storage / "0001_a.json")
    save(load("run_b"), storage / "0002_b.json")
    code, out, _ = run_report(tmp_path, capsys, str(storage / "0002_b.json"),
                              "--baseline", str(storage / "0001_a.json"), "--history")
    written = {p.name for p in (tmp_path / "out").iterdir()} - {MARKER}
    assert OUTPUTS | {"ratio_to_baseline.png", "history.png"} == written
    assert all((tmp_path / "out" / n).stat().st_size > 1000 for n in written - {"slower.txt", "verdict.json"})
    rows = csv_rows(tmp_path)
    assert set(rows) == {b["name"] for b in load("run_b")["benchmarks"]}
    assert rows["test_matmul[jax-jit-cpu-size64-steady]"]["share_of_peak"] == "1.0"  # the fastest matmul
    assert rows["test_mlp_train_step[jax-jit-cpu-batch64-steady]"]["jax_torch_ratio"]
    assert "## Compile vs steady" in out and "## JAX / PyTorch time ratio" in out


def test_run_without_matmul_or_extra_info_degrades_gracefully(tmp_path, capsys):
    doc = load()
    doc["benchmarks"] = [b for b in doc["benchmarks"] if "matmul" not in b["name"]]
    for b in doc["benchmarks"]:
        b.pop("extra_info")
    cur = save(doc, tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur))
    assert code == 0
    assert "Share of peak is empty: the run has no steady `matmul` benchmark" in out
    row = csv_rows(tmp_path)["test_mlp_train_step[jax-jit-cpu-batch64-steady]"]
    assert (row["workload"], row["size_value"], row["share_of_peak"]) == ("mlp_train_step", "64", "")


def test_machine_differences_are_noted(tmp_path, capsys):
    base_doc, cur_doc = load(), load()
    cur_doc["machine_info"]["torch"] = "9.9-other"
    cur_doc["machine_info"]["suite"]["env"]["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false"
    base, cur = save(base_doc, tmp_path / "base.json"), save(cur_doc, tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 0
    assert "- `torch`: '0.0-fixture' -> '9.9-other'" in out
    assert "- `suite.env.XLA_FLAGS`: None -> '--xla_cpu_multi_thread_eigen=false'" in out


@pytest.mark.parametrize("f_c, s_c, f_e, s_e, expected", [
    (10.0, 1.0, 2.0, 3.0, 5),  # 10 + 4*1 = 14 <= 2 + 4*3 = 14
    (10.0, 3.0, 2.0, 3.0, None),  # compiled step no faster: never
    (1.0, 5.0, 2.0, 3.0, 1),  # cheaper from the first call
])
def test_break_even(f_c, s_c, f_e, s_e, expected):
    assert tables.break_even(f_c, s_c, f_e, s_e) == expected


def test_implementation_size_counts_code_lines_only(tmp_path):
    (tmp_path / "mlp_jax.py").write_text('"""Doc."""\n# comment\n\nimport jax\n\ndef f(x):  # why\n    return x\n')
    (tmp_path / "mlp_torch.py").write_text("import torch\n")
    (tmp_path / "unpaired_jax.py").write_text("x = 1\n")
    assert tables.implementation_size(tmp_path) == [
        {"model": "mlp", "jax_lines": 4, "torch_lines": 1, "ratio": 4.0}]


def test_default_run_is_newest_in_dot_benchmarks(tmp_path, capsys, monkeypatch):
    storage = tmp_path / ".benchmarks" / MACHINE
    save(load("run_a"), storage / "0001_a.json")
    newest = save(scaled(load("run_a"), SLOWED, 1.3), storage / "0002_b.json")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_report(tmp_path, capsys, "--baseline", str(storage / "0001_a.json"))
    assert code == 1 and f"Run: {newest.relative_to(tmp_path)}" in out


def test_pytest_benchmark_compare_loads_the_saved_files(tmp_path):
    storage = tmp_path / "storage"
    save(load("run_a"), storage / MACHINE / "0001_a.json")
    save(load("run_b"), storage / MACHINE / "0002_b.json")
    proc = subprocess.run([sys.executable, "-m", "pytest_benchmark", "--storage", f"file://{storage}",
                           "compare", "0001", "0002", "--group-by=name", "--columns=median"],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "Failed to load" not in proc.stdout + proc.stderr
    assert f"{SLOWED} (0001_a)" in proc.stdout and f"{SLOWED} (0002_b)" in proc.stdout
