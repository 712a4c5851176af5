from __future__ import annotations

from collections.abc import Callable

import pytest

from medgan_zoo.registry import PluginSource, Registry

# The tutorial's plugin project: its own tests run in a subprocess with it on the path.
collect_ignore = ["plugin_example"]



@pytest.fixture
def load() -> Callable[..., Registry]:
    """Build a registry from (plugin, distribution[, version]) tuples, nothing installed."""

    def _load(*plugins: tuple) -> Registry:
        sources = []
        for item in plugins:
            plugin, dist, *rest = item
            sources.append(PluginSource.of(plugin, dist, rest[0] if rest else "1.0"))
        return Registry.load(sources)

    return _load



# -- small data sets written in their real formats ----------------------------------------------

import numpy as np  # noqa: E402


def disc_volume(shape: tuple[int, int, int], spacing: tuple[float, float, float],
                scale: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """A short-axis-like volume in physical units: LV disc (3) in a MYO ring (2), RV (1) left."""
    x = (np.arange(shape[0]) + 0.5 - shape[0] / 2) * spacing[0]
    y = (np.arange(shape[1]) + 0.5 - shape[1] / 2) * spacing[1]
    xx, yy = np.meshgrid(x, y, indexing="ij")
    r = np.hypot(xx, yy)
    labels2d = np.zeros(shape[:2], dtype=np.uint8)
    labels2d[((xx + 22 * scale) / 8) ** 2 + (yy / 14) ** 2 <= 1] = 1
    labels2d[r <= 15 * scale] = 2
    labels2d[r <= 10 * scale] = 3
    labels = np.repeat(labels2d[:, :, None], shape[2], axis=2)
    image = np.choose(labels, [50.0, 300.0, 120.0, 400.0]).astype(np.float32)
    return image, labels


@pytest.fixture
def write_acdc(tmp_path):
    import nibabel as nib

    def write(layout: str = "release", patients=(1, 2, 101), shape=(40, 32, 3),
              spacing=(2.0, 1.5, 10.0), ed: int = 1, es: int = 5):
        root = tmp_path / "ACDC"
        affine = np.diag([*spacing, 1.0])
        for n in patients:
            if layout == "release":
                folder = root / ("training" if n <= 100 else "testing") / f"patient{n:03d}"
            else:
                folder = root / f"patient{n:03d}"
            folder.mkdir(parents=True)
            (folder / "Info.cfg").write_text(
                f"ED: {ed}\nES: {es}\nGroup: NOR\nHeight: 180.0\nNbFrame: 30\nWeight: 70.0\n"
            )
            for frame, scale in ((ed, 1.0), (es, 0.7)):
                image, labels = disc_volume(shape, spacing, scale)
                nib.save(nib.Nifti1Image(image, affine), folder / f"patient{n:03d}_frame{frame:02d}.nii.gz")
                nib.save(nib.Nifti1Image(labels, affine),
                         folder / f"patient{n:03d}_frame{frame:02d}_gt.nii.gz")
            cine = np.zeros((*shape, 4), dtype=np.float32)
            nib.save(nib.Nifti1Image(cine, np.diag([*spacing, 1.0])), folder / f"patient{n:03d}_4d.nii.gz")
        return root

    return write


@pytest.fixture
def write_sliver07(tmp_path):
    import SimpleITK as sitk

    def write(layout: str = "flat", volumes=(1, 2, 3, 4), shape=(6, 48, 40), spacing=(0.8, 0.8, 2.5),
              label_scale: int = 1, label_type=None):
        root = tmp_path / "SLIVER07"
        scan_dir = root / ("scan" if layout == "split" else "")
        label_dir = root / ("label" if layout == "split" else "")
        scan_dir.mkdir(parents=True, exist_ok=True)
        label_dir.mkdir(parents=True, exist_ok=True)
        z, h, w = shape
        yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        for n in volumes:
            hu = np.full(shape, -1000, dtype=np.int16)
            body = ((yy - h / 2) / (h * 0.45)) ** 2 + ((xx - w / 2) / (w * 0.45)) ** 2 <= 1
            liver2d = ((yy - h / 2) / 8) ** 2 + ((xx - w / 3) / 6) ** 2 <= 1
            hu[:, body] = 40
            hu[:, liver2d] = 240
            labels = np.zeros(shape, dtype=np.uint8)
            labels[1:-1, liver2d] = label_scale  # top and bottom slices without liver
            scan = sitk.GetImageFromArray(hu)
            scan.SetSpacing(spacing)
            seg = sitk.GetImageFromArray(labels.astype(np.int8) if label_type == "char" else labels)
            seg.SetSpacing(spacing)
            sitk.WriteImage(scan, str(scan_dir / f"liver-orig{n:03d}.mhd"))
            sitk.WriteImage(seg, str(label_dir / f"liver-seg{n:03d}.mhd"))
        return root

    return write


IDRID_TRAIN_IMAGES = "1. Original Images/a. Training Set"
IDRID_TEST_IMAGES = "1. Original Images/b. Testing Set"
IDRID_TRAIN_OD = "2. All Segmentation Groundtruths/a. Training Set/5. Optic Disc"
IDRID_TEST_OD = "2. All Segmentation Groundtruths/b. Testing Set/5. Optic Disc"


@pytest.fixture
def write_idrid(tmp_path):
    from PIL import Image

    def fundus(size=(150, 100)):
        w, h = size
        yy, xx = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
        rgb = np.zeros((h, w, 3), dtype=np.uint8)
        fov = (yy - h / 2) ** 2 + (xx - w / 2) ** 2 <= (h * 0.45) ** 2  # FOV circle, 90 px wide
        rgb[fov] = (200, 90, 30)
        disc = (yy - h / 2) ** 2 + (xx - w / 2 - 20) ** 2 <= 8**2
        rgb[disc] = (255, 255, 255)
        return rgb, disc

    def write(train=(1, 2), test=(55,), mask_mode: str = "RGB"):
        root = tmp_path / "IDRiD"
        for numbers, images, masks in ((train, IDRID_TRAIN_IMAGES, IDRID_TRAIN_OD),
                                       (test, IDRID_TEST_IMAGES, IDRID_TEST_OD)):
            (root / images).mkdir(parents=True, exist_ok=True)
            (root / masks).mkdir(parents=True, exist_ok=True)
            for n in numbers:
                rgb, disc = fundus()
                Image.fromarray(rgb).save(root / images / f"IDRiD_{n:02d}.jpg", quality=95)
                if mask_mode == "RGB":
                    m = np.zeros_like(rgb)
                    m[disc, 0] = 255  # the release marks the disc in the red channel
                    Image.fromarray(m).save(root / masks / f"IDRiD_{n:02d}_OD.tif")
                else:
                    Image.fromarray(disc.astype(np.uint8) * 255).save(root / masks / f"IDRiD_{n:02d}_OD.tif")
        return root

    return write


@pytest.fixture(scope="session")
def random_inception(tmp_path_factory):
    """A randomly initialised, batch-norm-calibrated Inception in torch-fidelity's layout."""
    from medgan_zoo.evaluation.inception import make_random_weights

    return make_random_weights(tmp_path_factory.mktemp("inception") / "random-inception.pth")


@pytest.fixture
def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chromium() -> str:
    """Debian's chromium for Playwright's ``executable_path``; skipped without it, unless CI is set."""
    import os
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            pytest.fail("CI is set but chromium is not installed (.ci/run installs Debian's chromium)")
        pytest.skip("chromium is not installed (apt-get install chromium); CI runs this test")
    return path
