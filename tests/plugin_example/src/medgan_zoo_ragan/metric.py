"""The class-gap metric: does the generated anatomy come in the real proportions?"""

import torch

from medgan_zoo import EvalContext, MetricResult


class ClassGap:
    def __init__(self, config):
        self.config = config

    def __call__(self, ctx: EvalContext) -> MetricResult:
        real = ctx.real("train")
        generated = ctx.samples.masks[: self.config.limit or None]
        classes = len(real.label_map)

        def frequencies(masks):
            counts = torch.bincount(masks.long().flatten(), minlength=classes).double()
            return counts / counts.sum()

        gap = (frequencies(generated) - frequencies(real.masks)).abs().mean().item()
        return MetricResult(values={"class_gap": gap, "compared": len(generated)},
                            headline="class_gap", reference={"class_gap": 0.0})
