"""The model registry: every card valid and honest, names, sources, export."""

from __future__ import annotations

import json

import pytest
import torch
import yaml
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.catalogue import CatalogueError, ModelCard, cards_folder, catalogue, read_card
from medgan_zoo.cli import cli
from medgan_zoo.hub import Source, parse_source
from medgan_zoo.model import ModelLoadError

GANS = ["dcgan", "lsgan", "wgan", "wgan-gp", "hingegan", "spade", "stylegan2"]
DATASETS = ["acdc", "sliver07", "idrid"]


def test_every_card_validates_and_the_paper_pairs_are_all_there():
    files = sorted(cards_folder().glob("*.yaml"))
    cards = [read_card(f) for f in files]
    assert len(cards) == 24  # the paper's 21 GAN/data-set pairs and the diffusion model on each data set
    assert {(c.gan, c.dataset) for c in cards} == {(g, d) for g in [*GANS, "ddpm"] for d in DATASETS}
    assert all(c.paper is None for c in cards if c.gan == "ddpm")  # the paper studied GANs only
    for card in cards:
        assert card.name == f"{card.gan}-{card.dataset}"
        assert card.label_map == zoo.get_registry().datasets[card.dataset].label_map
        assert card.channels == zoo.get_registry().datasets[card.dataset].channels
        if card.status == "not-published":  # honest: nothing pinned that does not exist
            assert card.hub.revision is None and card.hub.sha256 == {} and card.metrics == []
            assert card.training["why_unpublished"]
    assert catalogue()["stylegan2-acdc"].paper.fid == 24.74


def test_card_rules(tmp_path):
    good = yaml.safe_load((cards_folder() / "dcgan-acdc.yaml").read_text())
    with pytest.raises(ValueError, match="published card needs hub.revision"):
        ModelCard.model_validate({**good, "status": "published"})
    with pytest.raises(ValueError, match="full 40-hex commit hash"):
        ModelCard.model_validate({**good, "hub": {**good["hub"], "revision": "main"}})
    with pytest.raises(ValueError, match="64 lower-case hex"):
        ModelCard.model_validate({**good, "hub": {**good["hub"], "sha256": {"config.json": "abc"}}})
    bad = tmp_path / "dcgan-acdc.yaml"
    bad.write_text(yaml.safe_dump({**good, "resolution": "big"}))
    with pytest.raises(CatalogueError, match=f"invalid model card {bad}: field 'resolution'"):
        read_card(bad)


def test_list_models_and_the_models_command():
    assert zoo.list_models("spade-*") == ["spade-acdc", "spade-idrid", "spade-sliver07"]
    assert len(zoo.list_models()) == 24 and zoo.list_models("nothing*") == []
    result = CliRunner().invoke(cli, ["models", "*-idrid", "--json"])
    assert result.exit_code == 0
    rows = json.loads(result.output)
    assert {r["name"] for r in rows} == {f"{g}-idrid" for g in [*GANS, "ddpm"]}
    assert all(r["status"] == "not-published" for r in rows)
    table = CliRunner().invoke(cli, ["models", "stylegan2-*"])
    assert "stylegan2-acdc" in table.output and "24.74" in table.output


def test_unpublished_and_unknown_names_say_what_to_do():
    with pytest.raises(ModelLoadError) as info:
        zoo.load("spade-idrid")
    assert "no published checkpoint" in str(info.value)
    assert "medgan-zoo train spade --dataset idrid" in str(info.value)
    with pytest.raises(zoo.UnknownNameError, match="did you mean 'spade-idrid'"):
        zoo.load("spade-idird")


def test_sources_are_parsed_as_documented(tmp_path):
    assert parse_source("hf://org/name@abc") == Source("hub", "org/name", "abc")
    assert parse_source("hf-hub:org/name", revision="r1") == Source("hub", "org/name", "r1")
    assert parse_source(f"local-dir:{tmp_path}") == Source("local", str(tmp_path))
    assert parse_source(str(tmp_path)).kind == "local"
    assert parse_source("./not/there").kind == "local"
    assert parse_source("spade-idrid") == Source("catalogue", "spade-idrid", None)
    with pytest.raises(zoo.ConfigError, match="pins revision 'abc' but revision='def'"):
        parse_source("hf://org/name@abc", revision="def")
    with pytest.raises(zoo.ConfigError, match="ORG/NAME"):
        parse_source("hf://just-a-name")
    with pytest.raises(ModelLoadError, match="not a model folder"):
        zoo.load("./not/there")


def test_export_then_load_samples_like_the_run_folder(tmp_path):
    run = tmp_path / "run"
    zoo.train("dcgan", "acdc-phantom", out=run, resolution=32, steps=2, progress=False,
              dataset_config={"train_subjects": 2, "test_subjects": 1}, gan_config={"g_filters": 8, "d_filters": 8})
    result = CliRunner().invoke(cli, ["export", str(run), "--out", str(tmp_path / "export")])
    assert result.exit_code == 0, result.output
    exported = tmp_path / "export"
    assert {p.name for p in exported.iterdir()} == {"config.json", "model.safetensors", "README.md", "samples.png"}
    card = (exported / "README.md").read_text()
    assert "library_name: medgan-zoo" in card and "- acdc-phantom" in card and "## Training" in card
    a, b = zoo.load(run).sample(6, seed=9), zoo.load(exported).sample(6, seed=9)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)


def test_push_needs_a_model_folder(tmp_path):
    from medgan_zoo.hub import HubError, push_folder

    with pytest.raises(HubError, match="config.json is missing"):
        push_folder(tmp_path, "org/name")


def test_push_uploads_the_model_files_and_returns_the_commit(tmp_path, monkeypatch):
    """The HfApi calls and what they send (the Hub itself is not reachable from the tests)."""
    import types

    import huggingface_hub

    from medgan_zoo.hub import push_folder

    calls = []

    class RecordingApi:
        def __init__(self, token=None):
            calls.append(("init", token))

        def create_repo(self, repo_id, private=False, exist_ok=False):
            calls.append(("create_repo", repo_id, private, exist_ok))

        def upload_folder(self, folder_path, repo_id, commit_message, allow_patterns):
            calls.append(("upload_folder", sorted(p.name for p in __import__("pathlib").Path(folder_path).iterdir()),
                          repo_id, sorted(allow_patterns)))
            return types.SimpleNamespace(oid="c" * 40)

    monkeypatch.setattr(huggingface_hub, "HfApi", RecordingApi)
    folder = tmp_path / "m"
    folder.mkdir()
    for name in ("config.json", "model.safetensors", "README.md", "train.json"):
        (folder / name).write_text("x")
    assert push_folder(folder, "org/name", private=True, token="t") == "c" * 40
    assert calls[1] == ("create_repo", "org/name", True, True)
    assert calls[2][2:] == ("org/name", ["README.md", "config.json", "model.safetensors", "samples.png"])
