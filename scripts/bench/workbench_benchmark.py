#!/usr/bin/python3
"""Scrolling in the workbench: CPU time per frame while the axial view scrolls through a
512x512x200 case with three overlays (an attention gate, reference and prediction contours) - the
slice views composite, the changed textures upload, the panels are laid out. Writes the case as an
evaluation folder (image, reference, two models' labels, one gate; report.json by hand) and runs
`gatescope-workbench --scroll-benchmark N` under Xvfb (without a display; software OpenGL, whose
drawing is not counted: the time is measured up to ImGui::Render).

Usage: workbench_benchmark.py WORKBENCH [WORK_DIR] [--frames N] [--size WxH]
"""
import argparse
import json
import subprocess
from pathlib import Path

import nibabel as nib
import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("workbench")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-workbench-bench")
parser.add_argument("--frames", type=int, default=300)
parser.add_argument("--size", default="1600x1000")
args = parser.parse_args()
work = Path(args.work)
evaluation = work / "evaluation"
case = "big_001"

if not (evaluation / "report.json").exists():
    X, Y, Z = 512, 512, 200
    affine = np.diag([-0.8, -0.8, 2.0, 1.0])
    k, j, i = np.meshgrid(np.arange(Z), np.arange(Y), np.arange(X), indexing="ij")
    r = np.sqrt(((i - X / 2) / (X / 2)) ** 2 + ((j - Y / 2) / (Y / 2)) ** 2 + ((k - Z / 2) / (Z / 2)) ** 2)
    def save(volume, path):  # numpy [k, j, i] -> NIfTI (i, j, k)
        path.parent.mkdir(parents=True, exist_ok=True)
        nib.save(nib.Nifti1Image(np.ascontiguousarray(volume.transpose(2, 1, 0)), affine), path)
    image = (40 + 300 * np.sin(0.05 * i) * np.cos(0.07 * j) - 200 * r).astype(np.float32)
    save(image, work / "images" / f"{case}.nii.gz")
    save(np.where(r < 0.4, 1, 0).astype(np.uint8), work / "labels" / f"{case}.nii.gz")
    shifted = np.sqrt(((i - X / 2 - 8) / (X / 2)) ** 2 + ((j - Y / 2) / (Y / 2)) ** 2 + ((k - Z / 2) / (Z / 2)) ** 2)
    for key, volume in (("A", (shifted < 0.42)), ("B", (r < 0.38))):
        save(volume.astype(np.uint8), evaluation / "predictions" / key / case / "labels.nii.gz")
    save(np.exp(-4 * r * r).astype(np.float32), evaluation / "predictions" / "A" / case / "gates" / "g1.nii.gz")
    labels = {"dice": 0.9, "hd95_mm": 2.0, "status": "ok"}
    report = {
        "schema": "gatescope.report/1",
        "models": {"A": {"name": "gated", "architecture": "synthetic", "gates": ["g1"], "device": "cpu"},
                   "B": {"name": "baseline", "architecture": "synthetic", "gates": [], "device": "cpu"}},
        "dataset": {"path": str(work), "labels": {"0": "background", "1": "organ"}, "cases": 1},
        "settings": {"metrics": {"labels": [1]}},
        "cases": [{"id": case, "status": "ok", "images": [str(work / "images" / f"{case}.nii.gz")],
                   "reference": str(work / "labels" / f"{case}.nii.gz"),
                   "models": {"A": {"status": "ok", "labels": {"1": labels}},
                              "B": {"status": "ok", "labels": {"1": labels}}}}],
    }
    (evaluation / "report.json").write_text(json.dumps(report))

width, height = args.size.split("x")
res = subprocess.run(["xvfb-run", "-a", "-s", f"-screen 0 {int(width) + 100}x{int(height) + 100}x24", args.workbench,
                      "--evaluation", evaluation, "--case", case, "--scroll-benchmark", str(args.frames),
                      "--width", width, "--height", height], capture_output=True, text=True, timeout=900)
print(res.stdout.strip() or res.stderr.strip())
print(f"budget at 60 frames per second: 16.7 ms per frame ({args.size} window, axial, coronal, sagittal and 3D views, "
      f"gate explorer)")
