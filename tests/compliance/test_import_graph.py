"""Package layering: agent.text is a leaf, and dialogue and compliance never import each other.

Reads every module's imports with `ast` (imports under TYPE_CHECKING included: they are still
a dependency a reader must follow) and checks the package graph, so a cycle cannot creep back.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

AGENT = Path(__file__).resolve().parents[2] / "agent"


def _imports(path: Path) -> set[str]:
    """Absolute `agent.*` modules a file imports."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
    return {name for name in found if name == "agent" or name.startswith("agent.")}


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else module


def _graph() -> dict[str, set[str]]:
    """agent.<package> -> the agent packages its modules import."""
    graph: dict[str, set[str]] = {}
    for path in AGENT.rglob("*.py"):
        rel = path.relative_to(AGENT.parent).with_suffix("")
        package = _package_of(".".join(rel.parts))
        graph.setdefault(package, set()).update(
            _package_of(m) for m in _imports(path) if _package_of(m) != package
        )
    return graph


def _reaches(graph: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, todo = {start}, [start]
    while todo:
        for nxt in graph.get(todo.pop(), ()):
            if nxt == goal:
                return True
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False


def test_text_is_a_leaf() -> None:
    graph = _graph()
    assert "agent.text" in graph
    assert graph["agent.text"] <= {"agent"}, graph["agent.text"]


@pytest.mark.parametrize(
    ("a", "b"), [("agent.dialogue", "agent.compliance"), ("agent.compliance", "agent.dialogue")]
)
def test_dialogue_and_compliance_do_not_import_each_other(a: str, b: str) -> None:
    graph = _graph()
    assert b not in graph[a], f"{a} imports {b}"


def test_no_cycle_through_the_pure_core() -> None:
    graph = _graph()
    for package in ("agent.dialogue", "agent.compliance", "agent.text"):
        assert not _reaches(graph, package, package), f"{package} is on an import cycle"


def test_the_checker_sees_a_cycle() -> None:
    graph = {"agent.a": {"agent.b"}, "agent.b": {"agent.a"}}
    assert _reaches(graph, "agent.a", "agent.a")
