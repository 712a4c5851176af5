"""The sampling contract, saving and loading a model folder, and the writers."""

from __future__ import annotations

import json

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image
from safetensors.torch import load_file, save_file

import medgan_zoo as zoo
from medgan_zoo.model import GanModel, ModelInfo, ModelLoadError
from medgan_zoo.sampling import latents

LABELS = {0: "background", 1: "right ventricle", 2: "myocardium", 3: "left ventricle"}


def make_model(**config) -> GanModel:
    torch.manual_seed(0)
    settings = {"resolution": 32, "g_filters": 8, "d_filters": 8, "latent_dim": 16, **config}
    gan = zoo.create_gan("dcgan", with_discriminator=False, **settings)
    info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version=zoo.__version__,
                     gan_config=json.loads(gan.config.model_dump_json()), dataset="acdc-phantom",
                     label_map=LABELS, resolution=32, image_channels=1)
    return GanModel(gan, info)


@pytest.fixture(scope="module")
def model() -> GanModel:
    return make_model()


def test_sample_contract(model):
    samples = model.sample(6, seed=1)
    assert samples.images.shape == (6, 1, 32, 32) and samples.images.dtype == torch.float32
    assert samples.masks.shape == (6, 32, 32) and samples.masks.dtype == torch.uint8
    assert samples.images.device.type == "cpu"
    assert samples.images.min() >= -1 and samples.images.max() <= 1
    assert set(samples.masks.unique().tolist()) <= set(LABELS)
    assert samples.seed == 1 and samples.label_map == LABELS


def test_results_do_not_depend_on_batch_size_and_extend_as_prefixes(model):
    a = model.sample(10, seed=7, batch_size=3)
    b = model.sample(10, seed=7, batch_size=10)
    c = model.sample(4, seed=7)
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert torch.equal(c.images, a.images[:4])
    assert not torch.equal(model.sample(4, seed=8).images, c.images)


def test_generator_is_in_eval_mode_while_sampling(model):
    model.gan.generator.train()
    first = model.sample(3, seed=2)
    assert not model.gan.generator.training
    assert torch.equal(first.images, model.sample(3, seed=2).images)


def test_random_seed_is_recorded(model):
    samples = model.sample(2)
    assert torch.equal(model.sample(2, seed=samples.seed).images, samples.images)


@pytest.mark.parametrize("n", [0, -3])
def test_non_positive_n_is_refused(model, n):
    with pytest.raises(ValueError, match="positive"):
        model.sample(n)


def test_unknown_sampling_option_is_refused(model):
    with pytest.raises(TypeError, match="truncation"):
        model.sample(2, truncation=0.7)


def test_save_load_sample_round_trip(model, tmp_path):
    folder = model.save_pretrained(tmp_path / "model")
    assert {p.name for p in folder.iterdir()} == {"config.json", "model.safetensors", "README.md",
                                                  "samples.png"}
    card = (folder / "README.md").read_text()
    assert card.startswith("---\nlibrary_name: medgan-zoo\n") and "![samples](samples.png)" in card
    loaded = zoo.load(folder)
    assert loaded.label_map == LABELS
    assert torch.equal(loaded.sample(5, seed=3).images, model.sample(5, seed=3).images)
    assert torch.equal(zoo.load(f"local-dir:{folder}").sample(2, seed=3).masks, model.sample(2, seed=3).masks)


def test_ema_weights_are_saved_and_sampled(tmp_path):
    model = make_model(ema=True)
    with torch.no_grad():
        for p in model.gan.generator_ema.parameters():
            p.mul_(0.5)  # make the EMA copy differ from the live generator
    folder = model.save_pretrained(tmp_path / "ema", sample_grid=False)
    keys = load_file(folder / "model.safetensors").keys()
    assert any(k.startswith("generator_ema.") for k in keys) and any(k.startswith("generator.") for k in keys)
    loaded = zoo.load(folder)
    z = latents(1, 0, model.gan.sampling_block, 16)
    with torch.no_grad():
        ema = model.gan.to_pairs(model.gan.generate(z, generator=model.gan.generator_ema.eval()))[0][:3]
        live = model.gan.to_pairs(model.gan.generate(z, generator=model.gan.generator.eval()))[0][:3]
    assert torch.equal(loaded.sample(3, seed=1).images, ema)
    assert not torch.equal(ema, live)


def test_corrupt_and_mismatched_checkpoints_are_refused(model, tmp_path):
    folder = model.save_pretrained(tmp_path / "model", sample_grid=False)
    weights = folder / "model.safetensors"
    good = weights.read_bytes()
    weights.write_bytes(good[: len(good) // 2])
    with pytest.raises(ModelLoadError, match="model.safetensors"):
        zoo.load(folder)
    tensors = {k: v for k, v in load_file_bytes(good).items() if not k.endswith("net.0.weight")}
    save_file(tensors, str(weights))
    with pytest.raises(ModelLoadError, match="generator weights do not match"):
        zoo.load(folder)
    tensors = {**load_file_bytes(good), "critic.extra": torch.zeros(1)}
    save_file(tensors, str(weights))
    with pytest.raises(ModelLoadError, match="unexpected tensors for \\['critic'\\]"):
        zoo.load(folder)


def load_file_bytes(data: bytes) -> dict[str, torch.Tensor]:
    from safetensors.torch import load

    return load(data)


def test_config_naming_a_missing_plugin_says_what_to_install(model, tmp_path):
    folder = model.save_pretrained(tmp_path / "model", sample_grid=False)
    config = json.loads((folder / "config.json").read_text())
    config.update(gan="acme-gan", plugin_distribution="medgan-zoo-acme", plugin_version="0.3.0")
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="pip install medgan-zoo-acme"):
        zoo.load(folder)
    config.update(gan="lsgan", plugin_distribution="medgan-zoo")
    config["gan_config"]["g_filters"] = "wide"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="config.json.*g_filters"):
        zoo.load(folder)


def test_not_a_model_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="not a model folder"):
        zoo.load(tmp_path / "missing")
    with pytest.raises(ModelLoadError, match="config.json is missing"):
        zoo.load(tmp_path)


@pytest.mark.parametrize("fmt", ["png", "npz", "nifti"])
def test_streaming_writers_match_in_memory_samples(model, tmp_path, fmt):
    n = 70  # three writes of whole 32-sample blocks: 0-31, 32-63, 64-69
    out = model.sample_to(tmp_path / fmt, n, format=fmt, seed=4, batch_size=32)
    expected = model.sample(n, seed=4)
    as_uint8 = ((expected.images + 1) * 127.5).round().to(torch.uint8).numpy()
    manifest = json.loads((out / "samples.json").read_text())
    assert manifest["n"] == n and manifest["seed"] == 4 and manifest["format"] == fmt
    if fmt == "png":
        assert len(list(out.glob("image_*.png"))) == n
        assert np.array_equal(np.asarray(Image.open(out / "image_000065.png")), as_uint8[65, 0])
        assert np.array_equal(np.asarray(Image.open(out / "mask_000065.png")), expected.masks[65].numpy())
    elif fmt == "npz":
        files = sorted(out.glob("samples_*.npz"))
        assert [f.name for f in files] == ["samples_000000.npz", "samples_000032.npz", "samples_000064.npz"]
        images = np.concatenate([np.load(f)["images"] for f in files])
        masks = np.concatenate([np.load(f)["masks"] for f in files])
        assert np.array_equal(images, expected.images.numpy()) and np.array_equal(masks, expected.masks.numpy())
    else:
        volume = np.asarray(nib.load(out / "images_000032.nii.gz").dataobj)
        assert volume.shape == (32, 32, 32)
        assert np.allclose(volume[:, :, 1], expected.images[33, 0].numpy())
        masks = np.asarray(nib.load(out / "masks_000064.nii.gz").dataobj)
        assert masks.shape == (32, 32, 6)
        assert np.array_equal(masks[:, :, 5], expected.masks[69].numpy())


def test_unknown_format(model, tmp_path):
    with pytest.raises(ValueError, match="choose one of png, npz, nifti"):
        model.sample_to(tmp_path, 2, format="jpeg")
