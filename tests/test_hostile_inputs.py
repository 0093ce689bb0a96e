"""Hostile input gets one line naming the option or file and the problem, a non-zero exit and no
traceback, before anything is measured or written: the suite's numeric pytest options (benchmarks/plugin/options.py),
an IDX header claiming a huge shape (models/datasets.py), and reporting.ab's options and output folders."""
from __future__ import annotations

import argparse
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.plugin import options as plugin_options
from models import datasets
from reporting import ab
from reporting.args import percentage, positive_float
from tests.collect import pytest_collect

ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ["²", "١٢", "٣", "1_0", "-5", "+5", "0", "", " 64", "64 ", "6 4", "1e3", "0x10", "9" * 5000]
HOSTILE_LISTS = [*HOSTILE, "64,,256", ",64", "64,", "64,²", "64,-1"]


class Recorder:
    """Stands in for pytest's parser: what pytest_addoption registers, option -> its keywords."""

    def __init__(self) -> None:
        self.options: dict[str, dict] = {}

    def getgroup(self, *args, **kwargs) -> Recorder:
        return self

    def addoption(self, name: str, **attrs) -> None:
        self.options[name] = attrs


def numeric_options() -> dict[str, dict]:
    recorder = Recorder()
    plugin_options.pytest_addoption(recorder)
    return {name: attrs for name, attrs in recorder.options.items()
            if isinstance(attrs.get("default"), str) and attrs["default"].replace(",", "").isdigit()}


def test_every_numeric_option_has_a_typed_parser_that_reads_its_default():
    options = numeric_options()
    assert {"--batch-sizes", "--array-sizes", "--matrix-sizes", "--firstcall-rounds", "--gpt-steps", "--epochs",
            "--epoch-samples", "--devices"} <= set(options)
    for name, attrs in options.items():
        parsed = attrs["type"](attrs["default"])
        assert parsed == ([int(v) for v in attrs["default"].split(",")] if "," in attrs["default"]
                          else int(attrs["default"])), name


@pytest.mark.parametrize("option, text", [
    (option, text) for option, attrs in sorted(numeric_options().items())
    for text in (HOSTILE_LISTS if "," in attrs["default"] else HOSTILE)])  # a list option's default is a list
def test_a_hostile_value_is_a_usage_error_naming_the_option(option, text):
    with pytest.raises(pytest.UsageError) as err:
        numeric_options()[option]["type"](text)
    message = str(err.value)
    assert message.startswith(f"{option}: expected ") and "\n" not in message and len(message) < 200


@pytest.mark.parametrize("option, text, value", [
    ("--batch-sizes", "064", [64]), ("--batch-sizes", "64,64,256", [64, 256]), ("--devices", "2,1", [2, 1]),
    ("--firstcall-rounds", "02", 2), ("--gpt-steps", "120", 120), ("--epoch-samples", "2048", 2048),
])
def test_ascii_values_keep_their_meaning(option, text, value):
    assert numeric_options()[option]["type"](text) == value


@pytest.mark.parametrize("args, message", [
    (["--batch-sizes", "²"], "ERROR: --batch-sizes: expected comma-separated positive integers, got '²'"),
    (["--epoch-samples", "١٢"], "ERROR: --epoch-samples: expected one integer from 1 to 50000, got '١٢'"),
])
def test_a_hostile_option_on_the_command_line_is_one_line_exit_4(args, message):
    result = pytest_collect("benchmarks", "--collect-only", "-q", *args)
    lines = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 4 and lines == [message], result.stdout + result.stderr


def idx_header(*shape: int, dtype: int = 0x08) -> bytes:
    return b"\0\0" + bytes([dtype, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)


@pytest.mark.parametrize("content, problem", [
    (idx_header(2**31, 2**31, 2**31), "truncated: shape (2147483648, 2147483648, 2147483648) needs "
                                      f"{2**93} data bytes, found 0"),
    (idx_header(2**16, 2**16, 2**16, 2**16) + b"abc", f"truncated: shape (65536, 65536, 65536, 65536) needs "
                                                      f"{2**64} data bytes, found 3"),
    (idx_header(2**32 - 1, 2**32 - 1, dtype=0x0E), f"truncated: shape (4294967295, 4294967295) needs "
                                                   f"{(2**32 - 1) ** 2 * 8} data bytes, found 0"),
])
def test_an_idx_header_claiming_a_huge_shape_is_one_line_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(content)
    with pytest.raises(datasets.IDXError) as err:
        datasets.read_idx(path)
    assert str(err.value) == f"{path}: {problem}"


@pytest.fixture
def no_measuring(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("reporting.ab started before checking its output folders")
    monkeypatch.setattr(ab, "worktree", refuse)
    monkeypatch.setattr(ab, "measure", refuse)


@pytest.mark.parametrize("option, target, problem", [
    ("--out", "file", "--out is an existing file"),
    ("--keep", "file", "--keep is an existing file"),
    ("--out", "file/report", "--out: {file} is an existing file"),
    ("--keep", "file/a/b", "--keep: {file} is an existing file"),
])
def test_ab_refuses_an_output_path_that_is_a_file_before_measuring(tmp_path, capsys, no_measuring,
                                                                   option, target, problem):
    file = tmp_path / "file"
    file.write_text("kept\n")
    path = tmp_path / target
    assert ab.main(["--base", "HEAD", "--out", str(tmp_path / "out"), option, str(path)]) == 2
    assert capsys.readouterr().err == f"reporting.ab: error: {path}: {problem.format(file=file)}\n"
    assert file.read_text() == "kept\n" and not (tmp_path / "out").exists()


def test_ab_with_an_existing_file_as_out_exits_2_at_once(tmp_path):
    """The command line end to end: no worktree, no benchmark process (each would take seconds)."""
    file = tmp_path / "report.txt"
    file.write_text("kept\n")
    result = subprocess.run([sys.executable, "-m", "reporting.ab", "--base", "HEAD", "--out", str(file)],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout, result.stderr) == (
        2, "", f"reporting.ab: error: {file}: --out is an existing file\n")
    assert file.read_text() == "kept\n"


@pytest.mark.parametrize("args, message", [
    (["--budget", "²"], "argument --budget: '²' is not a positive number"),
    (["--budget", "١٢"], "argument --budget: '١٢' is not a positive number"),
    (["--budget", "1_0"], "argument --budget: '1_0' is not a positive number"),
    (["--budget", "inf"], "argument --budget: 'inf' is not a positive number"),
    (["--budget", "0"], "argument --budget: '0' is not a positive number"),
    (["--threshold", "٣"], "argument --threshold: '٣' is not a positive finite percentage"),
    (["--out", ""], "argument --out: an empty folder name would be the current folder"),
    (["--keep", " "], "argument --keep: an empty folder name would be the current folder"),
])
def test_ab_refuses_hostile_options_in_one_line(capsys, no_measuring, args, message):
    with pytest.raises(SystemExit) as exc:
        ab.main(["--base", "HEAD", *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith(f"python -m reporting.ab: error: {message}") and err.count("\n") == 1


@pytest.mark.parametrize("text", HOSTILE[:-1] + ["nan", "-inf", "1" * 400, "."])
def test_the_shared_number_parsers_take_ascii_digits_only(text):
    for parse in (percentage, positive_float):
        with pytest.raises(argparse.ArgumentTypeError) as err:  # argparse makes it its one line, exit 2
            parse(text)
        assert len(str(err.value)) < 200


@pytest.mark.parametrize("text, value", [("10", 10.0), ("2.5", 2.5), (".5", 0.5), ("600.", 600.0), ("007", 7.0)])
def test_the_shared_number_parsers_keep_plain_numbers(text, value):
    assert percentage(text) == positive_float(text) == value
