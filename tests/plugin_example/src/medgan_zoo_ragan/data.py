"""The rings phantom: numpy only, cached on disk by medgan-zoo like any data set."""

import numpy as np

from medgan_zoo import SliceArrays, make_dataset

LABELS = {0: "background", 1: "ring", 2: "core"}


def _subject(config, index):
    rng = np.random.default_rng([config.seed, index])  # each subject from (seed, index) alone
    n = config.resolution
    y, x = np.mgrid[:n, :n] / n - 0.5
    images, masks = [], []
    for _ in range(config.slices):
        cy, cx = rng.uniform(-0.1, 0.1, 2)
        r = np.hypot(y - cy, x - cx)
        outer, inner = rng.uniform(0.3, 0.4), rng.uniform(0.1, 0.2)
        mask = np.where(r < inner, 2, np.where(r < outer, 1, 0)).astype(np.uint8)
        image = np.choose(mask, [-0.8, 0.2, 0.8]) + rng.normal(0, 0.05, (n, n))
        images.append(np.clip(image, -1, 1)[None].astype(np.float32))
        masks.append(mask)
    return images, masks


def load_rings(config):
    wanted = {"train": range(config.subjects),
              "test": range(config.subjects, config.subjects + config.test_subjects),
              "all": range(config.subjects + config.test_subjects)}[config.split]

    def build():
        images, masks, subjects = [], [], []
        for index in wanted:
            i, m = _subject(config, index)
            images += i
            masks += m
            subjects += [f"subject{index:03d}"] * len(i)
        return SliceArrays(np.stack(images), np.stack(masks), subjects)

    return make_dataset("rings-phantom", config, LABELS, 1, [], build, info={"phantom": True})
