"""How recorded-run/ was made: medgan-zoo at commit d3a1913 (before SPADE recorded its init, mask
encoding and KL reduction), run from the repository root:

    git checkout d3a1913 && python plugins/spade/tests/data/make_recorded_run.py OUT

then OUT/spade copied here without its PNG grids. The tests load it with today's code: the model
must sample what it sampled then (expected_samples.safetensors) and resume with its conventions."""

import sys
from pathlib import Path

import torch
from safetensors.torch import save_file

import medgan_zoo as zoo

out = Path(sys.argv[1]) / "spade"
zoo.train("spade", "acdc-phantom", out=out, resolution=32, steps=2, progress=False, checkpoint_every=2,
          sample_every=100, log_every=1, dataset_config={"train_subjects": 2, "test_subjects": 1},
          gan_config={"preset": "pyramid", "vae": True, "batch_size": 2, "filters": 8, "spade_hidden": 8,
                      "d_filters": 8, "d_layers": 2, "latent_dim": 8, "mask_source": "none", "widths": [8, 8, 8, 8]})
masks = (torch.arange(4 * 32 * 32).reshape(4, 32, 32) // 7) % 4
pairs = zoo.load(out).sample(4, seed=3, masks=masks)
save_file({"images": pairs.images.contiguous(), "masks": pairs.masks.contiguous()},
          str(out / "expected_samples.safetensors"))
