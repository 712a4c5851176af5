"""The docs promise what the code does: hooks documented, tutorial identical to the tested plugin."""

from __future__ import annotations

import configparser
import inspect
import re
import sys
from pathlib import Path

import pytest

from medgan_zoo import hookspecs

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).parents[1]
DOCS = ROOT / "docs"
EXAMPLE = ROOT / "tests" / "plugin_example"
TUTORIAL = (DOCS / "plugins.md").read_text()
FILE_BLOCK = re.compile(r"```\w+ \{file=([^}]+)\}\n(.*?)```", re.S)

HOOKS = [
    (name, fn) for name, fn in vars(hookspecs).items()
    if callable(fn) and hasattr(fn, f"{hookspecs.PROJECT_NAME}_spec")
]


def test_all_five_hooks_exist():
    assert sorted(name for name, _ in HOOKS) == [
        "register_callbacks", "register_datasets", "register_gans", "register_losses", "register_metrics"
    ]


@pytest.mark.parametrize(("name", "fn"), HOOKS, ids=[name for name, _ in HOOKS])
def test_every_hook_is_documented_with_its_signature(name, fn):
    signature = f"{name}({', '.join(inspect.signature(fn).parameters)})"
    docs = "".join(p.read_text() for p in DOCS.glob("*.md"))
    assert f"`{signature}`" in docs, f"{signature} is not documented in docs/"


def test_every_contract_member_and_spec_field_is_documented():
    import medgan_zoo
    from medgan_zoo.specs import SPEC_TYPES

    docs = "".join(p.read_text() for p in DOCS.glob("*.md"))
    for name in medgan_zoo._CONTRACTS:
        assert f"`{name}`" in docs or f" {name}`" in docs or f"`{name}," in docs, f"{name} is not documented"
    for spec in SPEC_TYPES.values():
        for field in spec.model_fields:
            assert f"`{field}`" in docs, f"{spec.__name__}.{field} is not documented in docs/"
    for member in ("values", "headline", "std", "reference", "shown", "rows"):
        assert member in medgan_zoo.MetricResult.model_fields and f"`{member}`" in TUTORIAL


def test_tutorial_files_are_the_tested_example_plugin():
    blocks = dict(FILE_BLOCK.findall(TUTORIAL))
    assert set(blocks) == {"pyproject.toml", "src/medgan_zoo_ragan/__init__.py", "src/medgan_zoo_ragan/loss.py",
                           "src/medgan_zoo_ragan/data.py", "src/medgan_zoo_ragan/metric.py", "tests/test_ragan.py"}
    for relative, content in blocks.items():
        assert (EXAMPLE / relative).read_text() == content, f"docs and {relative} differ"


def test_example_metadata_matches_its_pyproject():
    project = tomllib.loads((EXAMPLE / "pyproject.toml").read_text())["project"]
    info = EXAMPLE / "src" / f"medgan_zoo_ragan-{project['version']}.dist-info"
    metadata = dict(
        line.split(": ", 1) for line in (info / "METADATA").read_text().splitlines() if ": " in line
    )
    assert (metadata["Name"], metadata["Version"]) == (project["name"], project["version"])
    entry_points = configparser.ConfigParser()
    entry_points.read(info / "entry_points.txt")
    assert dict(entry_points["medgan_zoo"]) == project["entry-points"]["medgan_zoo"]


def test_readme_commands_and_ci_agree():
    readme = (ROOT / "README.md").read_text()
    assert "    make demo " in readme and "    make test " in readme
    ci = (ROOT / ".ci" / "run").read_text().strip().splitlines()
    commands = [line.strip() for line in ci if line.strip() and not line.startswith(("#", "set ", "cd "))]
    first = commands.index("make test")
    # before it only the system packages the tests need (the sweep's PostgreSQL server); after it
    # only checks
    assert all(c.startswith(("export ", "if ", "fi", "apt-get ", "|| {")) for c in commands[:first]), commands[:first]
