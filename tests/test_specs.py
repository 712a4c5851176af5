"""Spec models on their own: kind-specific rules and what listings read from them."""

from __future__ import annotations

import pytest
from pydantic import Field, ValidationError

from medgan_zoo import DatasetSpec, GanConfig, GanSpec, MetricSpec


class Cfg(GanConfig):
    lr: float = Field(default=2e-4, gt=0, description="Adam learning rate.")
    activation: str = "relu"


def dataset(**fields) -> DatasetSpec:
    base = {"name": "toy", "summary": "Toy.", "factory": dict, "modality": "MRI", "organ": "heart",
            "channels": 1, "label_map": {0: "background", 1: "lv"}}
    return DatasetSpec(**{**base, **fields})


def test_label_map_must_be_contiguous_from_zero():
    assert dataset(label_map={1: "lv", 0: "bg", 2: "myo"}).label_map[2] == "myo"
    for bad in ({1: "lv", 2: "myo"}, {0: "bg", 2: "lv"}, {0: "bg"}):
        with pytest.raises(ValidationError, match="label_map"):
            dataset(label_map=bad)


def test_dataset_channels_positive():
    with pytest.raises(ValidationError, match="channels"):
        dataset(channels=0)


def test_metric_must_say_which_direction_is_better():
    with pytest.raises(ValidationError, match="better"):
        MetricSpec(name="fid", summary="FID.", factory=dict)
    with pytest.raises(ValidationError, match="better"):
        MetricSpec(name="fid", summary="FID.", factory=dict, better="smaller")


def test_gan_resolutions_are_sorted_and_unique():
    spec = GanSpec(name="g", summary="G.", factory=dict, resolutions=(128, 32, 32))
    assert spec.resolutions == (32, 128)
    assert spec.requirements() == {"conditional": False, "resolutions": (32, 128), "search_space": None}


def test_specs_are_immutable():
    spec = GanSpec(name="g", summary="G.", factory=dict)
    with pytest.raises(ValidationError):
        spec.name = "h"


def test_config_fields_describe_the_model():
    spec = GanSpec(name="g", summary="G.", factory=dict, config=Cfg)
    assert spec.config_fields()[-2:] == [
        {"name": "lr", "type": "float", "default": 2e-4, "description": "Adam learning rate."},
        {"name": "activation", "type": "str", "default": "relu", "description": ""},
    ]


def test_make_config_merges_a_config_and_overrides():
    spec = GanSpec(name="g", summary="G.", factory=dict, config=Cfg)
    base = spec.make_config({"lr": 1e-3})
    merged = spec.make_config(base, activation="elu")
    assert (merged.lr, merged.activation) == (1e-3, "elu")


def test_config_assignment_is_validated():
    config = Cfg()
    with pytest.raises(ValidationError):
        config.lr = -1.0
