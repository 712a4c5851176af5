"""Time to produce 2,000 slices at 128x128: phantom generation vs reading the same slices from disk.

Side by side in one run: (a) rendering ``acdc-phantom`` slices (no cache), (b) our ``acdc`` reader on
the same slices written as an ACDC-format NIfTI copy (nibabel decoding + resampling, no cache), and
(c) a second load of each from the on-disk cache. Also the other two phantoms at the same count.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import numpy as np
from results_io import machine, write_results


def timed(fn):
    start = time.perf_counter()
    value = fn()
    return value, time.perf_counter() - start


def write_acdc_copy(dataset, root: Path) -> None:
    """Write a phantom split as ACDC NIfTI frames (one volume per subject and phase)."""
    import nibabel as nib

    for subject in dataset.subject_ids:
        index = dataset.subject_slices(subject)
        half = len(index) // 2
        folder = root / "training" / subject
        folder.mkdir(parents=True)
        (folder / "Info.cfg").write_text("ED: 1\nES: 2\n")
        for frame, part in ((1, index[:half]), (2, index[half:])):
            image = dataset.images[part, 0].permute(1, 2, 0).numpy() * 500 + 500
            labels = dataset.masks[part].permute(1, 2, 0).numpy()
            affine = np.diag([2.0, 2.0, 10.0, 1.0])
            nib.save(nib.Nifti1Image(image.astype(np.float32), affine), folder / f"{subject}_frame{frame:02d}.nii.gz")
            nib.save(nib.Nifti1Image(labels, affine), folder / f"{subject}_frame{frame:02d}_gt.nii.gz")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--slices", type=int, default=2000)
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MEDGAN_ZOO_CACHE"] = str(Path(tmp) / "cache")
        import medgan_zoo as zoo

        res = args.resolution
        subjects = max(1, round(args.slices / 19.0))  # ~19 slices per exam (2 phases)
        rows = []
        zoo.load_dataset("acdc-phantom", resolution=res, train_subjects=1, cache=False)  # warm imports
        phantom, t = timed(lambda: zoo.load_dataset("acdc-phantom", resolution=res, train_subjects=subjects,
                                                     cache=False))
        rows.append(("acdc-phantom: render (no cache)", len(phantom), t))
        _, t = timed(lambda: zoo.load_dataset("acdc-phantom", resolution=res, train_subjects=subjects))
        rows.append(("acdc-phantom: render + write cache", len(phantom), t))
        _, t = timed(lambda: zoo.load_dataset("acdc-phantom", resolution=res, train_subjects=subjects))
        rows.append(("acdc-phantom: cached load", len(phantom), t))

        root = Path(tmp) / "ACDC"
        write_acdc_copy(phantom, root)
        real, t = timed(lambda: zoo.load_dataset("acdc", root, resolution=res, field_of_view_mm=None,
                                                  cache=False))
        rows.append(("acdc reader on a NIfTI copy (no cache)", len(real), t))
        zoo.load_dataset("acdc", root, resolution=res, field_of_view_mm=None)
        _, t = timed(lambda: zoo.load_dataset("acdc", root, resolution=res, field_of_view_mm=None))
        rows.append(("acdc reader: cached load", len(real), t))

        volumes = 10
        liver, t = timed(lambda: zoo.load_dataset("sliver07-phantom", split="all", resolution=res, volumes=volumes,
                                                   test_volumes=(volumes,), slices_per_volume=args.slices // volumes,
                                                   cache=False))
        rows.append(("sliver07-phantom: render (no cache)", len(liver), t))
        fundus, t = timed(lambda: zoo.load_dataset("idrid-phantom", resolution=res, train_images=args.slices,
                                                    cache=False))
        rows.append(("idrid-phantom: render (no cache)", len(fundus), t))

    result = [{"case": c, "slices": n, "seconds": round(s, 3), "ms_per_slice": round(1000 * s / n, 3)}
              for c, n, s in rows]
    meta = {**machine(), "resolution": args.resolution}
    table = write_results(args.out, "phantom_generation", "Phantom generation", meta, result)
    print(table)


if __name__ == "__main__":
    main()
