"""The phantom twins: determinism, contract, split structure, and measured anatomy."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgan_zoo import ConfigError, get_registry, load_dataset
from medgan_zoo.data.configs import AcdcPhantomConfig, IdridPhantomConfig, Sliver07PhantomConfig
from medgan_zoo.data.phantoms.abdomen import AbdomenPhantom
from medgan_zoo.data.phantoms.cardiac import CardiacPhantom
from medgan_zoo.data.phantoms.fundus import FundusPhantom

SMALL = {
    "acdc-phantom": {"train_subjects": 3, "test_subjects": 2},
    "sliver07-phantom": {"volumes": 3, "test_volumes": (3,), "slices_per_volume": 24},
    "idrid-phantom": {"train_images": 4, "test_images": 2},
}
TWINS = {"acdc-phantom": "acdc", "sliver07-phantom": "sliver07", "idrid-phantom": "idrid"}


@pytest.mark.parametrize("name", SMALL)
def test_phantom_matches_its_twins_contract(name):
    data = load_dataset(name, resolution=32, cache=False, **SMALL[name])
    twin = get_registry().datasets[TWINS[name]]
    assert data.label_map == twin.label_map
    assert data.images.shape[1] == twin.channels
    assert data.images.dtype == torch.float32 and data.images.min() >= -1 and data.images.max() <= 1
    assert set(data.masks.unique().tolist()) <= set(twin.label_map)
    assert set(data.masks.unique().tolist()) == set(twin.label_map)  # every class appears


@pytest.mark.parametrize("name", SMALL)
def test_phantom_is_deterministic_and_seeded(name):
    a = load_dataset(name, resolution=32, cache=False, **SMALL[name])
    b = load_dataset(name, resolution=32, cache=False, **SMALL[name])
    c = load_dataset(name, resolution=32, cache=False, seed=1, **SMALL[name])
    assert torch.equal(a.images, b.images) and torch.equal(a.masks, b.masks)
    assert not torch.equal(a.images, c.images)


@pytest.mark.parametrize(
    ("phantom", "config"),
    [(CardiacPhantom, AcdcPhantomConfig(train_subjects=3, resolution=32, cache=False)),
     (AbdomenPhantom, Sliver07PhantomConfig(volumes=3, test_volumes=(3,), slices_per_volume=20,
                                            resolution=32, cache=False)),
     (FundusPhantom, IdridPhantomConfig(train_images=3, resolution=32, cache=False))],
)
def test_any_index_is_reproducible_on_its_own(phantom, config):
    generator = phantom(config)
    dataset = generator.dataset()
    keys = generator.keys()
    for index in (len(keys) - 1, len(keys) // 2):
        image, mask = phantom(config).render(keys[index])  # a fresh generator, one slice
        assert np.array_equal(image, dataset.images[index].numpy())
        assert np.array_equal(mask, dataset.masks[index].numpy())


@pytest.mark.parametrize("name", SMALL)
def test_splits_are_disjoint_by_subject(name):
    train = load_dataset(name, split="train", resolution=32, cache=False, **SMALL[name])
    test = load_dataset(name, split="test", resolution=32, cache=False, **SMALL[name])
    both = load_dataset(name, split="all", resolution=32, cache=False, **SMALL[name])
    assert not set(train.subject_ids) & set(test.subject_ids)
    assert set(both.subject_ids) == set(train.subject_ids) | set(test.subject_ids)
    assert len(both) == len(train) + len(test)


def test_phantom_split_structure_mirrors_the_real_data_sets():
    acdc = CardiacPhantom(AcdcPhantomConfig())
    assert len({k.subject for k in acdc.keys()}) == 100
    assert 1700 <= len(acdc.keys()) <= 2100  # ACDC: 1902 training slices
    idrid = FundusPhantom(IdridPhantomConfig(split="test"))
    assert [k.subject for k in idrid.keys()][:2] == ["IDRiD_55", "IDRiD_56"] and len(idrid.keys()) == 27
    liver = AbdomenPhantom(Sliver07PhantomConfig(split="all"))
    assert len({k.subject for k in liver.keys()}) == 20
    assert 3500 <= len(liver.keys()) <= 4800  # SLiver07: 4159 slices


def test_phantoms_take_no_data_root(tmp_path):
    with pytest.raises(ConfigError, match="takes no data_root"):
        load_dataset("acdc-phantom", tmp_path)


# -- cardiac anatomy ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cardiac():
    generator = CardiacPhantom(AcdcPhantomConfig(train_subjects=6, resolution=128, cache=False))
    return generator, generator.keys(), generator.build()


def _neighbours(mask: np.ndarray) -> np.ndarray:
    padded = np.pad(mask, 1)
    return (padded[:-2, 1:-1] | padded[2:, 1:-1] | padded[1:-1, :-2] | padded[1:-1, 2:]) & ~mask


def test_myocardium_is_a_closed_ring_around_the_lv(cardiac):
    _, _, arrays = cardiac
    for labels in arrays.masks:
        lv = labels == 3
        if not lv.any():
            continue
        border = _neighbours(lv)
        assert set(np.unique(labels[border]).tolist()) == {2}  # LV touches only myocardium
        myo = labels == 2
        assert (_neighbours(myo) & (labels == 0)).any()  # ... and the ring has an outside


def test_rv_is_a_crescent_on_the_left_of_the_lv(cardiac):
    _, keys, arrays = cardiac
    seen = 0
    for labels in arrays.masks:
        rv, lv = labels == 1, labels == 3
        if rv.sum() < 20 or not lv.any():
            continue
        seen += 1
        assert np.nonzero(rv)[1].mean() < np.nonzero(lv)[1].mean()
        assert (_neighbours(labels == 2) & rv).any()  # it lies against the septum
        assert not (_neighbours(rv) & lv).any()  # never touches the LV blood pool
    assert seen > len(keys) // 3


def test_ed_es_lv_area_ratio_is_physiological(cardiac):
    _, keys, arrays = cardiac
    for subject in {k.subject for k in keys}:
        areas = {0: 0, 1: 0}
        for key, labels in zip(keys, arrays.masks):
            if key.subject == subject:
                areas[key.position[0]] += int((labels == 3).sum())
        ratio = areas[0] / areas[1]
        assert 1.4 <= ratio <= 3.5, (subject, ratio)  # ejection fraction 30-70%


def test_lv_shrinks_from_base_to_apex(cardiac):
    _, keys, arrays = cardiac
    ed = [(k.position[1], int((m == 3).sum())) for k, m in zip(keys, arrays.masks)
          if k.subject == "patient001" and k.position[0] == 0]
    areas = [a for _, a in sorted(ed)]
    assert areas[0] > 3 * areas[-1]
    assert all(b <= a * 1.02 for a, b in zip(areas, areas[1:]))


def test_background_noise_is_rician(cardiac):
    generator, keys, _ = cardiac
    raw, _ = generator.render_raw(keys[0])
    sigma = generator.heart(keys[0]).noise * 1000
    corners = np.concatenate([raw[:8, :8].ravel(), raw[:8, -8:].ravel()])  # air: zero signal
    assert (raw >= 0).all()
    assert abs(corners.mean() / (sigma * np.sqrt(np.pi / 2)) - 1) < 0.2  # Rayleigh mean


# -- abdominal CT -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def abdomen():
    generator = AbdomenPhantom(Sliver07PhantomConfig(volumes=4, test_volumes=(4,), slices_per_volume=60,
                                                     resolution=96, cache=False))
    keys = generator.keys()
    slices = [generator.render_hu(k) for k in keys]
    return keys, np.stack([s[0] for s in slices]), np.stack([s[1] for s in slices])


def test_about_five_percent_liver_pixels(abdomen):
    _, _, labels = abdomen
    assert 0.03 <= labels.mean() <= 0.07


def test_hu_values_per_tissue(abdomen):
    _, hu, labels = abdomen
    assert (hu < -900).mean() > 0.15  # air around the body
    assert ((hu > -150) & (hu < -50)).mean() > 0.03  # fat
    assert (hu > 500).mean() > 0.001  # bone
    liver_hu = hu[labels == 1]
    assert 40 <= np.median(liver_hu) <= 85  # enhanced liver parenchyma
    assert (liver_hu < 40).mean() > 0.01  # hypodense tumours inside the liver label


def test_liver_sits_on_the_image_left_in_the_upper_slices(abdomen):
    keys, _, labels = abdomen
    cols = np.nonzero(labels)[2]
    assert cols.mean() < labels.shape[2] / 2
    z = np.array([k.position[0] for k in keys])
    assert labels[z < 3].sum() == 0  # the top slices are above the liver


# -- fundus -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fundus():
    generator = FundusPhantom(IdridPhantomConfig(train_images=6, resolution=128, cache=False))
    return generator, generator.keys(), generator.build()


def test_circular_field_of_view(fundus):
    _, _, arrays = fundus
    images = arrays.images
    assert np.all(images[:, :, :6, :6] == -1)  # corners are outside the camera's view
    assert np.all(images[:, :, 64, 64] > -0.9)
    assert np.all(images[:, :, :4, 64] == -1)  # cut at the top, as IDRiD's frames are


def test_disc_is_bright_and_small_macula_darker(fundus):
    generator, keys, arrays = fundus
    for key, image, mask in zip(keys, arrays.images, arrays.masks):
        brightness = image.mean(axis=0)
        disc = mask == 1
        retina = (brightness > -0.9) & ~disc
        assert brightness[disc].mean() > brightness[retina].mean() + 0.4
        assert 0.005 < disc.mean() < 0.04
        eye = generator.eye(key)
        side = 1 if np.nonzero(disc)[1].mean() > 64 else -1
        assert side == eye.side


def test_vessels_are_thin_dark_lines(fundus):
    _, _, arrays = fundus
    green = torch.from_numpy(arrays.images[:, 1:2])
    local = torch.nn.functional.avg_pool2d(green, 9, stride=1, padding=4, count_include_pad=False)
    detail = (green - local)[:, 0].numpy()
    inside = arrays.images[:, 0] > -0.9
    # thin structures much darker than their 9x9 neighbourhood: the vessel tree, in every image
    assert all((d[i] < -0.15).mean() > 0.02 for d, i in zip(detail, inside))
