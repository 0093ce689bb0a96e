"""The report folder, replaced as a whole, and nothing touched outside what report.py made.

`<out>` is a symlink to `<parent>/.<name>.d/<stamp>`, a folder holding one run's files. Everything
report.py makes lives in `.<name>.d/` (marked with MARKER): the versions, the lock that runs on one
--out take turns on, a new report rendered into `tmp-<tag>` and the new link `link-<tag>` that is
swapped over `<out>` with os.replace. A reader (or a run killed at any point) sees the previous
report or the new one, never a mix; whoever holds the lock removes what killed runs left in
`.<name>.d/`, and only there.

`<out>` is checked before anything is created: it must not exist, or be report.py's own link. A
folder (even an empty one), a file or a foreign link is refused as bad input and left as it was;
so is a `.<name>.d` without MARKER. A refused run creates nothing.
"""
from __future__ import annotations

import fcntl
import os
import secrets
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from reporting import BadInput

MARKER = ".report-py"  # "this folder was written by report.py": the only folders it ever deletes
KEEP = 2  # versions kept: the current one and the previous, for a reader still inside it
TEST_KILL_ENV = "REPORTING_TEST_KILL_AT"  # tests only: SIGKILL this process at the named step


def _step(name: str) -> None:
    if os.environ.get(TEST_KILL_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _ours(folder: Path) -> bool:
    return folder.is_dir() and not folder.is_symlink() and (folder / MARKER).is_file()


def _versions(out: Path) -> Path:
    return out.parent / f".{out.name}.d"


def check_out(out: Path) -> None:
    """Refuse an --out that report.py may not replace, before anything is created."""
    if out.name in ("", ".", ".."):
        raise BadInput(out, "not a report folder name (give --out a folder of its own, e.g. report)")
    versions = _versions(out)
    if (versions.exists() or versions.is_symlink()) and not _ours(versions):
        raise BadInput(versions, f"exists and was not made by report.py (no {MARKER} inside): refusing to use it")
    if out.is_symlink():
        target = out.resolve()
        if target.parent != versions.resolve() or not _ours(target):
            raise BadInput(out, "is a symlink report.py did not make: refusing to replace it")
    elif out.is_dir():
        raise BadInput(out, "exists and was not written by report.py: refusing to replace it (report.py replaces "
                            "--out as a whole; give a name that does not exist yet, or remove it)")
    elif out.exists():
        raise BadInput(out, "exists and is not a folder")


def _make_versions(out: Path) -> Path:
    """`.<name>.d/`, created with MARKER inside in one rename (a concurrent run may win the race)."""
    versions = _versions(out)
    if not versions.exists():
        new = Path(tempfile.mkdtemp(prefix=f".{out.name}.d-new-", dir=out.parent))
        (new / MARKER).write_text("made by report.py: its report versions, lock and temporaries\n")
        try:
            os.rename(new, versions)
        except OSError:
            shutil.rmtree(new)
    if not _ours(versions):
        raise BadInput(versions, f"exists and was not made by report.py (no {MARKER} inside): refusing to use it")
    return versions


@contextmanager
def _locked(lock: Path):
    with open(lock, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released when the file closes, also when the process dies
        yield


def clean_stale(out: Path) -> None:
    """What killed runs left in `.<name>.d/`, and versions beyond KEEP (the caller holds the lock)."""
    versions = _versions(out)
    for link in versions.glob("link-*"):
        if link.is_symlink():
            link.unlink()
    for tmp in versions.glob("tmp-*"):
        if tmp.is_dir() and not tmp.is_symlink():
            shutil.rmtree(tmp)
    current = out.resolve() if out.is_symlink() else None
    old = sorted((v for v in versions.glob("[0-9]*") if _ours(v) and v != current), key=lambda v: v.name)
    for v in old[: max(len(old) - (KEEP - 1), 0)]:
        shutil.rmtree(v)


def _swap(out: Path, folder: Path, tag: str) -> None:
    """Point <out> at `folder` in one os.replace of a symlink."""
    link = _versions(out) / f"link-{tag}"
    os.symlink(os.path.relpath(folder, out.parent), link)  # resolved from out.parent once moved there
    _step("linked")
    check_out(out)  # the lock keeps other report.py runs away; a user's new folder there is still refused
    os.replace(link, out)
    _step("replaced")


def _render(versions: Path, tag: str, fill: Callable[[Path], None]) -> Path:
    tmp = versions / f"tmp-{tag}"
    tmp.mkdir()
    (tmp / MARKER).write_text("written by report.py; the folder is replaced as a whole\n")
    try:
        fill(tmp)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _step("rendered")
    final = versions / f"{time.time_ns()}-{tag}"
    os.rename(tmp, final)
    _step("renamed")
    return final


def publish(out: Path, fill: Callable[[Path], None]) -> None:
    """Render with `fill(folder)` into a fresh folder and make it <out> atomically."""
    out = Path(os.path.abspath(out))
    check_out(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        versions = _make_versions(out)
        with _locked(versions / "lock"):
            check_out(out)
            clean_stale(out)
            tag = f"{os.getpid()}-{secrets.token_hex(4)}"
            _swap(out, _render(versions, tag, fill), tag)
            clean_stale(out)
    except OSError as exc:
        raise BadInput(out, f"output folder cannot be written ({exc.strerror or exc})") from None
