"""The GitHub Actions workflow a user copies (.github/workflows/ci.yml): it parses, and every make
command in it names a target of this Makefile that make can plan."""
from __future__ import annotations

import re
import shlex
import subprocess

import yaml

from tests.test_report import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def steps() -> dict[str, list[dict]]:
    doc = yaml.safe_load(WORKFLOW.read_text())
    return {name: job["steps"] for name, job in doc["jobs"].items()}


def test_the_workflow_tests_every_push_and_compares_pull_requests():
    doc = yaml.safe_load(WORKFLOW.read_text())
    assert set(doc[True]) == {"push", "pull_request"}  # YAML 1.1 reads the key "on" as True
    runs = {name: " ".join(s.get("run", "") for s in job) for name, job in steps().items()}
    assert "make lint" in runs["test"] and "make test" in runs["test"]
    assert "make compare BASE=origin/" in runs["compare"] and "GITHUB_STEP_SUMMARY" in runs["compare"]
    assert "install -y valgrind" in runs["compare"]  # the instruction counts need it
    assert doc["jobs"]["compare"]["if"] == "github.event_name == 'pull_request'"
    checkout = next(s for s in steps()["compare"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0  # the base commit must be there for the worktree


def matrix(job: str) -> list[dict]:
    return yaml.safe_load(WORKFLOW.read_text())["jobs"][job].get("strategy", {}).get("matrix", {}).get("include", [{}])


def test_pull_requests_compare_the_default_selection_and_torch_compile_on_runners_of_their_own():
    entries = {e["selection"]: e["make_args"] for e in matrix("compare")}
    assert entries == {"default": "", "torch-compile": 'COMPARE_K="steady and torch-compile"'}
    artifact = next(s for s in steps()["compare"] if s.get("uses", "").startswith("actions/upload-artifact"))
    assert "${{ matrix.selection }}" in artifact["with"]["name"]  # one artifact per selection


def test_every_make_command_of_the_workflow_is_a_target_make_can_plan():
    commands = [m[1].replace("${{ matrix.make_args }}", entry.get("make_args", "")) for name, job in steps().items()
                for entry in matrix(name) for s in job for m in re.finditer(r"(?m)^\s*(make [^&|;\n]+)", s.get("run", ""))]
    assert len(commands) == 4  # lint and test; compare for each of the two selections
    for command in commands:
        args = shlex.split(command.replace("${{ github.base_ref }}", "main"))[1:]  # as the runner expands it
        args = [a if not a.startswith("BASE=") else "BASE=HEAD" for a in args]  # origin/main is not here
        proc = subprocess.run(["make", "-n", *args], cwd=ROOT, capture_output=True, text=True)
        assert proc.returncode == 0, (command, proc.stderr)
