"""StyleGAN2 training speed: our plugin's full training step (D step, lazy R1 every 16 steps, G
step, lazy path length every 4, EMA), timed as s/kimg side by side, same run, with the PyPI
implementation ``stylegan2-torch`` at the same resolution, batch and channels, and the time of
``sample(10000)``.

``stylegan2-torch`` JIT-compiles CUDA kernels at import and needs ``torch-conv-gradfix``, so the
peer runs only on a GPU machine (``pip install stylegan2-torch torch-conv-gradfix``); it is skipped
when it cannot be imported or built. On a CPU the script compares our two modulated-convolution
paths instead (``scaled`` vs the paper's per-sample ``reference``), at a small size.

    python benchmarks/stylegan2_step.py --resolution 128 --batch-size 32 --bf16 --ada   # GPU
    python benchmarks/stylegan2_step.py --resolution 32 --batch-size 8 --channel-base 2048   # CPU
"""

from __future__ import annotations

import argparse
import contextlib
import math
import time
from collections.abc import Callable
from pathlib import Path

import torch
from results_io import machine, write_results

import medgan_zoo as zoo
from medgan_zoo.gans.base import StepContext


def timed(step: Callable[[int], None], steps: int, cap: float, sync: Callable[[], None]) -> tuple[float, int]:
    """Seconds per step over up to ``steps`` steps (at least 16, one lazy-R1 cycle) or ``cap`` s."""
    for i in range(1, 5):  # warm-up (kernel selection, allocator)
        step(i)
    sync()
    start, done = time.perf_counter(), 0
    while done < steps and (done < 16 or time.perf_counter() - start < cap):
        done += 1
        step(done)
    sync()
    return (time.perf_counter() - start) / done, done


def ours(args, device: torch.device, channels: tuple[int, int], modconv: str = "scaled"):
    torch.manual_seed(0)
    image_channels, classes = channels
    gan = zoo.create_gan("stylegan2", resolution=args.resolution, image_channels=image_channels,
                         num_classes=classes, batch_size=args.batch_size, channel_base=args.channel_base,
                         ada=args.ada, modconv=modconv).to(device)
    if device.type == "cuda":
        gan = gan.to(memory_format=torch.channels_last)
    gan.configure_optimizers()
    real = torch.rand(args.batch_size, image_channels + classes, args.resolution, args.resolution,
                      device=device) * 2 - 1
    use_bf16 = args.bf16 and device.type == "cuda"
    ctx = StepContext(batch=lambda: real, rng=torch.Generator(device).manual_seed(0), device=device,
                      autocast=(lambda: torch.autocast("cuda", dtype=torch.bfloat16)) if use_bf16
                      else contextlib.nullcontext, diffaugment=lambda x: x)

    def step(i: int) -> None:
        ctx.step = i
        gan.train_step(ctx)
        gan.update_ema()

    return step


def peer(args, device: torch.device):
    """stylegan2-torch's networks and losses in the loop its README describes (no augmentation)."""
    import copy

    from stylegan2_torch import Discriminator, Generator, d_loss, d_reg_loss, g_loss, g_reg_loss

    torch.manual_seed(0)
    channels = {r: min(args.channel_base // r, 512) for r in [2**i for i in range(2, 11)]}
    G, D = Generator(args.resolution, channels=channels).to(device), Discriminator(args.resolution, channels).to(device)
    G_ema = copy.deepcopy(G).eval().requires_grad_(False)
    g_ratio, d_ratio = 4 / 5, 16 / 17
    opt_g = torch.optim.Adam(G.parameters(), lr=0.002 * g_ratio, betas=(0, 0.99**g_ratio))
    opt_d = torch.optim.Adam(D.parameters(), lr=0.002 * d_ratio, betas=(0, 0.99**d_ratio))
    real = torch.rand(args.batch_size, 1, args.resolution, args.resolution, device=device) * 2 - 1
    n, mean_path = args.batch_size, torch.zeros((), device=device)
    gamma = 0.0002 * args.resolution**2 / n

    def z(count: int):
        return [torch.randn(count, 512, device=device) for _ in range(2)]  # style mixing, as ours (0.9)

    def step(i: int) -> None:
        nonlocal mean_path
        D.requires_grad_(True)
        G.requires_grad_(False)
        with torch.no_grad():
            fake = G(z(n))
        loss = d_loss(D(real), D(fake))
        opt_d.zero_grad(set_to_none=True)
        loss.backward()
        opt_d.step()
        if i % 16 == 0:
            r = real.detach().requires_grad_(True)
            (d_reg_loss(D(r), r) * gamma / 2 * 16).backward()
            opt_d.step()
        D.requires_grad_(False)
        G.requires_grad_(True)
        loss = g_loss(D(G(z(n))))
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        if i % 4 == 0:
            img, latents = G(z(n // 2), return_latents=True)
            path_loss, mean_path, _ = g_reg_loss(img, latents, mean_path)
            opt_g.zero_grad(set_to_none=True)
            (path_loss * 2 * 4).backward()
            opt_g.step()
        with torch.no_grad():
            torch._foreach_lerp_(list(G_ema.parameters()), list(G.parameters()), 1 - 0.998)

    return step


def sample_10000(args, device: torch.device, out: Path) -> float:
    zoo.train("stylegan2", "acdc-phantom", out=out, resolution=args.resolution, steps=1,
              gan_config={"channel_base": args.channel_base, "batch_size": 4}, progress=False, device=str(device))
    model = zoo.load(out, device=device)
    model.sample(64, seed=0)
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    sync()
    start = time.perf_counter()
    model.sample(args.samples, seed=0, batch_size=256)
    sync()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--channel-base", type=int, default=32768)
    parser.add_argument("--steps", type=int, default=64, help="Most steps timed per row.")
    parser.add_argument("--cap", type=float, default=60.0, help="Seconds per row (after 16 steps).")
    parser.add_argument("--bf16", action="store_true", help="bf16 autocast for our main phases (GPU).")
    parser.add_argument("--ada", action="store_true", help="ADA on for our rows (the peer has none).")
    parser.add_argument("--samples", type=int, default=10000, help="sample(n) to time; 0: skip.")
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--peer", choices=["with", "without", "only"], default="with",
                        help="GPU: time stylegan2-torch too / not / only it and our same-settings row.")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    kimg = 1000 / args.batch_size
    rows = []

    def row(name: str, make: Callable[[], Callable[[int], None]]) -> float | None:
        if cuda:
            torch.cuda.empty_cache()
            torch.cuda.reset_peak_memory_stats()
        try:
            per_step, done = timed(make(), args.steps, args.cap, sync)
        except Exception as exc:  # the peer's CUDA build can fail; say so in the table
            rows.append({"implementation": name, "s_per_kimg": float("nan"), "steps": 0,
                         "peak_gib": float("nan"), "note": f"{type(exc).__name__}: {str(exc)[:80]}"})
            return None
        peak = torch.cuda.max_memory_allocated() / 2**30 if cuda else float("nan")
        rows.append({"implementation": name, "s_per_kimg": round(per_step * kimg, 3), "steps": done,
                     "peak_gib": round(peak, 2), "note": ""})
        return per_step

    base = None
    if cuda:
        if args.peer != "without":
            base = row("stylegan2-torch 1.3 (fp32, no augmentation)", lambda: peer(args, device))
            row("medgan-zoo-stylegan2, same settings (1 channel, fp32, no ADA)",
                lambda: ours(argparse.Namespace(**{**vars(args), "bf16": False, "ada": False}), device, (1, 0)))
        if args.peer != "only":
            mine = row(f"medgan-zoo-stylegan2, 1 channel, bf16={args.bf16}, ADA={args.ada}",
                       lambda: ours(args, device, (1, 0)))
            base = base if base is not None else mine
            row(f"medgan-zoo-stylegan2, image + 4 mask channels, bf16={args.bf16}, ADA={args.ada}",
                lambda: ours(args, device, (1, 4)))
    else:
        base = row("medgan-zoo-stylegan2, modconv=reference (per-sample grouped)",
                   lambda: ours(args, device, (1, 4), "reference"))
        row("medgan-zoo-stylegan2, modconv=scaled (default)", lambda: ours(args, device, (1, 4), "scaled"))
    for r in rows:
        ok = base is not None and not math.isnan(r["s_per_kimg"])
        r["ratio"] = round(r["s_per_kimg"] / (base * kimg), 3) if ok else float("nan")
    meta = {**machine(), "device": torch.cuda.get_device_name() if cuda else "cpu", "torch": torch.__version__,
            "resolution": args.resolution, "batch_size": args.batch_size, "channel_base": args.channel_base}
    if args.samples:
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            meta[f"sample_{args.samples}_s"] = round(sample_10000(args, device, Path(tmp) / "run"), 2)
    name = f"stylegan2_step_{'gpu' if cuda else 'cpu'}_{args.resolution}px" + ("_peer" if args.peer == "only" else "")
    print(meta)
    print(write_results(args.out, name, "StyleGAN2 training step", meta, rows))


if __name__ == "__main__":
    main()
