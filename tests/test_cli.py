"""The command line: listing, describing, and one-line errors for expected faults."""

from __future__ import annotations

import json
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner

import medgan_zoo
from medgan_zoo import GanConfig, GanSpec, hookimpl, use_registry
from medgan_zoo.cli import cli
from medgan_zoo.registry import PluginSource, Registry, entry_point_sources


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def troubled_registry() -> Registry:
    """The built-ins, a plugin that fails to import, and a name claimed twice."""

    class Cfg(GanConfig):
        depth: int = 4

    def claims(dist: str) -> types.ModuleType:
        @hookimpl
        def register_gans(register):
            register(GanSpec(name="twin", summary="Twin.", factory=dict, config=Cfg))

        module = types.ModuleType(dist)
        module.register_gans = register_gans
        return module

    def boom():
        raise ImportError("No module named 'medgan_zoo_broken'")

    builtins, _ = entry_point_sources()
    return Registry.load([
        *[s for s in builtins if s.builtin],
        PluginSource("broken", "medgan-zoo-broken", "0.3", boom),
        PluginSource.of(claims("a"), "medgan-zoo-a", "1.0"),
        PluginSource.of(claims("b"), "medgan-zoo-b", "2.0"),
    ])


def test_version(runner):
    result = runner.invoke(cli, ["--version"])
    assert result.exit_code == 0
    assert medgan_zoo.__version__ in result.output


def test_plugins_table_lists_builtin_losses(runner):
    result = runner.invoke(cli, ["plugins"])
    assert result.exit_code == 0
    lines = [line.split() for line in result.output.splitlines()]
    assert ["name", "kind", "distribution", "version", "status"] in lines
    assert ["minimax", "loss", "medgan-zoo", medgan_zoo.__version__, "ok"] in lines


def test_plugins_json_shows_failures_with_reasons(runner, troubled_registry):
    with use_registry(troubled_registry):
        result = runner.invoke(cli, ["plugins", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {"name", "kind", "distribution", "version", "status"} <= set(rows[0])
    by_status = {}
    for row in rows:
        by_status.setdefault(row["status"], []).append(row)
    assert {r["name"] for r in by_status["ok"]} >= {"minimax", "hinge", "r1"}
    (broken,) = by_status["error"]
    assert broken["distribution"] == "medgan-zoo-broken" and "medgan_zoo_broken" in broken["reason"]
    assert {r["distribution"] for r in by_status["conflict"]} == {"medgan-zoo-a", "medgan-zoo-b"}


def test_plugins_table_prints_reasons_of_failures(runner, troubled_registry):
    with use_registry(troubled_registry):
        result = runner.invoke(cli, ["plugins"])
    assert result.exit_code == 0
    assert "medgan-zoo-broken 0.3 (plugin 'broken'): cannot import plugin" in result.output


def test_plugins_show_lists_config_fields(runner):
    result = runner.invoke(cli, ["plugins", "show", "loss", "minimax"])
    assert result.exit_code == 0, result.output
    assert "Binary cross-entropy" in result.output
    assert "role: adversarial" in result.output
    saturating = next(line for line in result.output.splitlines() if line.split()[:1] == ["saturating"])
    assert saturating.split()[:3] == ["saturating", "bool", "False"]


def test_plugins_show_json(runner):
    result = runner.invoke(cli, ["plugins", "show", "losses", "gradient-penalty", "--json"])
    assert result.exit_code == 0
    info = json.loads(result.output)
    assert info["kind"] == "loss" and info["role"] == "regularizer"
    assert info["distribution"] == "medgan-zoo"
    assert {f["name"]: f["default"] for f in info["config"]} == {"weight": 10.0, "target": 1.0}
    assert all(f["description"] for f in info["config"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plugins", "show", "loss", "hing"], "unknown loss 'hing'; did you mean 'hinge'"),
        (["plugins", "show", "gan", "stylegan9"], "unknown gan 'stylegan9'"),
        (["plugins", "show", "lost", "hinge"], "unknown plugin kind 'lost'"),
        (["plugins", "show", "gan", "twin"], "medgan-zoo-a 1.0 and medgan-zoo-b 2.0"),
    ],
)
def test_expected_faults_are_one_line(runner, troubled_registry, args, message):
    with use_registry(troubled_registry):
        result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_console_script_prints_one_line_error():
    script = Path(sys.executable).with_name("medgan-zoo")
    result = subprocess.run([str(script), "plugins", "show", "loss", "minmax"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.strip() == "Error: unknown loss 'minmax'; did you mean 'minimax'?"
    assert result.stdout == ""
