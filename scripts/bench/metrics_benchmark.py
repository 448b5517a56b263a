#!/usr/bin/python3
"""Benchmark of `gatescope metrics` against plastimatch and a scipy implementation of MedPy's
definitions, measured in the same run on the same 512x512x200 two-label pair.

Usage: metrics_benchmark.py GATESCOPE [WORK_DIR] [--repeat N]

- gatescope: `gatescope metrics` with every metric for both labels, reading the two files
  (uncompressed .nii and .nii.gz), best of N runs, with peak memory (/usr/bin/time).
- plastimatch: `plastimatch dice --all` once per label on binary per-label .nii files.
- scipy/MedPy: MedPy 0.5.2's hd, hd95 and assd written with scipy.ndimage (binary_erosion +
  distance_transform_edt on the whole volume), per label, reading the files with nibabel.
Prints the times, the ratios and peak memory against the size of the two input volumes.
"""
import argparse
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

here = Path(__file__).resolve().parent
parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-bench")
parser.add_argument("--repeat", type=int, default=3)
args = parser.parse_args()
work = Path(args.work)
if not (work / "reference.nii").exists():
    subprocess.run([sys.executable, here / "make_benchmark_pair.py", work], check=True)


def timed(command):
    """Wall time and peak resident memory (KiB) of a command."""
    result = subprocess.run(["/usr/bin/time", "-f", "%e %M", *map(str, command)],
                            capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"failed: {' '.join(map(str, command))}\n{result.stderr}")
    seconds, kib = result.stderr.strip().splitlines()[-1].split()
    return float(seconds), int(kib), result.stdout


def best(command):
    runs = [timed(command) for _ in range(args.repeat)]
    return min(r[0] for r in runs), max(r[1] for r in runs), runs[0][2]


input_mib = 2 * (work / "reference.nii").stat().st_size / 2**20
rows = []
for suffix in ("nii", "nii.gz"):
    seconds, kib, out = best([args.gatescope, "metrics", "--reference", work / f"reference.{suffix}",
                              "--prediction", work / f"prediction.{suffix}", "--quiet",
                              "--json", work / "gatescope.json"])
    rows.append((f"gatescope metrics (.{suffix}, 2 labels)", seconds, kib / 1024))
gatescope_seconds = rows[0][1]

plastimatch = shutil.which("plastimatch")
plastimatch_seconds = None
if plastimatch:
    total, peak = 0.0, 0
    for label in (1, 2):
        seconds, kib, out = best([plastimatch, "dice", "--all", work / f"reference_label{label}.nii",
                                  work / f"prediction_label{label}.nii"])
        total += seconds
        peak = max(peak, kib)
        hd = re.search(r"Percent \(0.95\) Hausdorff distance \(boundary\) = ([0-9.]+)", out)
        rows.append((f"plastimatch dice --all (label {label}), boundary HD95 {hd.group(1) if hd else '?'}",
                     seconds, kib / 1024))
    plastimatch_seconds = total

scipy_script = r'''
import sys, time
import nibabel as nib, numpy as np
from scipy import ndimage
t = time.perf_counter()
ref = np.asarray(nib.load(sys.argv[1]).dataobj)
pred = np.asarray(nib.load(sys.argv[2]).dataobj)
spacing = nib.load(sys.argv[1]).header.get_zooms()[:3]
for label in (1, 2):
    r, p = ref == label, pred == label
    fp = ndimage.generate_binary_structure(3, 1)
    rb = r ^ ndimage.binary_erosion(r, structure=fp, iterations=1)
    pb = p ^ ndimage.binary_erosion(p, structure=fp, iterations=1)
    d1 = ndimage.distance_transform_edt(~rb, sampling=spacing)[pb]
    d2 = ndimage.distance_transform_edt(~pb, sampling=spacing)[rb]
    hd, hd95 = max(d1.max(), d2.max()), np.percentile(np.hstack((d1, d2)), 95)
    assd = np.concatenate([d1, d2]).mean()
    print(f"label {label}: hd {hd:.4f} hd95 {hd95:.4f} assd {assd:.4f}", file=sys.stderr)
print(time.perf_counter() - t)
'''
scipy_seconds, scipy_kib, _ = timed(["/usr/bin/python3", "-c", scipy_script, work / "reference.nii",
                                      work / "prediction.nii"])
rows.append(("scipy, MedPy definitions (2 labels)", scipy_seconds, scipy_kib / 1024))

print(f"input: 512x512x200 uint8 pair, 0.78x0.78x2.5 mm; two input volumes = {input_mib:.0f} MiB")
print(f"{'run':<66} {'seconds':>8} {'peak MiB':>9}")
for name, seconds, mib in rows:
    print(f"{name:<66} {seconds:>8.2f} {mib:>9.0f}")
print()
if plastimatch_seconds:
    print(f"speed-up vs plastimatch (both labels):  {plastimatch_seconds / gatescope_seconds:6.1f}x  (target >= 10x)")
print(f"speed-up vs scipy/MedPy (both labels):  {scipy_seconds / gatescope_seconds:6.1f}x  (target >= 200x)")
print(f"gatescope peak memory / two input volumes: {rows[0][2] / input_mib:.2f}  (target <= 2)")
