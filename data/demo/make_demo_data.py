#!/usr/bin/python3
"""Makes the small bundled demo volumes (deterministic): a CT-like abdomen with a body outline,
a large landmark organ and a small target organ, and its label map.

Usage: make_demo_data.py [OUT_DIR]   (default: this folder)
"""
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).parent
rng = np.random.default_rng(2026)
shape, spacing = (64, 64, 24), (0.8, 0.8, 2.5)
i, j, k = np.meshgrid(*[np.arange(n) * s for n, s in zip(shape, spacing)], indexing="ij")
centre = [n * s / 2 for n, s in zip(shape, spacing)]


def ellipsoid(c, r):
    return sum(((x - cx) / rx) ** 2 for x, cx, rx in zip((i, j, k), c, r)) <= 1.0


body = ellipsoid(centre, (24.0, 20.0, 40.0))
liver = ellipsoid((centre[0] - 7, centre[1] + 2, centre[2]), (9.0, 8.0, 18.0)) & body
target = ellipsoid((centre[0] + 9, centre[1] - 5, centre[2] + 3), (3.5, 3.0, 7.5)) & body & ~liver

ct = np.full(shape, -1000.0)
ct[body] = 40.0
ct[liver] = 110.0
ct[target] = 160.0
ct = (ct + rng.normal(0, 12, shape)).round().astype(np.int16)
labels = np.zeros(shape, np.uint8)
labels[liver] = 1
labels[target] = 2

affine = np.diag(spacing + (1.0,))
affine[:3, 3] = (-25.6, -25.6, -30.0)
nib.save(nib.Nifti1Image(ct, affine), out / "abdomen_ct.nii.gz")
nib.save(nib.Nifti1Image(labels, affine), out / "abdomen_labels.nii.gz")

# A plausible prediction: the landmark organ slightly too large, the target shifted by a voxel,
# and a false-positive island of the target label.
prediction = np.zeros(shape, np.uint8)
prediction[ellipsoid((centre[0] - 7, centre[1] + 2, centre[2]), (9.6, 8.4, 18.5)) & body] = 1
prediction[ellipsoid((centre[0] + 9.8, centre[1] - 5, centre[2] + 3), (3.5, 3.0, 7.5)) & body & (prediction == 0)] = 2
prediction[ellipsoid((centre[0] + 12, centre[1] + 10, centre[2] - 12), (1.6, 1.6, 2.5)) & body] = 2
nib.save(nib.Nifti1Image(prediction, affine), out / "abdomen_prediction.nii.gz")
print(f"wrote abdomen_ct.nii.gz, abdomen_labels.nii.gz and abdomen_prediction.nii.gz to {out}")
