"""Discovery through real entry-point metadata (.dist-info folders on sys.path; nothing installed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import medgan_zoo
from medgan_zoo import ConfigError, UnknownNameError
from medgan_zoo.registry import LOAD_PLUGINS_ENV, discover, entry_point_sources

EXAMPLE_SRC = Path(__file__).parent / "plugin_example" / "src"
BUILTIN_LOSSES = {"minimax", "least-squares", "wasserstein", "hinge", "gradient-penalty", "r1"}


def write_distribution(root: Path, name: str, version: str, entry_points: dict[str, str],
                       modules: dict[str, str] | None = None) -> Path:
    """What pip would leave in site-packages: a .dist-info with METADATA and entry_points.txt."""
    info = root / f"{name.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.3\nName: {name}\nVersion: {version}\n")
    lines = "".join(f"{k} = {v}\n" for k, v in entry_points.items())
    (info / "entry_points.txt").write_text(f"[medgan_zoo]\n{lines}")
    for filename, source in (modules or {}).items():
        (root / filename).write_text(textwrap.dedent(source))
    return root


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in (LOAD_PLUGINS_ENV, "PYTHONPATH")}
    env.update(extra)
    return env


def test_builtin_losses_come_through_the_projects_entry_points(monkeypatch):
    monkeypatch.setenv(LOAD_PLUGINS_ENV, "")
    registry = discover()
    assert set(registry.losses) == BUILTIN_LOSSES
    origin = registry.losses["hinge"].origin
    assert (origin.distribution, origin.version, origin.plugin) == ("medgan-zoo",
                                                                    medgan_zoo.__version__, "losses")
    assert registry.problems == ()


def test_create_loss_by_name():
    from medgan_zoo.losses.adversarial import HingeLoss

    loss = medgan_zoo.create_loss("hinge", margin=2.0)
    assert isinstance(loss, HingeLoss) and loss.config.margin == 2.0
    with pytest.raises(ConfigError, match="did you mean 'margin'"):
        medgan_zoo.create_loss("hinge", margn=2.0)
    with pytest.raises(UnknownNameError, match="did you mean 'hinge'"):
        medgan_zoo.create_loss("hing")


def test_external_plugin_failing_to_import_is_reported_by_distribution(tmp_path, monkeypatch):
    write_distribution(tmp_path, "medgan-zoo-ghost", "0.4.2", {"ghost": "medgan_zoo_ghost_missing"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(LOAD_PLUGINS_ENV, "medgan-zoo-ghost")
    registry = discover()
    (problem,) = registry.problems
    assert (problem.distribution, problem.version, problem.plugin) == ("medgan-zoo-ghost", "0.4.2",
                                                                       "ghost")
    assert "ModuleNotFoundError" in problem.reason and "medgan_zoo_ghost_missing" in problem.reason
    assert set(registry.losses) == BUILTIN_LOSSES


def test_plugin_raising_at_import_time(tmp_path, monkeypatch):
    write_distribution(tmp_path, "medgan-zoo-raiser", "1.0", {"raiser": "medgan_zoo_raiser"},
                       {"medgan_zoo_raiser.py": "raise RuntimeError('needs a GPU')\n"})
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(LOAD_PLUGINS_ENV, "medgan-zoo-raiser")
    registry = discover()
    assert "RuntimeError: needs a GPU" in registry.problems[0].reason
    assert "hinge" in registry.losses


@pytest.mark.parametrize(
    ("setting", "loaded"),
    [(None, True), ("", False), ("medgan-zoo-other", False), ("MedGAN_Zoo.Ragan", True)],
)
def test_load_plugins_variable_limits_external_distributions(monkeypatch, setting, loaded):
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    if setting is None:
        monkeypatch.delenv(LOAD_PLUGINS_ENV, raising=False)
    else:
        monkeypatch.setenv(LOAD_PLUGINS_ENV, setting)
    registry = discover()
    assert ("ragan" in registry.losses) is loaded
    assert BUILTIN_LOSSES <= set(registry.losses)  # built-ins always load
    assert (("medgan-zoo-ragan", "0.1.0") in registry.disabled) is (not loaded)


def test_builtins_are_ordered_first(monkeypatch):
    monkeypatch.syspath_prepend(str(EXAMPLE_SRC))
    monkeypatch.delenv(LOAD_PLUGINS_ENV, raising=False)
    sources, _ = entry_point_sources()
    builtin_flags = [s.builtin for s in sources]
    assert builtin_flags == sorted(builtin_flags, reverse=True)
    assert "medgan-zoo-ragan" in {s.distribution for s in sources}


def test_external_plugin_appears_in_the_cli_through_its_entry_point():
    env = clean_env(PYTHONPATH=str(EXAMPLE_SRC))
    result = subprocess.run([sys.executable, "-m", "medgan_zoo", "plugins", "--json"], env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    ragan = [r for r in rows if r["name"] == "ragan"]
    assert ragan == [{
        "name": "ragan", "kind": "loss", "distribution": "medgan-zoo-ragan", "version": "0.1.0",
        "status": "ok", "summary": "Relativistic average GAN loss (Jolicoeur-Martineau, 2018).",
        "reason": "", "plugin": "ragan",
    }]
    builtin_losses = {r["name"] for r in rows
                      if (r["distribution"], r["kind"], r["status"]) == ("medgan-zoo", "loss", "ok")}
    assert builtin_losses == BUILTIN_LOSSES


def test_tutorial_plugin_passes_its_own_tests():
    env = clean_env(PYTHONPATH=str(EXAMPLE_SRC))
    tests = Path(__file__).parent / "plugin_example" / "tests"
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tests)],
        env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "5 passed" in result.stdout


def test_import_and_discovery_stay_light():
    code = (
        "import sys, medgan_zoo, medgan_zoo.cli; medgan_zoo.get_registry().losses['hinge'];"
        "heavy = {'torch', 'timm', 'torchvision', 'segmentation_models_pytorch', 'nibabel'};"
        "print(sorted(heavy & set(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], env=clean_env(), capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
