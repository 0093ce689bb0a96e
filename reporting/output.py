"""The report folder, replaced as a whole.

`<out>` is a symlink to `<parent>/.<name>.d/<stamp>`, a folder holding one run's files. A new
report is rendered into `<parent>/<name>.tmp-<pid>-<rand>`, renamed into `.<name>.d/`, and a new
symlink is swapped over `<out>` with os.replace: a reader (or a run killed at any point) sees the
previous report or the new one, never a mix. Runs on one --out take turns on an exclusive lock
(`<parent>/.<name>.lock`); whoever holds it removes temporaries left by killed runs.

report.py deletes only what it wrote: every folder it makes holds MARKER first, and an existing
`<out>` without it (a folder of someone's files, `.`, the repository) is refused as bad input.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from reporting import ROOT, BadInput

MARKER = ".report-py"  # "this folder was written by report.py": the only folders it ever deletes
KEEP = 2  # versions kept: the current one and the previous, for a reader still inside it
TEST_KILL_ENV = "REPORTING_TEST_KILL_AT"  # tests only: SIGKILL this process at the named step


def _step(name: str) -> None:
    if os.environ.get(TEST_KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _ours(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and (folder / MARKER).is_file()


@contextmanager
def _locked(lock: Path):
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, also when the process dies
        yield


def _versions(out: Path) -> Path:
    return out.parent / f".{out.name}.d"


# what report.py wrote into a plain folder before the folder was switched as a whole
LEGACY_FILES = {"report.md", "results.csv", "regressed.txt", "ratio_to_baseline.png", "history.png",
                "scaling.png", "compile_vs_steady.png"}


def _adopt_legacy(out: Path) -> None:
    """The default report/ of an older report.py (in the repository, only its own file names in it)
    is ours: mark it, so it is replaced. Any other folder without MARKER is never adopted, however
    its files are named: it may be a user's."""
    if out != ROOT / "report":
        return
    if out.is_dir() and not out.is_symlink() and not (out / MARKER).exists():
        names = [p.name for p in out.iterdir()]
        if names and all(n in LEGACY_FILES or n.startswith(".report-tmp-") for n in names):
            (out / MARKER).write_text("an older report.py's folder, adopted\n")


def check_out(out: Path) -> None:
    """Refuse an --out that report.py may not replace."""
    _adopt_legacy(out)
    if out.name in ("", ".", ".."):
        raise BadInput(out, "not a report folder name (give --out a folder of its own, e.g. report)")
    if out.is_symlink():
        target = out.resolve()
        if target.parent != _versions(out).resolve() or not _ours(target):
            raise BadInput(out, "is a symlink report.py did not make: refusing to replace it")
    elif out.exists() and not out.is_dir():
        raise BadInput(out, "exists and is not a folder")
    elif out.is_dir() and not _ours(out) and any(out.iterdir()):
        raise BadInput(out, f"exists and was not written by report.py (no {MARKER} inside): "
                            "refusing to replace it; remove it or choose another --out")


def clean_stale(out: Path) -> None:
    """Temporaries of killed runs (the caller holds the lock, so no live run owns any)."""
    for tmp in out.parent.glob(f"{out.name}.tmp-*"):
        if tmp.is_symlink():
            tmp.unlink()
        elif _ours(tmp) or (tmp.is_dir() and not any(tmp.iterdir())):
            shutil.rmtree(tmp)
    versions = _versions(out)
    current = out.resolve() if out.is_symlink() else None
    old = sorted((v for v in versions.glob("*") if _ours(v) and v != current), key=lambda v: v.name)
    for v in old[: max(len(old) - (KEEP - 1), 0)]:
        shutil.rmtree(v)


def _swap(out: Path, folder: Path, tag: str) -> None:
    """Point <out> at `folder` in one os.replace of a symlink."""
    link = out.parent / f"{out.name}.tmp-{tag}.lnk"
    os.symlink(os.path.relpath(folder, out.parent), link)
    _step("linked")
    if out.is_dir() and not out.is_symlink():  # a plain folder: ours from elsewhere, or empty
        if _ours(out):
            os.rename(out, _versions(out) / f"{time.time_ns()}-moved")
        else:
            out.rmdir()
    os.replace(link, out)
    _step("replaced")


def publish(out: Path, fill: Callable[[Path], None]) -> None:
    """Render with `fill(folder)` into a fresh folder and make it <out> atomically."""
    out = Path(os.path.abspath(out))
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with _locked(out.parent / f".{out.name}.lock"):
            check_out(out)
            clean_stale(out)
            tag = f"{os.getpid()}-{secrets.token_hex(4)}"
            tmp = out.parent / f"{out.name}.tmp-{tag}"
            tmp.mkdir()
            (tmp / MARKER).write_text("written by report.py; the folder is replaced as a whole\n")
            try:
                fill(tmp)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
            _step("rendered")
            _versions(out).mkdir(exist_ok=True)
            final = _versions(out) / f"{time.time_ns()}-{tag}"
            os.rename(tmp, final)
            _step("renamed")
            _swap(out, final, tag)
            clean_stale(out)
    except OSError as exc:
        raise BadInput(out, f"output folder cannot be written ({exc.strerror or exc})") from None
