"""--count-instructions FILE: each steady case's instructions per step, counted under callgrind
(benchmarks/instructions.py says how and what a count cannot see), written to FILE after each
case and at the end.

Only steady cases are counted, after their warm-up; timing is off (--benchmark-disable is
required: under valgrind a time means nothing).
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import instructions, modes
from benchmarks.plugin.options import MAX_COUNT_STEPS, int_in


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("jax-vs-torch")
    group.addoption("--count-instructions", default=None, metavar="FILE",
                    help="under valgrind's callgrind (python -m benchmarks.instructions starts it): count each "
                         "steady case's instructions per step and write them to FILE (with --benchmark-disable)")
    group.addoption("--count-steps", default=str(instructions.STEPS), metavar="N",
                    type=lambda text: int_in(text, "--count-steps", MAX_COUNT_STEPS),
                    help="steps counted a case (default %(default)s)")


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--count-instructions") is None:
        return
    if not config.getoption("benchmark_disable"):
        raise pytest.UsageError("--count-instructions: add --benchmark-disable (under valgrind a time means nothing)")
    try:
        instructions.check_available()
    except instructions.Unavailable as exc:
        raise pytest.UsageError(f"--count-instructions: {exc}") from None
    instructions.Counting.steps = config.getoption("--count-steps")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under counting, a case of a mode whose steps callgrind cannot run skips, saying why, and the
    modes of instructions.COUNT_LAST are counted after the others (a stable reorder)."""
    if config.getoption("--count-instructions") is None:
        return
    last: set[pytest.Item] = set()
    for item in items:
        callspec = getattr(item, "callspec", None)
        spec = callspec.params.get("spec") if callspec is not None else None
        row = modes.row(spec.framework, spec.mode) if spec is not None else None
        if row is not None and row.uncounted:
            item.add_marker(pytest.mark.skip(reason=f"instructions not counted for {row.key}: {row.uncounted}"))
        if row is not None and row.key in instructions.COUNT_LAST:
            last.add(item)
    items.sort(key=lambda item: item in last)


def write(config: pytest.Config, complete: bool) -> None:
    """FILE as it stands: rewritten whole (never half-written) after each case, so that a counting
    run stopped at its time share leaves the cases it finished ("complete": false)."""
    out = config.getoption("--count-instructions")
    if out is None or not instructions.Counting.steps:
        return
    path = Path(out)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps({"steps": instructions.Counting.steps, "counts": instructions.Counting.counts,
                               "complete": complete}, indent=1, sort_keys=True) + "\n", encoding="utf8")
    tmp.replace(path)


def pytest_runtest_teardown(item: pytest.Item) -> None:
    if len(instructions.Counting.counts) != instructions.Counting.written:  # this case added a figure
        instructions.Counting.written = len(instructions.Counting.counts)
        write(item.config, complete=False)


def pytest_sessionfinish(session: pytest.Session) -> None:
    write(session.config, complete=True)
