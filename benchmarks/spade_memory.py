"""Estimated training memory of medgan-zoo-spade at 256x256 (the SPADE issue's 12 GB limit), by the
method of ``stylegan2_memory.py``: one training step at a small batch on the CPU under bf16
autocast, the distinct tensors autograd keeps (all phases of the step added up, so an over-count of
the activations alive at once), scaled to the batch, plus fp32 weights, gradients and Adam states.
The GPU check (benchmarks/gpu_check.sh) measures the truth.

    python benchmarks/spade_memory.py --resolution 256 --batch-size 8
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
from results_io import machine, write_results
from stylegan2_memory import GIB, SavedBytes

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext

LAYOUTS = {
    "paper (default; VGG loss off)": {"vgg_weight": 0.0},
    "pyramid (0.1.0's default)": {"preset": "pyramid"},
    "fast": {"preset": "fast"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--probe", type=int, default=2, help="Batch actually run on the CPU.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    rows = []
    for layout, options in LAYOUTS.items():
        gan = zoo.create_gan("spade", resolution=args.resolution, image_channels=1, num_classes=4,
                             batch_size=args.probe, **options)
        gan.configure_optimizers()
        real = torch.rand(args.probe, 5, args.resolution, args.resolution) * 2 - 1
        ctx = StepContext(batch=lambda real=real: real, rng=torch.Generator().manual_seed(0),
                          device=torch.device("cpu"), diffaugment=lambda x: x,
                          autocast=lambda: torch.autocast("cpu", dtype=torch.bfloat16))
        saved = SavedBytes()
        with torch.autograd.graph.saved_tensors_hooks(saved.pack, lambda t: t):
            gan.train_step(ctx)
        params = sum(p.numel() for p in gan.parameters())
        fixed = 4 * 4 * params  # weights, gradients, two Adam moments
        rows.append({"layout": layout, "params_m": round(params / 1e6, 1),
                     "activations_gib_per_sample": round(saved.total / args.probe / GIB, 3),
                     "estimate_gib": round((fixed + saved.total / args.probe * args.batch_size) / GIB, 2)})
    meta = {**machine(), "resolution": args.resolution, "batch_size": args.batch_size, "torch": torch.__version__}
    print(write_results(args.out, f"spade_memory_{args.resolution}px", "SPADE estimated training memory", meta, rows))


if __name__ == "__main__":
    main()
