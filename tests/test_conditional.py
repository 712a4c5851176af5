"""Class-conditional generation on acdc-phantom with pathology=true, the classes in every written
format, bad input, and the mode-coverage metric on a GAN that forgets the diseased groups."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.cli import cli
from medgan_zoo.errors import ConfigError

DATA = {"train_subjects": 20, "test_subjects": 5, "pathology": True}
COVERAGE_DATA = {"train_subjects": 40, "test_subjects": 10, "pathology": True}
LV, MYO = 3, 2


@pytest.fixture(scope="module")
def conditional(tmp_path_factory):
    out = tmp_path_factory.mktemp("cond") / "dcgan"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=300, progress=False,
              gan_config={"class_conditional": True, "g_filters": 16, "d_filters": 16, "batch_size": 16, "lr": 1e-3},
              dataset_config=DATA)
    return out


def test_asked_classes_carry_their_anatomy(conditional):
    """dcm (dilated LV, thin wall) against hcm (small cavity, thick wall), 64 samples each with a
    fixed seed, measured on the generated masks. Measured over three training seeds at 300 steps:
    dcm's LV cavity is 4.3-8.7 times hcm's (real data: 4.1 times); the test asks for 2 times."""
    model = zoo.load(conditional)
    assert model.class_names == ["nor", "minf", "dcm", "hcm", "rv"]
    dcm, hcm = (model.sample(64, seed=1, classes=c) for c in ("dcm", "hcm"))
    lv = {name: float((s.masks == LV).float().sum((1, 2)).mean()) for name, s in (("dcm", dcm), ("hcm", hcm))}
    assert lv["dcm"] > 2 * lv["hcm"], lv
    assert dcm.class_of(0) == "dcm" and torch.equal(hcm.classes, torch.full((64,), 3))


def test_without_classes_the_training_proportions_are_drawn_per_sample(conditional):
    model = zoo.load(conditional)
    shares = torch.tensor(model.gan.config.class_shares)
    drawn = model.sample(400, seed=3)
    counts = torch.bincount(drawn.classes, minlength=5).double() / 400
    assert (counts - shares).abs().max() < 0.07  # 400 draws: a few percent of sampling error
    head = model.sample(20, seed=3, batch_size=8)  # sample i's class depends only on (seed, i)
    assert torch.equal(head.classes, drawn.classes[:20]) and torch.equal(head.images, drawn.images[:20])
    mixed = model.sample(4, seed=0, classes=["dcm", "hcm", 0, "RV"])
    assert mixed.classes.tolist() == [2, 3, 0, 4]
    for scalar in (np.int64(2), torch.tensor(2), np.array(["dcm"])[0]):  # numpy and 0-d tensor scalars
        assert model.sample(2, seed=0, classes=scalar).classes.tolist() == [2, 2]
    assert model.sample(2, seed=0, classes=np.array([1, 3])).classes.tolist() == [1, 3]


def test_classes_are_written_in_every_format(conditional, tmp_path):
    model = zoo.load(conditional)
    for fmt in ("png", "npz", "nifti"):
        model.sample_to(tmp_path / fmt, 6, format=fmt, seed=0, batch_size=32, classes="minf")
    rows = (tmp_path / "png" / "classes_000000.csv").read_text().splitlines()
    assert rows[0] == "index,class" and rows[1:] == [f"{i},minf" for i in range(6)]
    sidecar = (tmp_path / "png" / "classes_000000.csv").read_text()
    assert (tmp_path / "nifti" / "classes_000000.csv").read_text() == sidecar
    npz = np.load(tmp_path / "npz" / "samples_000000.npz")
    assert npz["classes"].tolist() == [1] * 6 and npz["class_names"].tolist()[1] == "minf"
    manifest = json.loads((tmp_path / "npz" / "samples.json").read_text())
    assert manifest["class_names"] == ["nor", "minf", "dcm", "hcm", "rv"] and manifest["classes"] == "minf"
    result = CliRunner().invoke(cli, ["sample", str(conditional), "-n", "3", "--seed", "0", "--class", "hcm",
                                      "--out", str(tmp_path / "cli")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "classes_000000.csv").read_text().count(",hcm") == 3


def test_bad_classes_say_what_is_known(conditional, tmp_path):
    model = zoo.load(conditional)
    with pytest.raises(ValueError, match="unknown class 'xyz'; this model's classes are nor, minf, dcm, hcm, rv"):
        model.sample(2, seed=0, classes="xyz")
    result = CliRunner().invoke(cli, ["sample", str(conditional), "-n", "2", "--class", "flu", "--out", str(tmp_path)])
    assert result.exit_code == 2 and "--class" in result.output and "nor, minf, dcm" in result.output
    plain = tmp_path / "plain"
    zoo.train("dcgan", "acdc-phantom", out=plain, resolution=32, steps=1, progress=False,
              gan_config={"g_filters": 8, "d_filters": 8}, dataset_config={"train_subjects": 2, "test_subjects": 1})
    with pytest.raises(ValueError, match="model is unconditional: it takes no classes"):
        zoo.load(plain).sample(2, seed=0, classes="dcm")
    with pytest.raises(ValueError, match=r"a class is a name \(nor, minf, dcm, hcm, rv\) or an index 0..4, got 2.5"):
        model.sample(2, seed=0, classes=2.5)
    # "false" from the command line is false, as the GAN's config reads it: an ordinary run
    zoo.train("dcgan", "acdc-phantom", out=tmp_path / "off", resolution=32, steps=1, progress=False,
              gan_config={"class_conditional": "false", "g_filters": 8, "d_filters": 8},
              dataset_config={**DATA, "train_subjects": 5})
    assert zoo.load(tmp_path / "off").class_names == []
    if "spade" in zoo.get_registry().gans:
        with pytest.raises(ConfigError, match=r"gan .spade. \(medgan-zoo-spade .*\) does not take class_conditional"):
            zoo.train("spade", "acdc-phantom", out=tmp_path / "s", resolution=32, steps=1, progress=False,
                      gan_config={"class_conditional": True}, dataset_config=DATA)
    with pytest.raises(ConfigError, match="class_conditional needs a data set whose slices carry a class: "
                                          "acdc-phantom has none"):
        zoo.train("dcgan", "acdc-phantom", out=tmp_path / "x", resolution=32, steps=1, progress=False,
                  gan_config={"class_conditional": True}, dataset_config={"train_subjects": 2, "test_subjects": 1})
    assert not (tmp_path / "x" / "checkpoints").exists()  # refused before anything was written


# -- mode coverage ----------------------------------------------------------------------------------

def _coverage(samples, **config):
    from medgan_zoo.evaluation.configs import ModeCoverageConfig, UnetFdConfig
    from medgan_zoo.evaluation.coverage import ModeCoverageMetric
    from medgan_zoo.metric import EvalContext

    unet = UnetFdConfig(steps=20, encoder_depth=3, decoder_channels=(8, 8, 8))
    ctx = EvalContext(samples, "acdc-phantom", None, 32, dict(COVERAGE_DATA), torch.device("cpu"), None,
                      {"unet-fd": unet})
    # 800 steps: at 600 the confusion matrix sat at a condition number of 50-54 (the verdict guard), and
    # which side of it depended on the installed packages; at 800 it is about 5
    return ModeCoverageMetric(ModeCoverageConfig(steps=800, **config))(ctx).values


@pytest.fixture(scope="module")
def real_test():
    return zoo.load_dataset("acdc-phantom", split="test", resolution=32, **COVERAGE_DATA)


def test_coverage_of_the_real_test_slices_is_near_zero(real_test):
    from medgan_zoo.sampling import Samples

    values = _coverage(Samples(real_test.images, real_test.masks, 0))
    assert values["tvd"] < 1e-9 and values["missing"] == []  # the same slices on both sides
    assert values["classifier_test_accuracy"] > 0.5  # five classes: chance is 0.2 (measured 0.65)
    assert len(values["classifier_confusion"]) == 5 and sum(map(sum, values["classifier_confusion"])) == len(real_test)


def test_coverage_names_the_groups_a_gan_forgot(real_test):
    """A "GAN" that returns only normal subjects' slices: the diseased groups are reported missing."""
    from medgan_zoo.sampling import Samples

    normal = real_test.group_index == 0
    values = _coverage(Samples(real_test.images[normal], real_test.masks[normal], 0))
    # the classifier tells dcm and hcm from the rest on single slices; normal slices it also takes
    # for minf or rv now and then (apical slices look alike), so those are not called missing
    assert values["tvd"] > 0.3
    assert {"dcm", "hcm"} <= set(values["missing"]) and "nor" not in values["missing"]
    assert values["per_class"]["dcm"]["generated"] <= 2  # at most a stray misclassified slice


def test_coverage_refuses_a_data_set_without_classes():
    from medgan_zoo.evaluation.configs import ModeCoverageConfig
    from medgan_zoo.evaluation.coverage import ModeCoverageMetric
    from medgan_zoo.metric import EvalContext
    from medgan_zoo.sampling import Samples

    real = zoo.load_dataset("acdc-phantom", split="test", resolution=32, train_subjects=2, test_subjects=1)
    ctx = EvalContext(Samples(real.images, real.masks, 0), "acdc-phantom", None, 32,
                      {"train_subjects": 2, "test_subjects": 1}, torch.device("cpu"), None)
    with pytest.raises(ConfigError, match="mode-coverage needs a data set whose slices carry a class.*pathology=true"):
        ModeCoverageMetric(ModeCoverageConfig(steps=1))(ctx)


def test_stylegan2_takes_the_class_too(tmp_path):
    """NVIDIA's conditioning: the class embedded beside z in the mapping network, and D's output
    projected on a mapping of the class. A short run trains and samples per class."""
    if "stylegan2" not in zoo.get_registry().gans:
        pytest.skip("the StyleGAN2 plugin is not installed")
    out = tmp_path / "sg2"
    zoo.train("stylegan2", "acdc-phantom", out=out, resolution=32, steps=2, progress=False, dataset_config=DATA,
              gan_config={"class_conditional": True, "channel_base": 256, "channel_max": 16, "latent_dim": 16,
                          "w_dim": 16, "mapping_layers": 2, "batch_size": 4, "r1_interval": 2, "pl_interval": 2})
    model = zoo.load(out)
    assert model.class_names == ["nor", "minf", "dcm", "hcm", "rv"]
    a, b = model.sample(4, seed=0, classes="dcm"), model.sample(4, seed=0, classes="hcm")
    assert a.classes.tolist() == [2] * 4 and not torch.equal(a.images, b.images)  # the class changes the image
    with pytest.raises(ValueError, match="class-conditional: pass classes"):
        model.gan.generate(torch.zeros(1, 16))


@pytest.mark.parametrize("gan", ["wgan-gp", "hingegan"])
def test_the_critic_steps_fakes_take_the_real_batchs_classes(gan):
    """No official code conditions WGAN-GP on classes: medgan-zoo draws the fakes of each critic step in
    the real batch's classes, so the gradient penalty interpolates between images of one class and the
    class it is conditioned on (docs/conditional.md). The generator step reuses the last critic step's
    fakes, in those classes too."""
    import contextlib

    from medgan_zoo.gans.base import StepContext, joint_from_pairs

    torch.manual_seed(0)
    model = zoo.create_gan(gan, resolution=32, g_filters=8, d_filters=8, latent_dim=8, batch_size=6, n_critic=2,
                           class_conditional=True, class_names=("a", "b", "c"), class_shares=(0.2, 0.3, 0.5))
    model.configure_optimizers()
    seen: dict[str, list[torch.Tensor]] = {"G": [], "D": []}
    model.generator.register_forward_pre_hook(lambda m, args: seen["G"].append(args[1].clone()))
    model.discriminator.register_forward_pre_hook(lambda m, args: seen["D"].append(args[1].clone()))
    batches = iter([torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([1, 1, 1, 0, 2, 0])])
    current: list[torch.Tensor] = []

    def batch() -> torch.Tensor:
        current[:] = [next(batches)]
        return joint_from_pairs(torch.rand(6, 1, 32, 32) * 2 - 1, torch.randint(0, 4, (6, 32, 32)), 4)

    ctx = StepContext(batch=batch, rng=torch.Generator().manual_seed(0), device=torch.device("cpu"),
                      autocast=contextlib.nullcontext, diffaugment=lambda x: x, batch_classes=lambda: current[0])
    model.train_step(ctx)
    first, second = torch.tensor([0, 0, 1, 2, 2, 2]), torch.tensor([1, 1, 1, 0, 2, 0])
    assert [c.tolist() for c in seen["G"]] == [first.tolist(), second.tolist()]
    expected = [first] * (3 if gan == "wgan-gp" else 2) + [second] * (3 if gan == "wgan-gp" else 2) + [second]
    assert [c.tolist() for c in seen["D"]] == [c.tolist() for c in expected]  # real, fake (, penalty); G step


def test_the_dice_protocol_reports_each_group(conditional):
    tiny = {"steps": 5, "encoder_depth": 3, "decoder_channels": [8, 8, 8], "sources": ["synthetic"]}
    results = zoo.evaluate(conditional, "acdc-phantom", ["dice"], n=32, scale="quick", dataset_config=DATA,
                           metric_config={"dice": tiny}, progress=False)
    per_group = results["dice"]["sources"]["synthetic"]["per_group"]
    assert list(per_group) == ["nor", "minf", "dcm", "hcm", "rv"] and all(0 <= v <= 1 for v in per_group.values())
