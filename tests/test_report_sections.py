"""The report's sections (reporting/sections/): one registry, in report.md's order, with no import
loop; and the committed run's report.md and results.csv exactly as they were before the sections were
split out (tests/data/expected/, made by report.py from baselines/results/; the implementation-size
section is left out of the comparison: it counts today's models/, not the run)."""
from __future__ import annotations

import ast
from pathlib import Path

from reporting.sections import SECTIONS
from tests.test_report import ROOT

RUN = "baselines/results/bench-2026-12-02-xeon.json"
EXPECTED = ROOT / "tests" / "data" / "expected"
REPORT_ORDER = ["overhead", "dispatch", "side", "roofline", "ratios", "consistency", "memory", "compile", "baseline",
                "size", "verdict", "training"]  # the sections report.md had when the expected copy was made


def _covered(markdown: str) -> str:
    """report.md as the expected copy covers it: without the size section and without any section added
    since the copy was made (built again from the run; it must be the very report.md the command wrote)."""
    from reporting.cli import build, parse_args
    from reporting.render import render_markdown

    args = parse_args([RUN, "--no-baseline", "--out", ".never-written"])
    args.out = Path(args.out)
    r = build(args)
    assert render_markdown(r) == markdown
    return render_markdown(r, leave_out={s.name for s in SECTIONS} - set(REPORT_ORDER) | {"size"})


def test_the_committed_run_gives_the_same_report_md_and_results_csv(tmp_path, monkeypatch, capsys):
    from reporting.cli import main

    monkeypatch.chdir(ROOT)  # the report's paths are relative to the repository
    assert main([RUN, "--no-baseline", "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    out = tmp_path / "out"
    assert _covered((out / "report.md").read_text()) == (EXPECTED / "xeon-report.md").read_text()
    assert (out / "results.csv").read_text() == (EXPECTED / "xeon-results.csv").read_text()
    assert {"scaling.png", "roofline.png", "compile_vs_steady.png", "training_curves.png",
            "first_layer_weights.png", "benchmark_results.csv", "index.html"} <= {p.name for p in out.iterdir()}


def test_one_registry_with_distinct_names_in_report_order():
    names = [s.name for s in SECTIONS]
    assert len(set(names)) == len(names) and len({s.order for s in SECTIONS}) == len(SECTIONS)
    assert [n for n in names if n in REPORT_ORDER] == REPORT_ORDER


def _imports(path: Path) -> set[str]:
    """The reporting modules a file imports (at any depth of the file, TYPE_CHECKING ones included)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("reporting"):
            found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("reporting")}
    return found


def test_no_import_loop_in_reporting():
    modules = {".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): p
               for p in (ROOT / "reporting").rglob("*.py")}
    graph = {m: {i for i in _imports(p) if i in modules and i != m} for m, p in modules.items()}

    def loop_from(start: str, here: str, seen: tuple[str, ...]) -> tuple[str, ...] | None:
        for nxt in sorted(graph[here]):
            if nxt == start:
                return (*seen, nxt)
            if nxt not in seen and (found := loop_from(start, nxt, (*seen, nxt))):
                return found
        return None

    loops = [found for m in sorted(graph) if (found := loop_from(m, m, (m,)))]
    assert not loops, " -> ".join(loops[0])
    assert all(len(p.read_text().splitlines()) <= 400 for p in modules.values())
