#!/usr/bin/python3
"""Training time on the CPU: seconds per case and per 40-case epoch of the gated model
(unet_ct_single_att_dsv) and its baseline (unet_ct_dsv), feature_scale 16 and 8, on whole
96x96x48 volumes and on 64x64x32 patches, batches of 1 and 2; and PyTorch's time per case (the
reference networks of tests/fixtures/zoo_reference.py, the same loss, Adam) for comparison.

Usage: training_benchmark.py GATESCOPE [WORK_DIR] [--cases N] [--repeat N] [--batch-sizes 1,2]
       [--feature-scales 16,8] [--no-pytorch]

Random volumes (the content does not change the time). Each setting trains one epoch of a pair
over N cases, R times; the time per case is the fastest repeat divided by N - on a shared machine
the minimum is the closest to an unloaded run.
"""
import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
import zoo_reference  # noqa: E402
from training_reference import segmentation_loss  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-training-bench")
parser.add_argument("--cases", type=int, default=4)
parser.add_argument("--repeat", type=int, default=3)
parser.add_argument("--batch-sizes", default="1,2")
parser.add_argument("--feature-scales", default="16,8")
parser.add_argument("--no-pytorch", action="store_true")
args = parser.parse_args()
work = Path(args.work)
shape = (96, 96, 48)

data = work / "data"
(data / "images").mkdir(parents=True, exist_ok=True)
(data / "labels").mkdir(exist_ok=True)
rng = np.random.default_rng(1)
i, j, k = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
for n in range(args.cases):
    labels = np.zeros(shape, np.uint8)
    c = rng.uniform([30, 30, 15], [66, 66, 33])
    labels[((i - c[0]) / 18) ** 2 + ((j - c[1]) / 15) ** 2 + ((k - c[2]) / 10) ** 2 <= 1] = 1
    d = c + rng.uniform(-12, 12, 3)
    labels[((i - d[0]) / 6) ** 2 + ((j - d[1]) / 5) ** 2 + ((k - d[2]) / 4) ** 2 <= 1] = 2
    image = (np.array([0.0, 80.0, 140.0])[labels] + rng.normal(0, 25, shape)).astype(np.float32)
    nib.save(nib.Nifti1Image(image, np.diag([1.6, 1.6, 3.2, 1.0])), data / "images" / f"case_{n:03}.nii.gz")
    nib.save(nib.Nifti1Image(labels, np.diag([1.6, 1.6, 3.2, 1.0])), data / "labels" / f"case_{n:03}.nii.gz")


def gatescope_steps(feature_scale, patch, batch):
    config = {"dataset": str(data), "epochs": 1, "batch_size": batch, "seed": 1,
              "model": {"architecture": "unet_ct_single_att_dsv", "n_classes": 3, "feature_scale": feature_scale}}
    if patch:
        config["patch_size"] = list(patch)
    path = work / "train.json"
    path.write_text(json.dumps(config))
    best = {}
    for _ in range(args.repeat):
        subprocess.run([args.gatescope, "train", "--config", path, "--out", work / "run", "--pair", "--device", "cpu",
                        "--quiet"], check=True)
        for m in json.loads((work / "run" / "train.json").read_text())["models"]:
            seconds = m["epochs"][0]["seconds"] / args.cases
            best[m["architecture"]] = min(best.get(m["architecture"], seconds), seconds)
    return best


def pytorch_step(architecture, feature_scale, size, batch):
    torch.set_num_threads(2)
    model = zoo_reference.build({"architecture": architecture, "tensor_dim": "3D", "in_channels": 1, "n_classes": 3,
                                 "feature_scale": feature_scale}).train()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.randn(batch, 1, *size)
    y = torch.randint(0, 3, (batch, *size))
    times = []
    for _ in range(args.repeat + 1):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss, _, _ = segmentation_loss(model(x)[0], y, 1.0, 1.0, 1.0)
        loss.backward()
        optimizer.step()
        times.append(time.perf_counter() - start)
    return min(times[1:]) / batch


print(f"seconds per case and per 40-case epoch, CPU, best of {args.repeat}; pair = gated + baseline")
print(f"{'setting':<40} {'gated s/case':>12} {'baseline':>9} {'pair s/epoch':>13} {'PyTorch gated':>14}")
for feature_scale in (int(f) for f in args.feature_scales.split(",")):
    for patch in (None, (64, 64, 32)):
        for batch in (int(b) for b in args.batch_sizes.split(",")):
            steps = gatescope_steps(feature_scale, patch, batch)
            gated, baseline = steps["unet_ct_single_att_dsv"], steps["unet_ct_dsv"]
            size = patch or shape
            reference = ("" if args.no_pytorch else
                         f"{pytorch_step('unet_ct_single_att_dsv', feature_scale, size, batch):14.2f}")
            setting = (f"feature_scale {feature_scale}, " + ("whole 96x96x48" if not patch else "patch 64x64x32") +
                       f", batch {batch}")
            print(f"{setting:<40} {gated:12.2f} {baseline:9.2f} {40 * (gated + baseline):13.0f} {reference}",
                  flush=True)
