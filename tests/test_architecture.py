"""The module graph stays a straight chain: no import cycles, and plan.py holds the chain only.

The graph is built from the source with ``ast``: an edge for every ``import`` of a blankspot
module, at module level or inside a function, except those under ``if TYPE_CHECKING:`` (type
hints only, never run).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "blankspot"


def _modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        if "_vendor" in path.parts:
            continue
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip |= {id(n) for stmt in node.body for n in ast.walk(stmt)}
    return skip


def import_graph() -> dict[str, set[str]]:
    """``{module: {blankspot modules it imports}}``."""
    modules = _modules()
    graph: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        skip = _type_checking_nodes(tree)
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
            graph[name] |= {t for t in targets if t in modules and t != name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                found.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_graph_is_built_from_real_imports():
    graph = import_graph()
    assert "blankspot.config" in graph["blankspot.plan"]
    assert "blankspot.plan" in graph["blankspot.scenario"]
    # a TYPE_CHECKING import is not an edge
    assert "blankspot.plan" not in graph["blankspot.reporting.summary"]


def test_no_import_cycle():
    assert cycles(import_graph()) == []


def test_cycle_detection_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


@pytest.mark.parametrize(
    ("lower", "upper"),
    [
        ("blankspot.coverage", "blankspot.plan"),
        ("blankspot.settings", "blankspot.config"),
        ("blankspot.footprints", "blankspot.plan"),
        ("blankspot.distributed", "blankspot.plan"),
        ("blankspot.reporting.export", "blankspot.plan"),
        ("blankspot.io.inputs", "blankspot.scenario"),
        ("blankspot.plan", "blankspot.scenario"),
        ("blankspot.scenario", "blankspot.cli"),
    ],
)
def test_no_module_imports_a_module_above_it(lower, upper):
    graph = import_graph()
    reach, todo = set(), [lower]
    while todo:
        for w in graph[todo.pop()]:
            if w not in reach:
                reach.add(w)
                todo.append(w)
    assert upper not in reach


def test_plan_holds_the_chain_only():
    """plan.py defines the chain and its result; config, reading, footprints, views live elsewhere."""
    tree = ast.parse((PACKAGE / "plan.py").read_text(encoding="utf-8"))
    defined = {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)}
    public = {n for n in defined if not n.startswith("_")}
    assert public == {
        "PlanResult", "plan", "plan_paser", "plan_inputs", "coverage_matrix_streamed",
        "coverage_matrices_distributed", "default_curve_budgets_idr",
    }
    for moved in ("PlanConfig", "FootprintCache", "write_outputs", "plan_summary", "terrain_note",
                  "paser_inputs", "read_existing_sites", "summary_html", "plan_folium_map"):
        assert moved not in defined


@pytest.mark.parametrize(
    ("old", "name", "new"),
    [
        ("blankspot.report", "format_idr", "blankspot.reporting.tables"),
        ("blankspot.maps", "plan_map", "blankspot.reporting.maps"),
        ("blankspot.export", "write_reports", "blankspot.reporting.export"),
        ("blankspot.distributed", "Grid", "blankspot.footprints"),
        ("blankspot.distributed", "SparseFootprint", "blankspot.footprints"),
        ("blankspot.distributed", "TerrainSource", "blankspot.io.terrain_source"),
    ],
)
def test_moved_names_still_work_for_one_release_with_a_warning(old, name, new):
    import importlib

    with pytest.warns(DeprecationWarning, match=new.replace(".", r"\.")):
        obj = getattr(importlib.import_module(old), name)
    assert obj is getattr(importlib.import_module(new), name)


def test_the_public_api_keeps_its_names():
    import blankspot
    from blankspot.config import PlanConfig
    from blankspot.plan import PlanConfig as PlanConfigFromPlan
    from blankspot.plan import plan, plan_paser, plan_summary, terrain_note, write_outputs
    from blankspot.reporting import write_outputs as write_outputs_reporting
    from blankspot.scenario import run
    from blankspot.siting import SitingProblem, solve

    assert PlanConfigFromPlan is PlanConfig is blankspot.PlanConfig
    assert write_outputs is write_outputs_reporting is blankspot.write_outputs
    assert blankspot.plan_paser is plan_paser and blankspot.solve is solve
    assert blankspot.SitingProblem is SitingProblem
    assert callable(plan) and callable(run) and callable(plan_summary) and callable(terrain_note)
