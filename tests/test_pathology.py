"""ACDC's five groups: the phantom's anatomical signatures measured per group, groups as a slice
field, the cache and `datasets show`, and the ACDC loader reading Info.cfg's Group."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import medgan_zoo as zoo

RV, MYO, LV = 1, 2, 3


def _pathology(resolution: int = 128, **kw):
    return zoo.load_dataset("acdc-phantom", split="train", resolution=resolution, train_subjects=10,
                            test_subjects=5, frames="ed", pathology=True, **kw)


def _ray_thickness(mask: np.ndarray, rays: int = 36) -> np.ndarray:
    """Myocardium pixels crossed along rays from the LV centroid: the wall's thickness by angle."""
    ys, xs = np.nonzero(mask == LV)
    cy, cx = ys.mean(), xs.mean()
    out = []
    for a in np.linspace(0, 2 * math.pi, rays, endpoint=False):
        steps = np.arange(0, mask.shape[0] / 2, 0.25)
        y = np.clip(np.round(cy + steps * math.sin(a)).astype(int), 0, mask.shape[0] - 1)
        x = np.clip(np.round(cx + steps * math.cos(a)).astype(int), 0, mask.shape[1] - 1)
        out.append((mask[y, x] == MYO).sum() * 0.25)
    return np.array(out)


def _signatures(dataset) -> dict[str, dict[str, float]]:
    """Per group, over mid-ventricular ED slices (the middle third of each exam): LV cavity area,
    mean wall thickness (from areas, as radii of equal-area discs), RV/LV area ratio, and the
    thinnest sector's thickness over the median (regional thinning)."""
    out = {}
    for g, name in enumerate(dataset.group_names):
        lv, wall, ratio, regional = [], [], [], []
        for subject in sorted({dataset.subject_ids[int(s)] for s in dataset.subject_index[dataset.group_index == g]}):
            index = dataset.subject_slices(subject)
            mid = index[len(index) // 3: 2 * len(index) // 3 + 1]
            for i in mid.tolist():
                m = dataset.masks[i].numpy()
                a_lv, a_myo, a_rv = (m == LV).sum(), (m == MYO).sum(), (m == RV).sum()
                lv.append(a_lv)
                wall.append(math.sqrt((a_lv + a_myo) / math.pi) - math.sqrt(a_lv / math.pi))
                ratio.append(a_rv / a_lv)
                profile = _ray_thickness(m)
                regional.append(np.sort(profile)[:3].mean() / np.median(profile))
        out[name] = {"lv": float(np.mean(lv)), "wall": float(np.mean(wall)), "rv_lv": float(np.mean(ratio)),
                     "regional": float(np.mean(regional))}
    return out


@pytest.fixture(scope="module")
def signatures():
    return _signatures(_pathology())


def test_each_group_has_its_anatomical_signature(signatures):
    s = signatures
    # dilated cardiomyopathy: the largest cavity and the thinnest wall
    assert s["dcm"]["lv"] > 1.5 * s["nor"]["lv"] and s["dcm"]["wall"] < 0.75 * s["nor"]["wall"]
    # hypertrophic: the thickest wall around the smallest cavity
    assert s["hcm"]["wall"] > 1.4 * s["nor"]["wall"] and s["hcm"]["lv"] < 0.6 * s["nor"]["lv"]
    # abnormal RV: RV/LV area ratio well above every other group's
    assert s["rv"]["rv_lv"] > 1.5 * max(v["rv_lv"] for k, v in s.items() if k != "rv")
    # previous infarction: one sector thinned, far more than the normal wall varies
    assert s["minf"]["regional"] < 0.7 * s["nor"]["regional"]
    assert all(s[k]["regional"] > s["minf"]["regional"] for k in ("nor", "hcm", "rv"))


def test_groups_are_even_deterministic_and_a_slice_field():
    data = _pathology(resolution=32)
    assert data.group_names == ["nor", "minf", "dcm", "hcm", "rv"]
    subjects = {data.subject_ids[int(s)]: data.group_names[int(g)]
                for s, g in zip(data.subject_index.tolist(), data.group_index.tolist(), strict=True)}
    assert sorted(subjects.values()) == sorted(["nor", "minf", "dcm", "hcm", "rv"] * 2)  # 10 exams, 2 per group
    assert data[0]["group"] == subjects[data[0]["subject"]] == "nor"
    again = _pathology(resolution=32, cache=False)  # rendered afresh: the same pixels and groups
    assert torch.equal(again.images, data.images) and torch.equal(again.group_index, data.group_index)
    assert data.summary()["groups"] == data.group_counts() and sum(data.group_counts().values()) == len(data)


def test_the_default_phantom_keeps_its_pixels_and_has_no_groups():
    kw = {"split": "train", "resolution": 32, "train_subjects": 5, "test_subjects": 1, "cache": False}
    plain = zoo.load_dataset("acdc-phantom", **kw)
    assert plain.group_names == [] and plain[0]["group"] is None and "groups" not in plain.summary()
    # the pathology stream leaves the healthy draws alone: exam 1 (group 'nor') renders the same pixels
    normal = zoo.load_dataset("acdc-phantom", pathology=True, **kw)
    first = plain.subject_slices("patient001")
    assert torch.equal(plain.images[first], normal.images[normal.subject_slices("patient001")])
    assert not torch.equal(plain.masks[plain.subject_slices("patient003")],
                           normal.masks[normal.subject_slices("patient003")])  # exam 3 is 'dcm'


def test_datasets_show_lists_the_groups():
    from click.testing import CliRunner

    from medgan_zoo.cli import cli

    result = CliRunner().invoke(cli, ["datasets", "show", "acdc-phantom", "--set", "pathology=true",
                                      "--set", "train_subjects=5", "--set", "test_subjects=5", "--set",
                                      "resolution=32"])
    assert result.exit_code == 0, result.output
    assert "groups" in result.output and "dcm" in result.output


def _write_acdc(root, groups: dict[int, str | None]) -> None:
    import nibabel as nib

    for number, group in groups.items():
        folder = root / "training" / f"patient{number:03d}"
        folder.mkdir(parents=True)
        info = "ED: 1\nES: 2\n" + (f"Group: {group}\n" if group else "") + "Height: 180\n"
        (folder / "Info.cfg").write_text(info)
        for frame in (1, 2):
            image = np.random.default_rng(number).random((24, 24, 3)).astype(np.float32)
            mask = np.zeros((24, 24, 3), dtype=np.uint8)
            mask[8:16, 8:16] = 3
            for name, array in ((f"patient{number:03d}_frame{frame:02d}.nii.gz", image),
                                (f"patient{number:03d}_frame{frame:02d}_gt.nii.gz", mask)):
                nib.save(nib.Nifti1Image(array, np.diag([1.5, 1.5, 10, 1])), str(folder / name))


def test_the_acdc_loader_reads_each_patients_group(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGAN_ZOO_CACHE", str(tmp_path / "cache"))
    _write_acdc(tmp_path / "acdc", {1: "DCM", 2: "NOR", 3: "HCM"})
    data = zoo.load_dataset("acdc", data_root=tmp_path / "acdc", split="train", resolution=32)
    assert data.group_names == ["nor", "minf", "dcm", "hcm", "rv"]
    per_subject = {data[i]["subject"]: data[i]["group"] for i in range(len(data))}
    assert per_subject == {"patient001": "dcm", "patient002": "nor", "patient003": "hcm"}


def test_acdc_patients_without_a_group_are_unknown_not_guessed(tmp_path, monkeypatch):
    monkeypatch.setenv("MEDGAN_ZOO_CACHE", str(tmp_path / "cache"))
    _write_acdc(tmp_path / "acdc", {1: "DCM", 2: None})
    data = zoo.load_dataset("acdc", data_root=tmp_path / "acdc", split="train", resolution=32)
    assert data.group_counts()["unknown"] == 6 and data[data.subject_slices("patient002")[0]]["group"] is None
    _write_acdc(tmp_path / "odd", {1: "XYZ"})
    with pytest.raises(zoo.MedganZooError, match="patient001.*Group 'XYZ'.*NOR, MINF, DCM, HCM, RV"):
        zoo.load_dataset("acdc", data_root=tmp_path / "odd", split="train", resolution=32)
