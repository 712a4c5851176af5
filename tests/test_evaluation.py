"""The Dice protocol, U-Net FD, PRDC, memorisation and the harness, at the quick scale on phantoms."""

from __future__ import annotations

import json
import math

import pytest
import torch

import medgan_zoo as zoo
from medgan_zoo.data.slices import DatasetError
from medgan_zoo.evaluation.dice import dice_scores
from medgan_zoo.evaluation.harness import EvaluationError, evaluate
from medgan_zoo.model import GanModel, ModelInfo
from medgan_zoo.sampling import Samples

DATA = {"train_subjects": 3, "test_subjects": 2}
ACDC_LABELS = {0: "background", 1: "right ventricle", 2: "myocardium", 3: "left ventricle"}
FAST_UNET = {"steps": 15, "batch_size": 8, "encoder_depth": 3, "decoder_channels": [8, 8, 8]}


def test_dice_per_volume_per_class_by_hand():
    truth = torch.zeros(3, 2, 2, dtype=torch.uint8)
    pred = torch.zeros(3, 2, 2, dtype=torch.uint8)
    truth[0, 0, 0] = 1  # subject a, slice 0: class 1 one pixel
    pred[0, 0, 0] = 1
    pred[0, 0, 1] = 1  # ... and one false positive: Dice 2*1/(2+1)
    truth[1, 1, 1] = 2  # subject a, slice 1: class 2 missed entirely: Dice 0
    truth[2, 0, 0] = 1  # subject b: class 1 exact; class 2 absent from both (skipped)
    pred[2, 0, 0] = 1
    result = dice_scores(pred, truth, ["a", "a", "b"], num_classes=3)
    # subject a = mean(2/3, 0) = 1/3 (a 3D volume: both slices together); subject b = 1
    assert result["dice"] == pytest.approx((1 / 3 + 1) / 2)
    assert result["per_class"][1] == pytest.approx((2 / 3 + 1) / 2)
    assert result["per_class"][2] == pytest.approx(0.0)
    assert result["pooled_per_class"][1] == pytest.approx(2 * 2 / (3 + 2))
    assert result["pooled"] == pytest.approx((0.8 + 0.0) / 2)
    empty = dice_scores(torch.zeros(1, 2, 2, dtype=torch.uint8), torch.zeros(1, 2, 2, dtype=torch.uint8), ["c"], 3)
    assert math.isnan(empty["dice"]) and math.isnan(empty["per_class"][1])
    with pytest.raises(ValueError, match="must agree"):
        dice_scores(pred, truth[:2], ["a", "a"], 3)


@pytest.fixture(scope="module")
def model() -> GanModel:
    torch.manual_seed(0)
    gan = zoo.create_gan("dcgan", resolution=32, g_filters=8, latent_dim=16, with_discriminator=False)
    info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version=zoo.__version__,
                     gan_config=json.loads(gan.config.model_dump_json()), dataset="acdc-phantom",
                     label_map=ACDC_LABELS, resolution=32, image_channels=1)
    return GanModel(gan, info)


@pytest.fixture(scope="module")
def real():
    return zoo.load_dataset("acdc-phantom", split="train", resolution=32, **DATA)


def test_protocol_end_to_end_writes_reports(model, tmp_path):
    results = evaluate(model, "acdc-phantom", ["dice", "unet-fd", "memorisation", "prdc"], n=48, scale="quick",
                       dataset_config=DATA, out=tmp_path,
                       metric_config={"dice": {**FAST_UNET, "seeds": 2}, "unet-fd": FAST_UNET,
                                      "prdc": {"features": "pixels"}})
    dice = results["dice"]
    assert set(dice["sources"]) == {"synthetic", "original", "augmented original", "original + synthetic"}
    pairs = {source: r["training_pairs"] for source, r in dice["sources"].items()}
    assert pairs["original + synthetic"] == 48 + pairs["original"]
    assert all(0 <= s["dice"] <= 1 for s in dice["sources"].values())
    assert dice["seeds"] == 2 and dice["test_subjects"] == 2 and dice["steps"] == 15
    assert results["unet-fd"]["unet_fd"] > 0 and len(results["unet-fd"]["reference_unet_sha256"]) == 64
    assert set(results["prdc"]) >= {"precision", "recall", "density", "coverage"}
    assert results["meta"]["samples"] == 48 and results["meta"]["scale"] == "quick"
    saved = json.loads((tmp_path / "evaluation.json").read_text())
    assert saved["dice"]["dice"] == dice["dice"]
    report = (tmp_path / "evaluation.md").read_text()
    assert "| augmented original |" in report and "| unet-fd | unet_fd" in report
    # each number beside what real data gets: the real data's Dice, 0 for a distance, the real
    # test images' near-copy rate
    assert dice["reference"] == {"dice": dice["sources"]["original"]["dice"]}
    m = results["memorisation"]["test_images"]  # the k-th of m test distances, k = max(1, floor(0.01 (m + 1)))
    expected = max(1, int(0.01 * (m + 1))) / (m + 1)
    assert results["memorisation"]["reference"] == {"near_copy_fraction": expected, "ratio": 1.0}
    assert results["memorisation"]["expected_near_copy_fraction"] == expected
    assert f"| dice {dice['sources']['original']['dice']:.4g} |" in report and "| unet_fd 0 |" in report
    assert (tmp_path / "memorisation_pairs.png").is_file()


def test_memorisation_sees_a_gan_that_copies_its_training_set(real):
    copies = Samples(real.images[:40].clone(), real.masks[:40].clone(), seed=0, label_map=ACDC_LABELS)
    noise = Samples(torch.rand(40, 1, 32, 32) * 2 - 1, real.masks[:40].clone(), seed=0, label_map=ACDC_LABELS)
    copied = evaluate(copies, "acdc-phantom", ["memorisation"], dataset_config=DATA)["memorisation"]
    fresh = evaluate(noise, "acdc-phantom", ["memorisation"], dataset_config=DATA)["memorisation"]
    assert copied["near_copy_fraction"] == 1.0 and copied["nn_distance_median"] < 1e-4
    assert fresh["near_copy_fraction"] == 0.0 and fresh["ratio"] > 1


@pytest.mark.parametrize("test_images, per_subject", [(20, 1), (400, 1), (400, 20)])
def test_a_model_drawing_like_the_test_images_scores_the_expected_near_copy_fraction(test_images, per_subject):
    """The null of the near-copy fraction, by simulation: samples whose distances are drawn like the
    test images' score k / (m + 1) on average (not the quantile: 1/21 with 20 test images), and the
    test images' own rate, leaving each subject out, finds the same for independent images and a
    higher rate when a subject's slices share their distance (20 slices per subject)."""
    from medgan_zoo.evaluation.neighbours import NearestTraining

    generator = torch.Generator().manual_seed(0)
    subjects = torch.arange(test_images) // per_subject
    fractions, own = [], []
    for _ in range(1000):
        test = torch.rand(test_images // per_subject, generator=generator)[subjects] + 1e-3 * torch.rand(
            test_images, generator=generator)
        samples = torch.rand(200, generator=generator)
        found = NearestTraining(samples, torch.zeros(200, dtype=torch.long), test, 0.01, subjects)
        fractions.append(float(found.near_copies().double().mean()))
        own.append(found.test_near_copy_fraction())
    expected = max(1, int(0.01 * (test_images + 1))) / (test_images + 1)
    assert found.expected_fraction == pytest.approx(expected)
    if per_subject == 1:
        assert sum(fractions) / len(fractions) == pytest.approx(expected, rel=0.06)
        assert sum(own) / len(own) == pytest.approx(max(1, int(0.01 * test_images)) / test_images, rel=0.15)
    else:  # 20 subjects: the threshold is the smallest subject's distance, about 1/21 of fresh images
        assert sum(fractions) / len(fractions) == pytest.approx(1 / 21, rel=0.1)
        assert sum(own) / len(own) > 2 * expected


def test_exact_duplicates_neither_hide_a_copier_nor_crash():
    from medgan_zoo.evaluation.neighbours import NearestTraining

    test = torch.cat([torch.zeros(12), torch.rand(8)])  # 12 test slices duplicate training slices (blank)
    copier = NearestTraining(torch.zeros(10), torch.zeros(10, dtype=torch.long), test, 0.01)
    assert copier.threshold == 0 and float(copier.near_copies().double().mean()) == 1.0
    blank = NearestTraining(torch.rand(10), torch.zeros(10, dtype=torch.long), torch.zeros(20), 0.01)
    summary = blank.summary()
    assert summary["near_copy_fraction"] == 0.0 and summary["ratio"] != summary["ratio"]  # nan: no unit


def test_unet_fd_ranks_real_data_above_noise_and_caches_its_reference(real):
    from medgan_zoo.data.cache import cache_root

    settings = dict(dataset_config=DATA, metric_config={"unet-fd": FAST_UNET})
    same = Samples(real.images, real.masks, seed=0, label_map=ACDC_LABELS)
    noise = Samples(torch.rand(len(real), 1, 32, 32) * 2 - 1, real.masks, seed=0, label_map=ACDC_LABELS)
    close = evaluate(same, "acdc-phantom", ["unet-fd"], **settings)["unet-fd"]
    far = evaluate(noise, "acdc-phantom", ["unet-fd"], **settings)["unet-fd"]
    assert abs(close["unet_fd"]) < 1e-6 < far["unet_fd"]
    assert close["reference_unet_sha256"] == far["reference_unet_sha256"]  # trained once, then cached
    assert len(list((cache_root() / "reference-unet").glob("*.safetensors"))) >= 1


def test_bad_inputs_are_refused(model, real, write_acdc):
    with pytest.raises(EvaluationError, match="label map"):
        evaluate(model, "idrid-phantom", ["memorisation"], n=4)
    rgb = Samples(torch.zeros(4, 3, 32, 32), torch.zeros(4, 32, 32, dtype=torch.uint8), 0, ACDC_LABELS)
    with pytest.raises(EvaluationError, match="3 image channel"):
        evaluate(rgb, "acdc-phantom", ["memorisation"], dataset_config=DATA)
    broken = Samples(real.images[:4].clone(), real.masks[:4], 0, ACDC_LABELS)
    broken.images[2, 0, 0, 0] = float("nan")
    with pytest.raises(EvaluationError, match=r"samples \[2\] contain NaN"):
        evaluate(broken, "acdc-phantom", ["memorisation"], dataset_config=DATA)
    with pytest.raises(zoo.UnknownNameError, match="did you mean 'dice'"):
        evaluate(broken, "acdc-phantom", ["dise"])
    with pytest.raises(zoo.ConfigError, match="unknown key 'step'"):
        evaluate(model, "acdc-phantom", ["dice"], n=4, metric_config={"dice": {"step": 3}})
    root = write_acdc(patients=(1, 2))  # training exams only
    samples = Samples(torch.zeros(4, 1, 32, 32), torch.zeros(4, 32, 32, dtype=torch.uint8), 0, ACDC_LABELS)
    with pytest.raises(DatasetError, match="no test exams"):
        evaluate(samples, "acdc", ["memorisation"], data_root=root)


def test_prdc_accumulator_equals_the_function(real):
    from medgan_zoo.evaluation.neighbours import PrecisionRecallDensityCoverage, pixel_features
    from medgan_zoo.evaluation.statistics import prdc

    noise = torch.rand(30, 1, 32, 32) * 2 - 1
    metric = PrecisionRecallDensityCoverage(k=3)
    metric.update(real.images[:20], real=True)
    metric.update(real.images[20:40], real=True)
    metric.update(noise, real=False)
    assert metric.compute() == prdc(pixel_features(real.images[:40]), pixel_features(noise), 3)


def test_paper_scale_smoke(model):
    """The paper's defaults (resnet18 U-Net, depth 5) run; only the budgets are cut for the test."""
    results = evaluate(model, "acdc-phantom", ["dice"], n=8, scale="paper", dataset_config=DATA,
                       metric_config={"dice": {"steps": 2, "seeds": 1, "sources": ["synthetic"]}})
    assert results["dice"]["encoder"] == "resnet18"
    assert results["meta"]["metric_config"]["dice"]["encoder_depth"] == 5
    assert 0 <= results["dice"]["dice"] <= 1
