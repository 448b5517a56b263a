#!/usr/bin/env python3
"""CPU against CUDA outputs of `gatescope infer` (gzip NIfTI read with numpy only: the GPU machine
has no nibabel). Usage: compare_outputs.py OUT_DIR (holding MODEL-cpu/ and MODEL-cuda/)."""
import gzip
import json
import sys
from pathlib import Path

import numpy as np

DTYPES = {2: np.uint8, 4: np.int16, 8: np.int32, 16: np.float32, 64: np.float64, 256: np.int8, 512: np.uint16}


def read(path):
    data = gzip.decompress(Path(path).read_bytes())
    dims = np.frombuffer(data[40:56], dtype="<i2")
    dtype = DTYPES[int(np.frombuffer(data[70:72], dtype="<i2")[0])]
    offset = int(np.frombuffer(data[108:112], dtype="<f4")[0])
    shape = tuple(int(d) for d in dims[1:1 + dims[0]])
    return np.frombuffer(data[offset:], dtype=dtype, count=int(np.prod(shape))).reshape(shape, order="F")


out = Path(sys.argv[1])
for model in ("gated", "baseline"):
    cpu, cuda = out / f"{model}-cpu", out / f"{model}-cuda"
    if not (cpu / "labels.nii.gz").exists() or not (cuda / "labels.nii.gz").exists():
        print(f"{model}: outputs missing")
        continue
    labels = (read(cpu / "labels.nii.gz") != read(cuda / "labels.nii.gz")).mean()
    probabilities = np.abs(read(cpu / "probabilities.nii.gz") - read(cuda / "probabilities.nii.gz")).max()
    line = f"{model}: labels differ in {labels * 100:.4f}% of voxels, probabilities max |cpu - cuda| {probabilities:.2e}"
    for gate in sorted((cpu / "gates").glob("*.nii.gz")) if (cpu / "gates").exists() else []:
        d = np.abs(read(gate) - read(cuda / "gates" / gate.name)).max()
        line += f", {gate.name.split('.')[0]} {d:.2e}"
    device = json.loads((cuda / "infer.json").read_text()).get("device")
    print(line, f"(cuda run on {device})")
