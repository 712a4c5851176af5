"""``medgan-zoo demo``: the main job on the embedded default, on a CPU, in about five minutes.

Trains a DCGAN on ``acdc-phantom`` at 64x64, samples from it, evaluates it at the quick scale, and
writes a folder with the model, a grid of samples next to a grid of real phantom slices, the
evaluation, and a short report (generated vs real mask class frequencies, the metrics).
"""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import torch

DEMO_GAN = "dcgan"
DEMO_DATASET = "acdc-phantom"
DEMO_RESOLUTION = 64
DEMO_STEPS = 2000
DEMO_SAMPLES = 256
#: The quick scale of the evaluation; FID joins when Inception weights are on this machine.
DEMO_METRIC_CONFIG: dict[str, dict[str, Any]] = {
    "dice": {"sources": ["synthetic", "original"]},
    "fid": {"real_samples": 256},
    "kid": {"real_samples": 256},
}
DEMO_GAN_CONFIG = {"g_filters": 32, "d_filters": 32, "batch_size": 32}


def _frequencies(masks: torch.Tensor, classes: int) -> list[float]:
    counts = torch.bincount(masks.flatten().long(), minlength=classes).float()
    return (counts / counts.sum()).tolist()


def run_demo(out: str | Path | None = None, steps: int | None = None) -> Path:
    """Run the demo into ``out`` (default ``runs/demo-<time>``) and return the folder."""
    if out is None:
        out = Path("runs") / f"demo-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    return _run(Path(out), steps or DEMO_STEPS)


def _metrics() -> list[str]:
    from .evaluation.inception import WeightsNotFound, find_inception_weights

    try:
        find_inception_weights(download=False)
        return ["fid", "dice", "unet-fd", "memorisation"]
    except WeightsNotFound:
        return ["dice", "unet-fd", "memorisation"]


def _evaluation_section(results: dict) -> str:
    from .evaluation.harness import headline

    metrics = [m for m in results if m != "meta"]
    lines = [f"## Evaluation (quick scale, {results['meta']['samples']} samples)", "",
             "| metric | result |", "| --- | --- |"]
    lines += [f"| {m} | {headline(m, results[m])} |" for m in metrics]
    dice = results.get("dice")
    if dice:
        lines += ["", "U-Net Dice on the real test split, trained for the same number of steps on:", ""]
        lines += [f"- {source}: {r['dice']:.3f} ({r['training_pairs']} pairs)" for source, r in dice["sources"].items()]
    if "fid" not in results:
        lines += ["", "FID was skipped: no Inception weights on this machine (see docs/evaluation.md)."]
    return "\n".join(lines)


def _run(out: Path, steps: int) -> Path:
    from .data.preview import overlay_grid, save_grid
    from .evaluation.harness import evaluate
    from .factory import load_dataset
    from .model import load
    from .training.engine import train

    out.mkdir(parents=True, exist_ok=True)
    result = train(DEMO_GAN, DEMO_DATASET, out=out / "model", resolution=DEMO_RESOLUTION, steps=steps,
                   gan_config=DEMO_GAN_CONFIG, log_every=100, sample_every=500, checkpoint_every=500)
    model = load(out / "model")
    samples = model.sample(512, seed=0)
    data = load_dataset(DEMO_DATASET, resolution=DEMO_RESOLUTION)
    save_grid(samples.grid(16, 4), out / "samples.png")
    picks = torch.linspace(0, len(data) - 1, 16).round().long()
    save_grid(overlay_grid(data.images[picks], data.masks[picks], columns=4), out / "real.png")

    classes = len(data.label_map)
    real_freq = _frequencies(data.masks, classes)
    fake_freq = _frequencies(samples.masks, classes)
    rows = "\n".join(f"| {data.label_map[k]} | {real_freq[k]:.2%} | {fake_freq[k]:.2%} |" for k in range(classes))
    metrics = _metrics()
    results = evaluate(model, DEMO_DATASET, metrics, n=DEMO_SAMPLES, scale="quick",
                       metric_config={k: v for k, v in DEMO_METRIC_CONFIG.items() if k in metrics},
                       out=out / "evaluation")
    losses = result.last_metrics
    report = f"""# medgan-zoo demo

Trained `{DEMO_GAN}` on `{DEMO_DATASET}` ({len(data)} training slices, {len(data.subject_ids)} exams) at
{DEMO_RESOLUTION}x{DEMO_RESOLUTION} for {result.steps} steps in {result.seconds:.0f} s
({result.images_per_second:.0f} real images/s), on {model.info.training.get("device", "cpu")}.
Final losses: D {losses.get("loss_d", float("nan")):.3f}, G {losses.get("loss_g", float("nan")):.3f}.

| | |
| --- | --- |
| generated (seed 0), each beside its mask | real phantom slices |
| ![samples](samples.png) | ![real](real.png) |

## Do the generated masks have the data's anatomy?

Fraction of pixels per class, 512 generated samples against the {len(data)} real slices:

| class | real | generated |
| --- | --- | --- |
{rows}

{_evaluation_section(results)}

## Files

- `model/`: the trained model (config.json, model.safetensors, README.md card), its checkpoint,
  metrics.csv and sample grids during training
- `samples.png`, `real.png`: the grids above
- `evaluation/`: evaluation.json and evaluation.md, memorisation_pairs.png (closest sample/training pairs)

## Next

    medgan-zoo sample {out / "model"} -n 1000 --out {out / "samples"} --format png
    medgan-zoo train wgan-gp --dataset acdc-phantom --resolution 64 --steps 5000 --out runs/wgan-gp
"""
    (out / "report.md").write_text(report)
    return out
