"""The built-in `folder` data set: a researcher's own files, pictures and volumes, and what it refuses."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import medgan_zoo as zoo
from medgan_zoo.data.slices import DatasetError


@pytest.fixture(autouse=True)
def _locale_kept():
    """SimpleITK's DICOM I/O in these tests' own helpers may set the process locale: restore it, so
    no later test in the session writes files as ASCII."""
    import locale

    saved = locale.setlocale(locale.LC_ALL)
    yield
    locale.setlocale(locale.LC_ALL, saved)


def _disc(size: int, radius: float, centre: tuple[float, float]) -> np.ndarray:
    yy, xx = np.mgrid[:size, :size]
    return (yy - centre[0]) ** 2 + (xx - centre[1]) ** 2 <= radius ** 2


def write_png_folder(root: Path, subjects: int = 6, per: int = 3, size: int = 40) -> Path:
    """images/ + masks/ with a labels.json; files named subjNN_sliceK.png."""
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for s in range(subjects):
        for k in range(per):
            outer = _disc(size, 12 + k, (20 + s % 3, 20))
            inner = _disc(size, 5, (20 + s % 3, 20))
            mask = np.where(inner, 2, np.where(outer, 1, 0)).astype(np.uint8)
            image = (60 + 80 * outer + 80 * inner + rng.integers(0, 20, (size, size))).astype(np.uint8)
            Image.fromarray(image).save(root / "images" / f"subj{s:02d}_slice{k}.png")
            Image.fromarray(mask).save(root / "masks" / f"subj{s:02d}_slice{k}.png")
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "wall", "2": "cavity"}))
    return root


def test_a_png_folder_loads_with_its_labels_subjects_and_a_seeded_split(tmp_path):
    root = write_png_folder(tmp_path / "mine")
    settings = dict(subject_pattern=r"(subj\d+)_", test_fraction=0.34)
    train = zoo.load_dataset("folder", root, "train", 32, **settings)
    test = zoo.load_dataset("folder", root, "test", 32, **settings)
    assert train.label_map == {0: "background", 1: "wall", 2: "cavity"} and train.channels == 1
    assert len(train.subject_ids) == 4 and len(test.subject_ids) == 2
    assert not set(train.subject_ids) & set(test.subject_ids) and len(train) == 12
    assert train.images.shape == (12, 1, 32, 32) and -1 <= float(train.images.min()) < float(train.images.max()) <= 1
    assert set(torch.unique(train.masks).tolist()) == {0, 1, 2}
    again = zoo.load_dataset("folder", root, "train", 32, **settings)  # from the cache
    assert torch.equal(again.images, train.images) and again.label_map == train.label_map
    other = zoo.load_dataset("folder", root, "test", 32, **{**settings, "split_seed": 5})
    assert other.subject_ids != test.subject_ids or len(other.subject_ids) != 2
    shown = zoo.get_registry().datasets["folder"].config_fields()
    assert {"masks", "mask_suffixes", "labels_file", "subject_pattern", "axis", "modality",
            "test_fraction"} <= {row["name"] for row in shown}


def test_side_by_side_binary_rgb_pictures_without_a_label_file(tmp_path):
    from PIL import Image

    root = tmp_path / "fundus"
    root.mkdir()
    for n in range(4):
        rgb = np.zeros((24, 30, 3), dtype=np.uint8)
        rgb[..., 0] = 120 + n
        disc = _disc(30, 5, (12, 15))[:24]
        rgb[disc] = 250
        Image.fromarray(rgb).save(root / f"eye{n}.png")
        Image.fromarray((disc * 255).astype(np.uint8)).save(root / f"eye{n}_seg.png")
    with pytest.warns(UserWarning, match=r"no labels.json beside the data; mask values \[0, 1\] are named "
                                         r"background, label_1"):
        data = zoo.load_dataset("folder", root, "all", 16, cache=False)
    assert data.channels == 3 and data.label_map == {0: "background", 1: "label_1"} and len(data) == 4
    assert data.images.shape == (4, 3, 16, 16) and int(data.masks.max()) == 1


def _nifti(path: Path, array: np.ndarray, affine: np.ndarray) -> None:
    import nibabel as nib

    nib.save(nib.Nifti1Image(array, affine), str(path))


def test_nifti_volumes_are_sliced_after_reorienting_and_a_flipped_mask_is_refused(tmp_path):
    root = tmp_path / "ct"
    for s in range(3):
        folder = root / f"case{s}"
        folder.mkdir(parents=True)
        mask = np.zeros((20, 20, 6), dtype=np.uint8)
        mask[5:12, 6:14, 1:5] = 1
        image = np.where(mask > 0, 60.0, -100.0).astype(np.float32) + s
        affine = np.diag([1.5, 1.5, 4.0, 1.0])
        _nifti(folder / "image.nii.gz", image, affine)
        _nifti(folder / "image_mask.nii.gz", mask, affine)
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "liver"}))
    with pytest.raises(DatasetError, match="modality 'auto' cannot tell CT from MR.*modality=ct"):
        zoo.load_dataset("folder", root, "all", 16, cache=False)
    data = zoo.load_dataset("folder", root, "all", 16, modality="ct", cache=False)
    assert len(data.subject_ids) == 3 and len(data) == 18 and len(data.volume_ids) == 3  # 6 axial slices each
    assert data.label_map == {0: "background", 1: "liver"} and int(data.masks.max()) == 1
    dropped = zoo.load_dataset("folder", root, "all", 16, modality="ct", keep_empty=False, cache=False)
    assert len(dropped) == 12
    # a mask written with a flipped affine: the same array, another orientation
    _nifti(root / "case1" / "image_mask.nii.gz", np.zeros((20, 20, 6), dtype=np.uint8),
           np.diag([-1.5, 1.5, 4.0, 1.0]))
    with pytest.raises(DatasetError, match=r"case1/image_mask.nii.gz: (orientation|origin) .*differs from its image"):
        zoo.load_dataset("folder", root, "all", 16, modality="ct", cache=False)


def test_a_volume_written_by_nibabel_itself_loads(tmp_path):
    """nibabel's own test file (an anatomical MRI) with a mask we derive from it."""
    import shutil

    import nibabel as nib
    from nibabel.testing import data_path

    root = tmp_path / "mri" / "subject"
    root.mkdir(parents=True)
    shutil.copy(Path(data_path) / "anatomical.nii", root / "anat.nii")
    image = nib.load(str(root / "anat.nii"))
    array = np.asanyarray(image.dataobj)
    _nifti(root / "anat_mask.nii", (array > np.percentile(array, 70)).astype(np.uint8), image.affine)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # no labels.json: named label_1
        data = zoo.load_dataset("folder", root.parent, "all", 32, modality="mr", axis="coronal", cache=False)
    assert data.images.shape[1:] == (1, 32, 32) and len(data) == image.shape[1]  # coronal: one slice per y
    assert float(data.images.max()) == 1.0 and int(data.masks.max()) == 1


def test_bad_folders_are_one_line_naming_the_file(tmp_path):
    from PIL import Image

    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no image files under .*empty"):
        zoo.load_dataset("folder", tmp_path / "empty", "all", 16)
    lone = tmp_path / "lone"
    lone.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(lone / "a.png")
    with pytest.raises(DatasetError, match=r"1 image\(s\) have no mask, e.g. .*a.png .*masks=false"):
        zoo.load_dataset("folder", lone, "all", 16)
    images_only = zoo.load_dataset("folder", lone, "all", 16, masks=False, test_fraction=0)
    assert images_only.label_map == {0: "background"} and images_only.info["masks"] is False
    jpeg = tmp_path / "jpeg"
    jpeg.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(jpeg / "a.png")
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(jpeg / "a_mask.jpg")
    with pytest.raises(DatasetError, match="a_mask.jpg: a JPEG mask; JPEG's lossy compression"):
        zoo.load_dataset("folder", jpeg, "all", 16)
    root = write_png_folder(tmp_path / "mislabelled", subjects=2, per=1)
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "wall"}))
    with pytest.raises(DatasetError, match=r"masks/subj0\d_slice0.png: mask value\(s\) \[2\] are not in .*labels.json"):
        zoo.load_dataset("folder", root, "all", 16, cache=False)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(mixed / "a.png")
    _nifti(mixed / "b.nii.gz", np.zeros((4, 4, 4), np.float32), np.eye(4))
    with pytest.raises(DatasetError, match="mixes 2-D pictures .* and 3-D volumes"):
        zoo.load_dataset("folder", mixed, "all", 16)
    with pytest.raises(DatasetError, match="folder reads data from disk: pass data_root"):
        zoo.load_dataset("folder", None, "all", 16)


def test_a_model_trained_on_a_folder_keeps_its_label_names(tmp_path):
    root = write_png_folder(tmp_path / "mine")
    settings = {"subject_pattern": r"(subj\d+)_", "test_fraction": 0.34}
    zoo.train("dcgan", "folder", out=tmp_path / "run", data_root=root, resolution=32, steps=2, progress=False,
              dataset_config=settings, gan_config={"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4})
    model = zoo.load(tmp_path / "run")
    assert model.info.dataset == "folder" and model.info.label_map == {0: "background", 1: "wall", 2: "cavity"}
    assert json.loads((tmp_path / "run" / "config.json").read_text())["label_map"]["2"] == "cavity"
    samples = model.sample(3, seed=0)
    assert samples.label_map == {0: "background", 1: "wall", 2: "cavity"} and samples.images.shape == (3, 1, 32, 32)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())["training"]["train_config"]
    assert recorded["data_root"] == "mine" and str(tmp_path) not in json.dumps(recorded)  # no local paths shared
    unet = {"steps": 3, "encoder_depth": 3, "decoder_channels": [8, 8, 8], "batch_size": 4}
    results = zoo.evaluate(model, "folder", ["dice", "unet-fd", "memorisation"], n=8, scale="quick", data_root=root,
                           dataset_config=settings, progress=False,
                           metric_config={"dice": {**unet, "sources": ["synthetic"]}, "unet-fd": unet})
    assert results["meta"]["split"] == "test" and results["dice"]["split"] == "test"
    assert 0 <= results["dice"]["dice"] <= 1 and results["unet-fd"]["small_sample"] is True


def test_images_only_train_an_unconditional_gan_and_spade_and_dice_refuse(tmp_path):
    from PIL import Image

    root = tmp_path / "pictures"
    root.mkdir()
    for n in range(6):
        Image.fromarray(np.full((16, 16), 40 * n, np.uint8)).save(root / f"p{n}.png")
    data = {"masks": False, "test_fraction": 0.34}
    tiny = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}
    zoo.train("dcgan", "folder", out=tmp_path / "run", data_root=root, resolution=16 * 2, steps=1, progress=False,
              dataset_config=data, gan_config=tiny)
    if "spade" in zoo.get_registry().gans:
        with pytest.raises(zoo.ConfigError, match="paints images for masks: folder was loaded without masks"):
            zoo.train("spade", "folder", out=tmp_path / "spade", data_root=root, resolution=32, steps=1,
                      progress=False, dataset_config=data)
    from medgan_zoo.evaluation.harness import MetricsFailed

    with pytest.raises(MetricsFailed, match="dice: ConfigError: dice: folder was loaded without masks"):
        zoo.evaluate(tmp_path / "run", "folder", ["dice"], n=4, scale="quick", data_root=root, dataset_config=data,
                     progress=False)


# -- DICOM: files written by other projects, and a series written here ---------------------------------


def test_pydicoms_own_ct_and_mr_files_load_with_their_modality(tmp_path):
    import shutil

    pydicom = pytest.importorskip("pydicom")
    from PIL import Image
    from pydicom.data import get_testdata_file

    for name, folder in (("CT_small.dcm", "ct"), ("MR_small.dcm", "mr")):
        root = tmp_path / folder
        (root / "images").mkdir(parents=True)
        (root / "masks").mkdir()
        source = get_testdata_file(name)
        shutil.copy(source, root / "images" / "slice.dcm")
        ds = pydicom.dcmread(source)
        mask = (ds.pixel_array > np.percentile(ds.pixel_array, 60)).astype(np.uint8)
        Image.fromarray(mask).save(root / "masks" / "slice.png")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            data = zoo.load_dataset("folder", root, "all", 32, cache=False)
        assert data.images.shape == (1, 1, 32, 32) and int(data.masks.max()) == 1
        scaled = data.images[0, 0]
        if folder == "ct":  # the CT window from the Modality tag: soft tissue in [-1, 1], air at -1
            assert float(scaled.min()) == -1.0
        else:  # MR percentiles: both ends reached (up to the resampling's smoothing)
            assert float(scaled.min()) < -0.95 and float(scaled.max()) > 0.95


def _write_series(folder: Path, volume: np.ndarray, spacing=(0.8, 0.8, 2.5), skip: int | None = None,
                  duplicate: int | None = None) -> None:
    """A CT series, one file per slice, with the tags a scanner writes (SimpleITK's writer)."""
    from medgan_zoo.data.folder.readers import kept_locale

    with kept_locale():  # GDCM's writer sets the process locale too
        _write_series_files(folder, volume, spacing, skip, duplicate)


def _write_series_files(folder: Path, volume: np.ndarray, spacing, skip, duplicate) -> None:
    import SimpleITK as sitk

    folder.mkdir(parents=True)
    image = sitk.GetImageFromArray(volume.astype(np.int16))  # z, y, x
    image.SetSpacing(spacing)
    writer = sitk.ImageFileWriter()
    writer.KeepOriginalImageUIDOn()
    series = "1.2.826.0.1.3680043.2.1125.1.1"
    for k in range(image.GetDepth()):
        if k == skip:
            continue
        piece = image[:, :, k]
        for tag, value in (("0008|0060", "CT"), ("0020|000e", series), ("0020|0037", "1\\0\\0\\0\\1\\0"),
                           ("0020|0032", f"0\\0\\{k * spacing[2]}"), ("0020|0013", str(k)),
                           ("0028|0030", f"{spacing[1]}\\{spacing[0]}"), ("0018|0050", str(spacing[2]))):
            piece.SetMetaData(tag, value)
        writer.SetFileName(str(folder / f"s{k:03d}.dcm"))
        writer.Execute(piece)
        if k == duplicate:
            writer.SetFileName(str(folder / f"s{k:03d}b.dcm"))
            writer.Execute(piece)


def test_a_dicom_series_is_one_volume_and_gaps_or_duplicates_are_refused(tmp_path):
    import SimpleITK as sitk

    volume = np.full((5, 24, 20), -1000, dtype=np.int16)
    volume[:, 6:18, 5:15] = 50
    root = tmp_path / "scans"
    _write_series(root / "patient1", volume)
    from medgan_zoo.data.folder.readers import kept_locale

    with kept_locale():
        reference = sitk.DICOMOrient(sitk.ReadImage(sorted(str(p) for p in (root / "patient1").glob("*.dcm"))), "RAS")
    mask = sitk.GetImageFromArray((sitk.GetArrayFromImage(reference) > 0).astype(np.uint8))
    mask.CopyInformation(reference)
    sitk.WriteImage(mask, str(root / "patient1_mask.nrrd"))
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "organ"}))
    import locale

    before = locale.setlocale(locale.LC_ALL)
    data = zoo.load_dataset("folder", root, "all", 16, cache=False)  # modality from the tag: CT
    assert locale.setlocale(locale.LC_ALL) == before  # GDCM's "C" locale does not leak out (ASCII files)
    assert len(data) == 5 and data.subject_ids == ["patient1"] and data.label_map[1] == "organ"
    assert int(data.masks.sum()) > 0
    _write_series(tmp_path / "gap" / "p", volume, skip=2)
    with pytest.raises(DatasetError, match=r"gap/p: missing DICOM slice\(s\) after 2.50 mm"):
        zoo.load_dataset("folder", tmp_path / "gap", "all", 16, masks=False, cache=False)
    _write_series(tmp_path / "dup" / "p", volume, duplicate=1)
    with pytest.raises(DatasetError, match="dup/p: duplicated DICOM slices"):
        zoo.load_dataset("folder", tmp_path / "dup", "all", 16, masks=False, cache=False)


def test_subjects_splits_and_classes_from_csv_feed_mode_coverage(tmp_path):
    from medgan_zoo.sampling import Samples

    root = write_png_folder(tmp_path / "mine", subjects=8, per=3)
    rows = ["image,subject,split"] + [f"images/subj{s:02d}_slice{k}.png,patient{s // 2},{'test' if s >= 6 else 'train'}"
                                      for s in range(8) for k in range(3)]
    (root / "subjects.csv").write_text("\n".join(rows) + "\n")
    (root / "groups.csv").write_text("subject,group\n" + "".join(f"patient{p},{'small' if p % 2 else 'large'}\n"
                                                                 for p in range(4)))
    data = {"subjects_csv": "subjects.csv", "groups_csv": "groups.csv"}
    train = zoo.load_dataset("folder", root, "train", 32, **data)
    test = zoo.load_dataset("folder", root, "test", 32, **data)
    assert train.subject_ids == ["patient0", "patient1", "patient2"] and test.subject_ids == ["patient3"]
    assert train.group_names == ["large", "small"] and train.group_counts() == {"large": 12, "small": 6}
    results = zoo.evaluate(Samples(train.images, train.masks, 0, dict(train.label_map)), "folder", ["mode-coverage"],
                           scale="quick", data_root=root, dataset_config=data, progress=False,
                           metric_config={"mode-coverage": {"steps": 20},
                                          "unet-fd": {"steps": 5, "encoder_depth": 3, "decoder_channels": [8, 8, 8]}})
    coverage = results["mode-coverage"]
    assert coverage["classes"] == ["large", "small"] and coverage["split"] == "test"
    (root / "groups.csv").write_text("subject,group\npatient9,large\n")
    with pytest.raises(DatasetError, match=r"groups.csv: subject\(s\) that are not in the data, e.g. 'patient9'"):
        zoo.load_dataset("folder", root, "train", 32, **data)
    (root / "subjects.csv").write_text("image,subject\nimages/nothere.png,p\n")
    with pytest.raises(DatasetError, match=r"subjects.csv: no row for images/subj00_slice0.png"):
        zoo.load_dataset("folder", root, "train", 32, subjects_csv="subjects.csv")


def test_a_split_too_large_for_memory_is_refused_before_reading(tmp_path, monkeypatch):
    from medgan_zoo.data.folder import slicing

    root = write_png_folder(tmp_path / "mine", subjects=2, per=1)
    monkeypatch.setattr(slicing, "available_memory", lambda: 10_000)  # 10 kB free
    with pytest.raises(DatasetError, match=r"would take about 0.0 GB \(2 slices at 64x64\), more than 50% of the "
                                           r"0.0 GB available: lower the resolution"):
        zoo.load_dataset("folder", root, "all", 64)
    monkeypatch.setattr(slicing, "read", lambda *a: pytest.fail("read before the memory check"))
    with pytest.raises(DatasetError, match="would take about"):
        zoo.load_dataset("folder", root, "all", 64, cache=False)


def test_datasets_check_lists_what_it_found_and_every_problem(tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from medgan_zoo.cli import cli

    root = write_png_folder(tmp_path / "mine", subjects=3, per=2)
    good = CliRunner().invoke(cli, ["datasets", "check", "folder", "--data-root", str(root), "--resolution", "32",
                                    "--out", str(tmp_path / "grid.png")])
    assert good.exit_code == 0, good.output
    assert "labels (value name pixel share): 0 background" in good.output and "no problems found" in good.output
    assert (tmp_path / "grid.png").stat().st_size > 1000
    # two broken masks: one of another size, one with a value the label file lacks; both are reported
    Image.fromarray(np.zeros((10, 10), np.uint8)).save(root / "masks" / "subj00_slice0.png")
    Image.fromarray(np.full((40, 40), 7, np.uint8)).save(root / "masks" / "subj01_slice1.png")
    bad = CliRunner().invoke(cli, ["datasets", "check", "folder", "--data-root", str(root), "--json"])
    assert bad.exit_code == 1
    report = json.loads(bad.stdout)  # progress lines go to stderr
    assert len(report["problems"]) == 2 and report["preview"] is None
    assert "subj00_slice0.png: mask shape (10, 10) differs from its image" in report["problems"][0]
    assert "mask value 7 is in the masks but not among its labels" in report["problems"][1]
    phantom = CliRunner().invoke(cli, ["datasets", "check", "acdc-phantom", "--resolution", "32", "--set",
                                       "train_subjects=2", "--set", "test_subjects=1"])
    assert phantom.exit_code == 0 and "train: 2 subjects" in phantom.output


def test_spade_and_the_report_run_on_a_folder(tmp_path):
    pytest.importorskip("umap")
    if "spade" not in zoo.get_registry().gans:
        pytest.skip("the SPADE plugin is not installed")
    root = write_png_folder(tmp_path / "mine", subjects=6, per=3)
    data = {"subject_pattern": r"(subj\d+)_", "test_fraction": 0.34}
    zoo.train("spade", "folder", out=tmp_path / "spade", data_root=root, resolution=32, steps=2, progress=False,
              dataset_config=data, gan_config={"preset": "fast", "batch_size": 4, "mask_source": "bank"})
    model = zoo.load(tmp_path / "spade")
    assert model.info.label_map == {0: "background", 1: "wall", 2: "cavity"}
    page = zoo.report([tmp_path / "spade"], "folder", out=tmp_path / "report", data_root=root, n=24,
                      dataset_config=data, progress=False, permutations=50,
                      metric_config={"unet-fd": {"steps": 5, "encoder_depth": 3, "decoder_channels": [8, 8, 8]}})
    report = json.loads((tmp_path / "report" / "report.json").read_text())
    (test,) = report["spaces"][0]["tests"].values()
    assert page.is_file() and report["dataset"] == "folder" and report["knn"]["real_split"] == "test"
    assert test["subjects"] == 2 and test["p_value"] is None  # 2 held-out subjects: described, not tested


def test_nan_voxels_and_two_dicom_series_in_one_folder_are_refused(tmp_path):
    root = tmp_path / "nan"
    (root / "a").mkdir(parents=True)
    volume = np.zeros((6, 6, 3), np.float32)
    volume[2, 2, 1] = np.nan
    _nifti(root / "a" / "v.nii.gz", volume, np.eye(4))
    with pytest.raises(DatasetError, match=r"a/v.nii.gz: the image holds NaN or infinite values"):
        zoo.load_dataset("folder", root, "all", 16, masks=False, modality="mr", cache=False)
    both = tmp_path / "two" / "p"
    _write_series(both, np.zeros((3, 8, 8), np.int16))
    other = tmp_path / "other"
    _write_series(other, np.ones((3, 8, 8), np.int16))
    import SimpleITK as sitk

    for k, path in enumerate(sorted(other.glob("*.dcm"))):  # a second series (another UID) in the same folder
        image = sitk.ReadImage(str(path))
        image.SetMetaData("0020|000e", "1.2.826.0.1.3680043.2.1125.1.2")
        writer = sitk.ImageFileWriter()
        writer.KeepOriginalImageUIDOn()
        writer.SetFileName(str(both / f"t{k:03d}.dcm"))
        writer.Execute(image)
    with pytest.raises(DatasetError, match=r"two/p: 2 DICOM series in one folder"):
        zoo.load_dataset("folder", tmp_path / "two", "all", 16, masks=False, cache=False)


def test_a_broken_pair_in_the_test_split_stops_training_too(tmp_path):
    from PIL import Image

    root = write_png_folder(tmp_path / "mine", subjects=6, per=1)
    data = {"subject_pattern": r"(subj\d+)_", "test_fraction": 0.34}
    test = zoo.load_dataset("folder", root, "test", 32, cache=False, **data)
    broken = root / "masks" / f"{test.subject_ids[0]}_slice0.png"
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(broken)
    with pytest.raises(DatasetError, match=rf"{broken.name}: mask shape \(64, 64\) differs from its image .*"
                                           r"\(in the test split\)"):
        zoo.load_dataset("folder", root, "train", 32, **data)


def test_non_consecutive_labels_keep_their_values_in_the_model_and_check_takes_dataset_keys(tmp_path):
    from click.testing import CliRunner
    from PIL import Image

    from medgan_zoo.cli import cli

    root = tmp_path / "lesions"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for n in range(4):
        mask = np.zeros((20, 20), np.uint8)
        mask[4:10, 4:10], mask[12:16, 12:16] = 1, 4
        Image.fromarray((mask * 40 + 30).astype(np.uint8)).save(root / "images" / f"c{n}.png")
        Image.fromarray(mask).save(root / "masks" / f"c{n}.png")
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "organ", "4": "lesion"}))
    data = zoo.load_dataset("folder", root, "all", 16, cache=False)
    assert data.label_map == {0: "background", 1: "organ", 2: "lesion"} and data.info["label_values"] == [0, 1, 4]
    zoo.train("dcgan", "folder", out=tmp_path / "run", data_root=root, resolution=32, steps=1, progress=False,
              dataset_config={"test_fraction": 0.25},
              gan_config={"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4})
    assert json.loads((tmp_path / "run" / "config.json").read_text())["training"]["label_values"] == [0, 1, 4]
    checked = CliRunner().invoke(cli, ["datasets", "check", "folder", "--data-root", str(root),
                                       "--set", "dataset.modality=grey"])
    assert checked.exit_code == 0, checked.output
    missing = CliRunner().invoke(cli, ["datasets", "check", "folder"])
    assert "folder reads data from disk: pass data_root" in missing.output and "phantom" not in missing.output


def test_the_command_line_prints_a_warning_as_one_line(tmp_path):
    import subprocess
    import sys

    from PIL import Image

    root = tmp_path / "plain"
    root.mkdir()
    for n in range(2):
        Image.fromarray(np.zeros((8, 8), np.uint8)).save(root / f"a{n}.png")
        Image.fromarray((np.eye(8) * 255).astype(np.uint8)).save(root / f"a{n}_mask.png")
    done = subprocess.run([sys.executable, "-m", "medgan_zoo", "datasets", "show", "folder", "--data-root", str(root),
                           "--split", "all", "--resolution", "16"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if "labels.json" in line]
    assert lines == ["warning: folder: no labels.json beside the data; mask values [0, 1] are named background, "
                     "label_1 (write labels.json to name them)"]
