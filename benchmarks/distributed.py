"""The distributed path's per-step cost with one rank, and the gradient volume several ranks exchange.

(1) CPU: the same run (DCGAN by default; ``--gan spade|stylegan2`` for their CPU-sized
configurations) as one ordinary process and as `torchrun --nproc-per-node 1` (the
distributed path with one rank: gradients all-reduced at every optimiser step, a stop flag shared at
every step, buffers averaged and weights compared at checkpoints), alternating rounds; the ratio of
their training seconds (goal: under 1.03).
(2) Bytes all-reduced per training step for each published configuration (4 bytes per gradient of
every network the step updates, per phase) and per forward pass for synchronised batch norms, from
which the expected scaling follows.

    python benchmarks/distributed.py --steps 300 --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from results_io import machine, write_results

COMMON = ["--dataset", "acdc-phantom", "--set", "train.progress=false", "--set", "train.checkpoint_every=100"]
#: CPU-sized configurations per GAN (StyleGAN2 and SPADE as docs/stylegan2.md and docs/spade.md size them).
CASES = {
    "dcgan": ["dcgan", *COMMON, "--batch-size", "32", "--set", "g_filters=32", "--set", "d_filters=32"],
    "spade": ["spade", *COMMON, "--batch-size", "8", "--set", "preset=fast"],
    "stylegan2": ["stylegan2", *COMMON, "--batch-size", "8", "--set", "channel_base=2048", "--set", "channel_max=64",
                  "--set", "mapping_layers=2", "--set", "r1_interval=4", "--set", "pl_interval=4"],
}


def _seconds(out: Path) -> float:
    return float(json.loads((out / "config.json").read_text())["training"]["seconds"])


def _volumes() -> list[dict]:
    import torch

    import medgan_zoo as zoo

    rows = []
    cases = [("dcgan", 128, {}), ("wgan-gp", 128, {})]
    registry = zoo.get_registry()
    if "spade" in registry.gans:
        cases.append(("spade", 256, {"preset": "paper", "vgg_weight": 0}))
    if "stylegan2" in registry.gans:
        cases += [("stylegan2", 128, {}), ("stylegan2", 256, {})]
    for gan, resolution, config in cases:
        model = zoo.create_gan(gan, resolution=resolution, **config)
        sizes = {name: sum(p.numel() for p in module.parameters()) for name, module in model.networks()
                 if name in ("generator", "discriminator")}
        g, d = sizes.get("generator", 0), sizes.get("discriminator", 0)
        norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
        rows.append({"gan": gan, "resolution": resolution, "G parameters (M)": g / 1e6, "D parameters (M)": d / 1e6,
                     "all-reduced per step (MB)": 4 * (g + d) / 1e6,
                     "ring traffic per rank per step, 8 ranks (MB)": 2 * 7 / 8 * 4 * (g + d) / 1e6,
                     # synchronised batch norms: the sums, then the squared deviations, per layer and forward
                     "batch-norm layers": len(norms),
                     "batch-norm statistics per forward (kB)": sum(8 * m.num_features for m in norms) / 1e3})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--gan", choices=sorted(CASES), default="dcgan", help="which CPU-sized configuration to time")
    parser.add_argument("--device", default="cpu", help="cuda: the one-GPU check at --resolution 128")
    parser.add_argument("--resolution", type=int, default=32)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    torchrun = Path(sys.executable).with_name("torchrun")
    env = {**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    plain, ranked = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            for kind in ("plain", "torchrun") if r % 2 == 0 else ("torchrun", "plain"):
                out = Path(tmp) / f"{kind}-{r}"
                prefix = ([str(torchrun), "--standalone", "--nproc-per-node", "1", "-m", "medgan_zoo"]
                          if kind == "torchrun" else [sys.executable, "-m", "medgan_zoo"])
                command = [*prefix, "train", *CASES[args.gan], "--steps", str(args.steps), "--out", str(out),
                           "--device", args.device, "--resolution", str(args.resolution)]
                subprocess.run(command, check=True,
                               env=env, capture_output=True)
                (ranked if kind == "torchrun" else plain).append(_seconds(out))
                print(kind, r, (ranked if kind == "torchrun" else plain)[-1], flush=True)
    rows = [{"path": "ordinary process", "median_s": statistics.median(plain), "ratio": 1.0},
            {"path": "torchrun, 1 rank", "median_s": statistics.median(ranked),
             "ratio": statistics.median(ranked) / statistics.median(plain)}]
    meta = {**machine(), "gan": args.gan, "device": args.device, "resolution": args.resolution,
            "steps": args.steps, "rounds": args.rounds,
            "runs": {"plain": plain, "torchrun": ranked}}
    name = f"distributed_{args.device.split(':')[0]}" + ("" if args.gan == "dcgan" else f"_{args.gan}")
    size = f"{args.resolution}x{args.resolution}"
    title = f"Distributed path with one rank vs one process ({args.device}, {args.gan}, {size})"
    print(write_results(args.out, name, title, meta, rows))
    volumes = _volumes()
    print(write_results(args.out, "distributed_volume", "Gradient bytes all-reduced per training step",
                        {"bytes_per_gradient": 4}, volumes))


if __name__ == "__main__":
    main()
