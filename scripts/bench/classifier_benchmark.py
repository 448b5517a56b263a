#!/usr/bin/python3
"""Benchmark of AG-SonoNet (sononet_grid_attention, feature scale 8, concatenation_mean_flow gates,
mean heads, 14 classes - the original configuration) on 64 images of 208x272 on the CPU: gatescope
against the same network run by PyTorch in Python (Debian's torch), in the same run.

Usage: classifier_benchmark.py GATESCOPE [WORK_DIR] [--repeat N] [--threads T]

gatescope runs LibTorch on every core; PyTorch runs the network forward (eval, no_grad) at T
threads (default: every core, so equal threads) on the 64 images as one batch and
one image at a time. gatescope runs `gatescope evaluate` over the same 64 images saved as PNG
(reading, z-score, the network, the heads' softmax and aggregation, gate maps resampled to the
image, attention statistics against a mask, the journal): "the model" is the sum of the images'
in-process classification times (report.json cases[].models.A.seconds: z-score, network, heads,
gate maps on the image grid), "every image" the whole per-image loop (timings_s.classify). Best of
the repeats for both.
"""
import argparse
import os
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[1] / "tests" / "fixtures"))
import classifier_reference  # noqa: E402
from zoo_reference import randomize  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-classifier-bench")
parser.add_argument("--repeat", type=int, default=3)
parser.add_argument("--threads", type=int, default=os.cpu_count(),
                    help="PyTorch's threads (default: every core, as gatescope uses)")
args = parser.parse_args()
work = Path(args.work)
shutil.rmtree(work, ignore_errors=True)
work.mkdir(parents=True)

manifest = {"name": "AG-SonoNet benchmark", "architecture": "sononet_grid_attention", "tensor_dim": "2D",
            "weights": "model.pth", "in_channels": 1, "n_classes": 14, "feature_scale": 8,
            "nonlocal_mode": "concatenation_mean_flow", "aggregation_mode": "mean", "aggregation": "mean",
            "preprocessing": {"normalize": "zscore", "pad_to_multiple": 1}}
torch.manual_seed(0)
model = classifier_reference.build(manifest)
randomize(model)
with torch.no_grad():  # keep the sums the gates divide by away from zero
    for gate in (model.compatibility_score1, model.compatibility_score2):
        gate.psi.bias.fill_(2.0)
model.eval()
torch.save(model.state_dict(), work / "model.pth")
(work / "model.json").write_text(json.dumps(manifest))

count, height, width = 64, 208, 272
rng = np.random.default_rng(0)
images = (rng.random((count, height, width)) * 255).astype(np.uint8)
for n, image in enumerate(images):
    folder = work / "planes" / f"class{n % 4:02d}"
    (work / "planes" / "masks" / folder.name).mkdir(parents=True, exist_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    Image.fromarray(image).save(folder / f"image_{n:03d}.png")
    mask = np.zeros((height, width), np.uint8)
    mask[60:120, 80:160] = 255
    Image.fromarray(mask).save(work / "planes" / "masks" / folder.name / f"image_{n:03d}.png")
x = torch.from_numpy(images.astype(np.float32))[:, None]
x = (x - x.mean(dim=(2, 3), keepdim=True)) / x.std(dim=(2, 3), keepdim=True, unbiased=False)

torch.set_num_threads(args.threads)


def best_of(run):
    run()  # warm-up
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


with torch.no_grad():
    batch = best_of(lambda: model(x))
    single = best_of(lambda: [model(x[n:n + 1]) for n in range(count)])


def gatescope_once():
    out = work / "evaluation"
    shutil.rmtree(out, ignore_errors=True)
    r = subprocess.run([args.gatescope, "evaluate", "--model", work / "model.json", "--dataset", work / "planes",
                        "--out", out, "--device", "cpu", "--quiet"], capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    report = json.loads((out / "report.json").read_text())
    model = sum(c["models"]["A"]["seconds"] for c in report["cases"])
    return report["timings_s"]["classify"], model


runs = [gatescope_once() for _ in range(args.repeat)]
classify = min(r[0] for r in runs)
model = min(r[1] for r in runs)
print(f"AG-SonoNet fs8, {count} images of {height}x{width}, CPU, {args.threads} thread(s), best of {args.repeat}")
print(f"  PyTorch forward, one batch of {count}:     {batch:7.3f} s  ({count / batch:6.1f} images/s)")
print(f"  PyTorch forward, {count} images one by one: {single:7.3f} s  ({count / single:6.1f} images/s)")
print(f"  gatescope, the model per image:          {model:7.3f} s  ({count / model:6.1f} images/s)"
      "  (z-score, network, heads, gate maps on the image)")
print(f"  gatescope evaluate, every image:        {classify:7.3f} s  ({count / classify:6.1f} images/s)"
      "  (+ reading, attention statistics, journal)")
print(f"  gatescope model / PyTorch one by one: {single / model:.2f}x; / PyTorch batched: {batch / model:.2f}x"
      " (above 1: gatescope faster)")
