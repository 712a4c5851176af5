"""Our engine's training step against a minimal plain-PyTorch loop, same networks, same batch.

Both train a DCGAN (built by ``medgan_zoo.create_gan``) on the same joint acdc-phantom tensor held on
the device: the plain loop samples a batch, takes a BCE discriminator step and a non-saturating
generator step, nothing else. The engine adds what a real run needs (seeded generator, metric
accumulation, periodic finite checks, logging, a final checkpoint). Rounds alternate between the
two to share any drift of the machine; the ratio is engine time / plain time (goal on CPU: <= 1.05).
On a GPU the engine also uses bf16 autocast, channels_last and fused Adam; the plain loop is fp32.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from results_io import machine, write_results

import medgan_zoo as zoo
from medgan_zoo.gans.base import joint_from_pairs


def plain_loop(data: torch.Tensor, config: dict, steps: int, device: torch.device) -> float:
    torch.manual_seed(0)
    gan = zoo.create_gan("dcgan", **config).to(device)
    G, D = gan.generator, gan.discriminator
    opt_g = torch.optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n, latent = config["batch_size"], config["latent_dim"]
    start = time.perf_counter()
    for _ in range(steps):
        real = data[torch.randint(len(data), (n,), device=device)]
        fake = G(torch.randn(n, latent, device=device))
        d_real, d_fake = D(real), D(fake.detach())
        loss_d = F.binary_cross_entropy_with_logits(d_real, torch.ones_like(d_real)) + \
            F.binary_cross_entropy_with_logits(d_fake, torch.zeros_like(d_fake))
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        d_fake = D(fake)
        loss_g = F.binary_cross_entropy_with_logits(d_fake, torch.ones_like(d_fake))
        opt_g.zero_grad(set_to_none=True)
        loss_g.backward()
        opt_g.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def engine_loop(config: dict, steps: int, device: torch.device, data_config: dict, out: Path) -> float:
    gan_config = {k: v for k, v in config.items() if k not in ("resolution", "image_channels", "num_classes")}
    result = zoo.train("dcgan", "acdc-phantom", out=out, resolution=config["resolution"], steps=steps,
                       gan_config=gan_config, dataset_config=data_config, device=str(device), progress=False,
                       log_every=steps, sample_every=10**9, checkpoint_every=10**9)
    return result.seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--filters", type=int, default=32)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    parser.add_argument("--tag", default="", help="Suffix of the results file (e.g. 'tiny' for small networks, "
                        "where the loop's own overhead shows most).")
    args = parser.parse_args()
    device = torch.device(args.device)
    data_config = {"train_subjects": 20, "test_subjects": 1}
    dataset = zoo.load_dataset("acdc-phantom", resolution=args.resolution, **data_config)
    data = joint_from_pairs(dataset.images, dataset.masks, 4).to(device)
    config = {"resolution": args.resolution, "image_channels": 1, "num_classes": 4, "latent_dim": 100,
              "batch_size": args.batch_size, "g_filters": args.filters, "d_filters": args.filters}
    plain_loop(data, config, 5, device)  # warm-up
    plain, engine = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            plain.append(plain_loop(data, config, args.steps, device))
            engine.append(engine_loop(config, args.steps, device, data_config, Path(tmp) / f"run{r}"))
    p, e = statistics.median(plain), statistics.median(engine)
    images = args.steps * args.batch_size
    rows = [
        {"loop": "plain PyTorch (fp32)", "median_s": round(p, 3), "images_per_s": round(images / p, 1), "ratio": 1.0},
        {"loop": "medgan-zoo engine", "median_s": round(e, 3), "images_per_s": round(images / e, 1),
         "ratio": round(e / p, 3)},
    ]
    meta = {**machine(), "device": str(device), "resolution": args.resolution, "steps": args.steps,
            "batch_size": args.batch_size, "filters": args.filters, "rounds": args.rounds,
            "torch": torch.__version__}
    name = f"train_step_{device.type}" + (f"_{args.tag}" if args.tag else "")
    print(write_results(args.out, name, f"Training step ({device.type})", meta, rows))


if __name__ == "__main__":
    main()
