#!/usr/bin/python3
"""Grad-CAM benchmark: one class, one layer (conv3) of unet_ct_single_att_dsv (feature_scale 4,
4 classes) on the paper's timing input (160x160x96), CPU, against the same computation in PyTorch
(forward hook + autograd, Debian's torch) at the same thread count, in the same run.

Usage: attribution_benchmark.py GATESCOPE [WORK_DIR] [--repeat N] [--threads N]

Prints, best of N:
- PyTorch: forward with a hook on conv3, score over the predicted region, torch.autograd.grad -
  warm (after one call in the same process) and cold (the first call in a fresh process, as every
  gatescope command is; the import and the model's construction excluded);
- gatescope attribute --method gradcam --layers conv3 --class 1: the attribution time from
  attribute.json (preprocessing, forward, backward, resampling; the process's start, model load and
  file writing excluded) and the whole command's wall time and peak memory (/usr/bin/time);
- gatescope's own forward (infer.json "predict", gates off) for the ratio attribution / forward;
- --class all (4 classes): the cost per class against one class.
Targets (docs/attribution.md): no slower than PyTorch at equal threads; at most 3x gatescope's
forward.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[1] / "tests" / "fixtures"))
import zoo_reference  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-attribution-bench")
parser.add_argument("--repeat", type=int, default=2)
parser.add_argument("--threads", type=int, default=os.cpu_count())
parser.add_argument("--cold-pytorch", action="store_true", help=argparse.SUPPRESS)  # one first call
args = parser.parse_args()
work = Path(args.work)
work.mkdir(parents=True, exist_ok=True)
torch.set_num_threads(args.threads)

manifest = {"name": "AttUNet CT benchmark", "architecture": "unet_ct_single_att_dsv", "tensor_dim": "3D",
            "weights": "model.pth", "in_channels": 1, "n_classes": 4, "feature_scale": 4,
            "preprocessing": {"normalize": "zscore", "pad_to_multiple": 16}}
torch.manual_seed(0)
model = zoo_reference.build(manifest)
zoo_reference.randomize(model)
model.eval()
if not args.cold_pytorch:
    torch.save(model.state_dict(), work / "model.pth")
    (work / "model.json").write_text(json.dumps(manifest))
rng = np.random.default_rng(0)
image = rng.normal(size=(160, 160, 96)).astype(np.float32)
if not args.cold_pytorch:
    nib.save(nib.Nifti1Image(image, np.diag([0.8, 0.8, 2.5, 1.0])), work / "input.nii.gz")
x = torch.from_numpy((image - image.mean()) / image.std())[None, None]


def pytorch_gradcam():
    acts = {}
    hook = model.conv3.register_forward_hook(lambda m, i, o: acts.__setitem__("a", o))
    logits, _ = model(x)
    hook.remove()
    mask = (logits.argmax(1) == 1).to(logits.dtype)
    if mask.sum() == 0:
        mask = torch.ones_like(mask)
    a = acts["a"]
    g = torch.autograd.grad((logits[:, 1] * mask).sum(), a)[0]
    cam = torch.relu((g.mean((2, 3, 4), keepdim=True) * a).sum(1))
    return F.interpolate(cam.unsqueeze(1), size=x.shape[2:], mode="trilinear", align_corners=False)


def best_of(f):
    best = float("inf")
    for _ in range(args.repeat):
        start = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - start)
    return best


if args.cold_pytorch:
    start = time.perf_counter()
    pytorch_gradcam()
    print(time.perf_counter() - start)
    sys.exit(0)
cold_s = min(float(subprocess.run([sys.executable, __file__, args.gatescope, str(work), "--threads", str(args.threads),
                                   "--cold-pytorch"], capture_output=True, text=True, check=True).stdout)
             for _ in range(args.repeat))
pytorch_gradcam()  # warm-up
torch_s = best_of(pytorch_gradcam)
env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))


def gatescope(command, *extra):
    """Best in-process time from the command's JSON, its wall time, and its peak memory in MiB."""
    best, best_wall, peak = float("inf"), float("inf"), 0
    for _ in range(args.repeat):
        out = work / command
        start = time.perf_counter()
        r = subprocess.run(["/usr/bin/time", "-f", "%M", args.gatescope, command, "--model", work / "model.json",
                            "--input", work / "input.nii.gz", "--out", out, "--device", "cpu", "--quiet", *extra],
                           capture_output=True, text=True, env=env)
        wall = time.perf_counter() - start
        if r.returncode != 0:
            sys.exit(f"gatescope {command} failed: {r.stderr}")
        timings = json.loads((out / f"{command}.json").read_text())["timings_s"]
        best = min(best, timings["attribute" if command == "attribute" else "predict"])
        best_wall = min(best_wall, wall)
        peak = max(peak, int(r.stderr.strip().splitlines()[-1]) // 1024)
    return best, best_wall, peak


forward_s, _, forward_mb = gatescope("infer", "--gates", "none")
gradcam_s, gradcam_wall, gradcam_mb = gatescope("attribute", "--method", "gradcam", "--layers", "conv3",
                                                "--class", "1")
all_s, _, all_mb = gatescope("attribute", "--method", "gradcam", "--layers", "conv3", "--class", "all")
print(f"Grad-CAM, class 1, layer conv3, 160x160x96, unet_ct_single_att_dsv fs4, CPU, {args.threads} threads "
      f"(best of {args.repeat})")
print(f"  PyTorch (hook + autograd), warm    {torch_s:8.2f} s")
print(f"  PyTorch, first call in a process   {cold_s:8.2f} s")
print(f"  gatescope attribute (in process)   {gradcam_s:8.2f} s   ratio to PyTorch warm {gradcam_s / torch_s:5.2f}, "
      f"first call {gradcam_s / cold_s:5.2f}")
print(f"  gatescope attribute (whole command){gradcam_wall:8.2f} s   peak memory {gradcam_mb} MiB")
print(f"  gatescope forward (infer predict)  {forward_s:8.2f} s   attribution / forward {gradcam_s / forward_s:5.2f}"
      f"   (infer peak {forward_mb} MiB)")
print(f"  --class all (4 classes)            {all_s:8.2f} s   per class {all_s / 4:6.2f} s "
      f"({all_s / 4 / gradcam_s:4.2f}x one class), peak {all_mb} MiB")
