"""A detached git checkout of a base ref in a temporary folder (make compare's and reporting.pingpong's base side)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from reporting import ROOT, BadInput


def git(*args: str, cwd: Path = ROOT) -> str:
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise BadInput(f"git {' '.join(args)}", proc.stderr.strip().splitlines()[-1] if proc.stderr.strip()
                       else f"exited {proc.returncode}")
    return proc.stdout.strip()


@contextmanager
def worktree(ref: str):
    """A detached checkout of `ref` in a temporary folder, removed on the way out whatever happens."""
    try:
        commit = git("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except BadInput:
        raise BadInput(ref, "not a git commit here (fetch it, e.g. actions/checkout with fetch-depth: 0)") from None
    tmp = Path(tempfile.mkdtemp(prefix="reporting-ab-"))
    tree = tmp / "base"
    try:
        git("worktree", "add", "--detach", str(tree), commit)
        yield tree, commit
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, capture_output=True)
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run(["git", "worktree", "prune"], cwd=ROOT, capture_output=True)
