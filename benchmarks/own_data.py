"""Reading your own files: the `folder` data set beside MONAI's LoadImage on the same files.

Generated here: 100 NIfTI volumes (128x128x20 with masks) and 2,000 PNG pairs (128x128). Ours: the
first read (discovery, reading, reorientation, scaling, resampling to 64x64, caching) and the cached
read. MONAI (the peer): LoadImage + EnsureChannelFirst + Orientation(RAS) + Resize to 64x64 of every
image and mask (nearest for masks), the same work without a cache. Each case runs in a fresh process,
so its wall time and peak memory (ru_maxrss) are its own; the median of --repeats runs is reported.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
from results_io import machine, run_script, write_results

OURS = """
import json, os, resource, sys, time, warnings
warnings.simplefilter("ignore")
import torch  # imported before the clock starts, as the peer's script imports MONAI (and torch) first
import medgan_zoo as zoo
zoo.get_registry()
root, modality = sys.argv[1], sys.argv[2]
began = time.perf_counter()
data = zoo.load_dataset("folder", root, "all", 64, modality=modality)
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "slices": len(data),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

MONAI = """
import json, resource, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import numpy as np
from monai.transforms import Compose, EnsureChannelFirst, LoadImage, Orientation, Resize
root, kind = Path(sys.argv[1]), sys.argv[2]
began = time.perf_counter()
slices = 0
if kind == "nifti":
    image = Compose([LoadImage(image_only=True), EnsureChannelFirst(), Orientation("RAS"),
                     Resize((64, 64, -1), mode="bilinear")])
    mask = Compose([LoadImage(image_only=True), EnsureChannelFirst(), Orientation("RAS"),
                    Resize((64, 64, -1), mode="nearest")])
    for path in sorted(root.glob("*/image.nii.gz")):
        a, m = image(str(path)), mask(str(path.with_name("image_mask.nii.gz")))
        slices += a.shape[-1]
else:
    image = Compose([LoadImage(image_only=True), EnsureChannelFirst(), Resize((64, 64), mode="bilinear")])
    mask = Compose([LoadImage(image_only=True), EnsureChannelFirst(), Resize((64, 64), mode="nearest")])
    for path in sorted((root / "images").glob("*.png")):
        a, m = image(str(path)), mask(str(root / "masks" / path.name))
        slices += 1
seconds = time.perf_counter() - began
print(json.dumps({"seconds": seconds, "slices": slices,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_nifti(root: Path, count: int) -> None:
    import nibabel as nib

    rng = np.random.default_rng(0)
    for n in range(count):
        folder = root / f"case{n:03d}"
        folder.mkdir(parents=True)
        mask = np.zeros((128, 128, 20), np.uint8)
        mask[30:90, 40:100, 3:17] = 1
        image = (mask * 60.0 - 100 + rng.normal(0, 10, mask.shape)).astype(np.float32)
        affine = np.diag([1.2, 1.2, 5.0, 1.0])
        nib.save(nib.Nifti1Image(image, affine), str(folder / "image.nii.gz"))
        nib.save(nib.Nifti1Image(mask, affine), str(folder / "image_mask.nii.gz"))
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "organ"}))


def write_png(root: Path, count: int) -> None:
    from PIL import Image

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for n in range(count):
        mask = np.zeros((128, 128), np.uint8)
        mask[30 + n % 20:90, 40:100] = 1
        image = (mask * 120 + 60 + rng.integers(0, 30, mask.shape)).astype(np.uint8)
        Image.fromarray(image).save(root / "images" / f"p{n:04d}.png")
        Image.fromarray(mask).save(root / "masks" / f"p{n:04d}.png")
    (root / "labels.json").write_text(json.dumps({"0": "background", "1": "organ"}))


def main() -> None:
    import os

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--volumes", type=int, default=100)
    parser.add_argument("--pictures", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        write_nifti(tmp_path / "nifti", args.volumes)
        write_png(tmp_path / "png", args.pictures)
        for kind, modality in (("nifti", "ct"), ("png", "grey")):
            root = str(tmp_path / kind)
            first, cached, peer = [], [], []
            for r in range(args.repeats):
                env = {**os.environ, "MEDGAN_ZOO_CACHE": str(tmp_path / f"cache-{kind}-{r}")}
                first.append(run_script(OURS, root, modality, env=env))
                cached.append(run_script(OURS, root, modality, env=env))
                peer.append(run_script(MONAI, root, kind))
            for name, runs in (("medgan-zoo folder: first read", first), ("medgan-zoo folder: cached read", cached),
                               ("MONAI LoadImage + Orientation + Resize", peer)):
                seconds = statistics.median(r["seconds"] for r in runs)
                rows.append({"files": kind, "case": name, "slices": runs[0]["slices"], "median_s": round(seconds, 3),
                             "slices_per_s": round(runs[0]["slices"] / seconds, 1),
                             "peak_mb": round(statistics.median(r["peak_mb"] for r in runs), 1)})
            ours_first, ours_cached, theirs = (r["median_s"] for r in rows[-3:])
            rows[-3]["ratio_to_peer"] = round(ours_first / theirs, 2)
            rows[-2]["ratio_to_peer"] = round(ours_cached / theirs, 3)
            rows[-2]["first_over_cached"] = round(ours_first / ours_cached, 1)
    import monai

    meta = {**machine(), "volumes": args.volumes, "pictures": args.pictures, "repeats": args.repeats,
            "resolution": 64, "monai": monai.__version__, "time": time.strftime("%Y-%m-%d")}
    print(write_results(args.out, "own_data", "Your own files: the folder data set beside MONAI", meta, rows))


if __name__ == "__main__":
    main()
