"""Several processes under torchrun (gloo on the CPU): sampling writes exactly the files of one
process; the DCGAN family trains what one process trains, and a run resumes on another world size."""

from __future__ import annotations

import filecmp
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import medgan_zoo as zoo
from medgan_zoo.cli import cli
from medgan_zoo.errors import ConfigError

TINY = {"g_filters": 8, "d_filters": 8, "latent_dim": 8, "batch_size": 4}


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist") / "dcgan"
    zoo.train("dcgan", "acdc-phantom", out=out, resolution=32, steps=2, gan_config=TINY,
              dataset_config={"train_subjects": 2, "test_subjects": 1}, progress=False)
    return out


def _torchrun(args: list[str], tmp_path: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    return subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "medgan_zoo", *args],
                          capture_output=True, text=True, env=env or {**os.environ, "OMP_NUM_THREADS": "1"},
                          timeout=300)


def test_two_ranks_write_the_files_of_one_process(model, tmp_path):
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    common = ["-n", "40", "--batch-size", "8", "--seed", "3", "--format", "png", "--device", "cpu"]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "medgan_zoo", "sample",
                           str(model), *common, "--out", str(tmp_path / "two")], capture_output=True, text=True,
                          env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "with 2 processes" in done.stdout and done.stdout.count("wrote 40 samples") == 1  # rank 0 speaks
    single = CliRunner().invoke(cli, ["sample", str(model), *common, "--out", str(tmp_path / "one")])
    assert single.exit_code == 0, single.output
    names = sorted(p.name for p in (tmp_path / "one").iterdir())
    assert len(names) == 81 and names == sorted(p.name for p in (tmp_path / "two").iterdir())
    match, mismatch, errors = filecmp.cmpfiles(tmp_path / "one", tmp_path / "two", names, shallow=False)
    assert not mismatch and not errors


def test_sampling_under_torchrun_needs_a_seed_and_study_refuses_to_split(model, tmp_path, monkeypatch):
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("RANK", "0")
    result = CliRunner().invoke(cli, ["sample", str(model), "-n", "4", "--out", str(tmp_path / "x")])
    assert result.exit_code != 0 and "sampling under torchrun needs --seed" in result.output
    result = CliRunner().invoke(cli, ["study", "--gans", "dcgan", "--datasets", "acdc-phantom", "--out", str(tmp_path)])
    assert result.exit_code == 1 and "study does not split its work across torchrun's processes yet" in result.output
    with pytest.raises(ValueError, match="needs a seed"):
        zoo.load(model).sample_to(tmp_path / "y", 4, shard=(0, 2))


def test_two_ranks_evaluate_to_the_numbers_of_one_process(model, tmp_path, monkeypatch):
    """Sample batches, U-Net feature blocks, the Dice U-Nets and the reference U-Net (trained by rank 0,
    sent to the other) are shared by the ranks: every number in evaluation.json is the one process's,
    bit for bit (both with one thread each). Inception's blocks go through the same map_blocks."""
    names = ("dice", "unet-fd", "prdc")
    args = ["evaluate", str(model), "--dataset", "acdc-phantom", "--scale", "quick", "-n", "80", "--device", "cpu",
            "--metrics", ",".join(names), "--set", "dataset.train_subjects=1", "--set", "dataset.test_subjects=1",
            "--set", "dice.steps=4", "--set", "dice.seeds=2", "--set", "dice.sources=synthetic,original",
            "--set", "dice.encoder_depth=3",
            "--set", "dice.decoder_channels=[8,8,8]", "--set", "unet-fd.steps=4", "--set", "unet-fd.encoder_depth=3",
            "--set", "unet-fd.decoder_channels=[8,8,8]"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MEDGAN_ZOO_CACHE": str(tmp_path / "cache2")}
    two = _torchrun([*args, "--out", str(tmp_path / "two")], tmp_path, env)
    assert two.returncode == 0, two.stderr[-3000:]
    assert two.stdout.count("evaluated with 2 processes") == 1 and two.stdout.count("dice: dice ") == 1
    monkeypatch.setenv("MEDGAN_ZOO_CACHE", str(tmp_path / "cache1"))  # computed afresh, not read from the ranks'
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as each rank: CPU kernels sum in another order with other thread counts
    try:
        one = CliRunner().invoke(cli, [*args, "--out", str(tmp_path / "one")])
    finally:
        torch.set_num_threads(threads)
    assert one.exit_code == 0, one.output
    a, b = (json.loads((tmp_path / d / "evaluation.json").read_text()) for d in ("one", "two"))
    assert {k: a[k] for k in names} == {k: b[k] for k in names}
    assert a["dice"]["seeds"] == 2 and len(a["dice"]["sources"]) == 2  # four U-Nets to share


# -- training ---------------------------------------------------------------------------------------

COMMON = ["--dataset", "acdc-phantom", "--resolution", "32", "--batch-size", "8", "--set", "dataset.train_subjects=2",
          "--set", "dataset.test_subjects=1", "--set", "train.progress=false", "--device", "cpu"]
TRAIN = ["dcgan", *COMMON, "--set", "g_filters=8", "--set", "d_filters=8"]
INSTANCE = ["--set", "g_norm=instance", "--set", "d_norm=instance", "--set", "feature_matching_weight=1"]
# Two ranks sum two half-batch gradients where one process sums one batch: the float additions come
# in another order, so weights agree to rounding, not bit for bit (measured: 1.6e-7 after 3 steps).
TOLERANCE = 1e-5




def _max_difference(a: Path, b: Path, undetermined: str | None = None, expect: str = "discriminator.") -> float:
    """Over every floating tensor of the two checkpoints (weights, EMA, buffers, training state)
    but those whose names match ``undetermined``."""
    import re

    from safetensors.torch import load_file

    x = load_file(str(a / "checkpoints" / "last.safetensors"))
    y = load_file(str(b / "checkpoints" / "last.safetensors"))
    floats = [k for k in x if x[k].is_floating_point() and x[k].numel()
              and not (undetermined and re.search(undetermined, k))]
    assert any(k.startswith(expect) for k in floats) and set(x) == set(y)
    return max(float((x[k].double() - y[k].double()).abs().max()) for k in floats)


def test_two_ranks_train_what_one_process_trains_and_resume_on_one(tmp_path):
    done = _torchrun(["train", *TRAIN, *INSTANCE, "--steps", "3", "--out", str(tmp_path / "two")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.count("on 2 ranks") == 1  # rank 0 speaks for the run
    recorded = json.loads((tmp_path / "two" / "train.json").read_text())
    assert recorded["world_size"] == 2 and recorded["per_rank_batch"] == 4
    one = CliRunner().invoke(cli, ["train", *TRAIN, *INSTANCE, "--steps", "3", "--out", str(tmp_path / "one")])
    assert one.exit_code == 0, one.output
    assert _max_difference(tmp_path / "one", tmp_path / "two") < TOLERANCE
    # the 2-rank run resumed on 1 process continues as the 1-process run does
    more = CliRunner().invoke(cli, ["train", *TRAIN, *INSTANCE, "--steps", "5", "--resume",
                                    "--out", str(tmp_path / "two")])
    assert more.exit_code == 0, more.output
    straight = CliRunner().invoke(cli, ["train", *TRAIN, *INSTANCE, "--steps", "5", "--out", str(tmp_path / "five")])
    assert straight.exit_code == 0, straight.output
    assert _max_difference(tmp_path / "five", tmp_path / "two") < TOLERANCE


def test_a_batch_the_ranks_cannot_share_and_a_gan_that_cannot_split_are_refused(tmp_path):
    from medgan_zoo.distributed import Ranks
    from medgan_zoo.training.config import make_train_config
    from medgan_zoo.training.engine import Trainer
    from medgan_zoo.training.ranks import split_batch

    with pytest.raises(ConfigError, match="a global batch of 7 cannot be split evenly over 2 ranks; use 6 or 8"):
        split_batch(7, 2)
    assert split_batch(8, 2) == 4
    if "stylegan2" not in zoo.get_registry().gans:
        pytest.skip("the StyleGAN2 plugin is not installed")
    config = make_train_config({"gan": "stylegan2", "dataset": "acdc-phantom", "resolution": 32, "steps": 1,
                                "device": "cpu", "dataset_config": {"train_subjects": 2, "test_subjects": 1},
                                "gan_config": {"channel_base": 256, "channel_max": 32, "mapping_layers": 2,
                                               "batch_size": 4, "latent_dim": 32, "w_dim": 32}})
    trainer = Trainer(config, tmp_path / "sg2")
    trainer.setup()
    trainer.ranks = Ranks(0, 2, torch.device("cpu"))
    with pytest.raises(ConfigError, match="stylegan2 cannot train on 2 ranks with these settings: each rank's 2 "
                                          "samples do not fill minibatch-stddev groups of 4"):
        trainer._distribute()


def test_killing_one_rank_stops_the_other_with_the_way_to_resume(tmp_path):
    import signal
    import time

    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    out = tmp_path / "run"
    launcher = subprocess.Popen([str(torchrun), "--standalone", "--nproc-per-node", "2", "-m", "medgan_zoo", "train",
                                 *TRAIN, "--steps", "100000", "--set", "train.checkpoint_every=10",
                                 "--set", "train.sync_batchnorm=false", "--out", str(out)],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env={**os.environ, "OMP_NUM_THREADS": "1"})
    try:
        deadline = time.monotonic() + 120
        while not (out / "checkpoints" / "last.safetensors").exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        # per-rank batch norms: a rank whose averaged buffers differed from rank 0's would stop here
        assert (out / "checkpoints" / "last.safetensors").exists(), "no checkpoint was written"
        ranks = subprocess.run(["pgrep", "-P", str(launcher.pid)], capture_output=True, text=True).stdout.split()
        assert len(ranks) == 2
        os.kill(int(ranks[-1]), signal.SIGKILL)
        killed = time.monotonic()
        output, _ = launcher.communicate(timeout=60)
        assert time.monotonic() - killed < 30 and launcher.returncode != 0, output[-3000:]
    finally:
        if launcher.poll() is None:
            launcher.kill()
    assert "another rank failed or was stopped" in output and "with --resume" in output, output[-3000:]
    from medgan_zoo.training.checkpoint import read_checkpoint

    step = read_checkpoint(out / "checkpoints" / "last.safetensors")[1]["step"]  # 10, 20, ...: how far it got
    resumed = CliRunner().invoke(cli, ["train", *TRAIN, "--steps", str(step + 5), "--set",
                                       "train.sync_batchnorm=false", "--resume", "--out", str(out)])
    assert resumed.exit_code == 0, resumed.output  # the checkpoint is intact; one process goes on from it


# -- the plugins ------------------------------------------------------------------------------------

def _plugin(name: str) -> None:
    if name not in zoo.get_registry().gans:
        pytest.skip(f"the {name} plugin is not installed")


def _one_and_two(args: list[str], tmp_path: Path) -> tuple[Path, Path]:
    done = _torchrun(["train", *args, "--out", str(tmp_path / "two")], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    # one thread, as each torchrun rank has: Adam's first steps turn the float noise of another
    # reduction order (two threads) into steps of +-lr on near-zero gradients (measured 6e-3 after 2 steps)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        one = CliRunner().invoke(cli, ["train", *args, "--out", str(tmp_path / "one")])
    finally:
        torch.set_num_threads(threads)
    assert one.exit_code == 0, one.output
    return tmp_path / "one", tmp_path / "two"


def test_spade_with_batch_norm_and_its_mask_gan_trains_on_two_ranks_as_on_one(tmp_path):
    """SPADE's batch norms (and the mask DCGAN's) take the global batch's statistics, and the VAE's KL
    sums over the global batch: the same weights, running statistics and mask GAN as one process."""
    _plugin("spade")
    args = ["spade", *COMMON, "--steps", "2", "--set", "preset=pyramid", "--set", "filters=8", "--set", "d_filters=8",
            "--set", "latent_dim=16", "--set", "spade_hidden=16", "--set", "mask_filters=8", "--set",
            "mask_latent_dim=8", "--set", "ema=true", "--set", "vae=true"]  # vae: the KL summed over the batch
    one, two = _one_and_two(args, tmp_path)
    # A bias that a normalisation after it cancels (the blocks' convolutions, the encoder's before its
    # instance norms) has a zero gradient up to float noise, which Adam turns into steps of up to lr
    # (1e-4) either way: those biases, and the running means that include them, agree within
    # 2 * steps * lr only. So does each PatchGAN's last bias while its outputs lie
    # inside the hinge margin: its gradient is -1 + 1 = 0 up to the rounding of one sum over the
    # concatenated fake + real batch (NVlabs's discriminate), and Adam makes that a step of up to
    # lr_d (4e-4); the power-iteration vectors follow the weights that this moves. Everything else:
    # measured 3.2e-5 after 2 steps; per-rank statistics would differ by far more.
    cancelled = (r"(conv_[01]\.bias|norm_s\.gamma_beta\.bias|encoder\.features\.[036]\.bias|running_mean"
                 r"|blocks\.4\.0\.bias|\._[uv])$")
    assert _max_difference(one, two, undetermined=cancelled) < 5e-5
    assert _max_difference(one, two) < 2 * 2 * 4e-4


def test_stylegan2_with_ada_r1_and_path_length_trains_on_two_ranks_as_on_one(tmp_path):
    """Minibatch-stddev groups, style mixing, layer noise, ADA's draws and p, R1 and the path-length
    mean: every piece that follows the batch agrees with one process."""
    _plugin("stylegan2")
    args = ["stylegan2", *COMMON, "--steps", "2", "--set", "channel_base=256", "--set", "channel_max=16",
            "--set", "latent_dim=16", "--set", "w_dim=16", "--set", "mapping_layers=2", "--set", "r1_interval=2",
            "--set", "pl_interval=2", "--set", "ada_interval=1", "--set", "ada_kimg=0.02", "--set", "ada_target=0.01"]
    one, two = _one_and_two(args, tmp_path)
    assert _max_difference(one, two) < TOLERANCE
    from safetensors.torch import load_file

    state = load_file(str(two / "checkpoints" / "last.safetensors"))
    assert float(state["training_state.ada.p"]) > 0 and float(state["training_state.pl_mean"]) > 0


def test_a_diffusion_model_trains_on_two_ranks_as_on_one(tmp_path):
    """No discriminator: the denoiser's timesteps and noise are each rank's rows of one draw for the
    global batch, and its loss a mean over it."""
    _plugin("ddpm")
    args = ["ddpm", *COMMON, "--steps", "2", "--resolution", "16", "--set", "preset=fast", "--set", "channels=[32,32]",
            "--set", "attention_levels=[false,true]", "--set", "num_head_channels=32", "--set", "sampling_steps=2"]
    one, two = _one_and_two(args, tmp_path)
    assert _max_difference(one, two, expect="generator_ema.") < TOLERANCE


def test_work_is_shared_only_inside_sharing(monkeypatch):
    """What rank 0 does alone (the paper-scale timing probe) runs outside sharing: a collective
    there would wait forever for the other ranks."""
    import torch.distributed as dist

    from medgan_zoo import distributed

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_rank", lambda group=None: 1)
    monkeypatch.setattr(dist, "get_world_size", lambda group=None: 2)
    assert distributed.share() == (0, 1)
    with distributed.sharing():
        assert distributed.share() == (1, 2)
        with distributed.sharing(False):
            assert distributed.share() == (0, 1) and distributed.map_jobs(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
        assert distributed.share() == (1, 2)


SHARED_FAILURE = """
import time
import torch.distributed as dist
from medgan_zoo import distributed
from medgan_zoo.errors import MedganZooError

ranks = distributed.start("cpu", timeout=120)
began = time.monotonic()
def job(i):
    if i == 1:
        raise OSError("No space left on device")
    return i
with distributed.sharing():
    for name, call in (("map_jobs", lambda: distributed.map_jobs(job, [0, 1, 2, 3])),
                       ("from_rank_zero", lambda: distributed.from_rank_zero(lambda: job(ranks.rank or 1)))):
        try:
            call()
        except OSError as exc:
            print(f"rank {ranks.rank} {name}: own OSError {exc}", flush=True)
        except MedganZooError as exc:
            print(f"rank {ranks.rank} {name}: told {exc} after {time.monotonic() - began:.0f} s", flush=True)
distributed.finish()
"""


def test_a_rank_failing_in_shared_work_is_reported_to_every_rank_at_once(tmp_path):
    """Rank 1's job raises in map_jobs, rank 0's in from_rank_zero: the failing rank keeps its own
    error, the other hears of it at once (not after the collective's timeout) and names it."""
    script = tmp_path / "fail.py"
    script.write_text(SHARED_FAILURE)
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    done = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", str(script)], capture_output=True,
                          text=True, env={**os.environ, "OMP_NUM_THREADS": "1"}, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "rank 1 map_jobs: own OSError No space left on device" in out
    assert "rank 0 map_jobs: told another rank failed in work shared under torchrun: rank 1: OSError: No space" in out
    assert "rank 0 from_rank_zero: own OSError" in out and "rank 1 from_rank_zero: told" in out
    assert "after 0 s" in out  # at once


def test_sigterm_under_torchrun_stops_training_at_once_and_restores_the_handler():
    # torchrun's agent SIGTERMs the other ranks as soon as one dies, often before their next
    # collective fails: the engine must turn it into its "run again with --resume" message
    import signal

    from medgan_zoo.training.callbacks.signals import Terminated as _Terminated
    from medgan_zoo.training.callbacks.signals import _DeferredInterrupt

    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(_Terminated, match="SIGTERM"):
        with _DeferredInterrupt(terminate=True):
            os.kill(os.getpid(), signal.SIGTERM)
            for _ in range(1000):  # the handler runs between bytecodes
                pass
    assert signal.getsignal(signal.SIGTERM) is before
    with _DeferredInterrupt():  # one process: SIGTERM is left alone
        assert signal.getsignal(signal.SIGTERM) is before
