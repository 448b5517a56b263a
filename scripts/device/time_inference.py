#!/usr/bin/env python3
"""GPU timing on the paper's input size: unet_ct_single_att_dsv (feature_scale 4, 1 -> 4 classes)
on a 160x160x96 volume - PyTorch (this machine's, CUDA, fp32 and fp16 autocast) against
`gatescope infer --device cuda` (fp32, --precision fp16) and both on the CPU, in the same run.
Usage: time_inference.py GATESCOPE OUT_DIR"""
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import torch

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parents[1] / "tests" / "fixtures"))
import zoo_reference  # noqa: E402

gatescope, out = sys.argv[1], Path(sys.argv[2])
work = out / "timing"
work.mkdir(parents=True, exist_ok=True)
model = zoo_reference.write_benchmark_model(work)
image = np.random.default_rng(0).normal(size=(160, 160, 96)).astype(np.float32)

# A NIfTI-1 file by hand (no nibabel here): 348-byte header, 4 bytes of extension flag, data.
header = np.zeros(348, dtype=np.uint8)
def put(offset, dtype, values):
    header[offset:offset + np.dtype(dtype).itemsize * len(values)] = np.frombuffer(np.array(values, dtype=dtype).tobytes(), np.uint8)
put(0, "<i4", [348]); put(40, "<i2", [3, 160, 160, 96, 1, 1, 1, 1]); put(70, "<i2", [16, 32])
put(76, "<f4", [1, 0.8, 0.8, 2.5, 1, 1, 1, 1]); put(108, "<f4", [352]); put(112, "<f4", [1, 0])
header[344:348] = np.frombuffer(b"n+1\0", np.uint8)
(work / "input.nii").write_bytes(header.tobytes() + bytes(4) + image.tobytes(order="F"))

def write_nifti(path, volume, code, bits):
    header[:] = 0
    put(0, "<i4", [348]); put(40, "<i2", [3, *volume.shape, 1, 1, 1, 1]); put(70, "<i2", [code, bits])
    put(76, "<f4", [1, 0.8, 0.8, 2.5, 1, 1, 1, 1]); put(108, "<f4", [352]); put(112, "<f4", [1, 0])
    header[344:348] = np.frombuffer(b"n+1\0", np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.tobytes() + bytes(4) + volume.tobytes(order="F"))


x = torch.from_numpy((image - image.mean()) / image.std()).permute(2, 1, 0).contiguous()[None, None]


def torch_seconds(device, autocast=False, repeat=5):
    m, xi = model.to(device), x.to(device)
    best = float("inf")
    with torch.no_grad(), torch.autocast(device_type="cuda", dtype=torch.float16, enabled=autocast):
        for n in range(repeat + 1):
            torch.cuda.synchronize() if device == "cuda" else None
            start = time.perf_counter()
            m(xi)
            torch.cuda.synchronize() if device == "cuda" else None
            if n:  # the first run warms up
                best = min(best, time.perf_counter() - start)
    return best


def gatescope_seconds(device, *extra, repeat=3):
    best = float("inf")
    for _ in range(repeat):
        r = subprocess.run([gatescope, "infer", "--model", work / "model.json", "--input", work / "input.nii",
                            "--out", work / "out", "--device", device, "--quiet", *extra], capture_output=True, text=True)
        if r.returncode:
            return f"failed: {r.stderr.strip()[-300:]}"
        best = min(best, json.loads((work / "out" / "infer.json").read_text())["timings_s"]["predict"])
    return best


def evaluate_seconds(device, *extra, cases=6):
    """Per-case model seconds of one `gatescope evaluate` process over copies of the input: the first
    case pays CUDA's start-up (context, kernels, cuDNN heuristics), the others run warm."""
    dataset = work / "dataset"
    for n in range(cases):
        write_nifti(dataset / "images" / f"case_{n}.nii", image, 16, 32)
        write_nifti(dataset / "labels" / f"case_{n}.nii", (image > 1.5).astype(np.uint8), 2, 8)
    target = work / f"evaluation-{device}-{'-'.join(extra) or 'fp32'}"
    r = subprocess.run([gatescope, "evaluate", "--model", work / "model.json", "--dataset", dataset, "--out", target,
                        "--device", device, "--quiet", *extra], capture_output=True, text=True)
    if r.returncode:
        return f"failed: {r.stderr.strip()[-300:]}"
    report = json.loads((target / "report.json").read_text())
    seconds = [c["models"]["A"]["seconds"] for c in report["cases"]]
    return f"first case {seconds[0]:.4f}, then median {float(np.median(seconds[1:])):.4f}"


rows = [
    ("PyTorch forward, CUDA fp32", torch_seconds("cuda")),
    ("PyTorch forward, CUDA fp16 autocast", torch_seconds("cuda", autocast=True)),
    ("gatescope predict, CUDA fp32, gates captured", gatescope_seconds("cuda")),
    ("gatescope predict, CUDA fp16, gates captured", gatescope_seconds("cuda", "--precision", "fp16")),
    ("gatescope predict, CUDA fp32, --gates none", gatescope_seconds("cuda", "--gates", "none")),
    ("gatescope evaluate, CUDA fp32, per case (one process)", evaluate_seconds("cuda")),
    ("gatescope evaluate, CUDA fp16, per case (one process)", evaluate_seconds("cuda", "--precision", "fp16")),
    ("gatescope evaluate, CPU, per case (one process)", evaluate_seconds("cpu", cases=3)),
    (f"PyTorch forward, CPU ({torch.get_num_threads()} threads)", torch_seconds("cpu", repeat=2)),
    ("gatescope predict, CPU, gates captured", gatescope_seconds("cpu", repeat=2)),
]
print(f"{'run (160x160x96, unet_ct_single_att_dsv fs4)':<56} {'seconds':>9}")
for name, value in rows:
    print(f"{name:<56} {value:>9.4f}" if isinstance(value, float) else f"{name:<56} {value}")
