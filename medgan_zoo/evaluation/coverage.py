"""Mode coverage over a data set's classes (ACDC's five groups): does a GAN generate every class,
in the real proportions, and (conditional GANs) is the asked class what comes out?

A small classifier learns the class of a slice (its image and mask) on the real training split.
Its confusion matrix on the real held-out split (test, or val while a search selects) says how it
errs; the generated samples' class shares are estimated from its predictions with those errors
undone (black-box shift estimation, :mod:`.label_shift`), with bootstrap intervals, and compared
with the held-out slices' true shares (total variation distance). A class is missing when the
upper bound of its generated share is below half its real share; an ill-conditioned confusion
matrix gives no verdict. Per class, precision/recall/density/coverage and the U-Net Fréchet
distance compare real and generated slices grouped by the same rule: the classifier's prediction.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ..errors import ConfigError
from ..metric import MetricResult
from .configs import ModeCoverageConfig, UnetFdConfig
from .statistics import frechet_distance_of, prdc


class SliceClassifier(nn.Module):
    """Four strided convolutions with batch norm (instance norm would erase the areas that tell the
    classes apart), global average pooling, a linear head."""

    def __init__(self, channels: int, classes: int, width: int):
        super().__init__()
        layers: list[nn.Module] = []
        c = channels
        for k in range(4):
            out = width * 2 ** min(k, 2)
            layers += [nn.Conv2d(c, out, 3, 2, 1), nn.BatchNorm2d(out), nn.LeakyReLU(0.2)]
            c = out
        self.features = nn.Sequential(*layers)
        self.head = nn.Linear(c, classes)

    def forward(self, x: Tensor) -> Tensor:
        return self.head(self.features(x).mean(dim=(2, 3)))


def classifier_inputs(images: Tensor, masks: Tensor, num_labels: int, inputs: str) -> Tensor:
    """What the classifier sees: the image, the one-hot mask in {-1, 1}, or both."""
    one_hot = F.one_hot(masks.long(), num_labels).permute(0, 3, 1, 2).float() * 2 - 1
    if inputs == "image":
        return images.float()
    if inputs == "mask":
        return one_hot
    return torch.cat([images.float(), one_hot], dim=1)


def train_classifier(x: Tensor, y: Tensor, classes: int, config: ModeCoverageConfig,
                     device: torch.device) -> SliceClassifier:
    """Adam on random batches with random shifts and flips of the whole input (a classifier of
    anatomy, not of pixel positions); seeded, so every rank and run trains the same network."""
    torch.manual_seed(config.seed)
    model = SliceClassifier(x.shape[1], classes, config.width).to(device).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=config.lr)
    rng = torch.Generator(device=device).manual_seed(config.seed)
    data, target = x.to(device), y.to(device)
    shift = max(x.shape[-1] // 16, 1)
    from ..distributed import share
    from ..progress import Progress

    with Progress(config.steps, "mode coverage: the class classifier on real slices",
                  enabled=config.steps >= 100 and share()[0] == 0) as bar:
        for step in range(config.steps):
            index = torch.randint(len(data), (config.batch_size,), generator=rng, device=device)
            batch = data[index]
            dy, dx = (int(v) for v in torch.randint(-shift, shift + 1, (2,), generator=rng, device=device))
            batch = torch.roll(batch, (dy, dx), dims=(2, 3))
            loss = F.cross_entropy(model(batch), target[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            bar.update(step + 1)
    return model.eval()


@torch.no_grad()
def predict_classes(model: nn.Module, x: Tensor, device: torch.device, batch: int = 256) -> Tensor:
    parts = [model(x[i:i + batch].to(device)).argmax(dim=1).cpu() for i in range(0, len(x), batch)]
    return torch.cat(parts) if parts else torch.zeros(0, dtype=torch.int64)


def histogram(classes: Tensor, k: int) -> Tensor:
    counts = torch.bincount(classes.long(), minlength=k).double()
    return counts / counts.sum().clamp(min=1)


def confusion(truth: Tensor, predicted: Tensor, k: int) -> Tensor:
    """Rows: the true class; columns: the predicted class (counts)."""
    return torch.bincount(truth.long() * k + predicted.long(), minlength=k * k).reshape(k, k)


def labelled(dataset, what: str) -> Tensor:
    """The split's class per slice; refuses a data set without classes or with unlabelled slices."""
    if not dataset.group_names:
        raise ConfigError(f"mode-coverage needs a data set whose slices carry a class (a group): {dataset.name} has "
                          "none; use acdc (Info.cfg's Group) or acdc-phantom with pathology=true")
    index = dataset.group_index
    missing = sorted({dataset.subject_ids[int(s)] for s in dataset.subject_index[index < 0].tolist()})
    if missing:
        raise ConfigError(f"mode-coverage: {len(missing)} {what} subject(s) of {dataset.name} have no group "
                          f"(e.g. {', '.join(missing[:5])}: no 'Group' in their Info.cfg); it cannot be scored "
                          "against unlabelled slices")
    return index


class ModeCoverageMetric:
    def __init__(self, config: ModeCoverageConfig):
        self.config = config

    def estimate(self, probe) -> float:
        """Seconds: the classifier's steps, timed like a U-Net step of the same batch (an upper bound)."""
        from .estimate import unet_step_seconds

        return unet_step_seconds(UnetFdConfig(batch_size=self.config.batch_size, encoder_depth=3,
                                              decoder_channels=(16, 8, 8)), probe) * self.config.steps

    def __call__(self, ctx) -> MetricResult:
        c = self.config
        train, test = ctx.real("train"), ctx.real(ctx.eval_split)
        names = list(train.group_names)
        k, labels = len(names), len(train.label_map)
        y_train, y_test = labelled(train, "training"), labelled(test, ctx.eval_split)

        def inputs(images: Tensor, masks: Tensor) -> Tensor:
            return classifier_inputs(images, masks, labels, c.inputs)

        model = train_classifier(inputs(train.images, train.masks), y_train, k, c, ctx.device)
        test_predicted = predict_classes(model, inputs(test.images, test.masks), ctx.device)
        matrix = confusion(y_test, test_predicted, k)
        accuracy = float(matrix.diag().sum() / matrix.sum().clamp(min=1))
        samples = ctx.samples
        generated = predict_classes(model, inputs(samples.images, samples.masks), ctx.device)
        from .label_shift import corrected_shares

        real_share, fake_share = histogram(test_predicted, k), histogram(generated, k)
        shift = corrected_shares(y_test.numpy(), test_predicted.numpy(), generated.numpy(), k,
                                 missing_fraction=c.missing_fraction, seed=c.seed,
                                 subjects=test.subject_index.numpy())
        values: dict[str, Any] = {
            "tvd": shift["tvd"], "tvd_low": shift["tvd_low"], "tvd_high": shift["tvd_high"],
            "classes": names,
            "missing": None if shift["missing"] is None else [names[i] for i in shift["missing"]],
            "generated_share": dict(zip(names, shift["share"].tolist(), strict=True)),
            "generated_share_low": dict(zip(names, shift["low"].tolist(), strict=True)),
            "generated_share_high": dict(zip(names, shift["high"].tolist(), strict=True)),
            "true_test_share": dict(zip(names, shift["real_share"].tolist(), strict=True)),
            "predicted_generated_share": dict(zip(names, fake_share.tolist(), strict=True)),
            "predicted_test_share": dict(zip(names, real_share.tolist(), strict=True)),
            "tvd_of_predicted_shares": 0.5 * float((real_share - fake_share).abs().sum()),
            "confusion_condition_number": shift["condition_number"],
            "classifier_test_accuracy": accuracy,
            "classifier_confusion": matrix.tolist(),
            "classifier_recall": {names[i]: float(matrix[i, i] / matrix[i].sum().clamp(min=1)) for i in range(k)},
            "split": ctx.eval_split, "inputs": c.inputs, "steps": c.steps,
            "method": "black-box shift estimation (Lipton et al. 2018), 500 bootstrap draws over held-out "
                      "subjects and samples",
        }
        if "note" in shift:
            values["note"] = shift["note"]
        asked = getattr(samples, "classes", None)
        if asked is not None:  # a conditional model: was the asked class what came out?
            given = _as_indices(asked, getattr(samples, "class_names", None) or names, names)
            values["conditioned_accuracy"] = float((given == generated).double().mean())
            values["conditioned_recall"] = {
                names[i]: float((generated[given == i] == i).double().mean()) if bool((given == i).any()) else None
                for i in range(k)}
        # both sides grouped by the same rule, the classifier's prediction
        values["per_class"] = self._per_class(ctx, test, test_predicted, samples.images, generated, names)
        return MetricResult(values=values, headline="tvd",
                            shown=("tvd_low", "tvd_high", "classifier_test_accuracy")
                            + (("conditioned_accuracy",) if asked is not None else ()))

    def _per_class(self, ctx, test, y_test: Tensor, images: Tensor, assigned: Tensor,
                   names: list[str]) -> dict[str, dict[str, Any]]:
        """PRDC and U-Net FD per (predicted) class in the reference U-Net's space, where both sides
        have enough."""
        c = self.config
        reference = ctx.reference_unet(ctx.metric_config("unet-fd", UnetFdConfig))
        real_f, fake_f = reference.real_features(test), reference.features(images)
        out: dict[str, dict[str, Any]] = {}
        for i, name in enumerate(names):
            real_i, fake_i = real_f[y_test == i], fake_f[assigned == i]
            row: dict[str, Any] = {"real": len(real_i), "generated": len(fake_i)}
            if min(len(real_i), len(fake_i)) > c.k:
                row.update(prdc(real_i, fake_i, c.k))
            if min(len(real_i), len(fake_i)) >= c.min_per_class:
                row["unet_fd"] = frechet_distance_of(real_i, fake_i)
            out[name] = row
        return out


def _as_indices(classes: Tensor, given_names: list[str], names: list[str]) -> Tensor:
    """Sample classes as indices into ``names`` (the samples may list their classes in another order)."""
    lookup = torch.tensor([names.index(n) if n in names else -1 for n in given_names])
    return lookup[classes.long()]
