"""The IDX reader, the data set search, the fixed split and the batch order (models/datasets.py),
on tiny files written here; the real data sets only when the machine has them (else skipped)."""
from __future__ import annotations

import gzip
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from models import datasets
from tests.collect import pytest_collect

ROOT = Path(__file__).resolve().parent.parent


def idx_bytes(array: np.ndarray) -> bytes:
    return b"\0\0\x08" + bytes([array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape) + array.tobytes()


def write_idx(path: Path, array: np.ndarray, gz: bool) -> Path:
    path = path.with_name(path.name + ".gz") if gz else path
    path.write_bytes(gzip.compress(idx_bytes(array)) if gz else idx_bytes(array))
    return path


def write_set(folder: Path, train: int = 12, test: int = 5, gz: bool = True) -> None:
    """A tiny MNIST-shaped data set in `folder`: pixel value = sample index, label = index % 10."""
    folder.mkdir(parents=True, exist_ok=True)
    for part, n in (("train", train), ("test", test)):
        images = np.repeat(np.arange(n, dtype=np.uint8), 28 * 28).reshape(n, 28, 28)
        write_idx(folder / datasets.FILES[f"{part}_images"], images, gz)
        write_idx(folder / datasets.FILES[f"{part}_labels"], (np.arange(n) % 10).astype(np.uint8), gz)


@pytest.mark.parametrize("gz", [True, False], ids=["gzipped", "plain"])
def test_reads_idx_files(tmp_path, gz):
    array = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(datasets.read_idx(write_idx(tmp_path / "a-idx3-ubyte", array, gz)), array)


@pytest.mark.parametrize("content, problem", [
    (idx_bytes(np.zeros((2, 28, 28), np.uint8))[:-7], "truncated: shape (2, 28, 28) needs 1568 data bytes, found 1561"),
    (idx_bytes(np.zeros((2, 28, 28), np.uint8))[:9], "truncated header (9 bytes, a 3-d IDX header needs 16)"),
    (gzip.compress(idx_bytes(np.zeros(4, np.uint8)))[:-6], "corrupt gzip data"),
    (b"\x1f\x8bnot gzip at all", "corrupt gzip data"),
    (b"<html>rate limited</html>", "not an IDX file (magic bytes 3c68746d)"),
    (b"", "not an IDX file (magic bytes missing)"),
])
def test_bad_files_give_one_line_naming_the_file(tmp_path, content, problem):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(datasets.IDXError) as err:
        datasets.read_idx(path)
    assert isinstance(err.value, ValueError)
    assert str(err.value).startswith(f"{path}: {problem}")
    assert "\n" not in str(err.value)


def test_wrong_dimensions_name_the_file(tmp_path):
    write_set(tmp_path)
    write_idx(tmp_path / datasets.FILES["train_labels"], np.zeros(11, np.uint8), gz=True)  # 12 images
    with pytest.raises(datasets.IDXError, match=r"train-labels-idx1-ubyte.gz: wrong dimensions: expected \(12,\)"):
        datasets.read_images_labels(tmp_path, "train")
    write_idx(tmp_path / datasets.FILES["test_images"], np.zeros((5, 8, 8), np.uint8), gz=True)
    with pytest.raises(datasets.IDXError, match=r"t10k-images-idx3-ubyte.gz: wrong dimensions"):
        datasets.read_images_labels(tmp_path, "test")


@pytest.mark.parametrize("layout", ["MNIST/raw", "MNIST", "."])
def test_finds_torchvision_layout_and_plain_folder(tmp_path, layout, monkeypatch):
    monkeypatch.setattr(datasets, "DEBIAN_FASHION", tmp_path / "no-debian")
    write_set(tmp_path / layout, gz=layout != ".")
    name = "fashion" if layout == "." else "mnist"  # files straight in the root count as Fashion-MNIST
    assert datasets.locate(name, tmp_path) == tmp_path / layout
    ds = datasets.load_idx(name, tmp_path)
    assert ds.train.x.dtype == np.float32 and ds.train.x.shape[1] == 784
    assert 0.0 <= ds.train.x.min() and ds.train.x.max() <= 11 / 255 + 1e-7  # pixel = index / 255


def test_missing_data_set_says_where_it_looked_and_falls_back_to_digits(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "DEBIAN_FASHION", tmp_path / "no-debian")
    with pytest.raises(datasets.DatasetMissing, match=f"MNIST IDX files not found in {tmp_path}/MNIST/raw"):
        datasets.locate("mnist", tmp_path)
    ds = datasets.load.__wrapped__(tmp_path)
    assert ds.name == "digits" and ds.fallback and ds.features == 64
    assert (len(ds.train.x), len(ds.validation.x), len(ds.test.x)) == (1199, 299, 299)
    assert "FashionMNIST IDX files not found" in datasets.missing_reason(tmp_path)


def test_a_bad_file_is_an_error_not_a_silent_fallback(tmp_path, monkeypatch):
    monkeypatch.setattr(datasets, "DEBIAN_FASHION", tmp_path / "no-debian")
    write_set(tmp_path / "FashionMNIST" / "raw")
    (tmp_path / "FashionMNIST" / "raw" / (datasets.FILES["test_labels"] + ".gz")).write_bytes(b"\x1f\x8bbroken")
    with pytest.raises(datasets.IDXError, match="t10k-labels-idx1-ubyte.gz: corrupt gzip"):
        datasets.load.__wrapped__(tmp_path)


def test_split_is_fixed_and_disjoint():
    x = np.arange(100, dtype=np.float32)[:, None]
    y = np.arange(100, dtype=np.int32)
    train, val = datasets.split(x, y, 20)
    again, _ = datasets.split(x, y, 20)
    assert (len(train.y), len(val.y)) == (80, 20)
    np.testing.assert_array_equal(train.y, again.y)
    assert not set(train.y) & set(val.y) and set(train.y) | set(val.y) == set(range(100))


def test_epoch_order_is_seeded_per_epoch_and_drops_the_partial_batch():
    first, again, second = (datasets.epoch_order(1000, 64, e) for e in (0, 0, 1))
    assert first.shape == (15, 64) and first.dtype == np.int32
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, second)
    assert len(set(first.ravel())) == 15 * 64


@pytest.mark.parametrize("name", ["fashion", "mnist"])
def test_real_data_set_split_sizes(name):
    try:
        ds = datasets.load_idx(name, datasets.data_root())
    except datasets.DatasetMissing as err:
        pytest.skip(str(err))
    assert (len(ds.train.x), len(ds.validation.x), len(ds.test.x)) == (50_000, 10_000, 10_000)
    assert ds.train.x.shape[1] == 784 and ds.train.x.dtype == np.float32
    assert 0.0 == ds.train.x.min() and ds.train.x.max() == 1.0
    assert set(np.unique(ds.test.y)) == set(range(10))


def test_a_bad_file_fails_the_benchmark_with_one_line(tmp_path):
    write_set(tmp_path / "FashionMNIST" / "raw")
    bad = tmp_path / "FashionMNIST" / "raw" / (datasets.FILES["train_images"] + ".gz")
    bad.write_bytes(bad.read_bytes()[:40])
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_epoch.py", "--benchmark-disable", "-q", "-p", "no:cacheprovider",
         "--data-root", str(tmp_path), "-k", "test_mlp_epoch and jax-jit and batch64 and steady", "--batch-sizes", "64"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"{bad}: corrupt gzip data" in result.stdout
    assert "Traceback" not in result.stdout and "def dataset" not in result.stdout


@pytest.mark.parametrize("args, message", [
    (["--epochs", "0"], "--epochs: expected one integer from 1 to 100, got '0'"),
    (["--epoch-samples", "60000"], "--epoch-samples: expected one integer from 1 to 50000, got '60000'"),
    (["--data-root", "/nonexistent/folder"], "--data-root: not a folder: '/nonexistent/folder'"),
])
def test_bad_options_are_one_line_usage_errors(args, message):
    result = pytest_collect("benchmarks/test_epoch.py", "--collect-only", "-q", *args)
    assert result.returncode == 4 and message in result.stderr, result.stderr


def test_set_up_finds_files_already_there(tmp_path):
    from models import provide_data

    write_set(tmp_path / "MNIST" / "raw")
    ok, line = provide_data.provide(tmp_path)  # MNIST here, or Debian's Fashion-MNIST where installed
    assert ok and line.startswith("data: ") and "IDX files" not in line


def test_set_up_without_apt_or_network_says_so_in_one_line_and_falls_back(tmp_path, monkeypatch, capsys):
    from models import provide_data

    monkeypatch.setattr(provide_data, "found", lambda root: None)
    monkeypatch.setattr(provide_data.shutil, "which", lambda name: None)
    monkeypatch.setattr(provide_data.datasets, "download",
                        lambda name, root: (_ for _ in ()).throw(RuntimeError("Error downloading:\n<urlopen error>")))
    assert provide_data.main(["--data-root", str(tmp_path)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert "no apt-get on this machine" in line and "download" in line and "urlopen error" in line
    assert "digits fallback" in line


def test_set_up_reports_what_provided_the_data(tmp_path, monkeypatch):
    from models import provide_data

    calls = []
    monkeypatch.setattr(provide_data, "found", lambda root: "FashionMNIST in X" if calls else None)
    monkeypatch.setattr(provide_data, "via_apt", lambda: calls.append("apt") or "")
    ok, line = provide_data.provide(tmp_path)
    assert ok and calls == ["apt"] and line == "data: FashionMNIST in X (provided by Debian's package)"


@pytest.mark.parametrize("choice, word", [("mnist", "MNIST IDX files not found"), ("digits", "")])
def test_dataset_option_chooses_or_skips_with_where_it_looked(tmp_path, choice, word):
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "benchmarks/test_convergence.py", "--benchmark-disable", "-q", "-rs",
         "-p", "no:cacheprovider", "--data-root", str(tmp_path), "--dataset", choice, "--epochs", "1",
         "-k", "test_convergence and not momentum and jax"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    if word:
        assert result.returncode == 0 and word in result.stdout and "1 skipped" in result.stdout, result.stdout
    else:
        assert result.returncode == 0 and "1 passed" in result.stdout, result.stdout[-3000:]
