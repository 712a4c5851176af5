"""nnU-Net data sets in and out, beside the peers a user would otherwise reach for.

In: an nnU-Net v2 raw data set generated here (--cases cases, two NIfTI channels of 128x128x20 with a
label each) read and resampled to 64x64. Ours: `load_dataset("nnunet", ...)`, first read (layout,
reading both channels and the label, RAS, per-channel scaling, resampling, caching) and cached read.
Peer: MONAI's LoadImage + EnsureChannelFirst + Orientation(RAS) + Resize of every channel file and
label (nearest for labels), channels concatenated: the same work without a cache (MONAI has no
nnU-Net raw reader).

Out: --pairs generated-size pairs (128x128 grey, uint8 labels) written as an nnU-Net raw data set.
Ours: `NnunetWriter` (PNG cases, dataset.json, cases.csv, splits_final.json, atomic rename). Peer:
what nnU-Net's own 2-D conversion script (Dataset120_RoadSegmentation) does: `skimage.io.imsave` of
every image and label, then nnU-Net's `generate_dataset_json`.

Each case runs in a fresh process (torch, MONAI or nnunetv2 imported before the clock); the median of
--repeats runs is reported.
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

READ_OURS = """
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import torch
import medgan_zoo as zoo
zoo.get_registry()
began = time.perf_counter()
data = zoo.load_dataset("nnunet", sys.argv[1], "all", 64, test_fraction=0)
print(json.dumps({"seconds": time.perf_counter() - began, "slices": len(data),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

READ_MONAI = """
import json, resource, sys, time, warnings
from pathlib import Path
warnings.simplefilter("ignore")
import numpy as np
from monai.transforms import Compose, EnsureChannelFirst, LoadImage, Orientation, Resize
root = Path(sys.argv[1])
began = time.perf_counter()
image = Compose([LoadImage(image_only=True), EnsureChannelFirst(), Orientation("RAS"),
                 Resize((64, 64, -1), mode="bilinear")])
label = Compose([LoadImage(image_only=True), EnsureChannelFirst(), Orientation("RAS"),
                 Resize((64, 64, -1), mode="nearest")])
slices = 0
for path in sorted((root / "labelsTr").glob("*.nii.gz")):
    case = path.name[:-len(".nii.gz")]
    channels = np.concatenate([np.asarray(image(str(root / "imagesTr" / f"{case}_{c:04d}.nii.gz"))) for c in range(2)])
    m = label(str(path))
    slices += channels.shape[-1]
print(json.dumps({"seconds": time.perf_counter() - began, "slices": slices,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

PAIRS = """
import json, resource, sys, time
from pathlib import Path
import numpy as np
out, n = Path(sys.argv[1]), int(sys.argv[2])
rng = np.random.default_rng(0)
images = rng.uniform(-1, 1, (n, 1, 128, 128)).astype(np.float32)
masks = rng.integers(0, 3, (n, 128, 128)).astype(np.uint8)
"""

WRITE_OURS = PAIRS + """
from medgan_zoo.data.nnunet.write import NnunetWriter
began = time.perf_counter()
with NnunetWriter(out, 501, "Synth", {0: "background", 1: "a", 2: "b"}, 1) as writer:
    for start in range(0, n, 256):
        stop = min(start + 256, n)
        writer.add(images[start:stop], masks[start:stop], [f"synth_{i:06d}" for i in range(start, stop)],
                   [{"origin": "synthetic", "sample": i} for i in range(start, stop)])
    writer.finish({"synthetic_cases": n})
print(json.dumps({"seconds": time.perf_counter() - began, "files": 2 * n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

WRITE_NNUNET = PAIRS + """
from skimage import io
from nnunetv2.dataset_conversion.generate_dataset_json import generate_dataset_json
began = time.perf_counter()
folder = out / "Dataset501_Synth"
(folder / "imagesTr").mkdir(parents=True)
(folder / "labelsTr").mkdir()
pixels = np.round((np.clip(images, -1, 1) + 1) * 127.5).astype(np.uint8)
for i in range(n):
    io.imsave(str(folder / "imagesTr" / f"synth_{i:06d}_0000.png"), pixels[i, 0], check_contrast=False)
    io.imsave(str(folder / "labelsTr" / f"synth_{i:06d}.png"), masks[i], check_contrast=False)
generate_dataset_json(str(folder), {0: "rgb_to_0_1"}, {"background": 0, "a": 1, "b": 2}, n, ".png",
                      dataset_name="Synth")
print(json.dumps({"seconds": time.perf_counter() - began, "files": 2 * n,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def write_raw(root: Path, cases: int) -> None:
    import nibabel as nib

    rng = np.random.default_rng(0)
    (root / "imagesTr").mkdir(parents=True)
    (root / "labelsTr").mkdir()
    affine = np.diag([1.2, 1.2, 5.0, 1.0])
    for n in range(cases):
        mask = np.zeros((128, 128, 20), np.uint8)
        mask[30:90, 40:100, 3:17] = 1
        for c in range(2):
            image = (mask * 60.0 + 50 * c + rng.normal(0, 10, mask.shape)).astype(np.float32)
            nib.save(nib.Nifti1Image(image, affine), str(root / "imagesTr" / f"case{n:03d}_{c:04d}.nii.gz"))
        nib.save(nib.Nifti1Image(mask, affine), str(root / "labelsTr" / f"case{n:03d}.nii.gz"))
    (root / "dataset.json").write_text(json.dumps({
        "channel_names": {"0": "T2", "1": "ADC"}, "labels": {"background": 0, "organ": 1},
        "numTraining": cases, "file_ending": ".nii.gz"}))


def main() -> None:
    import os
    import shutil

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=60)
    parser.add_argument("--pairs", type=int, default=2000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        root = tmp_path / "Dataset900_Bench"
        write_raw(root, args.cases)
        first, cached, peer, ours_out, theirs_out = [], [], [], [], []
        for r in range(args.repeats):
            env = {**os.environ, "MEDGAN_ZOO_CACHE": str(tmp_path / f"cache-{r}")}
            first.append(run_script(READ_OURS, str(root), env=env))
            cached.append(run_script(READ_OURS, str(root), env=env))
            peer.append(run_script(READ_MONAI, str(root)))
            for code, runs, name in ((WRITE_OURS, ours_out, "ours"), (WRITE_NNUNET, theirs_out, "nnunet")):
                target = tmp_path / f"out-{name}-{r}"
                runs.append(run_script(code, str(target), str(args.pairs)))
                shutil.rmtree(target)
        for name, runs in (("read: medgan-zoo nnunet, first read", first), ("read: medgan-zoo nnunet, cached", cached),
                           ("read: MONAI LoadImage + Orientation + Resize", peer)):
            rows.append({"case": name, "slices": runs[0]["slices"],
                         "median_s": round(statistics.median(r["seconds"] for r in runs), 3),
                         "peak_mb": round(statistics.median(r["peak_mb"] for r in runs), 1)})
        rows[0]["ratio_to_peer"] = round(rows[0]["median_s"] / rows[2]["median_s"], 2)
        rows[1]["ratio_to_peer"] = round(rows[1]["median_s"] / rows[2]["median_s"], 3)
        for name, runs in (("write: medgan-zoo NnunetWriter", ours_out),
                           ("write: skimage.io.imsave + generate_dataset_json (nnU-Net's scripts)", theirs_out)):
            rows.append({"case": name, "files": runs[0]["files"],
                         "median_s": round(statistics.median(r["seconds"] for r in runs), 3),
                         "peak_mb": round(statistics.median(r["peak_mb"] for r in runs), 1)})
        rows[3]["ratio_to_peer"] = round(rows[3]["median_s"] / rows[4]["median_s"], 2)
    from importlib.metadata import version

    meta = {**machine(), "cases": args.cases, "pairs": args.pairs, "repeats": args.repeats, "resolution": 64,
            "monai": version("monai"), "nnunetv2": version("nnunetv2"), "time": time.strftime("%Y-%m-%d")}
    print(write_results(args.out, "nnunet", "nnU-Net data sets in and out, beside MONAI and nnU-Net's scripts",
                        meta, rows))


if __name__ == "__main__":
    main()
