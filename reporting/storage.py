"""Which files to read: pytest-benchmark storage folders, the newest run, the matching baselines, a
run's repeated processes."""
from __future__ import annotations

import re
from pathlib import Path

from reporting import BadInput
from reporting.load import load_run

RUN_GLOB = "[0-9][0-9][0-9][0-9]_*.json"  # pytest-benchmark storage: <storage>/<machine-id>/NNNN_name.json
PROCESS_GLOB = "proc-*.json"  # python -m reporting.repeat's repeated processes, in processes_of(run)


def processes_of(run: Path) -> Path:
    """Where the repeated processes of a saved run live: `<run without .json>.processes/` beside it."""
    return run.with_name(run.stem + ".processes")


def stored_runs(folder: Path) -> list[Path]:
    """Runs in a pytest-benchmark storage folder (or one machine-id folder of it), oldest first."""
    files = list(folder.glob(RUN_GLOB)) + list(folder.glob(f"*/{RUN_GLOB}"))
    return sorted(files, key=lambda f: (f.stat().st_mtime, f.name))


def machine_id(path: Path, machine_info: dict | None = None) -> str | None:
    """The storage machine-id folder a run sits in, e.g. Linux-CPython-3.11-64bit.

    For a loose file (--benchmark-json, a copy) the id is rebuilt from its machine_info the way
    pytest-benchmark names its folders: <system>-<implementation>-<major.minor>-64bit.
    """
    if re.fullmatch(r"\d{4}_.*\.json", path.name):
        return path.parent.name
    info = machine_info or {}
    system, impl, version = info.get("system"), info.get("python_implementation"), info.get("python_version")
    if not (isinstance(system, str) and isinstance(impl, str) and isinstance(version, str)):
        return None
    bits = "64bit" if str(info.get("machine", "")).endswith("64") else "32bit"
    return f"{system}-{impl}-{'.'.join(version.split('.')[:2])}-{bits}"


def newest_run(folder: Path, prefer_machine: str | None = None) -> Path:
    if not folder.is_dir():
        raise BadInput(folder, "no such storage folder")
    runs = stored_runs(folder)
    if not runs:
        raise BadInput(folder, f"storage folder holds no pytest-benchmark runs ({RUN_GLOB})")
    same = [r for r in runs if prefer_machine and r.parent.name == prefer_machine]
    return sorted(same, key=lambda f: f.name)[-1] if same else runs[-1]


def resolve_run(arg: str, prefer_machine: str | None = None) -> Path:
    path = Path(arg)
    if path.is_dir():
        return newest_run(path, prefer_machine)
    if not path.exists():
        raise BadInput(path, "no such file")
    return path


def baseline_paths(arg: str, machine: str | None, names: set[str]) -> list[Path]:
    """--baseline PATH: a run file, or a storage folder's runs for this machine and selection (all
    of them: several runs of one baseline measure the machine's run-to-run noise)."""
    path = Path(arg)
    if not path.is_dir():
        return [resolve_run(arg)]
    return machine_baselines(path, machine, names) or [newest_run(path)]


def machine_baselines(folder: Path, machine: str | None, names: set[str]) -> list[Path]:
    """The runs stored in `folder` for `machine` taken with the same selection as the current run."""
    same = [r for r in stored_runs(folder) if r.parent.name == machine] if folder.is_dir() else []
    return sorted(matching_selection(same, names), key=lambda f: f.name) if same else []


def matching_selection(paths: list[Path], current: set[str]) -> list[Path]:
    """The baseline runs taken with the same selection of benchmarks as the current run.

    What ran before a benchmark in the same process moves its time on a small machine, so a
    quick-set run is compared with quick-set baselines and a full run with full ones: the runs
    whose benchmark set covers most of the current run, the smallest such set first.
    """
    names = {p: _benchmark_names(p) for p in paths}
    best = max(names.values(), key=lambda n: (len(n & current), -len(n - current)))
    return [p for p in paths if names[p] == best]


def _benchmark_names(path: Path) -> set[str]:
    try:
        return set(load_run(path, keep_data=False).benches)
    except BadInput:
        return set()  # reported properly if this run is chosen and loaded


def default_baseline(current: Path, folder: Path, machine_info: dict,
                     names: set[str]) -> tuple[list[Path], str]:
    """The runs in baselines/ of a matching machine id and benchmark selection, or none and why not."""
    machine = machine_id(current, machine_info)
    runs = machine_baselines(folder, machine, names)
    if runs:
        return runs, ""
    if machine is None:
        return [], (f"No baseline: {current} is not in pytest-benchmark storage (<machine-id>/NNNN_*.json) "
                    "and its machine_info does not name the machine; pass --baseline PATH.")
    return [], f"No baseline: {folder}/{machine}/ holds no run; pass --baseline PATH to compare against one."
