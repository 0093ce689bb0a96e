"""The `dataset` fixture: the run's real training data (--dataset, --data-root), loaded once."""
from __future__ import annotations

import warnings
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def dataset(pytestconfig: pytest.Config):
    """The run's training data set (--dataset), loaded once. A bad IDX file fails with its one line;
    a named data set that is missing skips with where it was looked for; auto's digits fallback
    says so in a warning."""
    from benchmarks.plugin.session import settings
    from models import datasets

    run = settings(pytestconfig)
    root, choice = datasets.data_root(run.data_root), run.dataset
    if run.download and choice in ("auto", "fashion", "mnist"):
        _download(root, "mnist" if choice == "mnist" else "fashion")
    try:
        if choice == "digits":
            return datasets.load_digits()
        if choice != "auto":
            return datasets.load_idx(choice, root)
        found = datasets.load(root)
    except datasets.DatasetMissing as err:
        pytest.skip(f"--dataset {choice}: {err} (make data, or --download)")
    except datasets.IDXError as err:
        pytest.fail(str(err), pytrace=False)
    if found.fallback:
        warnings.warn(datasets.FallbackWarning(
            f"no MNIST/Fashion-MNIST IDX files ({datasets.missing_reason(root)}): training on scikit-learn's "
            f"8x8 digits instead (64 input features, {len(found.train.x)} training samples); see docs/data.md"), stacklevel=2)
    return found


def _download(root: Path, name: str) -> None:
    """--download: the data set into the data root when it is not there; a failure is one line."""
    from models import datasets

    try:
        datasets.locate(name, root)
        return
    except datasets.DatasetMissing:
        pass
    try:
        datasets.download(name, root)
    except Exception as err:  # noqa: BLE001 - network, disk, checksum: whatever torchvision raises
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        pytest.fail(f"--download: {datasets.IDX_SETS[name]} into {root} failed: {reason}", pytrace=False)
    datasets.load.cache_clear()
