"""Estimated peak training memory of medgan-zoo-stylegan2 per phase, on any machine.

Runs each training phase once at a small batch on the CPU, adds up the distinct tensors autograd
keeps for the backward pass (``saved_tensors_hooks``), scales them to the requested batch or
micro-batch (they grow linearly with it) and adds the weights, gradients, Adam states and the EMA
copy. It is an estimate of what ``torch.cuda.max_memory_allocated`` would report, missing the
transient gradients of the backward pass and cuDNN workspaces, so it is a lower bound; the GPU
check (benchmarks/gpu_check.sh) measures the truth. Main phases are counted in bf16 (the engine's
autocast on a GPU), R1 and path length in fp32 as they run.

    python benchmarks/stylegan2_memory.py --resolution 256 --batch-size 32 --micro-batch 32 8
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import torch
from results_io import machine, write_results

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext

GIB = 2**30


class SavedBytes:
    """Bytes of the distinct storages autograd saves (parameters excluded: counted apart)."""

    def __init__(self) -> None:
        self.storages: dict[int, int] = {}

    def pack(self, t: torch.Tensor) -> torch.Tensor:
        if not (t.requires_grad and t.is_leaf):
            storage = t.untyped_storage()
            self.storages[storage.data_ptr()] = max(self.storages.get(storage.data_ptr(), 0), storage.nbytes())
        return t

    @property
    def total(self) -> int:
        return sum(self.storages.values())


def per_sample(resolution: int, channels: tuple[int, int], probe: int) -> tuple[dict[str, float], dict[str, int]]:
    """Saved activation bytes per sample for each phase, and the parameter counts."""
    gan = zoo.create_gan("stylegan2", resolution=resolution, image_channels=channels[0], num_classes=channels[1],
                         batch_size=probe)
    rng = torch.Generator().manual_seed(0)
    ctx = StepContext(batch=lambda: None, rng=rng, device=torch.device("cpu"), autocast=contextlib.nullcontext,
                      diffaugment=lambda x: x)
    G, D = gan.generator, gan.discriminator
    assert D is not None
    real = torch.rand(probe, sum(channels), resolution, resolution) * 2 - 1
    bf16 = torch.autocast("cpu", dtype=torch.bfloat16)

    def g_main():
        with bf16:
            return D(gan._augment(ctx, G.synthesis(gan._ws(ctx, probe), noise="random", rng=rng))).sum()

    def d_main():
        with torch.no_grad(), bf16:
            fake = G.synthesis(gan._ws(ctx, probe), noise="random", rng=rng)
        with bf16:
            return D(gan._augment(ctx, real)).sum() + D(gan._augment(ctx, fake)).sum()

    phases = {"D main (bf16)": (d_main, probe), "R1 (fp32)": (lambda: gan.r1(ctx, real), probe),
              "G main (bf16)": (g_main, probe), "path length (fp32)": (lambda: gan.path_length(ctx, probe), probe)}
    result = {}
    for name, (fn, n) in phases.items():
        saved = SavedBytes()
        with torch.autograd.graph.saved_tensors_hooks(saved.pack, lambda t: t):
            out = fn()
        result[name] = saved.total / n
        del out
    counts = {"G": sum(p.numel() for p in G.parameters()), "D": sum(p.numel() for p in D.parameters())}
    return result, counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=256)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--micro-batch", type=int, nargs="+", default=[32, 16, 8])
    parser.add_argument("--channels", type=int, nargs=2, default=[1, 4], metavar=("IMAGE", "CLASSES"))
    parser.add_argument("--probe", type=int, default=2, help="Batch actually run on the CPU.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    saved, counts = per_sample(args.resolution, tuple(args.channels), args.probe)
    # fp32 weights of G, G_ema, D; fp32 gradients and two Adam moments of G and D
    fixed = 4 * (2 * counts["G"] + counts["D"]) + 4 * 3 * (counts["G"] + counts["D"])
    rows = []
    for micro in args.micro_batch:
        chunk = min(micro, args.batch_size)
        pl_chunk = min(micro, max(args.batch_size // 2, 1))
        phases = {name: fixed + per * (pl_chunk if name.startswith("path") else chunk) for name, per in saved.items()}
        rows.append({"micro_batch": micro, **{k: round(v / GIB, 2) for k, v in phases.items()},
                     "peak_gib": round(max(phases.values()) / GIB, 2)})
    meta = {**machine(), "resolution": args.resolution, "batch_size": args.batch_size, "channels": args.channels,
            "params_G": counts["G"], "params_D": counts["D"], "fixed_gib": round(fixed / GIB, 2),
            "torch": torch.__version__}
    print(meta)
    name = f"stylegan2_memory_{args.resolution}px"
    print(write_results(args.out, name, "StyleGAN2 estimated peak training memory (GiB)", meta, rows))


if __name__ == "__main__":
    main()
