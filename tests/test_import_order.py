"""The package layering, written once, and checked over every import of every module.

A package may import packages of its own layer or of lower layers, never of a higher one; two
packages of one layer may not import each other both ways. The imports are read with ``ast``
(function-local ones included), so a lazy ``from x import y`` inside a function counts too.

Why this order (lowest first):

- ``core``: the ground — configuration, durations, offer types, the family registry. It imports
  no other project package (the registry names spiders and extractors by dotted path and loads
  them only when asked).
- ``storage``: the database (tables, engine, reads and writes of runs, offers and sites) needs
  only the ground (the offer types).
- ``crawlers`` and ``pipelines``: the crawl writes through storage (runs, offers, discovered
  sites); the pipelines read the items the spiders yield. Scrapy wires spiders to pipelines by
  dotted names in the settings, not by imports.
- ``estimates``: market-size estimators and reseller links, pure functions over what the crawls
  stored (../shared/DESIGN.md, "Layers"); reports print them.
- ``reports``, ``scheduler`` and ``simulator``: read what the crawls stored (the
  scheduler starts crawls; the simulated market builds test stores through the real spiders
  and pipelines). The simulator's market itself imports nothing of the monitor, so that the
  tests against it stay honest.
- ``clickfarm``: the command line on top of everything.

Inside the CLI package the command modules (``cli_*``) share what they need through
``clickfarm/options.py``; only ``clickfarm/cli.py`` imports them, to assemble the app, so the
CLI modules never import each other in a cycle.
"""

from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

LAYERS: list[set[str]] = [
    {"core"},
    {"storage"},
    {"crawlers", "pipelines"},
    {"estimates"},
    {"reports", "scheduler", "simulator"},
    {"clickfarm"},
]
LAYER_OF = {package: index for index, layer in enumerate(LAYERS) for package in layer}
NOT_LAYERED = {"tests", "benchmarks"}  # they may use everything; nothing imports them


def project_packages() -> list[str]:
    return sorted(path.parent.name for path in REPO.glob("*/__init__.py")
                  if path.parent.name not in NOT_LAYERED)


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for package in project_packages()
            for path in sorted((REPO / package).rglob("*.py"))}


def imports_of(path: Path, known: set[str]) -> list[tuple[str, int]]:
    """(imported project module, line) for every import statement in the file."""
    name = module_name(path)
    package_parts = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    found: list[tuple[str, int]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package_parts[:len(package_parts) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            for alias in node.names:  # `from pkg import module` imports pkg.module
                candidate = f"{module}.{alias.name}"
                found.append((candidate if candidate in known else module, node.lineno))
    top_level = {module.split(".")[0] for module in known}
    return [(module, line) for module, line in found if module.split(".")[0] in top_level]


@functools.cache
def import_graph() -> dict[str, list[tuple[str, int]]]:
    found = modules()
    return {name: imports_of(path, set(found)) for name, path in found.items()}


def test_every_package_has_a_place_in_the_order():
    unplaced = [package for package in project_packages() if package not in LAYER_OF]
    assert not unplaced, f"add these packages to LAYERS in {Path(__file__).name}: {unplaced}"


def test_no_package_imports_a_higher_one():
    paths = modules()
    upward = []
    for importer, imported in import_graph().items():
        low = importer.split(".")[0]
        for module, line in imported:
            high = module.split(".")[0]
            if LAYER_OF.get(high, -1) > LAYER_OF.get(low, len(LAYERS)):
                upward.append(f"{paths[importer].relative_to(REPO)}:{line}: {low} imports "
                              f"{module} (layer {LAYER_OF[high]} above {LAYER_OF[low]})")
    assert not upward, "imports against the package order:\n" + "\n".join(upward)


def test_packages_of_one_layer_do_not_import_each_other_both_ways():
    edges: dict[tuple[str, str], str] = {}
    paths = modules()
    for importer, imported in import_graph().items():
        for module, line in imported:
            pair = (importer.split(".")[0], module.split(".")[0])
            if pair[0] != pair[1]:
                edges.setdefault(pair, f"{paths[importer].relative_to(REPO)}:{line}")
    both_ways = [f"{a} <-> {b} ({edges[(a, b)]} and {edges[(b, a)]})"
                 for (a, b) in edges if (b, a) in edges and a < b]
    assert not both_ways, "packages importing each other:\n" + "\n".join(both_ways)


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for successor in graph.get(node, ()):
            if successor not in index:
                visit(successor)
                low[node] = min(low[node], low[successor])
            elif successor in stack:
                low[node] = min(low[node], index[successor])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1 or node in graph.get(node, ()):
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def cli_graph() -> dict[str, set[str]]:
    return {importer: {module for module, _ in imported if module.startswith("clickfarm.")}
            for importer, imported in import_graph().items() if importer.startswith("clickfarm")}


def test_cli_modules_import_each_other_in_no_cycle():
    assert not cycles(cli_graph()), f"import cycles between CLI modules: {cycles(cli_graph())}"


def test_only_the_app_assembly_imports_the_command_modules():
    offenders = sorted(f"{importer} imports {module}"
                       for importer, imported in cli_graph().items() for module in imported
                       if module.startswith("clickfarm.cli_") and importer != "clickfarm.cli")
    assert not offenders, offenders


@pytest.mark.parametrize("graph, expected", [
    ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
    ({"a": {"b"}, "b": {"a"}, "c": {"a"}}, [["a", "b"]]),
    ({"a": {"b"}, "b": {"c"}, "c": {"a"}}, [["a", "b", "c"]]),
    ({"a": {"a"}}, [["a"]]),
])
def test_the_cycle_finder_finds_cycles(graph, expected):
    assert cycles(graph) == expected


def test_the_import_reader_sees_function_local_and_relative_imports(tmp_path, monkeypatch):
    package = tmp_path / "storage"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "rows.py").write_text("")
    (package / "lazy.py").write_text(
        "import json\n\n\ndef load():\n    from clickfarm.options import fail\n"
        "    from . import rows\n    return fail, rows\n")
    monkeypatch.setitem(globals(), "REPO", tmp_path)
    known = {"storage", "storage.rows", "storage.lazy", "clickfarm.options"}
    assert imports_of(package / "lazy.py", known) == [("clickfarm.options", 5),
                                                      ("storage.rows", 6)]
