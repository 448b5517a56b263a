#!/usr/bin/python3
"""How the demo models treat the target's look-alikes (docs/demo.md): for an evaluation of the demo's
test split with every prediction saved, counts the look-alike voxels each model labels as the target,
and compares each gate's mean coefficient inside the target, inside the look-alikes and elsewhere.

Usage (Debian's python3 with python3-nibabel):
    build/bin/gatescope evaluate --model data/demo/models/gated/model.json \\
        --model data/demo/models/baseline/model.json --dataset build/demo/dataset --split test \\
        --save-predictions --out build/demo/evaluation_all --quiet
    scripts/demo_lookalikes.py build/demo/evaluation_all build/demo/dataset

The look-alikes come from the generator's masks (dataset/generator/<id>_distractors.nii.gz, value n
for the n-th); the gate maps are the ones resampled to the image grid (predictions/A/<id>/gates/).
"""
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

if len(sys.argv) != 3:
    sys.exit(__doc__)
evaluation, dataset = Path(sys.argv[1]), Path(sys.argv[2])
target_label = 2


def voxels(path):
    return np.asarray(nib.load(str(path)).dataobj)


cases = sorted(p.name for p in (evaluation / "predictions" / "A").iterdir() if p.is_dir())
if not cases:
    sys.exit(f"{evaluation}: no saved predictions (evaluate with --save-predictions)")
models = [m for m in ("A", "B") if (evaluation / "predictions" / m).is_dir()]
labelled = {m: [0, 0] for m in models}  # look-alikes touched, voxels
gates = {}
look_alikes = 0
for case in cases:
    mask = voxels(dataset / "generator" / f"{case}_distractors.nii.gz")
    reference = voxels(dataset / "labelsTs" / f"{case}.nii.gz")
    count = int(mask.max())
    look_alikes += count
    for m in models:
        predicted = voxels(evaluation / "predictions" / m / case / "labels.nii.gz") == target_label
        hits = [int((predicted & (mask == n)).sum()) for n in range(1, count + 1)]
        labelled[m][0] += sum(h > 0 for h in hits)
        labelled[m][1] += sum(hits)
    for gate_file in sorted((evaluation / "predictions" / "A" / case / "gates").glob("*.nii.gz")):
        if gate_file.name.endswith("_native.nii.gz"):
            continue
        gate = voxels(gate_file)
        inside = gate[reference == target_label].mean()
        per_look_alike = [gate[mask == n].mean() for n in range(1, count + 1)]
        rest = gate[(reference == 0) & (mask == 0)].mean()
        row = gates.setdefault(gate_file.name[: -len(".nii.gz")], [])
        row.append((inside, per_look_alike, rest))

print(f"{len(cases)} cases, {look_alikes} look-alikes of the target (label {target_label})")
for m in models:
    print(f"model {m}: {labelled[m][0]} look-alike(s) with any voxel labelled {target_label}, "
          f"{labelled[m][1]} voxel(s) in all")
print("model A's gates, mean coefficient (mean over cases):")
print(f"  {'gate':<18} {'target':>7} {'look-alikes':>12} {'elsewhere':>10}  look-alikes below the target")
for name, rows in gates.items():
    target = np.mean([r[0] for r in rows])
    look = np.mean([np.mean(r[1]) for r in rows])
    rest = np.mean([r[2] for r in rows])
    below = sum(sum(v < r[0] for v in r[1]) for r in rows)
    print(f"  {name:<18} {target:7.3f} {look:12.3f} {rest:10.3f}  {below} of {look_alikes}")
