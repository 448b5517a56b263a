#!/usr/bin/env python3
"""Memory-safe inference on a CT-sized volume (docs/scaling.md#memory-safe-inference): a synthetic
512x512x900 CT (int16, Hounsfield units) through the bundled gated demo model, without a budget
and under `--memory-budget 16` (a 16 GB-class GPU), then compared.

Usage: ct_budget_check.py GATESCOPE OUT_DIR [--device cuda|cpu] [--size 512,512,900] [--budget 16]

Prints each run's plan (whole or windows, their size), the estimated and measured peak device
memory against the budget and the wall time. Where the budget runs windows, it is compared with an
explicit --window run of the same size (the same computation: equal within 1e-5) and with the
unconstrained run (labels equal in what fraction of voxels, the largest probability difference:
windows see less context at their edges, so they do not equal the whole volume's forward), and the
seams are measured: the mean jump between neighbouring voxels across window borders against the
mean jump elsewhere. Needs only numpy (no nibabel): it writes and reads NIfTI-1 itself.
"""
import argparse
import gzip
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests" / "fixtures"))
from window_seams import seam_ratio  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("out")
parser.add_argument("--device", default="cuda")
parser.add_argument("--size", default="512,512,900")
parser.add_argument("--budget", type=float, default=16)
parser.add_argument("--model", default=str(Path(__file__).resolve().parents[2] / "data" / "demo" / "models" / "gated" /
                                        "model.json"))
args = parser.parse_args()
size = tuple(int(v) for v in args.size.split(","))
out = Path(args.out)
out.mkdir(parents=True, exist_ok=True)
spacing = (0.8, 0.8, 1.0)


def write_ct(path):
    """A body-like ellipse of soft tissue with two denser blobs in air, slice by slice (k)."""
    header = np.zeros(348, np.uint8)

    def put(offset, dtype, values):
        data = np.array(values, dtype=dtype).tobytes()
        header[offset:offset + len(data)] = np.frombuffer(data, np.uint8)

    put(0, "<i4", [348])
    put(40, "<i2", [3, *size, 1, 1, 1, 1])
    put(70, "<i2", [4, 16])  # int16
    put(76, "<f4", [1, *spacing, 1, 1, 1, 1])
    put(108, "<f4", [352])
    put(112, "<f4", [1, 0])
    put(254, "<i2", [0, 2])  # sform code 2
    put(280, "<f4", [spacing[0], 0, 0, 0, 0, spacing[1], 0, 0, 0, 0, spacing[2], 0])
    header[344:348] = np.frombuffer(b"n+1\0", np.uint8)
    i, j = np.meshgrid(np.arange(size[0]), np.arange(size[1]), indexing="ij")
    rng = np.random.default_rng(0)
    with open(path, "wb") as f:
        f.write(header.tobytes() + bytes(4))
        for k in range(size[2]):
            z = k / max(1, size[2] - 1)
            body = ((i - size[0] / 2) / (0.42 * size[0])) ** 2 + ((j - size[1] / 2) / (0.32 * size[1])) ** 2 <= 1
            liver = ((i - 0.38 * size[0]) / (0.12 * size[0])) ** 2 + ((j - 0.45 * size[1]) / (0.1 * size[1])) ** 2 \
                <= 1 - (2 * z - 1) ** 2
            kidney = ((i - 0.62 * size[0]) / (0.05 * size[0])) ** 2 + ((j - 0.6 * size[1]) / (0.04 * size[1])) ** 2 \
                <= 1 - (3 * z - 1.5) ** 2
            slab = np.where(body, 40.0, -1000.0) + np.where(liver, 60.0, 0.0) + np.where(kidney, 120.0, 0.0)
            slab += rng.normal(0, 15, slab.shape)
            # NIfTI stores i fastest: a (j, i) slab in C order.
            f.write(slab.T.astype("<i2").tobytes())


def read_nifti(path):
    """A NIfTI-1 file (gzip or not) as an array indexed (i, j, k[, t])."""
    raw = (gzip.open if str(path).endswith(".gz") else open)(path, "rb").read()
    dims = np.frombuffer(raw[40:56], "<i2")
    code = int(np.frombuffer(raw[70:72], "<i2")[0])
    offset = int(np.frombuffer(raw[108:112], "<f4")[0])
    dtype = {2: "u1", 4: "<i2", 8: "<i4", 16: "<f4", 64: "<f8"}[code]
    shape = tuple(int(d) for d in dims[1:1 + dims[0]])
    count = int(np.prod(shape))
    return np.frombuffer(raw, dtype, count, offset).reshape(shape, order="F")


def infer(name, *extra):
    target = out / name
    start = time.perf_counter()
    res = subprocess.run([args.gatescope, "infer", "--model", args.model, "--input", ct, "--out", target, "--device",
                          args.device, "--gates", "none", "--quiet", *map(str, extra)], capture_output=True, text=True)
    wall = time.perf_counter() - start
    if res.returncode:
        print(f"{name}: exit {res.returncode}: {res.stderr.strip()}")
        return None
    record = json.loads((target / "infer.json").read_text())
    memory = record.get("device_memory", {})
    gb = 1024 ** 3
    peak = memory.get("peak_bytes")
    print(f"{name:<10} plan {memory.get('plan')} window {record.get('window')} buffers {memory.get('buffers')}: "
          f"estimated {memory.get('estimated_peak_bytes', 0) / gb:.2f} GB, measured "
          f"{'-' if peak is None or peak < 0 else f'{peak / gb:.2f} GB'}, budget "
          f"{memory.get('budget_bytes', 0) / gb:.2f} GB; {wall:.1f} s")
    return record


ct = out / "ct.nii"
if not ct.exists():
    start = time.perf_counter()
    write_ct(ct)
    print(f"wrote {ct} ({'x'.join(map(str, size))}, int16) in {time.perf_counter() - start:.1f} s")
whole = infer("whole")
budget = infer("budget", "--memory-budget", args.budget)
if not budget:
    sys.exit(1)
memory = budget["device_memory"]
peak = memory.get("peak_bytes", -1)
ok = memory["estimated_peak_bytes"] <= memory["budget_bytes"] and (peak < 0 or peak <= memory["budget_bytes"])
print(f"within the budget: {'yes' if ok else 'NO'}")
p_budget = read_nifti(out / "budget" / "probabilities.nii.gz")
if memory["plan"] == "windows":
    window = budget["window"]
    explicit = infer("explicit", "--window", ",".join(map(str, window)))
    if explicit:
        difference = float(np.abs(p_budget - read_nifti(out / "explicit" / "probabilities.nii.gz")).max())
        print(f"budget vs --window {window}: probabilities differ by at most {difference:.2e} "
              f"({'equal' if difference <= 1e-5 else 'NOT equal'} within 1e-5)")
    step = [max(16, (w // 2) // 16 * 16) for w in window]
    print(f"seams: jumps across window borders {seam_ratio(p_budget, window, step):.2f}x those elsewhere")
if whole:
    p_whole = read_nifti(out / "whole" / "probabilities.nii.gz")
    difference = float(np.abs(p_budget - p_whole).max())
    same = float((p_budget.argmax(-1) == p_whole.argmax(-1)).mean())
    print(f"budget vs whole volume: probabilities differ by at most {difference:.2e}; labels equal in "
          f"{100 * same:.4f}% of voxels")
