"""Time to load a checkpoint folder and draw the first batch: ``medgan_zoo.load`` against
huggingface_hub's ``PyTorchModelHubMixin.from_pretrained`` of the same generator, same run.

Both read config.json + model.safetensors from a local folder (what a Hub download leaves in the
cache). Ours also validates the config against the GAN plugin, checks every tensor strictly and
samples with per-sample seeds; the mixin builds the module from its config and loads the weights.
Each case runs in a fresh interpreter (imports included), median of ``--repeats``.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from results_io import machine, write_results

SETUP = '''
import json, torch, medgan_zoo as zoo
from huggingface_hub import PyTorchModelHubMixin
from medgan_zoo.model import GanModel, ModelInfo

class MixinGenerator(torch.nn.Module, PyTorchModelHubMixin):
    def __init__(self, gan_config: dict):
        super().__init__()
        self.net = zoo.create_gan("dcgan", with_discriminator=False, **gan_config).generator

    def forward(self, z):
        return self.net(z)
'''

MAKE = SETUP + '''
torch.manual_seed(0)
gan = zoo.create_gan("dcgan", resolution={res}, with_discriminator=False)
config = json.loads(gan.config.model_dump_json())
info = ModelInfo(gan="dcgan", plugin_distribution="medgan-zoo", plugin_version=zoo.__version__, gan_config=config,
                 dataset="acdc-phantom", label_map={{0: "bg", 1: "rv", 2: "myo", 3: "lv"}}, resolution={res},
                 image_channels=1)
GanModel(gan, info).save_pretrained(r"{ours}", sample_grid=False)
mixin = MixinGenerator(config)
mixin.net.load_state_dict(gan.generator.state_dict())
mixin.save_pretrained(r"{theirs}")
'''

OURS = '''
import time; t = time.perf_counter()
import medgan_zoo as zoo
zoo.load(r"{ours}").sample(32, seed=0)
print(time.perf_counter() - t)
'''

THEIRS = SETUP.replace("import json, torch", "import time; t = time.perf_counter()\nimport json, torch") + '''
model = MixinGenerator.from_pretrained(r"{theirs}").eval()
with torch.no_grad():
    model(torch.randn(32, 100)).argmax(1)
print(time.perf_counter() - t)
'''


def run(code: str) -> float:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--resolution", type=int, default=128)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ours, theirs = Path(tmp) / "ours", Path(tmp) / "theirs"
        make = MAKE.format(res=args.resolution, ours=ours, theirs=theirs)
        subprocess.run([sys.executable, "-c", make], check=True)
        a, b = [], []
        for _ in range(args.repeats):
            a.append(run(OURS.format(ours=ours)))
            b.append(run(THEIRS.format(theirs=theirs)))
    t_ours, t_theirs = statistics.median(a), statistics.median(b)
    rows = [{"case": "PyTorchModelHubMixin.from_pretrained + first batch of 32", "median_s": round(t_theirs, 3),
             "ratio": 1.0},
            {"case": "medgan_zoo.load + sample(32)", "median_s": round(t_ours, 3),
             "ratio": round(t_ours / t_theirs, 3)}]
    meta = {**machine(), "resolution": args.resolution, "repeats": args.repeats,
            "note": "imports included; lower ratio is faster"}
    print(write_results(args.out, "load_model", "Loading a checkpoint", meta, rows))


if __name__ == "__main__":
    main()
