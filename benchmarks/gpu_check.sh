#!/usr/bin/env bash
# The GPU checks of the StyleGAN2, SPADE and diffusion issues as ONE script for the lent device machine
# (15 minutes of device time per session, its start-up included; every phase has its own cap and
# writes its results under $OUT even when a later phase fails).
#
# Prepare on the CPU machine (downloads the wheels the GPU machine lacks into .whl/):
#   ../shared/tools/device-wheels.sh pathspec monai stylegan2-torch torch-conv-gradfix
# then run through the device tool with carry [".whl"] and the command
#   bash benchmarks/gpu_check.sh
set -u
OUT=${OUT:-/tmp/gpu_check}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
  && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH} || exit 1
python3 -m pip install -q --no-deps --no-build-isolation --no-index --target /tmp/site . ./plugins/* || exit 1
export PATH=/tmp/site/bin:$PATH
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv > "$OUT/gpu.csv" 2>&1
python3 -c "import torch; print(torch.__version__, torch.version.cuda)" >> "$OUT/gpu.csv"
cd benchmarks
run() {  # cap, log name, command...
  local cap=$1 log=$2; shift 2
  echo "== $log: $*" >> "$OUT/phases.log"
  timeout "$cap" "$@" > "$OUT/$log.log" 2>&1; echo "== $log exit $?" >> "$OUT/phases.log"
}
# StyleGAN2: ours at the settings of NVIDIA's reference run (batch 32, bf16, ADA), then sample(10000)
run 150 sg2_128 python3 stylegan2_step.py --resolution 128 --batch-size 32 --bf16 --ada --peer without \
  --steps 48 --cap 30 --samples 10000 --out "$OUT"
run 120 sg2_256 python3 stylegan2_step.py --resolution 256 --batch-size 32 --bf16 --ada --peer without \
  --steps 32 --cap 30 --samples 0 --out "$OUT"
# SPADE against MONAI on the GPU, it/s at 128 and 256 with batch 8, peak memory, sample(10000)
run 100 spade_128 python3 spade_step.py --device cuda --resolution 128 --batch-size 8 --steps 20 --rounds 2 \
  --samples 10000 --out "$OUT"
run 80 spade_256 python3 spade_step.py --device cuda --resolution 256 --batch-size 8 --steps 10 --rounds 2 \
  --layouts fast official --out "$OUT"
# ddpm (plugins/diffusion, fast preset at 64x64): its step against a plain MONAI loop, and images/s of
# DDIM-50 and DDPM-1000 against DCGAN (256 samples each)
run 120 ddpm_64 python3 diffusion_step.py --device cuda --resolution 64 --steps 20 --rounds 2 --samples 256 \
  --ddpm-steps 1000 --out "$OUT"
# ddpm-spade (SPADEDiffusionModelUNet): the same comparison, DDPM at 100 steps to fit its cap
run 60 ddpm_spade_64 python3 diffusion_step.py --model ddpm-spade --device cuda --resolution 64 --steps 20 \
  --rounds 2 --samples 64 --ddpm-steps 100 --out "$OUT"
# the peer last: its CUDA kernels compile at import (skipped in the table if that overruns its cap)
run 150 sg2_peer_128 python3 stylegan2_step.py --resolution 128 --batch-size 32 --peer only \
  --steps 32 --cap 20 --samples 0 --out "$OUT"
cat "$OUT/phases.log"
