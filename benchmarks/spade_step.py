"""Our SPADE generator + discriminator training step against MONAI's ``SPADENet`` +
``MultiScalePatchDiscriminator``, same run, same resolution, channels and batch (hinge loss and
per-layer feature matching on both sides; ours through ``SpadeGAN.train_step``).

MONAI's generator (channels 16-128, mask input) runs SPADE blocks at 4, 8, 16 and 32 px with outputs
64, 32, 16, 1 and upsamples to the image. Three of ours are timed against it: ``matched`` (widths
64, 32, 16, 8 at the same resolutions plus a final convolution; the closest our layout gets to the
same work), ``half-res`` (the pyramid's default widths, last block at half resolution), ``pyramid``
(0.1.0's default: the last block at full resolution, about 6x MONAI's work), ``official`` (the
`paper` preset's generator and discriminator at the same filters, VGG loss off) and ``small`` (the configuration
that met the issue's Dice goal in ``phantom_dice.py``: widths ..., 64, 32, 16, 8 with the last block at
full resolution, SPADE hidden 64, discriminator 32 wide, 4 layers) and ``fast`` (the configuration
that met it with twice the steps in the same time: widths ..., 64, 32, 16 with the last block at half
resolution, SPADE hidden 64, discriminator 16 wide, 3 layers). z of 16, two discriminator
scales; ours keeps spectral norm on the discriminator (SPADE's recipe), MONAI's has none.
Needs ``pip install monai`` (not a project dependency).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from results_io import machine, write_results

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext, joint_from_pairs

DEVICE = torch.device("cpu")


def sync() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def batches(resolution: int, batch: int, steps: int):
    data = zoo.load_dataset("acdc-phantom", resolution=resolution, train_subjects=10, test_subjects=1)
    joint = joint_from_pairs(data.images, data.masks, 4)
    g = torch.Generator().manual_seed(0)
    return [joint[torch.randint(len(joint), (batch,), generator=g)].to(DEVICE) for _ in range(steps)]


LAYOUTS = {  # the pyramid layout (0.1.0's default) at several widths, and the official layout
    "matched": {"full_resolution_block": False},
    "half-res": {"full_resolution_block": False},
    "pyramid": {"full_resolution_block": True},
    "official": {"preset": "paper", "vgg_weight": 0.0},
    # the configuration that met the Dice goal (benchmarks/phantom_dice.py --gan spade --layout small)
    "small": {"full_resolution_block": True, "spade_hidden": 64, "d_filters": 32, "d_layers": 4},
    # the configuration that met the Dice goal at MONAI's speed (phantom_dice.py --gan spade --layout fast --steps 3200)
    "fast": {"full_resolution_block": False, "spade_hidden": 64},
}


def ours(data: list[torch.Tensor], resolution: int, layout: str = "matched") -> float:
    torch.manual_seed(0)
    options = dict(LAYOUTS[layout])
    if layout == "matched":  # MONAI's last three blocks output 32, 16, 1 after 64 below them
        options["widths"] = [64] * (int(math.log2(resolution)) - 5) + [32, 16, 8]
    if layout == "small":
        options["widths"] = [64] * (int(math.log2(resolution)) - 4) + [32, 16, 8]
    if layout == "fast":
        options["widths"] = [64] * (int(math.log2(resolution)) - 4) + [32, 16]
    options = {"preset": "pyramid", "filters": 16, "d_filters": 16, "d_layers": 3, **options}
    gan = zoo.create_gan("spade", resolution=resolution, image_channels=1, num_classes=4, latent_dim=16,
                         batch_size=len(data[0]), mask_source="none", g_spectral_norm=False, **options).to(DEVICE)
    gan.configure_optimizers()
    it = iter(data)
    ctx = StepContext(batch=lambda: next(it), rng=torch.Generator(DEVICE).manual_seed(0), device=DEVICE,
                      autocast=contextlib.nullcontext, diffaugment=lambda x: x)
    sync()
    start = time.perf_counter()
    for _ in data:
        gan.train_step(ctx)
    sync()
    return time.perf_counter() - start


def monai(data: list[torch.Tensor], resolution: int) -> float:
    from monai.networks.nets import MultiScalePatchDiscriminator, SPADENet

    torch.manual_seed(0)
    G = SPADENet(spatial_dims=2, in_channels=1, out_channels=1, label_nc=4, input_shape=[resolution, resolution],
                 channels=[16, 32, 64, 128], z_dim=16, is_vae=False)
    D = MultiScalePatchDiscriminator(num_d=2, num_layers_d=2, spatial_dims=2, channels=16, in_channels=5,
                                     minimum_size_im=resolution)
    G, D = G.to(DEVICE), D.to(DEVICE)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
    sync()
    start = time.perf_counter()
    for real in data:
        segmap = (real[:, 1:] + 1) / 2
        out = G(segmap)
        fake_images = out[0] if isinstance(out, (tuple, list)) else out
        fake = torch.cat([fake_images, real[:, 1:]], 1)
        d_real, _ = D(real)
        d_fake, _ = D(fake.detach())
        pairs = zip(d_real, d_fake, strict=True)
        loss_d = sum(F.relu(1 - r).mean() + F.relu(1 + f).mean() for r, f in pairs) / len(d_real)
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        D.requires_grad_(False)
        p_fake, f_fake = D(fake)
        with torch.no_grad():
            _, f_real = D(real)
        loss_g = -sum(p.mean() for p in p_fake) / len(p_fake)
        matched = [(a, b) for fa, fb in zip(f_fake, f_real, strict=True) for a, b in zip(fa, fb, strict=True)]
        loss_g = loss_g + 10 * sum(F.l1_loss(a, b) for a, b in matched) / 2
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
        D.requires_grad_(True)
    sync()
    return time.perf_counter() - start


def peak_gib(run) -> float:
    """Peak GPU memory of a few steps (nan on the CPU)."""
    if DEVICE.type != "cuda":
        return float("nan")
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    run()
    return round(torch.cuda.max_memory_allocated() / 2**30, 2)


def sample_seconds(resolution: int, n: int) -> float:
    """``sample(n)`` of a default SPADE model (masks from its mask generator)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        zoo.train("spade", "acdc-phantom", out=Path(tmp) / "run", resolution=resolution, steps=1, progress=False,
                  dataset_config={"train_subjects": 4, "test_subjects": 1}, device=str(DEVICE))
        model = zoo.load(Path(tmp) / "run", device=DEVICE)
        model.sample(32, seed=0)
        sync()
        start = time.perf_counter()
        model.sample(n, seed=0, batch_size=256)
        sync()
        return time.perf_counter() - start


def main() -> None:
    global DEVICE
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layouts", nargs="+", default=list(LAYOUTS), choices=list(LAYOUTS))
    parser.add_argument("--device", default="cpu", help="cpu or cuda")
    parser.add_argument("--samples", type=int, default=0, help="Also time sample(n) of a default model.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    DEVICE = torch.device(args.device)
    data = batches(args.resolution, args.batch_size, args.steps)
    for layout in args.layouts:
        ours(data[:2], args.resolution, layout)
    monai(data[:2], args.resolution)  # warm-up
    times: dict[str, list[float]] = {name: [] for name in ["monai", *args.layouts]}
    for _ in range(args.rounds):  # interleaved, so drift in the machine's speed hits every row alike
        times["monai"].append(monai(data, args.resolution))
        for layout in args.layouts:
            times[layout].append(ours(data, args.resolution, layout))
    per_step = {name: statistics.median(ts) / args.steps for name, ts in times.items()}
    peaks = {"monai": peak_gib(lambda: monai(data[:3], args.resolution))}
    for layout in args.layouts:
        peaks[layout] = peak_gib(lambda layout=layout: ours(data[:3], args.resolution, layout))
    rows = [{"implementation": "MONAI SPADENet + MultiScalePatchDiscriminator",
             "s_per_step": round(per_step["monai"], 4), "ratio": 1.0, "peak_gib": peaks["monai"]}]
    rows += [{"implementation": f"medgan-zoo-spade ({layout})", "s_per_step": round(per_step[layout], 4),
              "ratio": round(per_step[layout] / per_step["monai"], 3), "peak_gib": peaks[layout]}
             for layout in args.layouts]
    meta = {**machine(), "device": torch.cuda.get_device_name() if DEVICE.type == "cuda" else "cpu",
            "resolution": args.resolution, "batch_size": args.batch_size, "steps": args.steps,
            "rounds": args.rounds, "torch": torch.__version__}
    if args.samples:
        meta[f"sample_{args.samples}_s"] = round(sample_seconds(args.resolution, args.samples), 2)
    name = f"spade_step_{DEVICE.type}_{args.resolution}px"
    print(meta)
    print(write_results(args.out, name, f"SPADE training step vs MONAI ({DEVICE.type})", meta, rows))


if __name__ == "__main__":
    main()
