#!/usr/bin/python3
"""The metrics benchmark pair: 512x512x200 labels at 0.78x0.78x2.5 mm. Label 1 is an elongated,
curved organ; label 2 a second, rounder organ; the prediction shifts and reshapes both and adds
a false-positive island of label 1.

Usage: make_benchmark_pair.py OUT_DIR
Writes reference.nii, prediction.nii (uncompressed, for plastimatch), the .nii.gz twins, and
reference_label{1,2}.nii / prediction_label{1,2}.nii (binary, for one-label-at-a-time tools).
"""
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)
shape, spacing = (512, 512, 200), (0.78, 0.78, 2.5)
i, j, k = np.ogrid[:shape[0], :shape[1], :shape[2]]
x, y, z = i * spacing[0], j * spacing[1], k * spacing[2]


def organs(shift, squash, island):
    labels = np.zeros(shape, np.uint8)
    # Label 1: a tube curving along z (pancreas/colon-like), radius varying along its length.
    cx = 200 + shift[0] + 40 * np.sin(z / 90.0)
    cy = 180 + shift[1] + 25 * np.cos(z / 70.0)
    radius = 18 * squash + 6 * np.sin(z / 40.0)
    tube = ((x - cx) ** 2 + (y - cy) ** 2 <= radius ** 2) & (z > 60) & (z < 440)
    labels[tube] = 1
    # Label 2: an ellipsoid (kidney/spleen-like).
    blob = (((x - 290 - shift[0]) / (35 * squash)) ** 2 + ((y - 250 - shift[1]) / 28) ** 2
            + ((z - 250) / 60) ** 2) <= 1
    labels[blob & (labels == 0)] = 2
    if island:
        labels[((x - 100) ** 2 + (y - 320) ** 2 + (z - 300) ** 2) <= 12 ** 2] = 1
    return labels


reference = organs((0.0, 0.0), 1.0, False)
prediction = organs((2.3, -1.6), 1.08, True)
affine = np.diag(spacing + (1.0,))
affine[:3, 3] = (-199.7, -199.7, -250.0)
for name, labels in (("reference", reference), ("prediction", prediction)):
    img = nib.Nifti1Image(labels, affine)
    nib.save(img, out / f"{name}.nii")
    nib.save(img, out / f"{name}.nii.gz")
    for label in (1, 2):
        nib.save(nib.Nifti1Image((labels == label).astype(np.uint8), affine), out / f"{name}_label{label}.nii")
print(f"wrote the benchmark pair to {out}")
