"""nnU-Net v2 and Decathlon data sets in (``--dataset nnunet``), nnU-Net raw data sets out
(``sample --format nnunet``). Fixtures are written here: a v2 set of 3-D NIfTI with two channels
and grouped case names, a Decathlon set of 4-D NIfTI with AppleDouble files, RGB PNG cases. Where
``nnunetv2`` is installed (the test extra installs it), the written data sets are checked with
nnU-Net's own ``verify_dataset_integrity``."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

import medgan_zoo as zoo
from medgan_zoo.cli import cli
from medgan_zoo.data.slices import DatasetError

TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}


def _case(rng, size=24, depth=4, channels=2, labels=3):
    yy, xx = np.mgrid[:size, :size]
    mask = np.zeros((size, size, depth), np.uint8)
    radius = int(rng.integers(5, 9))
    disc = (yy - size // 2) ** 2 + (xx - size // 2) ** 2
    for z in range(depth):
        mask[..., z][disc < radius ** 2] = 1
        if labels > 2:
            mask[..., z][disc < (radius // 2) ** 2] = 2
    images = [(100.0 + 50 * c + 80 * mask.astype(np.float32) + rng.normal(0, 5, mask.shape)).astype(np.float32)
              for c in range(channels)]
    return images, mask


def write_v2(root: Path, subjects: int = 3, frames=("frame01", "frame12"), names=("T2", "ADC")) -> Path:
    """nnU-Net's ACDC-like layout: patientNNN_frameXX cases, one NIfTI per channel, imagesTs too."""
    rng = np.random.default_rng(0)
    for sub in ("imagesTr", "labelsTr", "imagesTs"):
        (root / sub).mkdir(parents=True)
    affine = np.diag([1.5, 1.5, 5.0, 1.0])
    count = 0
    for s in range(1, subjects + 1):
        for frame in frames:
            case = f"patient{s:03d}_{frame}"
            images, mask = _case(rng, channels=len(names))
            for c, image in enumerate(images):
                nib.save(nib.Nifti1Image(image, affine), root / "imagesTr" / f"{case}_{c:04d}.nii.gz")
            nib.save(nib.Nifti1Image(mask, affine), root / "labelsTr" / f"{case}.nii.gz")
            count += 1
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(root / "imagesTs" / "unlabelled_0000.png")  # never read
    nib.save(nib.Nifti1Image(images[0], affine), root / "imagesTs" / "patient099_frame01_0000.nii.gz")
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {str(i): n for i, n in enumerate(names)},
        "labels": {"background": 0, "wall": 1, "cavity": 2}, "numTraining": count, "file_ending": ".nii.gz"}))
    return root


def write_decathlon(root: Path, cases: int = 4) -> Path:
    """The Decathlon's layout: 4-D NIfTI (channels last), labels as value -> name, AppleDouble files."""
    rng = np.random.default_rng(1)
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    training = []
    for i in range(1, cases + 1):
        images, mask = _case(rng, labels=2)
        name = f"BRATS_{i:03d}.nii.gz"
        nib.save(nib.Nifti1Image(np.stack(images, axis=-1), np.eye(4)), root / "imagesTr" / name)
        nib.save(nib.Nifti1Image(mask, np.eye(4)), root / "labelsTr" / name)
        for folder in ("imagesTr", "labelsTr"):
            (root / folder / f"._{name}").write_bytes(b"\x00\x05\x16\x07 AppleDouble resource fork")
        training.append({"image": f"./imagesTr/{name}", "label": f"./labelsTr/{name}"})
    (root / "dataset.json").write_text(json.dumps({
        "name": "BRATS", "tensorImageSize": "4D", "modality": {"0": "FLAIR", "1": "T1w"},
        "labels": {"0": "background", "1": "edema"}, "numTraining": cases, "numTest": 0,
        "training": training, "test": []}))
    return root


def write_rgb(root: Path, cases: int = 6) -> Path:
    """nnU-Net's natural-image layout: one RGB PNG per case under three channel names."""
    rng = np.random.default_rng(2)
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    for i in range(cases):
        mask = np.zeros((40, 40), np.uint8)
        mask[10:25, 12:30] = 1
        image = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
        image[mask == 1] = (200, 40, 40)
        Image.fromarray(image).save(root / "imagesTr" / f"img-{i}_0000.png")
        Image.fromarray(mask).save(root / "labelsTr" / f"img-{i}.png")
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "R", "1": "G", "2": "B"}, "labels": {"background": 0, "road": 1},
        "numTraining": cases, "file_ending": ".png"}))
    return root


GROUPED = {"subject_pattern": r"^(.+?)_frame", "test_fraction": 0.34}


def test_a_v2_raw_set_reads_its_channels_labels_and_groups_cases_into_subjects(tmp_path):
    root = write_v2(tmp_path / "Dataset027_Mine")
    train = zoo.load_dataset("nnunet", root, "train", 32, **GROUPED)
    test = zoo.load_dataset("nnunet", root, "test", 32, **GROUPED)
    assert train.label_map == {0: "background", 1: "wall", 2: "cavity"} and train.channels == 2
    assert train.images.shape == (16, 2, 32, 32) and test.images.shape == (8, 2, 32, 32)  # 2 frames x 4 slices
    assert set(train.subject_ids).isdisjoint(test.subject_ids) and len(test.subject_ids) == 1
    assert "patient099" not in train.subject_ids + test.subject_ids  # imagesTs is never a split
    assert train.info["layout"] == "nnunet" and train.info["channel_names"] == ["T2", "ADC"]
    # each MR channel scaled by its own percentiles: both span -1..1 alike although channel 1 is 50 brighter
    for c in range(2):
        assert train.images[:, c].min() < -0.95 and train.images[:, c].max() > 0.95
    assert abs(float(train.images[:, 0].mean() - train.images[:, 1].mean())) < 0.05
    with pytest.warns(UserWarning, match=r"case names look grouped by subject \(patient001_frame01, patient001_frame12 "
                                         r"share 'patient001'.*subject_pattern='\^\(\.\+\?\)_frame'"):
        zoo.load_dataset("nnunet", root, "train", 32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        zoo.load_dataset("nnunet", root, "train", 32, subject_pattern="^(.+)$")  # said: no warning


def test_channel_names_choose_the_intensities_ct_windowed_and_others_per_image(tmp_path):
    root = write_v2(tmp_path / "Dataset010_CT", subjects=2, frames=("a",), names=("CT",))
    ct = zoo.load_dataset("nnunet", root, "all", 32, hu_window=(150.0, 100.0))  # 100..200 HU -> -1..1
    mr = zoo.load_dataset("nnunet", root, "all", 32, hu_window=(150.0, 100.0), modality="mr")
    # the wall is 180 HU: 0.6 in the window; per-image percentiles (100 -> -1, 260 -> 1) put it near 0
    assert float(ct.images[:, 0][ct.masks == 1].median()) == pytest.approx(0.6, abs=0.1)
    assert float(mr.images[:, 0][mr.masks == 1].median()) == pytest.approx(0.0, abs=0.15)


def test_a_decathlon_folder_reads_4d_images_and_ignores_appledouble_files(tmp_path):
    root = write_decathlon(tmp_path / "Task01_BrainTumour")
    data = zoo.load_dataset("nnunet", root, "all", 32)
    assert data.info["layout"] == "msd" and data.label_map == {0: "background", 1: "edema"}
    assert data.images.shape == (16, 2, 32, 32) and data.info["channel_names"] == ["FLAIR", "T1w"]
    assert sorted(data.subject_ids) == [f"BRATS_{i:03d}" for i in range(1, 5)]


def test_rgb_png_cases_are_one_file_of_three_channels(tmp_path):
    root = write_rgb(tmp_path / "Dataset120_Roads")
    data = zoo.load_dataset("nnunet", root, "all", 32)
    assert data.images.shape == (6, 3, 32, 32) and data.label_map == {0: "background", 1: "road"}
    road = data.images[:, :, data.masks[0] > 0]
    assert road[:, 0].mean() > 0.5 and road[:, 1].mean() < -0.5  # (200, 40, 40) kept as colour


def _edit_json(root: Path, **changes) -> None:
    data = json.loads((root / "dataset.json").read_text())
    data.update(changes)
    (root / "dataset.json").write_text(json.dumps(data))


def test_bad_data_sets_give_one_line_naming_the_file(tmp_path):
    def fails(root: Path, pattern: str) -> None:
        with pytest.raises(DatasetError, match=pattern):
            zoo.load_dataset("nnunet", root, "all", 32, subject_pattern="^(.+)$", cache=False)

    root = write_v2(tmp_path / "missing_channel")
    (root / "imagesTr" / "patient002_frame12_0001.nii.gz").unlink()
    fails(root, r"imagesTr/patient002_frame12_0001.nii.gz: missing \(case patient002_frame12 has 1 of the 2 channels")
    root = write_v2(tmp_path / "extra_channel")
    (root / "imagesTr" / "patient001_frame01_0002.nii.gz").write_bytes(b"")
    fails(root, r"patient001_frame01_0002.nii.gz: channel 2, but dataset.json lists 2 channel\(s\)")
    root = write_v2(tmp_path / "count")
    _edit_json(root, numTraining=9)
    fails(root, r"dataset.json: numTraining is 9 but 6 training case\(s\) are there")
    root = write_v2(tmp_path / "label")
    (root / "labelsTr" / "patient003_frame01.nii.gz").unlink()
    fails(root, r"labelsTr/patient003_frame01.nii.gz: missing \(the label of case patient003_frame01\)")
    root = write_v2(tmp_path / "unlisted")
    _edit_json(root, labels={"background": 0, "wall": 1})
    fails(root, r"labelsTr/patient001_frame01.nii.gz: mask value\(s\) \[2\] are not in .*dataset.json")
    root = write_v2(tmp_path / "regions")
    _edit_json(root, labels={"background": 0, "whole": [1, 2], "core": 2}, regions_class_order=[1, 2])
    fails(root, r"dataset.json: regions_class_order is set: region-based labels are not supported")
    root = write_decathlon(tmp_path / "Task_gone")
    (root / "imagesTr" / "BRATS_002.nii.gz").unlink()
    fails(root, r"dataset.json: training image ./imagesTr/BRATS_002.nii.gz is not there")
    root = write_decathlon(tmp_path / "Task_channels")
    _edit_json(root, modality={"0": "FLAIR", "1": "T1w", "2": "T2w"})
    fails(root, r"BRATS_001.nii.gz: 2 image channel\(s\) where .*dataset.json lists 3")
    root = tmp_path / "neither"
    root.mkdir()
    (root / "dataset.json").write_text('{"name": "x"}')
    fails(root, r"dataset.json: neither nnU-Net v2 \(channel_names.*nor Decathlon")
    root = write_rgb(tmp_path / "binary")  # 0/255: nnU-Net reads 255 as a label, and so does this
    for label in (root / "labelsTr").iterdir():
        Image.fromarray(np.asarray(Image.open(label)) * 255).save(label)
    fails(root, r"labelsTr/img-0.png: mask value\(s\) \[255\] are not in .*dataset.json")
    root = write_rgb(tmp_path / "pages")  # nnU-Net's 3-D TIFF is not read as one page
    frames = [Image.fromarray(np.zeros((40, 40), np.uint8)) for _ in range(3)]
    frames[0].save(root / "imagesTr" / "img-0_0000.tif", save_all=True, append_images=frames[1:])
    frames[0].save(root / "labelsTr" / "img-0.tif")
    _edit_json(root, file_ending=".tif", numTraining=1, channel_names={"0": "grey"})
    fails(root, r"img-0_0000.tif: a multi-page image \(3 pages")


def test_datasets_check_reads_every_case_and_lists_every_problem(tmp_path):
    root = write_v2(tmp_path / "Dataset001_Check")
    _edit_json(root, labels={"background": 0, "wall": 1})
    result = CliRunner().invoke(cli, ["datasets", "check", "nnunet", "--data-root", str(root),
                                      "--set", "subject_pattern=^(.+?)_frame"])
    assert result.exit_code == 1, result.output
    assert "nnU-Net v2 layout: 6 case(s), channels T2, ADC" in result.output
    assert result.output.count("dataset.json: mask value 2 is in the masks but not among its labels") == 1


def _verify_with_nnunet(folder: Path) -> None:
    try:
        from nnunetv2.experiment_planning.verify_dataset_integrity import verify_dataset_integrity
    except ImportError:
        return
    verify_dataset_integrity(str(folder), 1)  # raises (or asserts) on any problem


def _check_layout(folder: Path, channels: int, labels: dict[str, int]) -> dict:
    """nnU-Net's rules, checked directly (also where nnunetv2 is not installed)."""
    dataset = json.loads((folder / "dataset.json").read_text())
    assert dataset["labels"] == labels and dataset["file_ending"] == ".png"
    assert dataset["channel_names"] == {str(c): "rgb_to_0_1" for c in range(channels)}
    cases = sorted(p.name[: -len(".png")] for p in (folder / "labelsTr").iterdir())
    assert len(cases) == dataset["numTraining"]
    files_per_case = 1 if channels in (1, 3) else channels
    assert len(list((folder / "imagesTr").iterdir())) == files_per_case * len(cases)
    for case in cases[:3]:
        label = np.asarray(Image.open(folder / "labelsTr" / f"{case}.png"))
        image = np.asarray(Image.open(folder / "imagesTr" / f"{case}_0000.png"))
        assert label.dtype == np.uint8 and set(np.unique(label)) <= set(labels.values())
        assert image.shape[:2] == label.shape and (image.ndim == 3) == (channels == 3)
    return dataset


@pytest.mark.parametrize("kind", ["v2", "decathlon", "rgb"])
def test_train_then_sample_as_an_nnunet_data_set_with_the_real_pairs(tmp_path, kind):
    writer = {"v2": write_v2, "decathlon": write_decathlon, "rgb": write_rgb}[kind]
    root = writer(tmp_path / "source")
    settings = GROUPED if kind == "v2" else {"test_fraction": 0.34}
    zoo.train("dcgan", "nnunet", out=tmp_path / "run", data_root=root, resolution=32, steps=2, progress=False,
              dataset_config=settings, gan_config=TINY)
    out = tmp_path / "raw"
    result = CliRunner().invoke(cli, ["sample", str(tmp_path / "run"), "-n", "10", "--format", "nnunet", "--out",
                                      str(out), "--seed", "3", "--with-real", str(root)])
    assert result.exit_code == 0, result.output
    folder = out / "Dataset501_Synth"
    real = zoo.load_dataset("nnunet", root, "train", 32, **settings)
    held = zoo.load_dataset("nnunet", root, "test", 32, **settings)
    assert f"wrote 10 generated and {len(real)} real training pairs" in result.output
    labels = {name if value else "background": value for value, name in real.label_map.items()}
    dataset = _check_layout(folder, real.channels, labels)
    assert dataset["numTraining"] == 10 + len(real) and dataset["medgan_zoo"]["numTest"] == len(held)
    assert len(list((folder / "labelsTs").iterdir())) == len(held)
    rows = (folder / "cases.csv").read_text().splitlines()
    assert rows[0] == "case,split,origin,sample,class,subject,volume" and rows[1].startswith("synth_000000,train,")
    splits = json.loads((folder / "splits_final.json").read_text())
    for fold in splits:  # one real subject's slices never on both sides of a fold
        subjects = {r.split(",")[5] for r in rows[1:] if r.split(",")[0] in fold["val"] and ",real," in r}
        assert not any(f",{s}," in r for r in rows[1:] for s in subjects if r.split(",")[0] in fold["train"])
    # the generated cases are the model's samples, as written by sample --format png
    model = zoo.load(tmp_path / "run")
    first = model.sample(1, seed=3)
    picture = np.asarray(Image.open(folder / "imagesTr" / "synth_000000_0000.png"))
    expected = np.round((first.images[0].clamp(-1, 1).numpy() + 1) * 127.5).astype(np.uint8)
    assert np.array_equal(picture, expected.transpose(1, 2, 0) if real.channels == 3 else expected[0])
    _verify_with_nnunet(folder)
    if kind == "v2":  # read back by the nnunet data set itself: 2 grey PNGs per case are 2 channels
        again = zoo.load_dataset("nnunet", folder, "all", 32, test_fraction=0)
        assert again.channels == 2 and len(again) == dataset["numTraining"]
        png = CliRunner().invoke(cli, ["sample", str(tmp_path / "run"), "-n", "2", "--out", str(tmp_path / "png")])
        assert png.exit_code == 2 and "makes 2-channel images; PNG holds grey or RGB" in png.output
        assert not (tmp_path / "png").exists()  # refused before sampling


def test_real_pairs_are_every_training_subject_and_paths_expand_the_home_folder(tmp_path, monkeypatch):
    root = write_v2(tmp_path / "source")
    settings = {**GROUPED, "val_fraction": 0.5}  # as a sweep trains: some training subjects held out
    zoo.train("dcgan", "nnunet", out=tmp_path / "run", data_root=root, resolution=32, steps=1, progress=False,
              dataset_config=settings, gan_config=TINY)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    from medgan_zoo.data.nnunet.real import real_pairs

    model = zoo.load(tmp_path / "run")
    real, held = real_pairs(model.info, root)
    assert len(real) == len(zoo.load_dataset("nnunet", root, "train", 32, **GROUPED))  # val subjects included
    folder = model.to_nnunet("~/nnUNet_raw", 2, dataset_id=7, seed=0, real=real, real_test=held)
    assert folder == tmp_path / "home" / "nnUNet_raw" / "Dataset007_Synth" and folder.is_dir()
    with pytest.warns(UserWarning, match="changes which subjects are test"):
        real_pairs(model.info, root, settings={"test_fraction": 0.5})


def test_an_existing_dataset_id_is_refused_unless_overwrite_and_a_failure_leaves_nothing(tmp_path, monkeypatch):
    root = write_rgb(tmp_path / "source")
    zoo.train("dcgan", "nnunet", out=tmp_path / "run", data_root=root, resolution=32, steps=1, progress=False,
              gan_config=TINY)
    out = tmp_path / "raw"
    (out / "Dataset042_Old").mkdir(parents=True)
    args = ["sample", str(tmp_path / "run"), "-n", "4", "--format", "nnunet", "--out", str(out), "--dataset-id", "42"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 1 and "Dataset042_Old exists: nnU-Net tells data sets apart by their id (42)" in \
        result.output and "--overwrite" in result.output
    result = CliRunner().invoke(cli, [*args, "--overwrite", "--name", "New"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["Dataset042_New"]
    from medgan_zoo.data.nnunet import write

    monkeypatch.setattr(write.NnunetWriter, "_write_splits", lambda self: 1 / 0)
    model = zoo.load(tmp_path / "run")
    with pytest.raises(ZeroDivisionError):
        model.to_nnunet(out, 4, dataset_id=43, seed=0)
    assert sorted(p.name for p in out.iterdir()) == ["Dataset042_New"]  # no partial folder left
    result = CliRunner().invoke(cli, ["sample", str(tmp_path / "run"), "-n", "4", "--out", str(out / "png"),
                                      "--dataset-id", "7"])
    assert result.exit_code == 2 and "--dataset-id is for --format nnunet" in result.output


def test_labels_written_for_nnunet_are_consecutive_from_background():
    from medgan_zoo.data.nnunet.write import nnunet_labels

    assert nnunet_labels({0: "background", 1: "LV"}) == ({"background": 0, "LV": 1}, {})
    assert nnunet_labels({0: "background", 1: "ignore"})[0] == {"background": 0, "ignore_1": 1}  # nnU-Net's own
    names, changes = nnunet_labels({0: "bg", 2: "liver", 5: "liver"})
    assert names == {"background": 0, "liver": 1, "liver_2": 2}
    assert changes == {"label_values": {"0": 0, "1": 2, "2": 5}, "background_was": "bg"}


def test_images_of_other_channel_counts_show_their_first_channel_and_png_samples_refuse_them():
    import torch

    from medgan_zoo.data.preview import overlay_grid
    from medgan_zoo.evaluation.inception import to_uint8_rgb
    from medgan_zoo.sampling import Samples

    images = torch.stack([torch.full((2, 8, 8), -1.0), torch.full((2, 8, 8), 1.0)], dim=1)  # ch0 -1, ch1 1
    assert overlay_grid(images, torch.zeros(2, 8, 8, dtype=torch.uint8), pad=0)[0, 0].tolist() == [0, 0, 0]
    assert to_uint8_rgb(images).shape == (2, 3, 8, 8) and int(to_uint8_rgb(images).max()) == 0
    with pytest.raises(ValueError, match="PNG holds grey or RGB images; these have 2 channels: use format npz"):
        Samples(images, torch.zeros(2, 8, 8, dtype=torch.uint8), 0).save("never", "png")
    assert not Path("never").exists()
