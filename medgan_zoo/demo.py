"""``medgan-zoo demo``: the paper's headline on the embedded default, on a CPU, in about six minutes.

A baseline GAN and a stronger one (the recipe in ``demo.json``: DCGAN and SPADE's fast layout) are
trained side by side on ``acdc-phantom``; each one's pairs train a U-Net whose Dice on the real test
exams is set beside the Dice of a U-Net trained on the real data. The folder holds the models, their
sample grids next to real slices (with legends) and ``report.md``, one sentence per number.
"""

from __future__ import annotations

import datetime
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

import torch
from pydantic import BaseModel, Field

from .errors import ConfigError
from .gans.base import JOINT_MASKS
from .jsonsafe import dumps
from .progress import Progress
from .training.errors import TrainingInterrupted

GRID_SCALE = 3  # 32-pixel tiles are too small to look at


class DemoGan(BaseModel):
    gan: str
    label: str
    role: str
    how: str = Field(description="How it makes a pair, in a few words (for the report).")
    steps: int = Field(gt=0)
    config: dict[str, Any] = Field(default_factory=dict)
    install: str = Field(description="What installs its plugin.")


class DemoRecipe(BaseModel):
    dataset: str
    dataset_config: dict[str, Any] = Field(default_factory=dict)
    resolution: int
    samples: int = Field(gt=0)
    dice: dict[str, Any]
    gans: list[DemoGan]


def recipe() -> DemoRecipe:
    """The demo's recipe, shipped as ``medgan_zoo/demo.json``."""
    text = resources.files("medgan_zoo").joinpath("demo.json").read_text()
    return DemoRecipe.model_validate({k: v for k, v in json.loads(text).items() if k != "about"})


#: ``quick=True``: each GAN's steps divided by this, and the U-Nets' steps (a look at the pipeline).
QUICK_DIVISOR, QUICK_UNET_STEPS = 5, 100


def run_demo(out: str | Path | None = None, steps: int | None = None, unet_steps: int | None = None,
             seed: int = 0, progress: bool = True, resume: bool = False, again: str | None = None,
             quick: bool = False) -> Path:
    """Run the demo into ``out`` (default ``runs/demo-<time>``) and return the folder.

    ``quick``: a shortened run (each GAN a fifth of its steps, U-Nets 100 steps), to see the pipeline
    work in well under a minute; its report says what that changes. ``resume``: continue an interrupted
    demo in ``out`` (finished models are kept, an interrupted one
    resumes from its checkpoint, the evaluations run again). ``again``: the command an interruption
    advises (default: this call with ``resume=True``).

    ``seed`` seeds the GANs' training and sampling (the U-Nets keep the protocol's seeds).
    ``steps`` replaces every GAN's training steps and ``unet_steps`` the U-Net steps of the Dice
    protocol and of the U-Net feature space (both for a quick look; the numbers then mean little)."""
    if out is None:
        if resume:
            raise ConfigError("resume=True needs the folder of the interrupted demo (out=..., --out)")
        out = Path("runs") / f"demo-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    if quick and steps is not None:
        raise ConfigError("quick sets the GANs' steps itself (a fifth of the recipe's): give quick or steps, not both")
    asked = {"steps": steps, "unet_steps": unet_steps, "seed": seed, "quick": quick}
    saved = Path(out) / OPTIONS_FILE
    if resume and saved.is_file():  # continue as it was started: the same steps, seed and shortening
        started = json.loads(saved.read_text())
        given = {"steps": steps is not None, "unet_steps": unet_steps is not None, "seed": seed != 0, "quick": quick}
        differ = [k for k in asked if given[k] and asked[k] != started.get(k)]  # an option left out is adopted
        if differ:
            was = ", ".join(f"{k}={started[k]!r}" for k in differ)
            raise ConfigError(f"--resume continues {out} as it was started ({was}); drop the options that differ, "
                              "or start a new --out")
        steps, unet_steps, seed, quick = (started.get(k, asked[k]) for k in ("steps", "unet_steps", "seed", "quick"))
    else:
        Path(out).mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps(asked) + "\n")
    demo = _Demo(Path(out), recipe(), steps, unet_steps, seed, progress, quick)
    demo.resume = resume
    advice = again or f"run_demo(out={str(out)!r}, resume=True)"
    try:
        return demo.run()
    except (TrainingInterrupted, KeyboardInterrupt) as exc:
        what = str(exc).split(";")[0] if isinstance(exc, TrainingInterrupted) else "interrupted"
        raise TrainingInterrupted(f"demo {what}; continue it with: {advice} (finished models are kept, an "
                                  "interrupted one resumes from its checkpoint)") from None


OPTIONS_FILE = "demo-options.json"  # how the demo in a folder was started: what --resume continues


def checkpoint_every(steps: int) -> int:
    """A checkpoint at least every 500 steps, and halfway through a shorter run (what a resume needs)."""
    return max(1, min(500, steps // 2))


def finished_run(folder: Path):
    """The :class:`~medgan_zoo.training.engine.TrainResult` of a run folder that finished."""
    from .model_info import ModelInfo
    from .training.engine import TrainResult

    training = ModelInfo.model_validate_json((folder / "config.json").read_text()).training
    return TrainResult(folder, int(training.get("steps", 0)), float(training.get("seconds", 0.0)),
                       float(training.get("images_per_second", 0.0)))


def _metrics() -> list[str]:
    from .evaluation.harness import default_metrics

    return default_metrics()


class _Demo:
    def __init__(self, out: Path, recipe: DemoRecipe, steps: int | None, unet_steps: int | None, seed: int,
                 progress: bool, quick: bool = False):
        from .registry import get_registry

        self.out, self.recipe, self.seed, self.progress = out, recipe, seed, progress
        installed = get_registry().gans
        if quick:
            unet_steps = unet_steps or QUICK_UNET_STEPS
        self.gans = [g.model_copy(update={"steps": steps or (max(1, g.steps // QUICK_DIVISOR) if quick else g.steps)})
                     for g in recipe.gans if g.gan in installed]
        self.missing = [g for g in recipe.gans if g.gan not in installed]
        self.dice = {**recipe.dice, **({"steps": unet_steps} if unet_steps else {})}
        self.unet_fd = {"steps": unet_steps} if unet_steps else {}
        self.origins: dict[str, str] = {}
        self.resume = False

    def run(self) -> Path:
        from .factory import load_dataset

        r = self.recipe
        self.out.mkdir(parents=True, exist_ok=True)
        began = time.monotonic()
        stages = 2 * len(self.gans)
        with Progress(stages, "demo", enabled=self.progress, log=self.out / "demo.log") as bar:
            for g in self.missing:
                bar.note(f"{g.gan} is not installed ({g.install}); the demo goes on without it")
            data = load_dataset(r.dataset, resolution=r.resolution, **r.dataset_config)
            self._real_grid(data)
            trained: dict[str, Any] = {}
            for i, g in enumerate(self.gans):
                bar.note(f"training {g.label} ({g.role}, {g.how}) for {g.steps} steps")
                trained[g.gan] = self._train(g)
                bar.update(i + 1)
            results: dict[str, dict[str, Any]] = {}
            for i, g in enumerate(self.gans):
                bar.note(f"evaluating {g.label}: a U-Net trained on its {r.samples} pairs"
                         + (", and one on the real pairs" if i == 0 else ""))
                results[g.gan] = self._evaluate(g, first=i == 0)
                bar.update(len(self.gans) + i + 1)
        seconds = time.monotonic() - began
        (self.out / "report.md").write_text(self._report(data, trained, results, seconds))
        (self.out / "demo.json").write_text(dumps(
            {"seconds": round(seconds, 1), "seed": self.seed, "recipe": json.loads(self.recipe.model_dump_json()),
             "steps": {g.gan: trained[g.gan].steps for g in self.gans}, "dice_protocol": self.dice,
             "results": {k: {m: v for m, v in res.items()} for k, res in results.items()}},
            indent=2))
        return self.out

    def _real_grid(self, data) -> None:
        from .data.preview import overlay_grid, save_grid

        picks = torch.linspace(0, len(data) - 1, 16).round().long()
        save_grid(overlay_grid(data.images[picks], data.masks[picks], columns=4), self.out / "real.png",
                  f"real {self.recipe.dataset} slices", data.label_map, scale=GRID_SCALE)

    def _train(self, g: DemoGan):
        from .data.preview import save_grid
        from .model import load
        from .training.engine import train

        r = self.recipe
        folder = self.out / g.gan
        if self.resume and (folder / "config.json").is_file():  # finished before the interruption
            result = finished_run(folder)
        else:
            result = train(g.gan, r.dataset, out=folder, resolution=r.resolution, steps=g.steps,
                           gan_config=g.config, dataset_config=r.dataset_config, log_every=100, sample_every=10**9,
                           checkpoint_every=checkpoint_every(g.steps), seed=self.seed, progress=self.progress,
                           resume=self.resume and (folder / "checkpoints").is_dir())
        model = load(self.out / g.gan)
        self.origins[g.gan] = model.gan.mask_origin
        samples = model.sample(16, seed=self.seed)
        save_grid(samples.grid(16, 4), self.out / f"{g.gan}.png", f"{g.label} (seed {self.seed})",
                  samples.label_map, scale=GRID_SCALE)
        return result

    def _evaluate(self, g: DemoGan, first: bool) -> dict[str, Any]:
        from .evaluation.harness import evaluate

        metrics = _metrics()
        sources = ["synthetic", "original"] if first else ["synthetic"]
        config: dict[str, dict[str, Any]] = {"dice": {**self.dice, "sources": sources}, "unet-fd": self.unet_fd,
                                              "fid": {"real_samples": self.recipe.samples}}
        return evaluate(self.out / g.gan, self.recipe.dataset, metrics, n=self.recipe.samples, scale="quick",
                        seed=self.seed, dataset_config=self.recipe.dataset_config,
                        metric_config={k: v for k, v in config.items() if k in metrics},
                        out=self.out / g.gan / "evaluation", progress=self.progress)

    # -- the report -----------------------------------------------------------------------------

    def _shortened(self, trained: dict[str, Any]) -> list[str]:
        """A banner when this run is shorter than the recipe (by the steps each model really trained):
        its numbers are not the demo's finding, and it says what each cut changes."""
        full = {g.gan: g.steps for g in self.recipe.gans}
        shorter = [f"{g.label} {trained[g.gan].steps} of {full[g.gan]} steps" for g in self.gans
                   if trained[g.gan].steps < full[g.gan]]
        unet = self.dice["steps"] < self.recipe.dice["steps"]
        if not shorter and not unet:
            return []
        parts = shorter + ([f"U-Nets {self.dice['steps']} of {self.recipe.dice['steps']} steps"] if unet else [])
        effects = []
        if shorter:
            effects.append("the GANs have not converged (the baseline's pairs are close to noise), so the gap "
                           "between them means little")
        if unet:
            effects.append("the U-Nets are undertrained, so every Dice here, the real data's included, is lower "
                           "than a full run's")
        return [f"> **A shortened run** ({', '.join(parts)}): it shows the pipeline working, not the demo's finding: "
                + "; ".join(effects) + ". `make demo` (or `medgan-zoo demo` without --quick, --steps or "
                "--unet-steps) runs the recipe in full (docs/training.md has its numbers).", ""]

    def _report(self, data, trained: dict[str, Any], results: dict[str, dict[str, Any]], seconds: float) -> str:
        r = self.recipe
        real_dice = next((res["dice"]["sources"]["original"] for res in results.values()
                          if "original" in res["dice"]["sources"]), None)
        seeds = self.dice.get("seeds", 1)
        lines = [f"# medgan-zoo demo: does a better GAN make better training data? ({seconds / 60:.1f} min)", "",
                 *self._shortened(trained),
                 f"Each GAN was trained on `{r.dataset}` ({len(data)} training slices from {len(data.subject_ids)} "
                 f"exams, {r.resolution}x{r.resolution}); {r.samples} of its image/mask pairs then trained a U-Net "
                 f"({self.dice['steps']} steps, {seeds} seed{'s' if seeds > 1 else ''}), scored by Dice on the real "
                 "test exams.", ""]
        for g in self.missing:
            lines += [f"{g.label} ({g.role}) was not run: its plugin is not installed (`{g.install}`).", ""]
        header = "| | " + " | ".join(f"{g.label}: {g.role}" for g in self.gans) + " | real data |"
        lines += [header, "|" + " --- |" * (len(self.gans) + 2),
                  "| images | " + " | ".join(f"![{g.gan}]({g.gan}.png)" for g in self.gans) + " | ![real](real.png) |"]
        dice_row = [_spread(results[g.gan]["dice"]["sources"]["synthetic"]) for g in self.gans]
        lines.append("| U-Net Dice (higher is better) | " + " | ".join(dice_row) + " | "
                     + (_spread(real_dice) if real_dice else "-") + " |")
        lines.append("| U-Net feature distance (lower is better) | "
                     + " | ".join(f"{results[g.gan]['unet-fd']['unet_fd']:.2f}" for g in self.gans) + " | 0 |")
        copy = next(iter(results.values()))["memorisation"]["reference"]["near_copy_fraction"] if results else 0
        lines.append("| near-copies of training images | "
                     + " | ".join(f"{results[g.gan]['memorisation']['near_copy_fraction']:.1%}" for g in self.gans)
                     + f" | {copy:.0%} |")
        if all("fid" in results[g.gan] for g in self.gans):
            lines.append("| FID (lower is better) | " + " | ".join(f"{results[g.gan]['fid']['fid']:.1f}"
                                                                     for g in self.gans) + " | 0 |")
        lines.append("| masks | " + " | ".join(self.origins.get(g.gan, "-") for g in self.gans) + " | real |")
        lines.append("| training | " + " | ".join(f"{trained[g.gan].steps} steps, {trained[g.gan].seconds:.0f} s"
                                                  for g in self.gans) + " | - |")
        lines += ["", "## What the numbers mean", ""]
        if real_dice:
            lines.append(f"- **Real data's Dice {real_dice['dice']:.3f}**: a U-Net trained on the "
                         f"{real_dice['training_pairs']} real training pairs; the bar a GAN's pairs are measured "
                         "against (1 is perfect overlap with the expert masks).")
        for g in self.gans:
            res = results[g.gan]
            value = res["dice"]["sources"]["synthetic"]["dice"]
            versus = (f", {_relative(value, real_dice['dice'])} the real data's" if real_dice else "")
            lines.append(f"- **{g.label}'s Dice {value:.3f}**{versus}: how well a U-Net learns to segment real "
                         f"hearts from {g.label}'s pairs alone ({g.how}).")
        for g in self.gans:
            origin = self.origins.get(g.gan)
            if origin and origin != JOINT_MASKS:
                lines.append(f"- **{g.label}'s masks** are {origin}: its Dice measures its images on that anatomy; "
                             "a GAN that generates its masks must also get the anatomy right.")
        for g in self.gans:
            lines.append(f"- **{g.label}'s feature distance {results[g.gan]['unet-fd']['unet_fd']:.2f}**: how far "
                         "its images lie from real ones in the features of a U-Net trained on real data (0: "
                         "indistinguishable there).")
        for g in self.gans:
            lines.append(f"- **{g.label}'s near-copies "
                         f"{results[g.gan]['memorisation']['near_copy_fraction']:.1%}**: samples closer to a "
                         f"training image than {1 - copy:.0%} of real test images are; real images score {copy:.0%} "
                         "by construction, far more means the GAN copies its training data.")
        if seeds > 1:
            lines.append(f"- ± is the standard deviation over {seeds} U-Net seeds: differences smaller than it "
                         "are noise.")
        lines += ["", "The paper's finding, at toy scale: a GAN whose pairs look right is not enough; what counts "
                  "is whether a segmentation network trained on them works on real images.", "",
                  "## Files", "",
                  "- `NAME/`: each trained model (config.json, model.safetensors, README.md card, checkpoint, "
                  "metrics.csv, train.log) and its `evaluation/` (evaluation.md, evaluation.json, "
                  "memorisation_pairs.png)",
                  "- `NAME.png`, `real.png`: the grids above; `demo.json`: every number; `demo.log`: the stages",
                  "", "## Next", ""]
        if self.gans:
            lines += [f"    medgan-zoo sample {self.out / self.gans[-1].gan} -n 1000 --out "
                      f"{self.out / 'samples'} --format png",
                      f"    medgan-zoo evaluate {self.out / self.gans[-1].gan} --dataset {r.dataset} --scale quick",
                      "    medgan-zoo study --gans dcgan,lsgan,wgan,wgan-gp,hingegan --datasets acdc-phantom "
                      "--scale quick --out runs/study"]
        return "\n".join(lines) + "\n"


def _spread(source: dict[str, Any]) -> str:
    std = source.get("dice_std")
    return f"{source['dice']:.3f}" + ("" if std is None else f" ± {std:.3f}")


def _relative(value: float, reference: float) -> str:
    if reference <= 0:
        return "against"
    change = value / reference - 1
    return f"{abs(change):.0%} {'below' if change < 0 else 'above'}"
