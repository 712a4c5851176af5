"""A diffusion model's training step in our engine against a plain, tutorial-style MONAI loop (the
same network, scheduler, batch and data), and sampling throughput (images/s) of DDIM-50 and
DDPM-1000 against the DCGAN family, at the same resolution. ``--model ddpm`` (``DiffusionModelUNet``
on image + mask) or ``--model ddpm-spade`` (``SPADEDiffusionModelUNet`` on the image, the one-hot mask
as ``seg``; ours with the mask bank, so that no mask DCGAN trains beside it, as in the plain loop).

The plain loop is MONAI's 2D DDPM tutorial's: draw noise and timesteps, ``scheduler.add_noise``, the
U-Net, MSE, Adam. Ours is ``zoo.train`` (seeded draws through the step context, EMA, logging, finite
checks, a final checkpoint). Rounds alternate to share the machine's drift; the ratio is ours /
plain (goal <= 1.05). Sampling: ``model.sample(n)`` of the fast preset with each sampler, and of a
DCGAN (one generator pass per sample). Needs ``pip install -e plugins/diffusion``.
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

DATA = {"train_subjects": 10, "test_subjects": 1}


def sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def plain_loop(data: torch.Tensor, config: dict, steps: int, device: torch.device) -> float:
    torch.manual_seed(0)
    model = zoo.create_gan(config["model"], resolution=config["resolution"], **config["gan"]).to(device)
    spade = config["model"] == "ddpm-spade"
    unet, scheduler = (model.generator.unet if spade else model.generator), model.noise_schedule
    channels = model.config.image_channels
    optimizer = torch.optim.Adam(unet.parameters(), lr=model.config.lr)
    n, timesteps = model.config.batch_size, model.config.num_train_timesteps
    amp = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu",
                                                                                                     enabled=False)
    start = 0.0
    for step in range(steps + 1):  # step 0 warms up, as the engine's first step is not timed either
        if step == 1:
            sync(device)
            start = time.perf_counter()
        images = data[torch.randint(len(data), (n,), device=device)]
        seg = {"seg": (images[:, channels:] + 1) / 2} if spade else {}
        images = images[:, :channels] if spade else images
        optimizer.zero_grad(set_to_none=True)
        with amp:
            noise = torch.randn_like(images)
            t = torch.randint(0, timesteps, (n,), device=device).long()
            prediction = unet(scheduler.add_noise(images, noise, t), timesteps=t, **seg)
            loss = F.mse_loss(prediction.float(), noise.float())
        loss.backward()
        optimizer.step()
    sync(device)
    return time.perf_counter() - start


class _Clock:
    """Times the engine from the end of step 1 to the end of the last step (the final checkpoint and
    its sample grid come after, in the checkpoint event)."""

    def __init__(self, device: torch.device):
        self.device, self.marks = device, []

    def on_step(self, state, control) -> None:
        sync(self.device)
        self.marks.append(time.perf_counter())


def engine_loop(config: dict, steps: int, device: torch.device, out: Path) -> float:
    clock = _Clock(device)
    zoo.train(config["model"], "acdc-phantom", out=out, resolution=config["resolution"], steps=steps + 1,
              gan_config={**config["gan"], "ema": False}, dataset_config=DATA, device=str(device), progress=False,
              log_every=steps, sample_every=10**9, checkpoint_every=10**9, callbacks=[clock])
    return clock.marks[-1] - clock.marks[0]


def sampling_rate(model, n: int, **options) -> float:
    warm = {**options, "sampling_steps": 2} if "sampling_steps" in options else options
    model.sample(min(n, model.gan.sampling_block), seed=1, **warm)  # warm-up (a few steps are enough)
    start = time.perf_counter()
    model.sample(n, seed=0, **options)
    sync(model.device)
    return n / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", choices=["ddpm", "ddpm-spade"], default="ddpm")
    parser.add_argument("--resolution", type=int, default=64)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--samples", type=int, default=32, help="Samples per throughput measurement.")
    parser.add_argument("--ddpm-steps", type=int, default=1000, help="DDPM's sampling steps (1,000: the paper's).")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    device = torch.device(args.device)
    gan = {"preset": "fast", **({"mask_source": "bank"} if args.model == "ddpm-spade" else {})}
    config = {"model": args.model, "resolution": args.resolution, "gan": gan}
    data = zoo.load_dataset("acdc-phantom", resolution=args.resolution, **DATA)
    joint = joint_from_pairs(data.images, data.masks, len(data.label_map)).to(device)
    times: dict[str, list[float]] = {"plain MONAI loop": [], "medgan-zoo engine": []}
    with tempfile.TemporaryDirectory() as tmp:
        plain_loop(joint, config, 2, device)  # warm-up
        engine_loop(config, 2, device, Path(tmp) / "warm")
        for r in range(args.rounds):
            times["plain MONAI loop"].append(plain_loop(joint, config, args.steps, device))
            times["medgan-zoo engine"].append(engine_loop(config, args.steps, device, Path(tmp) / f"r{r}"))
        per_step = {k: statistics.median(v) / args.steps for k, v in times.items()}
        rows = [{"what": f"training step: {k}", "value": round(s, 4), "unit": "s/step",
                 "ratio": round(s / per_step["plain MONAI loop"], 3)} for k, s in per_step.items()]
        ddpm_run, dcgan_run = Path(tmp) / "ddpm", Path(tmp) / "dcgan"
        zoo.train(args.model, "acdc-phantom", out=ddpm_run, resolution=args.resolution, steps=1, progress=False,
                  gan_config=gan, dataset_config=DATA, device=str(device))
        zoo.train("dcgan", "acdc-phantom", out=dcgan_run, resolution=args.resolution, steps=1, progress=False,
                  dataset_config=DATA, device=str(device))
        ddpm, dcgan = zoo.load(ddpm_run, device=device), zoo.load(dcgan_run, device=device)
        rates = {"DCGAN (one generator pass)": sampling_rate(dcgan, args.samples),
                 f"{args.model} fast, DDIM-50": sampling_rate(ddpm, args.samples, sampler="ddim", sampling_steps=50),
                 f"{args.model} fast, DDPM-{args.ddpm_steps}": sampling_rate(ddpm, args.samples, sampler="ddpm",
                                                                     sampling_steps=args.ddpm_steps)}
    base = rates["DCGAN (one generator pass)"]
    rows += [{"what": f"sampling: {k}", "value": round(v, 3), "unit": "images/s", "ratio": round(v / base, 5)}
             for k, v in rates.items()]
    meta = {**machine(), "model": args.model,
            "device": torch.cuda.get_device_name() if device.type == "cuda" else "cpu", "resolution": args.resolution,
            "steps": args.steps, "rounds": args.rounds, "samples": args.samples, "torch": torch.__version__}
    print(meta)
    name = "diffusion" if args.model == "ddpm" else "diffusion_spade"
    print(write_results(args.out, f"{name}_{device.type}_{args.resolution}px",
                        f"{args.model}: training step vs a plain MONAI loop, sampling vs DCGAN ({device.type})", meta,
                        rows))


if __name__ == "__main__":
    main()
