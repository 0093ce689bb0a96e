"""report.py under hostile input: a run never judges itself, nonsense numbers are refused in one line
naming the file, a broken run stored beside a good one is named and skipped, and a refused run
creates nothing (docs/report.md, "What report.py promises")."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.test_report import DATA, MACHINE, SLOWED, bench, csv_rows, load, run_report, save, scaled


def storage_with(tmp_path: Path, *docs: dict) -> list[Path]:
    return [save(doc, tmp_path / "storage" / MACHINE / f"{i + 1:04d}_run.json") for i, doc in enumerate(docs)]


def test_a_storage_folder_as_its_own_baseline_leaves_the_run_out_and_catches_the_regression(tmp_path, capsys):
    storage_with(tmp_path, load(), scaled(load(), SLOWED, 1.5))
    folder = str(tmp_path / "storage")
    code, out, _ = run_report(tmp_path, capsys, folder, "--baseline", folder)
    assert code == 1 and csv_rows(tmp_path)[SLOWED]["verdict"] == "slower"
    assert "the run being judged itself" in out and "0002_run.json" in out


def test_a_run_named_as_its_own_baseline_is_bad_input(tmp_path, capsys):
    _, head = storage_with(tmp_path, load(), scaled(load(), SLOWED, 1.5))
    code, out, err = run_report(tmp_path, capsys, str(head), "--baseline", str(head))
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1
    assert str(head) in err and "its own baseline" in err


def test_a_byte_copy_of_the_run_is_the_run_itself(tmp_path, capsys):
    head = save(scaled(load(), SLOWED, 1.5), tmp_path / "head.json")
    copy = tmp_path / "copy.json"
    copy.write_bytes(head.read_bytes())
    base = save(load(), tmp_path / "base.json")
    code, out, _ = run_report(tmp_path, capsys, str(head), "--baseline", str(copy), "--baseline", str(base))
    assert code == 1 and "copy.json, the run being judged itself" in out


def _stats(**values):
    def doctor(doc):
        bench(doc, SLOWED)["stats"].update(values)
    return doctor


def _extra(**values):
    def doctor(doc):
        bench(doc, SLOWED)["extra_info"].update(values)
    return doctor


NONSENSE = {
    "negative iqr": (_stats(iqr=-1.0, data=None), "stats.iqr"),
    "negative rounds": (_stats(rounds=-3), "stats.rounds"),
    "zero rounds": (_stats(rounds=0), "stats.rounds"),
    "fractional rounds": (_stats(rounds=2.5), "stats.rounds"),
    "rounds unlike the raw rounds": (_stats(rounds=3), "stats.rounds"),
    "minimum above the median": (_stats(min=1.0), "not in order"),
    "maximum below the median": (_stats(max=1e-9), "not in order"),
    "subnormal median": (_stats(median=5e-324, data=None), "not a measured time"),
    "negative flops": (_extra(flops_per_call=-5), "flops_per_call"),
    "negative memory": (_extra(peak_memory_bytes=-1), "peak_memory_bytes"),
    "a share above 1": (_extra(other_cpu_share=7), "other_cpu_share"),
    "an integer past float's range": (_extra(items_per_call=10 ** 400), "digits"),
    "an integer past Python's digit limit": (_extra(items_per_call=10 ** 5000), "digits"),
}


@pytest.mark.parametrize("case", NONSENSE, ids=lambda c: c.replace(" ", "_"))
def test_a_nonsense_number_is_refused_in_one_line_naming_the_file(tmp_path, capsys, case):
    doctor, words = NONSENSE[case]
    doc = load()
    doctor(doc)
    sys.set_int_max_str_digits(0)  # let the test write the huge integer; report.py reads with the default limit
    try:
        path = save(doc, tmp_path / "bad.json")
    finally:
        sys.set_int_max_str_digits(4300)  # Python's default
    code, out, err = run_report(tmp_path, capsys, str(path))
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1
    assert str(path) in err and words in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json"]  # a refused run creates nothing


def test_a_broken_run_stored_beside_a_good_one_is_named_and_skipped(tmp_path, capsys):
    broken, good = storage_with(tmp_path, load(), load("run_b"))
    broken.write_text('{"benchmarks": [')
    code, out, _ = run_report(tmp_path, capsys, str(good))
    assert code == 0 and f"stored beside it, left out: {broken}: not a readable" in out


def test_a_refused_run_leaves_no_lock_or_folder_anywhere(tmp_path, capsys):
    out = tmp_path / "deep" / "out"
    code, _, _ = run_report(tmp_path, capsys, str(tmp_path / "missing.json"))
    assert code == 2 and list(tmp_path.iterdir()) == [] and not out.exists()
    code = run_report(tmp_path, capsys, str(DATA / "run_a.json"))[0]
    assert code == 0 and sorted(p.name for p in tmp_path.iterdir()) == [".out.d", "out"]
