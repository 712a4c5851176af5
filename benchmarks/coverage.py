"""Mode coverage of an unconditional and a class-conditional DCGAN trained at the same budget on
acdc-phantom with its five pathology groups (pathology=true).

For each: the mode-coverage metric (the samples' predicted class histogram against the real test
slices', total variation distance; the classes it finds missing) and the Dice protocol's per-group
Dice: a U-Net trained on 1,000 generated pairs (the conditional model draws the groups in the
training proportions), scored on each group's real test volumes; the real training slices' U-Net
as the reference. Writes the ratio conditional / unconditional,
and docs/images/conditional-groups.png (the conditional model's samples, one row per group).

    python benchmarks/coverage.py --steps 1500
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from results_io import machine, write_results

import medgan_zoo as zoo

DATA = {"train_subjects": 40, "test_subjects": 10, "pathology": True}
GAN = {"g_filters": 32, "d_filters": 32, "batch_size": 16, "lr": 1e-3}


def _evaluate(model, n: int, unet_steps: int, sources: list[str]) -> dict:
    """mode-coverage and the Dice protocol (reporting per group) at the quick scale."""
    unet = {"steps": unet_steps, "encoder_depth": 3, "decoder_channels": [32, 16, 8]}
    return zoo.evaluate(model, "acdc-phantom", ["mode-coverage", "dice"], n=n, scale="quick", dataset_config=DATA,
                        metric_config={"unet-fd": {"steps": 150}, "dice": {**unet, "sources": sources}},
                        progress=False)


def _figure(model, path: Path) -> None:
    from medgan_zoo.data.preview import overlay_grid, save_grid

    rows = [model.sample(6, seed=7, classes=name) for name in model.class_names]
    images = torch.cat([r.images for r in rows])
    masks = torch.cat([r.masks for r in rows])
    save_grid(overlay_grid(images, masks, columns=6), path,
              "class-conditional DCGAN on acdc-phantom (pathology=true): one row per group, "
              + ", ".join(model.class_names) + " (top to bottom)", model.label_map)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--unet-steps", type=int, default=400)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--figure", type=Path, default=Path(__file__).parents[1] / "docs" / "images"
                        / "conditional-groups.png")
    args = parser.parse_args()
    rows: list[dict] = []
    meta = {**machine(), "steps": args.steps, "samples": args.samples, "unet_steps": args.unet_steps,
            "data": DATA, "gan": GAN}
    with tempfile.TemporaryDirectory() as tmp:
        for label, conditional in (("unconditional DCGAN", False), ("class-conditional DCGAN", True)):
            out = Path(tmp) / label.split()[0]
            began = time.perf_counter()
            zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=args.steps, progress=False,
                      gan_config={**GAN, "class_conditional": conditional}, dataset_config=DATA)
            seconds = time.perf_counter() - began
            model = zoo.load(out)
            results = _evaluate(model, args.samples, args.unet_steps,
                                ["synthetic"] if conditional else ["synthetic", "original"])
            coverage, dice = results["mode-coverage"], results["dice"]["sources"]
            if not conditional:
                rows.append({"model": "real training slices", "dice": dice["original"]["dice"],
                             **{f"dice_{k}": v for k, v in dice["original"]["per_group"].items()}})
            rows.append({"model": label, "train_s": seconds, "class_tvd": coverage["tvd"],
                         "missing": " ".join(coverage["missing"]) or "-",
                         "classifier_accuracy": coverage["classifier_test_accuracy"],
                         "dice": dice["synthetic"]["dice"],
                         **{f"dice_{k}": v for k, v in dice["synthetic"]["per_group"].items()}})
            print(rows[-1], flush=True)
            if conditional:
                _figure(model, args.figure)
    uncond, cond = rows[1], rows[2]
    rows.append({"model": "ratio conditional / unconditional", "class_tvd": cond["class_tvd"] / uncond["class_tvd"],
                 **{k: cond[k] / uncond[k] for k in cond if k.startswith("dice") and uncond[k]}})
    print(write_results(args.out, "coverage", "Mode coverage: unconditional vs class-conditional DCGAN", meta, rows))


if __name__ == "__main__":
    main()
