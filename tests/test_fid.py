"""FID/KID through torch-fidelity's Inception: weights resolution, and values equal to
torch-fidelity's own ``calculate_metrics`` for the same (randomly initialised) weights and inputs."""

from __future__ import annotations

import pytest
import torch

from medgan_zoo.evaluation.fid import FrechetInceptionDistance, compute_fid, compute_kid
from medgan_zoo.evaluation.inception import (
    FIDELITY_FILE,
    OFFLINE_ENV,
    PYTORCH_FID_FILE,
    WEIGHTS_ENV,
    WeightsNotFound,
    find_inception_weights,
    to_uint8_rgb,
)


def _images(seed: int, n: int = 12, shift: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.randint(0, 200, (n, 3, 32, 32), dtype=torch.uint8, generator=g)
    return (base.int() + shift).clamp(0, 255).to(torch.uint8)


class _UInt8Set(torch.utils.data.Dataset):
    def __init__(self, images):
        self.images = images

    def __len__(self):
        return len(self.images)

    def __getitem__(self, i):
        return self.images[i]


def test_fid_and_kid_equal_torch_fidelity(random_inception):
    import torch_fidelity

    a, b = _images(0, n=8), _images(1, n=8, shift=40)
    ours = compute_fid(a, b, weights=str(random_inception), device="cpu")
    kid, kid_std = compute_kid(a, b, weights=str(random_inception), device="cpu", subsets=5, subset_size=8, seed=3)
    theirs = torch_fidelity.calculate_metrics(
        input1=_UInt8Set(a), input2=_UInt8Set(b), fid=True, kid=True, kid_subsets=5, kid_subset_size=8,
        rng_seed=3, feature_extractor_weights_path=str(random_inception), cuda=False, cache=False,
        verbose=False)
    assert ours > 1e-3  # calibrated batch norm: the features are not constant
    assert abs(ours - theirs["frechet_inception_distance"]) / theirs["frechet_inception_distance"] <= 1e-4
    assert kid == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-4)
    # 8 of 8 samples per subset: every subset is the whole set, the std is rounding noise on both sides
    assert abs(kid_std - theirs["kernel_inception_distance_std"]) <= 1e-4 * abs(kid) + 1e-5


def test_accumulator_equals_the_function_and_identical_sets_score_about_zero(random_inception):
    a, b = _images(0, n=8), _images(1, n=8, shift=40)
    fid = FrechetInceptionDistance(weights=str(random_inception), device="cpu")
    fid.update(a[:3], real=True)
    fid.update(a[3:], real=True)
    fid.update(b, real=False)
    different = fid.compute()
    assert different == pytest.approx(compute_fid(a, b, weights=str(random_inception), device="cpu"), rel=1e-9)
    fid.reset()
    with pytest.raises(ValueError, match="both real=True and real=False"):
        fid.compute()
    fid.update(a, real=True)
    fid.update(a, real=False)
    # 8 samples in 2048 dimensions: only rounding on the ~2040 zero eigenvalues remains
    assert abs(fid.compute()) < 1e-3 * different


def test_float_images_are_quantised_like_uint8_and_gray_is_repeated():
    gray = torch.tensor([-1.0, 0.0, 1.0]).view(1, 1, 1, 3)
    rgb = to_uint8_rgb(gray)
    assert rgb.dtype == torch.uint8 and rgb.shape == (1, 3, 1, 3)
    assert rgb[0, :, 0].tolist() == [[0, 128, 255]] * 3
    with pytest.raises(ValueError, match="NaN"):
        to_uint8_rgb(torch.tensor([[[[float("nan")]]]]))
    five = torch.cat([torch.ones(1, 1, 2, 2), -torch.ones(1, 4, 2, 2)], dim=1)  # other counts: the first channel
    assert to_uint8_rgb(five).shape == (1, 3, 2, 2) and int(to_uint8_rgb(five).min()) == 255


def test_weights_are_found_in_order(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setenv(OFFLINE_ENV, "1")
    monkeypatch.delenv(WEIGHTS_ENV, raising=False)
    with pytest.raises(WeightsNotFound) as info:
        find_inception_weights()
    message = str(info.value)
    assert FIDELITY_FILE in message and PYTORCH_FID_FILE in message and WEIGHTS_ENV in message
    hub = tmp_path / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / PYTORCH_FID_FILE).write_bytes(b"x")
    import hashlib

    from medgan_zoo.evaluation import inception

    monkeypatch.setattr(inception, "WEIGHTS_SHA256", hashlib.sha256(b"x").hexdigest())  # the "published" bytes
    assert find_inception_weights() == hub / PYTORCH_FID_FILE
    env_file = tmp_path / "env.pth"
    env_file.write_bytes(b"y")
    monkeypatch.setenv(WEIGHTS_ENV, str(env_file))
    with pytest.warns(UserWarning, match="not the 2015-12-05 Inception"):
        assert find_inception_weights() == env_file
    explicit = tmp_path / "explicit.pth"
    explicit.write_bytes(b"z")
    with pytest.warns(UserWarning, match="not the 2015-12-05 Inception"):
        assert find_inception_weights(explicit) == explicit
    with pytest.raises(WeightsNotFound, match="not a file"):
        find_inception_weights(tmp_path / "missing.pth")
