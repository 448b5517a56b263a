#!/usr/bin/python3
"""Memory-safe inference (docs/scaling.md#memory-safe-inference), end to end on the bundled gated
demo model and a demo case (96x96x48):

- a budget the whole volume fits in runs it whole, as without a budget (infer.json: plan "whole",
  the budget, a measured peak at most the budget);
- blending buffers in host memory with windows that cover the volume equal the whole-volume run
  within 1e-5 (probabilities and every gate);
- a budget too small for the whole volume runs in windows sized to fit (plan "windows", their
  size, estimated and measured peaks within the budget): equal within 1e-5 to an explicit --window
  run of that size (the sliding window checked against PyTorch in infer_test.py), with host buffers
  too; and seamless: the mean jump between neighbouring voxels across window borders is within 2x
  the mean jump elsewhere (the model sees less context near a window's edge), less than a third of
  what windows placed side by side without overlap (--overlap 0) show;
- a budget too small for the smallest window exits 2 with one line.

Usage: memory_budget_test.py GATESCOPE MODEL OUT_DIR
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
from window_seams import seam_ratio  # noqa: E402

gatescope, model, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)


def infer(name, *extra):
    res = subprocess.run([gatescope, "infer", "--model", model, "--input", image, "--out", out / name, "--quiet",
                          *map(str, extra)], capture_output=True, text=True, timeout=600)
    return res


def load(name):
    folder = out / name
    record = json.loads((folder / "infer.json").read_text())
    probabilities = np.asarray(nib.load(folder / "probabilities.nii.gz").dataobj)
    gates = {g.name: np.asarray(nib.load(g).dataobj) for g in sorted((folder / "gates").glob("*.nii.gz"))}
    return record, probabilities, gates


def same(a, b, what, tol=1e-5):
    _, pa, ga = a
    _, pb, gb = b
    check(abs(pa - pb).max() <= tol, f"{what}: probabilities differ by {abs(pa - pb).max()}")
    check(ga.keys() == gb.keys(), f"{what}: gate files differ")
    for name in ga:
        if name in gb:
            check(abs(ga[name] - gb[name]).max() <= tol, f"{what}: {name} differs by {abs(ga[name] - gb[name]).max()}")


res = subprocess.run([gatescope, "demo", "--out", out / "demo", "--data-only", "--quiet"], capture_output=True, text=True)
assert res.returncode == 0, res.stderr
image = sorted((out / "demo" / "dataset" / "imagesTs").glob("*.nii.gz"))[0]

assert infer("plain").returncode == 0
plain = load("plain")
check(plain[0]["device_memory"]["plan"] == "whole", "without a budget: the whole volume")

GB = 1024 ** 3
res = infer("roomy", "--memory-budget", 4)
check(res.returncode == 0, f"a roomy budget: {res.stderr}")
roomy = load("roomy")
memory = roomy[0]["device_memory"]
check(memory["plan"] == "whole" and memory["budget_bytes"] == 4 * GB, f"a roomy budget: {memory}")
check(0 < memory["peak_bytes"] <= memory["budget_bytes"], f"a roomy budget: measured peak {memory}")
same(roomy, plain, "a roomy budget")

res = infer("host_whole", "--window-buffers", "host")
check(res.returncode == 0, f"host buffers: {res.stderr}")
host_whole = load("host_whole")
check(host_whole[0]["device_memory"]["buffers"] == "host" and host_whole[0]["window"] == [96, 96, 48],
      f"host buffers without a budget: one window over the volume: {host_whole[0]['device_memory']}, {host_whole[0]['window']}")
same(host_whole, plain, "host buffers, one window covering the volume")

# A budget between a window's forward and the whole volume's: windows sized to fit.
whole_need = roomy[0]["device_memory"]["estimated_peak_bytes"]
budget_gb = whole_need / 2 / GB
for buffers in ("device", "host"):
    name = f"tight_{buffers}"
    res = infer(name, "--memory-budget", f"{budget_gb:.6f}", "--window-buffers", buffers)
    check(res.returncode == 0, f"a tight budget, {buffers} buffers: {res.stderr}")
    tight = load(name)
    memory, window = tight[0]["device_memory"], tight[0]["window"]
    check(memory["plan"] == "windows" and memory["buffers"] == buffers and len(window) == 3,
          f"a tight budget: {memory} {window}")
    check(memory["estimated_peak_bytes"] <= memory["budget_bytes"], f"a tight budget: estimate {memory}")
    if buffers == "device":  # on the CPU, host buffers are in the same memory as the network's
        check(memory["peak_bytes"] <= memory["budget_bytes"], f"a tight budget: measured peak {memory}")
    explicit_name = f"explicit_{'_'.join(map(str, window))}"
    if not (out / explicit_name).exists():
        check(infer(explicit_name, "--window", ",".join(map(str, window))).returncode == 0, "explicit window")
    same(tight, load(explicit_name), f"a tight budget with {buffers} buffers vs --window {window}")

    # Seams: per axis, the mean jump between neighbouring voxels across window borders against the
    # mean jump elsewhere.

    step = [max(16, (w // 2) // 16 * 16) for w in window]  # overlap 0.5, steps of whole 16-voxel units
    blended = seam_ratio(tight[1], window, step)
    check(blended < 2.0, f"{buffers} buffers: jumps across window borders {blended:.2f}x those elsewhere")
    if buffers == "device":
        check(infer("side_by_side", "--window", ",".join(map(str, window)), "--overlap", 0).returncode == 0,
              "windows side by side")
        naive = seam_ratio(load("side_by_side")[1], window, window)
        check(naive > 3 * blended, f"windows side by side show seams: {naive:.2f}x (blended {blended:.2f}x)")
        print(f"window {window}: border jumps {blended:.2f}x elsewhere blended, {naive:.2f}x side by side")

res = infer("hopeless", "--memory-budget", 0.0001)
check(res.returncode == 2 and "too small" in res.stderr and res.stderr.count("\n") == 1,
      f"a budget below the smallest window: exit {res.returncode}: {res.stderr}")
check(not (out / "hopeless").exists(), "a failed run left an output folder")

if failures:
    print(f"{len(failures)} failure(s)", file=sys.stderr)
    sys.exit(1)
print("memory budget: whole, host buffers and windows sized to fit agree with the references")
