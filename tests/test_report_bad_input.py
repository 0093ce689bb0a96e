"""report.py on bad input: each case exits 2 with one line naming the file, and writes nothing."""
from __future__ import annotations

import copy
import subprocess
import sys

import pytest

import report
import reporting.plots
from tests.test_report import DATA, MACHINE, ROOT, SLOWED, bench, load, run_report, save


def _truncated(tmp_path):
    path = tmp_path / "cur.json"
    path.write_text((DATA / "run_a.json").read_text()[:5000])
    return [str(path)], path


def _not_a_run(tmp_path):
    path = save({"results": [1, 2, 3]}, tmp_path / "cur.json")
    return [str(path)], path


def _empty_storage(tmp_path):
    folder = tmp_path / "storage"
    (folder / MACHINE).mkdir(parents=True)
    return [str(folder)], folder


def _nothing_in_common(tmp_path):
    base_doc = load()
    for b in base_doc["benchmarks"]:
        b["fullname"] += "_renamed"
    base = save(base_doc, tmp_path / "base.json")
    return [str(DATA / "run_a.json"), "--baseline", str(base)], base


def _out_is_a_file(tmp_path):
    (tmp_path / "out").write_text("a file, not a folder")
    return [str(DATA / "run_a.json")], tmp_path / "out"


def _zero_median(tmp_path):
    doc = load()
    doc["benchmarks"][0]["stats"]["median"] = 0.0
    del doc["benchmarks"][0]["stats"]["data"]
    path = save(doc, tmp_path / "zero.json")
    return [str(path), "--baseline", str(DATA / "run_a.json")], path


def _contradictory_median(tmp_path):
    doc = load()
    bench(doc, SLOWED)["stats"]["median"] *= 1.3  # raw rounds left as they were: which one is true?
    path = save(doc, tmp_path / "edited.json")
    return [str(path), "--baseline", str(DATA / "run_a.json")], path


def _duplicate_names(tmp_path):
    doc = load()
    doc["benchmarks"].append(copy.deepcopy(bench(doc, SLOWED)))
    path = save(doc, tmp_path / "dup.json")
    return [str(path)], path


def _same_file_twice(tmp_path):
    path = save(load(), tmp_path / "cur.json")
    return [str(path), str(path)], path


def _same_content_under_two_names(tmp_path):
    cur = save(load(), tmp_path / "cur.json")
    copy_ = tmp_path / "copy.json"
    copy_.write_bytes(cur.read_bytes())
    return [str(cur), str(copy_)], copy_


def _framework_is_an_object(tmp_path):
    doc = load()
    bench(doc, SLOWED)["extra_info"]["framework"] = {"a": 1}
    path = save(doc, tmp_path / "cur.json")
    return [str(path)], path


def _items_per_call_is_a_string(tmp_path):
    doc = load()
    bench(doc, SLOWED)["extra_info"]["items_per_call"] = "64"
    path = save(doc, tmp_path / "cur.json")
    return [str(path)], path


def _runs_from_two_machines(tmp_path):
    other = load("run_b")
    other["machine_info"]["cpu"]["brand_raw"] = "AMD EPYC 7B13"
    first, second = save(load(), tmp_path / "intel.json"), save(other, tmp_path / "amd.json")
    return [str(first), str(second)], second


def _rounds_are_strings(tmp_path):
    doc = load()
    bench(doc, SLOWED)["stats"]["data"] = ["fast", "slow"]
    path = save(doc, tmp_path / "cur.json")
    return [str(path)], path


BAD_INPUTS = [_truncated, _not_a_run, _empty_storage, _nothing_in_common, _out_is_a_file, _zero_median,
              _contradictory_median, _duplicate_names, _same_file_twice, _same_content_under_two_names,
              _framework_is_an_object, _items_per_call_is_a_string, _runs_from_two_machines, _rounds_are_strings]


@pytest.mark.parametrize("make_bad", BAD_INPUTS, ids=lambda f: f.__name__.strip("_"))
def test_bad_input_exits_2_with_one_line_and_writes_nothing(tmp_path, capsys, make_bad):
    args, culprit = make_bad(tmp_path)
    code, out, err = run_report(tmp_path, capsys, *args)
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and str(culprit) in err
    out_dir = tmp_path / "out"
    assert not out_dir.is_dir() or list(out_dir.iterdir()) == []


def test_output_folder_under_a_file_exits_2(tmp_path, capsys):
    blocker = tmp_path / "blocker"
    blocker.write_text("")
    code = report.main([str(DATA / "run_a.json"), "--out", str(blocker / "out")])
    out, err = capsys.readouterr()
    assert code == 2 and out == "" and str(blocker / "out") in err and len(err.strip().splitlines()) == 1


def test_failed_write_leaves_the_previous_report_untouched(tmp_path, capsys, monkeypatch):
    assert run_report(tmp_path, capsys, str(DATA / "run_a.json"))[0] == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()}

    def disk_full(r, folder):
        (folder / "scaling.png").write_bytes(b"half a png")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reporting.plots, "render_plots", disk_full)
    code, out, err = run_report(tmp_path, capsys, str(DATA / "run_b.json"))
    assert code == 2 and out == "" and "No space left on device" in err
    assert {p.name: p.read_bytes() for p in (tmp_path / "out").iterdir()} == before


def test_bad_input_from_the_command_line_has_no_traceback(tmp_path):
    args, culprit = _truncated(tmp_path)
    proc = subprocess.run([sys.executable, str(ROOT / "report.py"), *args, "--out", str(tmp_path / "out")],
                          capture_output=True, text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr and str(culprit) in proc.stderr
    assert not (tmp_path / "out").exists()
