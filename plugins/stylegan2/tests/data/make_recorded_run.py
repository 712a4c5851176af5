"""How recorded-run/ was made: medgan-zoo at commit d3a1913 (before StyleGAN2 recorded kimg, gpus
and the discriminator's label-mapping depth), run from the repository root:

    git checkout d3a1913 && python plugins/stylegan2/tests/data/make_recorded_run.py OUT

then OUT/stylegan2 copied here without its PNG grids. The tests load it with today's code: the
model must sample what it sampled then (expected_samples.safetensors) and resume as it ran."""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

import medgan_zoo as zoo

out = Path(sys.argv[1]) / "stylegan2"
zoo.train("stylegan2", "acdc-phantom", out=out, resolution=16, steps=2, progress=False, checkpoint_every=2,
          sample_every=100, log_every=1, dataset_config={"train_subjects": 4, "test_subjects": 1, "pathology": True},
          gan_config={"preset": "auto", "class_conditional": True, "batch_size": 2, "channel_base": 64,
                      "channel_max": 8, "latent_dim": 4, "w_dim": 4})
pairs = zoo.load(out).sample(4, seed=3, classes=torch.tensor([0, 1, 2, 3]))
save_file({"images": pairs.images.contiguous(), "masks": pairs.masks.contiguous()},
          str(out / "expected_samples.safetensors"))
