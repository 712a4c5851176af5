"""The README.md model card of a saved model (YAML front matter for the Hugging Face Hub)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from .model_info import ModelInfo


def render_model_card(info: ModelInfo, grid: str | None = None, license: str = "other") -> str:
    front: dict[str, Any] = {
        "library_name": "medgan-zoo",
        "license": license,
        "tags": ["medgan-zoo", "gan", "medical-imaging", "image-generation", "segmentation-masks",
                 info.gan, info.dataset],
        "datasets": [info.dataset],
    }
    if info.metrics:
        front["model-index"] = [{"name": f"{info.gan}-{info.dataset}", "results": [{
            "task": {"type": "unconditional-image-generation"},
            "dataset": {"name": info.dataset, "type": info.dataset},
            "metrics": [{"type": k, "value": v} for k, v in info.metrics.items()],
        }]}]
    labels = ", ".join(f"{k} = {v}" for k, v in info.label_map.items())
    training = info.training
    lines = [
        "---", yaml.safe_dump(front, sort_keys=False).strip(), "---", "",
        f"# {info.gan} trained on {info.dataset}", "",
        f"A `{info.gan}` generator from {info.plugin_distribution} {info.plugin_version}, trained with "
        f"medgan-zoo {info.medgan_zoo_version}. It generates {info.resolution}x{info.resolution} images "
        f"with {info.image_channels} channel(s) together with their segmentation masks ({labels}).", "",
        "## Use", "", "```python", "import medgan_zoo as zoo", "",
        'model = zoo.load("PATH_OR_REPO")',
        "batch = model.sample(16, seed=0)   # batch.images [16,C,H,W] in [-1, 1], batch.masks [16,H,W]",
        "```", "",
    ]
    classes = info.gan_config.get("class_names") if info.gan_config.get("class_conditional") else None
    if classes:
        lines[-2:-2] = [f'chosen = model.sample(16, seed=0, classes="{classes[-1]}")   # one of: {", ".join(classes)}']
        lines += [f"Class-conditional: it generates each of {', '.join(classes)} on demand; without `classes` "
                  "they are drawn in the training proportions (`class_shares`).", ""]
    if grid:
        lines += ["## Samples", "", f"![samples]({grid})", "",
                  "Each image beside itself with its generated mask overlaid (seed 0).", ""]
    lines += ["## Training", ""]
    if training:
        for key in ("steps", "batch_size", "seed", "seconds", "images_per_second", "device", "data_root"):
            if key in training:
                lines.append(f"- {key.replace('_', ' ')}: {training[key]}")
    else:
        lines.append("- not recorded")
    lines += ["", "## Configuration", "",
              "The GAN's config (all of it is in `config.json`); for conditional GANs, `mask_source` says where "
              "masks come from when none are given, which decides how new the generated pairs are.", ""]
    lines += [f"- {key}: {value}" for key, value in info.gan_config.items()]
    lines.append("")
    if info.metrics:
        lines += ["## Evaluation", ""] + [f"- {k}: {v}" for k, v in info.metrics.items()] + [""]
    lines += ["## Data", "",
              f"Trained on `{info.dataset}`. Images of patients are subject to the data set's own licence "
              "terms; phantom data sets are generated and carry none.", ""]
    return "\n".join(lines)


def write_model_card(path: Path, info: ModelInfo, grid: str | None = None) -> None:
    path.write_text(render_model_card(info, grid))
