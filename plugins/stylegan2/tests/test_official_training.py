"""StyleGAN2's training length (kimg), the conditional discriminator's label mapping and ADA's
default equal NVlabs/stylegan2-ada-pytorch's; a model recorded before them keeps what it ran with."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from medgan_zoo_stylegan2.config import StyleGan2Config
from safetensors.torch import load_file

import medgan_zoo as zoo

RECORDED = Path(__file__).parent / "data" / "recorded-run"  # made by data/make_recorded_run.py at d3a1913
TINY = {"channel_base": 64, "channel_max": 8, "latent_dim": 4, "w_dim": 4, "batch_size": 2}
DATA = {"train_subjects": 4, "test_subjects": 1}


def test_the_conditional_discriminators_label_mapping_has_nvidias_default_8_layers():
    """NVlabs/stylegan2-ada-pytorch training/networks.py, Discriminator.__init__: self.mapping =
    MappingNetwork(z_dim=0, c_dim=c_dim, w_dim=cmap_dim, num_ws=None, w_avg_beta=None, **mapping_kwargs) with
    MappingNetwork's default num_layers=8; train.py sets spec.map on G_kwargs.mapping_kwargs only."""
    gan = zoo.create_gan("stylegan2", resolution=16, preset="auto", class_conditional=True, class_names=("a", "b"),
                         **TINY)
    assert gan.config.mapping_layers == 2 and len(gan.generator.mapping.layers) == 2  # auto's map=2 for G
    assert len(gan.discriminator.cmap.layers) == 8
    deeper = zoo.create_gan("stylegan2", resolution=16, class_conditional=True, class_names=("a", "b"),
                            d_mapping_layers=3, **TINY)
    assert len(deeper.discriminator.cmap.layers) == 3


def test_kimg_is_nvidias_training_length_and_config_f_trains_without_ada_only_when_asked():
    """train.py: cfg_specs[...]['kimg'] = 25000 (--kimg overrides); training_loop.py stops once
    cur_nimg >= total_kimg * 1000, cur_nimg growing by batch_size per step. --aug defaults to 'ada'."""
    config = StyleGan2Config(resolution=128)
    assert config.kimg == 25000 and config.training_steps() == (781_250, "kimg=25000 at batch 32")
    assert StyleGan2Config(resolution=16, kimg=0.01, batch_size=3).training_steps()[0] == 4  # ceil(10 / 3)
    assert config.ada and not StyleGan2Config(resolution=128, ada=False).ada


def test_a_run_without_steps_trains_kimg_and_given_steps_win_and_the_log_says_which(tmp_path):
    common = dict(resolution=16, progress=True, dataset_config=DATA, checkpoint_every=100, sample_every=100)
    own = zoo.train("stylegan2", "acdc-phantom", out=tmp_path / "own", gan_config={**TINY, "kimg": 0.006},
                    **common)
    assert own.steps == 3
    assert "training 3 steps from kimg=0.006 at batch 2" in (own.out / "train.log").read_text()
    given = zoo.train("stylegan2", "acdc-phantom", out=tmp_path / "given", steps=2,
                      gan_config={**TINY, "kimg": 0.006}, **common)
    assert given.steps == 2
    note = "training 2 steps, as given; without --steps: 3 steps from kimg=0.006 at batch 2"
    assert note in (given.out / "train.log").read_text()
    assert json.loads((given.out / "config.json").read_text())["training"]["length"] == note.removeprefix("training ")
    # resumed without steps, a run ends where it was started to end, not at its kimg
    resumed = zoo.train("stylegan2", "acdc-phantom", out=tmp_path / "given", resume=True,
                        gan_config={**TINY, "kimg": 0.006}, **common)
    assert resumed.steps == 2


def test_a_model_recorded_before_kimg_and_the_8_layer_label_mapping_samples_and_resumes_as_trained(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(RECORDED, run)
    recorded = json.loads((RECORDED / "config.json").read_text())["gan_config"]
    assert not {"kimg", "d_mapping_layers", "gpus"} & recorded.keys() and recorded["class_conditional"]
    model = zoo.load(run)
    c = model.gan.config
    assert (c.kimg, c.d_mapping_layers, c.gpus, c.r1_gamma) == (None, None, 1, recorded["r1_gamma"])
    expected = load_file(str(RECORDED / "expected_samples.safetensors"))
    pairs = model.sample(4, seed=3, classes=torch.tensor([0, 1, 2, 3]))
    # the same numbers up to float rounding: CPUs with other vector units (AVX2, AVX-512) round differently
    torch.testing.assert_close(pairs.images, expected["images"], rtol=0, atol=1e-5)
    assert torch.equal(pairs.masks, expected["masks"])

    for name in ("config.json", "model.safetensors"):  # as an interrupted run leaves its folder: a checkpoint
        (run / name).unlink()
    started = json.loads((RECORDED / "train.json").read_text())
    depth, r1 = [], []

    class Depth:
        def on_start(self, state, control):
            depth.append(len(state.gan.discriminator.cmap.layers))
            r1.append(state.gan.config.r1_gamma)

    result = zoo.train("stylegan2", "acdc-phantom", out=run, resume=True, steps=3, resolution=16, progress=False,
                       checkpoint_every=100, sample_every=100, callbacks=[Depth()],
                       dataset_config=started["dataset_config"], gan_config=started["gan_config"])
    assert result.steps == 3 and result.resumed_from == [2]
    assert depth == [recorded["mapping_layers"]]  # the discriminator it was trained with (2 layers), loaded
    assert r1 == [recorded["r1_gamma"]]  # auto with a given batch: R1 from that batch, as it ran (0.0256)


@pytest.mark.parametrize("field", ["kimg", "d_mapping_layers"])
def test_bad_values_name_the_field(field):
    with pytest.raises(zoo.ConfigError, match=field):
        zoo.create_gan("stylegan2", resolution=16, **{field: 0})


def test_the_paper_scale_study_trains_stylegan2_for_its_kimg_and_the_others_for_20000_steps():
    from medgan_zoo.evaluation.study import _steps_for

    assert _steps_for("stylegan2", None, "paper", 20000, 128) is None  # train() then takes the kimg
    assert _steps_for("dcgan", None, "paper", 20000, 128) == 20000
    assert _steps_for("stylegan2", 500, "paper", 20000, 128) == 500  # --steps given wins
    assert _steps_for("stylegan2", None, "quick", 300, 32) == 300
