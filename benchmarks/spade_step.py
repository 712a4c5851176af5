"""Our SPADE generator + discriminator training step against MONAI's ``SPADENet`` +
``MultiScalePatchDiscriminator``, same run, same resolution, channels and batch (hinge loss and
per-layer feature matching on both sides; ours through ``SpadeGAN.train_step``).

Architectures are matched where the two expose the same knobs: noise mode (no encoder), widths
16-128, z of 16, two discriminator scales; ours keeps spectral norm on the discriminator (SPADE's
recipe), MONAI's has none. Needs ``pip install monai`` (not a project dependency).
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from results_io import machine, write_results

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext, joint_from_pairs


def batches(resolution: int, batch: int, steps: int):
    data = zoo.load_dataset("acdc-phantom", resolution=resolution, train_subjects=10, test_subjects=1)
    joint = joint_from_pairs(data.images, data.masks, 4)
    g = torch.Generator().manual_seed(0)
    return [joint[torch.randint(len(joint), (batch,), generator=g)] for _ in range(steps)]


def ours(data: list[torch.Tensor], resolution: int) -> float:
    torch.manual_seed(0)
    gan = zoo.create_gan("spade", resolution=resolution, image_channels=1, num_classes=4, filters=16, d_filters=16,
                         d_layers=3, latent_dim=16, batch_size=len(data[0]), mask_source="none",
                         g_spectral_norm=False)
    gan.configure_optimizers()
    it = iter(data)
    ctx = StepContext(batch=lambda: next(it), rng=torch.Generator().manual_seed(0), device=torch.device("cpu"),
                      autocast=contextlib.nullcontext, diffaugment=lambda x: x)
    start = time.perf_counter()
    for _ in data:
        gan.train_step(ctx)
    return time.perf_counter() - start


def monai(data: list[torch.Tensor], resolution: int) -> float:
    from monai.networks.nets import MultiScalePatchDiscriminator, SPADENet

    torch.manual_seed(0)
    G = SPADENet(spatial_dims=2, in_channels=1, out_channels=1, label_nc=4, input_shape=[resolution, resolution],
                 channels=[16, 32, 64, 128], z_dim=16, is_vae=False)
    D = MultiScalePatchDiscriminator(num_d=2, num_layers_d=2, spatial_dims=2, channels=16, in_channels=5,
                                     minimum_size_im=resolution)
    opt_g = torch.optim.Adam(G.parameters(), lr=1e-4, betas=(0.0, 0.9))
    opt_d = torch.optim.Adam(D.parameters(), lr=4e-4, betas=(0.0, 0.9))
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
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=15)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    data = batches(args.resolution, args.batch_size, args.steps)
    ours(data[:2], args.resolution), monai(data[:2], args.resolution)  # warm-up
    a, b = [], []
    for _ in range(args.rounds):
        a.append(ours(data, args.resolution))
        b.append(monai(data, args.resolution))
    t_ours, t_monai = statistics.median(a) / args.steps, statistics.median(b) / args.steps
    rows = [{"implementation": "MONAI SPADENet + MultiScalePatchDiscriminator", "s_per_step": round(t_monai, 4),
             "ratio": 1.0},
            {"implementation": "medgan-zoo-spade", "s_per_step": round(t_ours, 4), "ratio": round(t_ours / t_monai, 3)}]
    meta = {**machine(), "resolution": args.resolution, "batch_size": args.batch_size, "steps": args.steps,
            "rounds": args.rounds, "torch": torch.__version__}
    print(write_results(args.out, "spade_step_cpu", "SPADE training step vs MONAI (CPU)", meta, rows))


if __name__ == "__main__":
    main()
