#!/usr/bin/python3
"""Per-case time and dataset throughput of `gatescope evaluate` against PyTorch's bare forward and a
straightforward Python pipeline, on the same data, in one run (docs/scaling.md, docs/benchmarks.md).

Usage: pipeline_benchmark.py GATESCOPE [WORK_DIR] [--device cuda|cpu] [--cases 20]
                             [--size 160,160,96] [--batch 1,4]

The network is the paper's unet_ct_single_att_dsv (feature_scale 4, 1 -> 4 classes, random weights
seeded 0, tests/fixtures/zoo_reference.py) on CASES synthetic volumes of SIZE (NIfTI-gz, three
labelled ellipsoids in noise). Measured:
- bare forward: PyTorch's forward of one preprocessed case already on the device (warm; the median
  of CASES runs, synchronized) - the floor;
- Python pipeline: per case nibabel read, z-score, padding, forward, softmax and argmax, the labels
  back to the host, Dice and HD95 per label with scipy (distance transforms of the surfaces, the
  larger of the two directed 95th percentiles) - what a user's script does;
- gatescope evaluate: one process over the cases (the default metrics: Dice, precision, recall,
  HD95 and surface distances per label; the gates' attention statistics; the journal and the
  report: more work than the Python pipeline does), its wall time, and per case the wall time
  beyond a 2-case run divided by the extra cases (start-up excluded).
Targets (issue: GPU pipeline; on a GPU): gatescope per case at most 1.5x the bare forward; its
throughput at least 3x the Python pipeline's.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
import zoo_reference  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-pipeline-bench")
parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
parser.add_argument("--cases", type=int, default=20)
parser.add_argument("--size", default="160,160,96")
parser.add_argument("--batch", default="1")
args = parser.parse_args()
size = tuple(int(v) for v in args.size.split(","))
batches = [int(v) for v in args.batch.split(",")]
work = Path(args.work)
shutil.rmtree(work, ignore_errors=True)
(work / "dataset" / "images").mkdir(parents=True)
(work / "dataset" / "labels").mkdir(parents=True)
device = torch.device(args.device)
# Equal threads: PyTorch's own (Debian's defaults to one) and gatescope's.
threads = os.cpu_count() or 1
torch.set_num_threads(threads)
os.environ["GATESCOPE_THREADS"] = str(threads)
spacing = (0.8, 0.8, 2.5)

model = zoo_reference.write_benchmark_model(work)
model = model.to(device)

rng = np.random.default_rng(0)
grid = np.stack(np.meshgrid(*[np.arange(n) for n in size], indexing="ij"), -1).astype(np.float32)
affine = np.diag(spacing + (1.0,))
for n in range(args.cases):
    labels = np.zeros(size, np.uint8)
    for label in (1, 2, 3):
        centre = rng.uniform(0.25, 0.75, 3) * size
        radii = rng.uniform(0.08, 0.2, 3) * size
        labels[(((grid - centre) / radii) ** 2).sum(-1) <= 1] = label
    image = (labels * 1.0 + rng.normal(0, 0.5, size)).astype(np.float32)
    nib.save(nib.Nifti1Image(image, affine), work / "dataset" / "images" / f"case_{n:03}.nii.gz")
    nib.save(nib.Nifti1Image(labels, affine), work / "dataset" / "labels" / f"case_{n:03}.nii.gz")
cases = sorted((work / "dataset" / "images").glob("*.nii.gz"))


def sync():
    if device.type == "cuda":
        torch.cuda.synchronize()


def preprocess(volume):
    x = torch.from_numpy(volume)[None, None]
    x = (x - x.mean()) / x.std(unbiased=False)
    pad = []
    for n in reversed(volume.shape):
        pad += [0, (n + 15) // 16 * 16 - n]
    return F.pad(x, pad)


def hd95(a, b):
    """The larger of the two directed 95th percentiles of surface distances (MedPy's hd95)."""
    if not a.any() or not b.any():
        return float("nan")
    surface_a = a ^ ndimage.binary_erosion(a)
    surface_b = b ^ ndimage.binary_erosion(b)
    to_b = ndimage.distance_transform_edt(~surface_b, sampling=spacing)[surface_a]
    to_a = ndimage.distance_transform_edt(~surface_a, sampling=spacing)[surface_b]
    return max(np.percentile(to_b, 95), np.percentile(to_a, 95))


# Bare forward: one preprocessed case on the device, warm.
x = preprocess(np.asarray(nib.load(cases[0]).dataobj, dtype=np.float32)).to(device)
forward = []
with torch.no_grad():
    for n in range(args.cases + 2):
        sync()
        start = time.perf_counter()
        model(x)
        sync()
        if n >= 2:
            forward.append(time.perf_counter() - start)
bare = float(np.median(forward))

# The Python pipeline, warm (the bare forward above warmed the device).
start = time.perf_counter()
dice = []
with torch.no_grad():
    for path in cases:
        volume = np.asarray(nib.load(path).dataobj, dtype=np.float32)
        reference = np.asarray(nib.load(work / "dataset" / "labels" / path.name).dataobj)
        logits, _ = model(preprocess(volume).to(device))
        region = (0,) + tuple(slice(0, n) for n in volume.shape)
        predicted = torch.softmax(logits, 1).argmax(1)[region].cpu().numpy()
        for label in (1, 2, 3):
            p, r = predicted == label, reference == label
            dice.append(2 * (p & r).sum() / max(1, p.sum() + r.sum()))
            hd95(p, r)
python_wall = time.perf_counter() - start


def evaluate(limit, batch):
    out = work / f"evaluate-{limit}-{batch}"
    start = time.perf_counter()
    res = subprocess.run([args.gatescope, "evaluate", "--model", work / "model.json", "--dataset", work / "dataset",
                          "--out", out, "--device", args.device, "--limit", str(limit), "--batch", str(batch),
                          "--quiet"], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if res.returncode not in (0, 1):
        sys.exit(f"gatescope evaluate failed: {res.stderr.strip()}")
    return wall


name = torch.cuda.get_device_name(0) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
print(f"{args.cases} cases of {'x'.join(map(str, size))}, unet_ct_single_att_dsv fs4, {name}")
print(f"{'run':<44} {'wall s':>8} {'per case s':>11} {'x bare':>7} {'cases/s':>8}")
print(f"{'PyTorch bare forward (median)':<44} {'':>8} {bare:>11.4f} {1.0:>6.2f}x {1 / bare:>8.2f}")
print(f"{'Python pipeline (nibabel, torch, scipy)':<44} {python_wall:>8.2f} {python_wall / args.cases:>11.4f} "
      f"{python_wall / args.cases / bare:>6.2f}x {args.cases / python_wall:>8.2f}")
for batch in batches:
    small = evaluate(2, batch)
    wall = evaluate(args.cases, batch)
    per_case = (wall - small) / (args.cases - 2)
    print(f"{f'gatescope evaluate --batch {batch}':<44} {wall:>8.2f} {per_case:>11.4f} {per_case / bare:>6.2f}x "
          f"{args.cases / wall:>8.2f}   throughput {python_wall / wall:.2f}x the Python pipeline's")
