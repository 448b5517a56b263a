#!/usr/bin/python3
"""Benchmark of the native unet_ct_single_att_dsv (feature_scale 4, 1 input channel, 4 classes)
on the paper's timing input (160x160x96) on the CPU: gatescope against the same network run by
PyTorch in Python (Debian's torch), in the same run.

Usage: model_benchmark.py GATESCOPE [WORK_DIR] [--repeat N]

PyTorch runs the network forward (eval, no_grad) at its default thread count and at 2 threads.
gatescope runs `gatescope infer` (reading the image, preprocessing, the network, softmax, argmax,
gate maps resampled to the input, writing every output); the "predict" time is the in-process
inference (infer.json), once with gate capture and once with --gates none. Peak memory from
/usr/bin/time.
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

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[1] / "tests" / "fixtures"))
import zoo_reference  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-model-bench")
parser.add_argument("--repeat", type=int, default=2)
args = parser.parse_args()
work = Path(args.work)
work.mkdir(parents=True, exist_ok=True)

manifest = {"name": "AttUNet CT benchmark", "architecture": "unet_ct_single_att_dsv", "tensor_dim": "3D",
            "weights": "model.pth", "in_channels": 1, "n_classes": 4, "feature_scale": 4,
            "preprocessing": {"normalize": "zscore", "pad_to_multiple": 16}}
torch.manual_seed(0)
model = zoo_reference.build(manifest)
model.eval()
torch.save(model.state_dict(), work / "model.pth")
(work / "model.json").write_text(json.dumps(manifest))
rng = np.random.default_rng(0)
image = rng.normal(size=(160, 160, 96)).astype(np.float32)
nib.save(nib.Nifti1Image(image, np.diag([0.8, 0.8, 2.5, 1.0])), work / "input.nii.gz")
x = torch.from_numpy((image - image.mean()) / image.std())[None, None]


def pytorch_seconds(threads):
    if threads:
        torch.set_num_threads(threads)
    with torch.no_grad():
        model(x)  # warm-up
        best = float("inf")
        for _ in range(args.repeat):
            start = time.perf_counter()
            model(x)
            best = min(best, time.perf_counter() - start)
    return best, torch.get_num_threads()


default_threads = torch.get_num_threads()
torch_default, n_default = pytorch_seconds(None)
torch_two, _ = pytorch_seconds(2)


def gatescope_run(*extra):
    start = time.perf_counter()
    r = subprocess.run(["/usr/bin/time", "-f", "%M", args.gatescope, "infer", "--model", work / "model.json",
                        "--input", work / "input.nii.gz", "--out", work / "out", "--device", "cpu", "--quiet", *extra],
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    wall = time.perf_counter() - start
    timings = json.loads((work / "out" / "infer.json").read_text())["timings_s"]
    return timings["predict"], timings["gate_resampling"], wall, int(r.stderr.strip().splitlines()[-1]) / 1024


# Runs with and without gates alternate, so that drifts of this shared machine hit both alike.
runs = {"gates": [], "none": []}
for _ in range(args.repeat):
    runs["gates"].append(gatescope_run())
    runs["none"].append(gatescope_run("--gates", "none"))
with_gates = min(r[0] for r in runs["gates"])
without_gates = min(r[0] for r in runs["none"])
resampling = min(r[1] for r in runs["gates"])
wall_gates = min(r[2] for r in runs["gates"])
peak_gates = max(r[3] for r in runs["gates"])
peak_none = max(r[3] for r in runs["none"])
print("unet_ct_single_att_dsv, feature_scale 4, 1 -> 4 classes, input 160x160x96, CPU")
print(f"{'run':<58} {'seconds':>8} {'peak MiB':>9}")
print(f"{f'PyTorch forward, default threads ({n_default})':<58} {torch_default:>8.2f}")
print(f"{'PyTorch forward, 2 threads':<58} {torch_two:>8.2f}")
print(f"{'gatescope predict, gates captured':<58} {with_gates:>8.2f} {peak_gates:>9.0f}")
print(f"{'gatescope predict, --gates none':<58} {without_gates:>8.2f} {peak_none:>9.0f}")
print(f"{'gatescope infer end to end (read, predict, write), gates':<58} {wall_gates:>8.2f}")
print()
print(f"speed-up vs PyTorch at its defaults:      {torch_default / with_gates:5.2f}x  (target >= 1.5x)")
print(f"speed-up vs PyTorch at equal threads (2): {torch_two / with_gates:5.2f}x  (target >= 1.0x)")
print(f"gate capture overhead, measured in-process: {100 * resampling / (with_gates - resampling):5.1f}%  (target <= 3%)"
      f"  [{resampling:.3f} s converting and resampling the gate maps]")
print(f"gate capture overhead, difference of runs:  {100 * (with_gates / without_gates - 1):5.1f}%  (run-to-run noise here: ~5%)")
