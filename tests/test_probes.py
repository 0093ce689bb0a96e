"""Reference probes: recorded in every saved run, outside machine_info; a baseline gates only a run
whose probes agree with its own. pytest-benchmark's own compare and histogram flows stay clean."""
from __future__ import annotations

import copy
import json

import pytest

from benchmarks import probes
from reporting import probes as probe_check
from reporting.storage import machine_id
from tests.test_options import pytest_run
from tests.test_report import SLOWED, csv_rows, load, run_report, save, scaled

NUMPY_MATMUL = ["-k", "test_matmul and numpy and steady", "--matrix-sizes", "256", "--memory", "off",
                "--benchmark-max-time=0.05", "-p", "no:randomly"]


def with_probes(doc: dict, factor: float, spread_pct: float | None = None) -> dict:
    """A copy whose reference probes all ran `factor` times slower (and, if given, with that spread)."""
    doc = copy.deepcopy(doc)
    for p in doc["suite"]["probes"]["probes"].values():
        p["best_s"] *= factor
        if spread_pct is not None:
            p["spread_pct"] = spread_pct
    return doc


def test_probes_measure_every_kernel_at_the_start_and_the_end():
    record = probes.Probes().finish()
    assert set(record["probes"]) == set(probes.PROBES) and record["version"] == probes.VERSION
    for p in record["probes"].values():
        assert len(p["start_s"]) == len(p["end_s"]) == probes.REPEATS
        assert p["best_s"] == min(p["start_s"] + p["end_s"]) > 0 and p["spread_pct"] >= 0


def test_a_machine_that_runs_the_probes_slower_is_not_gated_and_says_so_in_one_line(tmp_path, capsys):
    base = save(load(), tmp_path / "base.json")
    cur = save(with_probes(scaled(load(), SLOWED, 1.3), 2.3), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base), "--summary")
    lines = [line for line in out.splitlines() if line.startswith("Not gated")]
    assert code == 0 and len(lines) == 1
    assert lines[0].startswith("Not gated: this machine runs the reference probes 2.3x slower than the baseline's")
    assert "SLOWER: " not in out and out.splitlines()[0] == lines[0]  # the first line says it
    assert csv_rows(tmp_path)[SLOWED]["verdict"] == "slower"  # the comparison is still shown
    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert (verdict["exit_code"], verdict["gated"], verdict["slower"]) == (0, False, [])
    assert verdict["not_gated"] == [lines[0][len("Not gated: "):-1]]


def test_probes_within_their_noise_gate_as_usual(tmp_path, capsys):
    base = save(load(), tmp_path / "base.json")
    cur = save(with_probes(scaled(load(), SLOWED, 1.3), 1.05), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 1 and f"SLOWER: {SLOWED}" in out and "Not gated" not in out
    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert (verdict["exit_code"], verdict["gated"]) == (1, True) and verdict["slower"] == [f"test_fixture_bench.py::{SLOWED}"]


def test_a_baseline_folder_gates_with_its_newest_machine_and_says_which_runs_it_left_out(tmp_path, capsys):
    """`make baseline` on a new machine of the same id: its runs gate, the older machine's stay stored."""
    cur = save(scaled(load(), SLOWED, 1.3), tmp_path / "cur.json")
    folder = tmp_path / "baselines" / machine_id(cur, load()["machine_info"])
    folder.mkdir(parents=True)
    save(with_probes(load(), 1 / 1.3), folder / "0001_quick.json")  # an older, faster machine
    save(load(), folder / "0002_quick.json")
    save(load(), folder / "0003_quick.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(folder.parent))
    verdict = json.loads((tmp_path / "out" / "verdict.json").read_text())
    assert code == 1 and verdict["slower"] == [f"test_fixture_bench.py::{SLOWED}"]
    assert "0001_quick.json" not in verdict["baseline"] and "0003_quick.json" in verdict["baseline"]
    assert "1 older run(s) of a machine that measured otherwise left out (0001_quick.json)" in out


def test_a_probe_noisier_than_the_difference_widens_its_allowance(tmp_path, capsys):
    base = save(with_probes(load(), 1.0, spread_pct=15.0), tmp_path / "base.json")
    cur = save(with_probes(scaled(load(), SLOWED, 1.3), 1.2), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 1 and "Not gated" not in out  # 20% is inside 2 x 15%


def test_a_baseline_without_probes_does_not_gate(tmp_path, capsys):
    base_doc = load()
    del base_doc["suite"]
    base, cur = save(base_doc, tmp_path / "base.json"), save(scaled(load(), SLOWED, 1.3), tmp_path / "cur.json")
    code, out, _ = run_report(tmp_path, capsys, str(cur), "--baseline", str(base))
    assert code == 0 and "Not gated: the baseline runs record no reference probes" in out
    assert "make baseline" in out


def test_one_probe_alone_is_enough_to_not_gate(tmp_path):
    from reporting.load import load_run

    slower = load()
    slower["suite"]["probes"]["probes"]["copy_64MiB"]["best_s"] *= 1.3
    check = probe_check.compare([load_run(save(slower, tmp_path / "cur.json"))],
                                [load_run(save(load(), tmp_path / "base.json"))])
    assert not check.agree and "copy_64MiB 1.30x slower" in check.reason and "1 of 4 probes" in check.reason
    assert check.reason.startswith("this machine runs the reference probes differently")  # the mean is within 10%


@pytest.mark.parametrize("broken", [[], {"probes": {"copy_64MiB": {"best_s": -1, "spread_pct": 0}}}, "fast"])
def test_malformed_probes_are_bad_input(tmp_path, capsys, broken):
    doc = load()
    doc["suite"]["probes"] = broken
    cur = save(doc, tmp_path / "cur.json")
    code, _, err = run_report(tmp_path, capsys, str(cur), "--baseline", str(save(load(), tmp_path / "b.json")))
    assert code == 2 and "suite.probes" in err and len(err.strip().splitlines()) == 1


def test_pytest_benchmark_compare_with_storage_elsewhere_is_clean_and_draws_histograms(tmp_path):
    """Two runs on one machine: no machine_info warning, no crash for a storage outside the current
    folder (pytest-benchmark issue #217), the probes in the JSON and not in machine_info."""
    storage, hist = tmp_path / "storage", tmp_path / "hist"
    first = pytest_run(*NUMPY_MATMUL, f"--benchmark-storage={storage}", "--benchmark-autosave")
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    second = pytest_run(*NUMPY_MATMUL, f"--benchmark-storage={storage}", "--benchmark-compare",
                        f"--benchmark-histogram={hist}")
    assert second.returncode == 0, second.stdout[-2000:] + second.stderr[-2000:]
    assert "machine_info is different" not in second.stdout + second.stderr
    assert "Comparing against benchmarks from" in second.stdout + second.stderr
    assert list(tmp_path.glob("hist*.svg"))
    (saved,) = storage.glob("*/0001_*.json")
    doc = json.loads(saved.read_text())
    assert set(doc["suite"]["probes"]["probes"]) == set(probes.PROBES)
    assert "load" not in doc["machine_info"]["suite"] and "hz_actual" not in doc["machine_info"]["cpu"]
    assert doc["suite"]["load"]["other_cpu_share"] is not None
