"""ACDC, SLiver07 and IDRiD readers against small copies written in the real formats."""

from __future__ import annotations

import gzip
import math

import numpy as np
import pytest
import torch

from medgan_zoo import ConfigError, load_dataset
from medgan_zoo.data.slices import DatasetError

IDRID_TRAIN_IMAGES = "1. Original Images/a. Training Set"
IDRID_TRAIN_OD = "2. All Segmentation Groundtruths/a. Training Set/5. Optic Disc"


# -- ACDC ---------------------------------------------------------------------------------------


def test_acdc_reads_ed_and_es_slices_split_by_patient(write_acdc, capsys):
    root = write_acdc()
    train = load_dataset("acdc", root, "train", resolution=32, cache=False)
    assert "building acdc (train) 4/4 (100%)" in capsys.readouterr().err  # exams read, with progress
    test = load_dataset("acdc", root, "test", resolution=32, cache=False)
    assert len(train) == 2 * 2 * 3 and len(test) == 1 * 2 * 3  # patients x frames x slices
    assert train.subject_ids == ["patient001", "patient002"] and test.subject_ids == ["patient101"]
    # Dice scores each phase's volume on its own, as the ACDC challenge does
    assert train.volume_ids == ["patient001_ed", "patient001_es", "patient002_ed", "patient002_es"]
    assert test.volume_ids == ["patient101_ed", "patient101_es"]
    item = train[0]
    assert item["subject"] == "patient001" and item["volume"] == "patient001_ed"
    assert train[len(train) - 1]["volume"] == "patient002_es"
    assert item["image"].shape == (1, 32, 32) and item["image"].dtype == torch.float32
    assert item["mask"].shape == (32, 32) and item["mask"].dtype == torch.int64
    assert set(train.masks.unique().tolist()) == {0, 1, 2, 3}
    assert train.images.min() == -1 and train.images.max() <= 1
    blood, muscle = train.images[:, 0][train.masks == 3], train.images[:, 0][train.masks == 2]
    assert blood.median() > muscle.median()  # the written intensities keep their order


def test_acdc_frames_option_and_es_is_smaller(write_acdc):
    root = write_acdc()
    ed = load_dataset("acdc", root, resolution=32, frames="ed", field_of_view_mm=None, cache=False)
    es = load_dataset("acdc", root, resolution=32, frames="es", field_of_view_mm=None, cache=False)
    assert len(ed) == len(es) == 6
    lv_ed, lv_es = (ed.masks == 3).sum().item(), (es.masks == 3).sum().item()
    assert 0.3 < lv_es / lv_ed < 0.7  # the ES frame was written at 0.7x the radius


def test_acdc_resampling_respects_physical_spacing(write_acdc):
    # 2.0 x 1.5 mm pixels; with a 64 mm field of view at 32 px, pixels are 2 mm square
    root = write_acdc(shape=(40, 48, 2), spacing=(2.0, 1.5, 10.0))
    data = load_dataset("acdc", root, resolution=32, field_of_view_mm=64.0, cache=False)
    lv = (data.masks[0] == 3).numpy()
    rows, cols = np.nonzero(lv)
    height, width = np.ptp(rows) + 1, np.ptp(cols) + 1
    assert abs(height - width) <= 1  # round in mm stays round in pixels
    assert math.isclose(lv.sum(), math.pi * (10 / 2) ** 2, rel_tol=0.15)  # r = 10 mm = 5 px


def test_acdc_flat_layout_splits_by_acdc_numbering(write_acdc):
    root = write_acdc(layout="flat", patients=(3, 150))
    assert load_dataset("acdc", root, "train", resolution=32, cache=False).subject_ids == ["patient003"]
    assert load_dataset("acdc", root, "test", resolution=32, cache=False).subject_ids == ["patient150"]
    assert len(load_dataset("acdc", root, "all", resolution=32, cache=False).subject_ids) == 2


def test_acdc_ignores_the_4d_cine(write_acdc):
    root = write_acdc(patients=(1,))
    assert any(p.name.endswith("_4d.nii.gz") for p in root.rglob("*"))
    data = load_dataset("acdc", root, resolution=32, cache=False)
    assert len(data) == 6


def test_acdc_missing_mask_names_the_file(write_acdc):
    root = write_acdc(patients=(1,))
    (root / "training/patient001/patient001_frame05_gt.nii.gz").unlink()
    with pytest.raises(DatasetError, match="patient001_frame05_gt.nii.gz"):
        load_dataset("acdc", root, resolution=32, cache=False)


def test_acdc_frame_named_in_info_but_missing(write_acdc):
    root = write_acdc(patients=(1,))
    (root / "training/patient001/Info.cfg").write_text("ED: 1\nES: 9\n")
    with pytest.raises(DatasetError, match="ES frame 9.*patient001_frame09.nii.gz"):
        load_dataset("acdc", root, resolution=32, cache=False)


def test_acdc_truncated_nifti_names_the_file(write_acdc):
    root = write_acdc(patients=(1,))
    path = root / "training/patient001/patient001_frame01.nii.gz"
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DatasetError, match="patient001_frame01.nii.gz"):
        load_dataset("acdc", root, resolution=32, cache=False)


def test_acdc_labels_outside_the_label_map(write_acdc):
    import nibabel as nib

    root = write_acdc(patients=(1,))
    path = root / "training/patient001/patient001_frame01_gt.nii.gz"
    nii = nib.load(path)
    labels = np.asarray(nii.dataobj).copy()
    labels[0, 0, 0] = 7
    nib.save(nib.Nifti1Image(labels, nii.affine), path)
    with pytest.raises(DatasetError, match=r"patient001_frame01_gt.nii.gz: labels \[7\]"):
        load_dataset("acdc", root, resolution=32, cache=False)


def test_acdc_mask_and_image_shapes_disagree(write_acdc):
    import nibabel as nib

    root = write_acdc(patients=(1,))
    path = root / "training/patient001/patient001_frame01_gt.nii.gz"
    nib.save(nib.Nifti1Image(np.zeros((40, 30, 3), dtype=np.uint8), np.eye(4)), path)
    with pytest.raises(DatasetError, match="mask shape .* differs from image"):
        load_dataset("acdc", root, resolution=32, cache=False)


def test_missing_root_and_empty_folder(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset("acdc", tmp_path / "nowhere")
    with pytest.raises(DatasetError, match="no frames named patientNNN_frameXX.nii.gz"):
        load_dataset("acdc", tmp_path)
    with pytest.raises(DatasetError, match="pass data_root"):
        load_dataset("acdc")


def test_empty_split(write_acdc):
    root = write_acdc(patients=(1, 2))
    with pytest.raises(DatasetError, match="no test exams"):
        load_dataset("acdc", root, "test", resolution=32, cache=False)


def test_unknown_config_key_is_rejected(write_acdc):
    with pytest.raises(ConfigError, match="did you mean 'frames'"):
        load_dataset("acdc", write_acdc(), frame="ed")


# -- SLiver07 -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("layout", "label_scale", "label_type"),
                         [("flat", 1, None), ("split", 1, "char"), ("flat", 255, None)])
def test_sliver07_reads_volumes_split_by_volume(write_sliver07, layout, label_scale, label_type):
    root = write_sliver07(layout=layout, label_scale=label_scale, label_type=label_type)
    train = load_dataset("sliver07", root, resolution=32, test_volumes=(4,), cache=False)
    test = load_dataset("sliver07", root, "test", resolution=32, test_volumes=(4,), cache=False)
    assert train.subject_ids == ["liver-001", "liver-002", "liver-003"]
    assert test.subject_ids == ["liver-004"]
    assert train.volume_ids == train.subject_ids and train[0]["volume"] == "liver-001"  # a scan is a volume
    assert len(train) == 3 * 6 and len(test) == 6
    assert set(train.masks.unique().tolist()) == {0, 1}


def test_sliver07_hu_window(write_sliver07):
    root = write_sliver07(volumes=(1, 2))
    # body 40 HU at the window's level -> 0; liver 240 HU = level + width/2 -> 1; air -> -1
    data = load_dataset("sliver07", root, "all", resolution=40, test_volumes=(2,), cache=False)
    image = data.images[2, 0]
    liver = data.masks[2] == 1
    assert abs(image[liver].median() - 1) < 1e-5
    assert image.min() == -1
    assert (image.abs() < 1e-6).any()
    narrow = load_dataset("sliver07", root, "all", resolution=40, test_volumes=(2,), hu_level=240,
                          hu_width=100, cache=False)
    assert abs(narrow.images[2, 0][liver].median()) < 1e-6


def test_sliver07_foreground_only(write_sliver07):
    root = write_sliver07(volumes=(1, 2))
    data = load_dataset("sliver07", root, resolution=32, test_volumes=(2,), foreground_slices_only=True,
                        cache=False)
    assert len(data) == 4 and all(m.any() for m in data.masks)


def test_sliver07_missing_label_names_the_file(write_sliver07):
    root = write_sliver07(volumes=(1, 2))
    (root / "liver-seg002.mhd").unlink()
    with pytest.raises(DatasetError, match="liver-orig002.mhd has no label liver-seg002.mhd"):
        load_dataset("sliver07", root, resolution=32, test_volumes=(1,), cache=False)


def test_sliver07_truncated_raw_names_the_file(write_sliver07):
    root = write_sliver07(volumes=(1, 2))
    raw = root / "liver-orig001.raw"
    raw.write_bytes(raw.read_bytes()[:100])
    with pytest.raises(DatasetError, match="liver-orig001.mhd"):
        load_dataset("sliver07", root, resolution=32, test_volumes=(2,), cache=False)


def test_sliver07_non_binary_labels(write_sliver07):
    root = write_sliver07(volumes=(1, 2), label_scale=2)
    with pytest.raises(DatasetError, match="liver-seg001.mhd: label values \\[0, 2\\]"):
        load_dataset("sliver07", root, resolution=32, test_volumes=(2,), cache=False)


# -- IDRiD --------------------------------------------------------------------------------------


@pytest.mark.parametrize("mask_mode", ["RGB", "L"])
def test_idrid_reads_pairs_split_by_folder(write_idrid, mask_mode):
    root = write_idrid(mask_mode=mask_mode)
    train = load_dataset("idrid", root, resolution=32, cache=False)
    test = load_dataset("idrid", root, "test", resolution=32, cache=False)
    assert train.subject_ids == ["IDRiD_01", "IDRiD_02"] and test.subject_ids == ["IDRiD_55"]
    assert train.volume_ids == train.subject_ids  # each image is scored on its own
    assert train.images.shape == (2, 3, 32, 32)
    # the 90-px field of view is cropped to its bounding box and fills the width
    assert train.images[0, :, 16, 0].max() > -0.5 and train.images[0, :, 16, 31].max() > -0.5
    # the disc (radius 8 of 90 px) keeps its share of the field of view
    fraction = train.masks[0].float().mean().item()
    assert math.isclose(fraction, math.pi * 8**2 / 90**2, rel_tol=0.35)
    disc = train.masks[0] == 1
    assert train.images[0][:, disc].median() > 0.9  # white, scaled to ~1


def test_idrid_missing_mask_names_expected_file(write_idrid):
    root = write_idrid()
    (root / IDRID_TRAIN_OD / "IDRiD_02_OD.tif").unlink()
    with pytest.raises(DatasetError, match="IDRiD_02_OD.tif"):
        load_dataset("idrid", root, resolution=32, cache=False)


def test_idrid_truncated_jpeg_names_the_file(write_idrid):
    root = write_idrid()
    path = root / IDRID_TRAIN_IMAGES / "IDRiD_01.jpg"
    path.write_bytes(path.read_bytes()[:300])
    with pytest.raises(DatasetError, match="IDRiD_01.jpg"):
        load_dataset("idrid", root, resolution=32, cache=False)


def test_idrid_mask_of_the_wrong_size(write_idrid):
    from PIL import Image

    root = write_idrid()
    Image.new("L", (10, 10)).save(root / IDRID_TRAIN_OD / "IDRiD_01_OD.tif")
    with pytest.raises(DatasetError, match="IDRiD_01_OD.tif: mask size"):
        load_dataset("idrid", root, resolution=32, cache=False)


def test_idrid_non_binary_mask(write_idrid):
    from PIL import Image

    root = write_idrid()
    Image.fromarray((np.arange(150 * 100) % 7 * 30).astype(np.uint8).reshape(100, 150)).save(
        root / IDRID_TRAIN_OD / "IDRiD_01_OD.tif")
    with pytest.raises(DatasetError, match="expected a binary optic-disc mask"):
        load_dataset("idrid", root, resolution=32, cache=False)


def test_corrupt_gzip_is_not_mistaken_for_data(write_acdc):
    root = write_acdc(patients=(1,))
    path = root / "training/patient001/patient001_frame05_gt.nii.gz"
    path.write_bytes(gzip.compress(b"not a nifti at all"))
    with pytest.raises(DatasetError, match="patient001_frame05_gt.nii.gz"):
        load_dataset("acdc", root, resolution=32, cache=False)
