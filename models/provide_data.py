"""Set-up, never test time: make sure a real IDX data set is on the machine before the benchmarks run.

    python -m models.provide_data [--data-root DIR]      (what `make data` runs)

In order, the first that works wins, and each step that fails is said in the closing line:
1. files already there: the data root (--data-root, $DATA_ROOT, <repo>/data) or Debian's folder;
2. Debian's `dataset-fashion-mnist` (/usr/share/datasets/fashion-mnist/), where apt-get is there
   and we are root (`apt-get update` once if the first install finds no package);
3. torchvision's download of Fashion-MNIST into <root>/FashionMNIST/raw/ (torchvision checks each
   file's MD5), where the network allows;
4. none: one line says which of these failed and that the training benchmarks will use the
   digits fallback. The exit code is 0 in every case: a machine without the data still runs.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from models import datasets

APT_PACKAGE = "dataset-fashion-mnist"
APT_TIMEOUT_S = 300


def found(root: Path) -> str | None:
    """Where a Fashion-MNIST or MNIST IDX set already is, or None."""
    for name in ("fashion", "mnist"):
        try:
            return f"{datasets.IDX_SETS[name]} in {datasets.locate(name, root)}"
        except datasets.DatasetMissing:
            continue
    return None


def _apt(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["apt-get", *args], capture_output=True, text=True, timeout=APT_TIMEOUT_S,
                          env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})


def via_apt() -> str:
    """'' when Debian's package is installed now, else why not (one phrase)."""
    if shutil.which("apt-get") is None:
        return "no apt-get on this machine"
    if os.geteuid() != 0:
        return f"not root (as root: apt-get install {APT_PACKAGE})"
    try:
        if _apt("install", "-y", APT_PACKAGE).returncode != 0:
            _apt("update")
            result = _apt("install", "-y", APT_PACKAGE)
            if result.returncode != 0:
                lines = (result.stderr or result.stdout).strip().splitlines()
                return f"apt-get install {APT_PACKAGE} failed ({lines[-1] if lines else f'exit {result.returncode}'})"
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"apt-get install {APT_PACKAGE} failed ({type(err).__name__})"
    return ""


def via_torchvision(root: Path) -> str:
    """'' when torchvision downloaded Fashion-MNIST into the data root, else why not."""
    import socket

    socket.setdefaulttimeout(30)  # a network that drops packets must not hang the set-up
    try:
        datasets.download("fashion", root)
    except Exception as err:  # noqa: BLE001 - no network, no torchvision, a checksum: one phrase
        text = " ".join(str(err).split()) or type(err).__name__  # torchvision's message spans lines
        return f"torchvision's download into {root} failed ({text[:200]})"
    return ""


def provide(root: Path) -> tuple[bool, str]:
    """(a real data set is there now, the one line to print)."""
    where = found(root)
    if where:
        return True, f"data: {where}"
    reasons = []
    for name, attempt in (("Debian's package", via_apt), ("torchvision", lambda: via_torchvision(root))):
        reason = attempt()
        datasets.load.cache_clear()
        where = found(root)
        if where and not reason:
            return True, f"data: {where} (provided by {name})"
        reasons.append(reason or f"{name} reported success but no IDX files appeared")
    return False, ("data: no Fashion-MNIST or MNIST IDX files: " + "; ".join(reasons)
                   + ". The training benchmarks will use the digits fallback (docs/data.md).")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m models.provide_data", description=__doc__.split("\n")[0])
    p.add_argument("--data-root", default=None, help="default $DATA_ROOT, else <repo>/data")
    args = p.parse_args(argv)
    _, line = provide(datasets.data_root(args.data_root))
    print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
