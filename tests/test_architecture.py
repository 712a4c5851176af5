"""The house stays easy to change: no import circles, small modules, command lines changed only on purpose."""

from __future__ import annotations

import ast
import os
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from medgan_zoo.cli import cli

ROOT = Path(__file__).parents[1]
PACKAGES = [ROOT / "medgan_zoo", *sorted(p.parent for p in ROOT.glob("plugins/*/medgan_zoo_*/__init__.py"))]
SNAPSHOT = ROOT / "tests" / "snapshots" / "cli_help.txt"
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found = {}
    for package in PACKAGES:
        for path in package.rglob("*.py"):
            parts = list(path.relative_to(package.parent).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """module -> the project's modules it imports, counting imports inside functions too (a lazy
    import still ties two files together). ``from pkg import name`` points at pkg.name when that is
    a module, else at pkg."""
    edges: dict[str, set[str]] = {name: set() for name in modules}
    for name, path in modules.items():
        package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package[: len(package) - node.level + 1]
                    origin = ".".join([*base, *([node.module] if node.module else [])])
                else:
                    origin = node.module or ""
                targets = [f"{origin}.{a.name}" if f"{origin}.{a.name}" in modules else origin for a in node.names]
            for target in targets:
                while target and target not in modules:
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges[name].add(target)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), each as a readable path."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


def test_the_import_graph_finds_a_planted_circle(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    (package / "a.py").write_text("from .sub import b\n")
    (package / "sub" / "b.py").write_text("def f():\n    from ..a import thing\n")  # lazy, still a circle
    (package / "c.py").write_text("from . import a\n")
    modules = {name: path for name, path in {
        "pkg": package / "__init__.py", "pkg.sub": package / "sub" / "__init__.py", "pkg.a": package / "a.py",
        "pkg.sub.b": package / "sub" / "b.py", "pkg.c": package / "c.py"}.items()}
    assert cycles(import_graph(modules)) == [["pkg.a", "pkg.sub.b"]]


def test_no_import_circles_in_the_core_and_the_plugins():
    found = cycles(import_graph(_modules()))
    assert not found, "import circles: " + "; ".join(" <-> ".join(c) for c in found)


def test_the_core_never_imports_a_plugin():
    edges = import_graph(_modules())
    wrong = sorted(f"{a} -> {b}" for a, targets in edges.items() for b in targets
                   if a.startswith("medgan_zoo.") and not b.startswith("medgan_zoo"))
    assert not wrong


def test_no_module_is_long_unless_its_docstring_says_why():
    long = []
    for name, path in _modules().items():
        lines = len(path.read_text().splitlines())
        docstring = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and f"over {MAX_LINES} lines" not in docstring:
            long.append(f"{name} ({lines} lines)")
    assert not long, f"modules over {MAX_LINES} lines without a reason in their docstring: {long}"


def help_texts() -> str:
    """Every command's --help at 80 columns, in a fixed order."""

    def walk(command: click.Command, path: list[str]):
        yield path
        if isinstance(command, click.Group):
            context = click.Context(command, info_name=path[-1])
            for name in command.list_commands(context):
                yield from walk(command.get_command(context, name), [*path, name])

    texts = []
    for path in walk(cli, ["medgan-zoo"]):
        result = CliRunner().invoke(cli, [*path[1:], "--help"], prog_name="medgan-zoo", terminal_width=80)
        assert result.exit_code == 0, (path, result.output)
        texts.append(f"=== {' '.join(path)}\n{result.output}")
    return "\n".join(texts)


def test_every_command_line_is_as_it_was():
    """A change to any command's options or help fails here. If it was on purpose, rewrite the
    snapshot with MEDGAN_ZOO_UPDATE_SNAPSHOTS=1 and review the diff."""
    now = help_texts()
    if os.environ.get("MEDGAN_ZOO_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(now)
    if not SNAPSHOT.exists():
        pytest.fail(f"no {SNAPSHOT.name}: run with MEDGAN_ZOO_UPDATE_SNAPSHOTS=1")
    before = SNAPSHOT.read_text()
    if now != before:
        import difflib

        diff = "".join(difflib.unified_diff(before.splitlines(True), now.splitlines(True), "snapshot", "now", n=1))
        pytest.fail(f"the command line changed (MEDGAN_ZOO_UPDATE_SNAPSHOTS=1 rewrites {SNAPSHOT}):\n{diff}")
