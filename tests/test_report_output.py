"""The report folder is replaced as a whole: killed runs, concurrent runs, folders that are not ours."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reporting.output import MARKER, TEST_KILL_ENV
from tests.test_report import DATA, OUTPUTS, ROOT, run_report

RUNS = (str(DATA / "run_a.json"), str(DATA / "run_b.json"))


def report_cmd(run: str, out: Path) -> list[str]:
    return [sys.executable, str(ROOT / "report.py"), run, "--out", str(out)]


def whole_report_of(out: Path) -> str:
    """The one run every file of the report folder comes from (fails on a mix or a missing file)."""
    names = {p.name for p in out.iterdir()} - {MARKER}
    assert OUTPUTS <= names and (out / MARKER).is_file()
    run = next(line for line in (out / "report.md").read_text().splitlines() if line.startswith("Run: "))[5:]
    with (out / "results.csv").open() as f:
        assert {row["run"] for row in csv.DictReader(f)} == {run}
    return run


@pytest.mark.parametrize("step", ["rendered", "renamed", "linked", "replaced"])
def test_a_run_killed_at_any_step_leaves_a_whole_report_and_the_next_run_cleans_up(tmp_path, capsys, step):
    out = tmp_path / "out"
    assert run_report(tmp_path, capsys, RUNS[0])[0] == 0
    proc = subprocess.run(report_cmd(RUNS[1], out), env={**os.environ, TEST_KILL_ENV: step}, capture_output=True)
    assert proc.returncode == -9
    assert whole_report_of(out) == (RUNS[1] if step == "replaced" else RUNS[0])
    assert run_report(tmp_path, capsys, RUNS[1])[0] == 0
    assert whole_report_of(out) == RUNS[1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.d", "out"]  # nothing else beside --out
    versions = {p.name for p in (tmp_path / ".out.d").iterdir()} - {MARKER, "lock"}
    assert len(versions) <= 2 and not [v for v in versions if not v[0].isdigit()]  # no temporaries left


def test_two_concurrent_runs_on_one_folder_leave_one_whole_report(tmp_path):
    out = tmp_path / "out"
    procs = [subprocess.Popen(report_cmd(run, out), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
             for run in RUNS]
    assert [p.wait() for p in procs] == [0, 0], [p.stderr.read() for p in procs]
    assert whole_report_of(out) in RUNS
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.d", "out"]


def test_a_failed_render_leaves_no_temporary_behind(tmp_path, capsys, monkeypatch):
    import reporting.plots

    def broken(r, folder):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(reporting.plots, "render_plots", broken)
    assert run_report(tmp_path, capsys, RUNS[0])[0] == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.d"]
    assert sorted(p.name for p in (tmp_path / ".out.d").iterdir()) == [MARKER, "lock"]


def test_a_folder_report_py_did_not_write_is_refused_and_left_alone(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    code, out, err = run_report(tmp_path, capsys, RUNS[0])
    assert (code, out) == (2, "") and "was not written by report.py" in err
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["notes.txt"]


@pytest.mark.parametrize("out_arg", [".", "", "..", "sub/.."])
def test_the_current_folder_and_empty_names_are_refused(tmp_path, capsys, monkeypatch, out_arg):
    (tmp_path / "sub").mkdir()
    (tmp_path / "keep.txt").write_text("mine")
    monkeypatch.chdir(tmp_path)
    from reporting.cli import main

    code = main([RUNS[0], "--out", out_arg])
    out, err = capsys.readouterr()
    assert (code, out) == (2, "") and len(err.strip().splitlines()) == 1
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_an_existing_empty_folder_is_refused_and_left_a_folder(tmp_path, capsys):
    (tmp_path / "out").mkdir()
    code, out, err = run_report(tmp_path, capsys, RUNS[0])
    assert (code, out) == (2, "") and "was not written by report.py" in err and len(err.strip().splitlines()) == 1
    assert (tmp_path / "out").is_dir() and not (tmp_path / "out").is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # a refused run creates nothing


def test_a_hand_written_report_folder_is_never_adopted(tmp_path):
    from reporting import BadInput, output

    mine = tmp_path / "report"
    mine.mkdir()
    for name in ("report.md", "results.csv", "scaling.png"):
        (mine / name).write_text("written by hand")
    with pytest.raises(BadInput, match="not written by report.py"):
        output.publish(mine, lambda folder: (folder / "report.md").write_text("new"))
    assert (mine / "report.md").read_text() == "written by hand" and not mine.is_symlink()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report"]


def test_look_alike_temporaries_beside_out_are_left_alone(tmp_path, capsys):
    lookalikes = [tmp_path / "out.tmp-1-abcd", tmp_path / "out.tmp-2-ef01.lnk"]
    lookalikes[0].mkdir()
    (lookalikes[0] / MARKER).write_text("a user's folder that happens to hold this name")
    lookalikes[1].symlink_to("elsewhere")
    assert run_report(tmp_path, capsys, RUNS[0])[0] == 0
    assert lookalikes[0].is_dir() and lookalikes[1].is_symlink()


def test_a_foreign_versions_folder_is_refused(tmp_path, capsys):
    (tmp_path / ".out.d").mkdir()
    (tmp_path / ".out.d" / "mine.txt").write_text("mine")
    code, _, err = run_report(tmp_path, capsys, RUNS[0])
    assert code == 2 and ".out.d" in err and "not made by report.py" in err
    assert [p.name for p in (tmp_path / ".out.d").iterdir()] == ["mine.txt"]


def test_a_folder_with_a_users_file_is_still_refused(tmp_path):
    from reporting import BadInput, output

    mine = tmp_path / "report"
    mine.mkdir()
    (mine / "report.md").write_text("old report")
    (mine / "notes.txt").write_text("a user's own file")
    with pytest.raises(BadInput, match="not written by report.py"):
        output.publish(mine, lambda folder: None)
    assert (mine / "notes.txt").read_text() == "a user's own file"


def test_a_users_folder_of_look_alike_files_is_refused_and_left_as_it_was(tmp_path, capsys):
    mine = tmp_path / "out"
    mine.mkdir()
    for name in ("scaling.png", "history.png"):
        (mine / name).write_text(f"a user's own {name}")
    before = sorted((p.name, p.read_text()) for p in mine.iterdir())
    code, out, err = run_report(tmp_path, capsys, RUNS[0])
    assert code == 2 and len(err.strip().splitlines()) == 1 and "not written by report.py" in err
    assert not mine.is_symlink() and sorted((p.name, p.read_text()) for p in mine.iterdir()) == before
    assert not (tmp_path / ".out.d").exists()


def test_an_empty_out_is_refused_in_one_line(tmp_path):
    res = subprocess.run([sys.executable, str(ROOT / "report.py"), RUNS[0], "--out", ""], cwd=tmp_path,
                         capture_output=True, text=True)
    assert res.returncode == 2 and res.stderr.count("\n") == 1 and "--out" in res.stderr
    assert list(tmp_path.iterdir()) == []
