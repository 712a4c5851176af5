"""Model selection reads a validation split, never test: val_fraction on every data set, a sweep that
scores on val, and `sweep best --evaluate` that scores test once."""

from __future__ import annotations

import json

import pytest
import torch
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.cli import cli

PATHOLOGY = {"train_subjects": 20, "test_subjects": 2, "pathology": True}


def test_val_and_train_are_disjoint_stable_and_stratified():
    train = zoo.load_dataset("acdc-phantom", None, "train", 32, val_fraction=0.2, **PATHOLOGY)
    val = zoo.load_dataset("acdc-phantom", None, "val", 32, val_fraction=0.2, **PATHOLOGY)
    assert not set(train.subject_ids) & set(val.subject_ids) and len(val.subject_ids) == 5
    assert len(train.subject_ids) + len(val.subject_ids) == 20
    # stratified: the pathology phantom's 5 classes of 4 subjects each give one val subject per class
    groups = {val.group_names[int(val.group_index[val.subject_slices(s)[0]])] for s in val.subject_ids}
    assert groups == set(val.group_names)
    again = zoo.load_dataset("acdc-phantom", None, "val", 32, val_fraction=0.2, **PATHOLOGY)
    assert again.subject_ids == val.subject_ids and torch.equal(again.images, val.images)
    other = zoo.load_dataset("acdc-phantom", None, "val", 32, val_fraction=0.2, val_seed=1, **PATHOLOGY)
    assert other.subject_ids != val.subject_ids
    assert val.split == "val" and val.info["val_subjects"] == val.subject_ids
    assert val.info["cache_key"] != train.info["cache_key"]  # feature caches never mistake one for the other


def test_val_fraction_zero_keeps_todays_splits_exactly():
    data = {"train_subjects": 6, "test_subjects": 2}
    plain = zoo.load_dataset("acdc-phantom", None, "train", 32, **data)
    zero = zoo.load_dataset("acdc-phantom", None, "train", 32, val_fraction=0.0, **data)
    assert zero.subject_ids == plain.subject_ids and torch.equal(zero.images, plain.images)
    assert zero.info["cache_key"] == plain.info["cache_key"]
    with pytest.raises(zoo.ConfigError, match="split 'val' needs val_fraction > 0"):
        zoo.load_dataset("acdc-phantom", None, "val", 32, **data)
    with pytest.raises(zoo.ConfigError, match="val_fraction"):
        zoo.load_dataset("acdc-phantom", None, "train", 32, val_fraction=0.7, **data)


def test_a_sweep_never_asks_for_test_and_best_evaluate_scores_test_once(tmp_path, monkeypatch):
    pytest.importorskip("optuna")
    from medgan_zoo import factory

    asked: list[str] = []
    original = factory.load_dataset

    def recording(name, data_root=None, split="train", resolution=128, **config):
        asked.append(split)
        return original(name, data_root, split, resolution, **config)

    monkeypatch.setattr(factory, "load_dataset", recording)
    dice = {"dice": {"steps": 2, "seeds": 1, "encoder_depth": 3, "decoder_channels": [8, 8, 8], "batch_size": 4}}
    data = {"train_subjects": 5, "test_subjects": 2}
    with pytest.raises(zoo.ConfigError, match="val_fraction must be above 0"):
        zoo.sweep("dcgan", "acdc-phantom", trials=1, study="z", out=tmp_path / "z", objective="dice",
                  dataset_config={**data, "val_fraction": 0})
    result = zoo.sweep("dcgan", "acdc-phantom", trials=1, study="s", out=tmp_path / "s", objective="dice",
                       resolution=32, steps=2, checkpoint_every=2, scale="quick", samples=8, pruner="none",
                       fixed={"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4, "vgg_weight": 0},
                       dataset_config=data, metric_config=dice, progress=False)
    assert asked and "test" not in asked and "val" in asked
    trial = tmp_path / "s" / result.rows[0]["folder"]
    recorded = json.loads((trial / "evaluation" / "evaluation.json").read_text())
    assert recorded["meta"]["split"] == "val" and recorded["dice"]["split"] == "val"
    assert json.loads((trial / "train.json").read_text())["dataset_config"]["val_fraction"] == 0.2
    asked.clear()
    best = CliRunner().invoke(cli, ["sweep", "best", "s", "--from", str(tmp_path / "s"), "--out",
                                    str(tmp_path / "best"), "--evaluate", "--device", "cpu"])
    assert best.exit_code == 0, best.output
    assert asked.count("test") == 1 and "val" not in asked
    tested = json.loads((tmp_path / "best" / "evaluation-test" / "evaluation.json").read_text())
    assert tested["meta"]["split"] == "test" and "scored once on the test split" in best.output
    assert json.loads((tmp_path / "best" / "evaluation" / "evaluation.json").read_text())["meta"]["split"] == "val"


def test_objectives_that_choose_their_real_split_compare_against_val_in_a_sweep():
    from medgan_zoo.search.run import held_out_objectives

    assert held_out_objectives(["unet-fd", "dice"], {"unet-fd": {"steps": 5}}) == {
        "unet-fd": {"steps": 5, "split": "val"}}  # dice reads ctx.eval_split, which the sweep sets
    for wrong in ("test", "all", "train"):
        with pytest.raises(zoo.ConfigError, match=f"unet-fd.split='{wrong}' is refused"):
            held_out_objectives(["unet-fd"], {"unet-fd": {"split": wrong}})
