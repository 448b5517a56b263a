#!/usr/bin/python3
"""Slice compositing: gatescope's compositor against the same picture made with numpy, measured in
the same run on the same synthetic 512x512x200 volume (image, attention map, two label volumes).

Usage: slice_benchmark.py BENCH_BINARY [--repeat N]
       (BENCH_BINARY: build/bin/gatescope-bench-slices)

- gatescope: gatescope-bench-slices - axial, coronal and sagittal pictures with the image through
  a window, a jet attention overlay at opacity 0.5 with a threshold, and reference and prediction
  contours; median time per picture while scrolling (a new slice each time).
- numpy: the axial picture of the same scene written the usual way with numpy - window and
  colour-table lookup, thresholded alpha blend, contours as pixels whose 4-neighbours differ -
  median time per picture over the same slices.
Prints both and their ratio; the workbench's budget is 2 ms per view (60 frames per second with
several views).
"""
import argparse
import re
import subprocess
import time

import numpy as np

parser = argparse.ArgumentParser()
parser.add_argument("bench")
parser.add_argument("--repeat", type=int, default=200)
args = parser.parse_args()

res = subprocess.run([args.bench, "--repeat", str(args.repeat)], capture_output=True, text=True, check=True)
print(res.stdout, end="")
ours = {m.group(1): float(m.group(2)) for m in re.finditer(r"^\s+(\w+)\s+\d+x\d+\s+pixels\s+([\d.]+) ms", res.stdout, re.M)}

# The same volumes as slice_benchmark.cpp (i fastest: numpy order [k, j, i]).
X, Y, Z = 512, 512, 200
k, j, i = np.meshgrid(np.arange(Z), np.arange(Y), np.arange(X), indexing="ij")
cx, cy, cz = X / 2, Y / 2, Z / 2
r = np.sqrt(((i - cx) / cx) ** 2 + ((j - cy) / cy) ** 2 + ((k - cz) / cz) ** 2)
image = (40.0 + 300.0 * np.sin(0.05 * i) * np.cos(0.07 * j) - 200.0 * r).astype(np.float32)
gate = np.exp(-4.0 * r * r).astype(np.float32)
reference = np.where(r < 0.4, 1, np.where(r < 0.6, 2, 0)).astype(np.int32)
prediction = (np.sqrt(((i - cx - 8) / cx) ** 2 + ((j - cy) / cy) ** 2 + ((k - cz) / cz) ** 2) < 0.45).astype(np.int32)
del k, j, i, r

# A jet-like table (any 256-entry table costs the same).
jet = (np.stack([np.clip(1.5 - np.abs(4 * t - s), 0, 1) for t in [np.linspace(0, 1, 256)] for s in (3, 2, 1)], 1)
       * 255).astype(np.uint8)


def contour(labels):
    inner = np.ones_like(labels, dtype=bool)
    inner[1:-1, 1:-1] = ((labels[1:-1, 1:-1] == labels[:-2, 1:-1]) & (labels[1:-1, 1:-1] == labels[2:, 1:-1])
                         & (labels[1:-1, 1:-1] == labels[1:-1, :-2]) & (labels[1:-1, 1:-1] == labels[1:-1, 2:]))
    return (labels != 0) & ~inner


def compose(z):
    lo, hi = -160.0, 240.0
    gray = np.clip((image[z] - lo) * (256.0 / (hi - lo)), 0, 255).astype(np.uint8)
    rgb = np.repeat(gray[:, :, None], 3, axis=2).astype(np.uint16)
    g = gate[z]
    shown = g >= 0.2
    color = jet[np.clip(g * 256.0, 0, 255).astype(np.uint8)].astype(np.uint16)
    rgb[shown] = (rgb[shown] * 128 + color[shown] * 128) >> 8
    rgb[contour(reference[z])] = (255, 255, 0)
    rgb[contour(prediction[z])] = (255, 0, 255)
    return rgb.astype(np.uint8)


times = []
for n in range(min(args.repeat, 100)):
    start = time.perf_counter()
    compose((n * 7) % Z)
    times.append((time.perf_counter() - start) * 1000.0)
numpy_ms = float(np.median(times))
print(f"numpy reference, axial 512x512: {numpy_ms:.3f} ms")
if "axial" in ours:
    print(f"gatescope axial {ours['axial']:.3f} ms: {numpy_ms / ours['axial']:.1f}x faster than numpy; "
          f"budget 2 ms: {'met' if ours['axial'] <= 2.0 else 'missed'}")
