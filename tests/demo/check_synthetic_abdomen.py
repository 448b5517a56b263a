#!/usr/bin/python3
"""Checks a synthetic abdomen dataset written by gatescope with nibabel and scipy alone.

Usage: check_synthetic_abdomen.py DATASET_DIR

Everything is measured from the files: the layout dataset.json lists, each image's grid, datatype
and orientation, the label values, and the property the demo relies on: the target touches the
landmark while every unlabelled look-alike (generator/<id>_distractors.nii.gz) lies farther from
it, looks the same (intensity, size) and never overlaps the target. Exits 1 naming the first
case and property that fails.
"""
import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

root = Path(sys.argv[1])
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)
    return condition


def load(relative):
    path = root / relative
    if not check(path.is_file(), f"{relative}: listed but missing"):
        return None
    return nib.load(str(path))


dataset = json.loads((root / "dataset.json").read_text())
generator = dataset["generator"]
dims = tuple(generator["dims"])
spacing = tuple(generator["spacing_mm"])
two_d = dims[2] == 1
check(dataset["tensorImageSize"] == ("2D" if two_d else "3D"), "tensorImageSize")
check(dataset["modality"] == {"0": "CT"}, "modality")
check(sorted(dataset["labels"]) == ["0", "1", "2"], "labels must name 0, 1 and 2")
check(dataset["numTraining"] == len(dataset["training"]), "numTraining")
check(dataset["numTest"] == len(dataset["test"]), "numTest")

cases = [(e["image"], e["label"]) for e in dataset["training"]]
cases += [(image, image.replace("imagesTs", "labelsTs")) for image in dataset["test"]]
voxel_size = float(np.prod(spacing[:2] if two_d else spacing))  # mm^2 in 2D, mm^3 in 3D
worst = {"target_gap": 0.0, "nearest_distractor": np.inf, "mean_difference": 0.0, "noise_checked": 0}

for image_path, label_path in cases:
    case_id = Path(image_path).name[: -len(".nii.gz")]
    image, labels, mask = load(image_path), load(label_path), load(f"generator/{case_id}_distractors.nii.gz")
    parameters = json.loads((root / "generator" / f"{case_id}.json").read_text())
    if image is None or labels is None or mask is None:
        continue
    where = f"{case_id}:"
    for name, img, dtype in (("image", image, np.int16), ("labels", labels, np.uint8),
                             ("distractors", mask, np.uint8)):
        check(img.shape == dims, f"{where} {name} shape {img.shape}, expected {dims}")
        check(np.allclose(img.header.get_zooms(), spacing), f"{where} {name} spacing {img.header.get_zooms()}")
        check(img.get_data_dtype() == dtype, f"{where} {name} dtype {img.get_data_dtype()}")
        check(np.allclose(img.affine, image.affine), f"{where} {name} affine differs from the image's")
    affine = image.affine
    check(np.allclose(affine[:3, :3], np.diag([-spacing[0], -spacing[1], spacing[2]])),
          f"{where} affine is not the LPS-ordered diagonal of the spacing: {affine.tolist()}")
    centre = affine @ np.array([(d - 1) / 2 for d in dims] + [1.0])
    check(np.allclose(centre[:3], 0.0, atol=1e-3), f"{where} grid centre maps to {centre[:3]}, not 0")

    ct = np.asarray(image.dataobj).astype(float)
    lab = np.asarray(labels.dataobj)
    dis = np.asarray(mask.dataobj)
    target, landmark = lab == 2, lab == 1
    distractors = parameters["distractors"]
    label_values = np.flatnonzero(np.bincount(lab.ravel())).tolist()
    if not check(label_values == [0, 1, 2], f"{where} label values {label_values}"):
        continue
    mask_values = np.flatnonzero(np.bincount(dis.ravel())).tolist()
    check(mask_values == list(range(len(distractors) + 1)),
          f"{where} distractor mask values {mask_values} for {len(distractors)} look-alikes")
    check(1 <= len(distractors) <= 3, f"{where} {len(distractors)} look-alikes")
    check(not np.any(lab[dis > 0]), f"{where} a look-alike carries a label")

    # Inside the body: the slice's filled body outline (everything denser than air), one voxel in.
    body = np.stack([ndimage.binary_fill_holes(ct[:, :, k] > -500) for k in range(dims[2])], axis=2)
    body = ndimage.binary_erosion(body, structure=np.ones((3, 3, 1), bool))
    check(np.all(body[target]) and np.all(body[dis > 0]), f"{where} an organ reaches outside the body")

    target_volume = target.sum() * voxel_size
    low, high = (100, 400) if two_d else (1000, 7000)
    check(target.sum() >= 8 and low <= target_volume <= high,
          f"{where} target covers {target.sum()} voxels ({target_volume:.0f}), expected {low}..{high}")

    # Distances in mm between voxel centres: from a region's voxels to the nearest landmark or
    # target voxel.
    landmark_points = cKDTree(np.argwhere(landmark) * spacing)
    target_points = cKDTree(np.argwhere(target) * spacing)

    def nearest(points, region):
        return points.query(np.argwhere(region) * spacing)[0].min()

    target_gap = nearest(landmark_points, target)
    check(target_gap <= max(spacing) + 1e-6, f"{where} target is {target_gap:.1f} mm from the landmark")
    worst["target_gap"] = max(worst["target_gap"], target_gap)

    inner = ndimage.binary_erosion(target, structure=np.ones((3, 3, 1), bool))
    target_mean = ct[inner if inner.any() else target].mean()
    landmark_mean = ct[landmark].mean()
    hu = parameters["intensities_hu"]
    check(abs(target_mean - hu["target"]) < 20, f"{where} target mean {target_mean:.0f} HU, drawn {hu['target']}")
    check(abs(landmark_mean - hu["landmark"]) < 15,
          f"{where} landmark mean {landmark_mean:.0f} HU, drawn {hu['landmark']}")
    check(target_mean - landmark_mean > 40, f"{where} target does not stand out from the landmark")

    # Noise: in the landmark's interior (two voxels in, away from partial-volume edges) the values
    # scatter by the drawn sigma, correlated with their in-plane neighbours as the [1 2 1] / 4
    # smoothing of white noise makes them (lag-1 correlation 4 / 6), not across slices.
    interior = ndimage.binary_erosion(landmark, structure=np.ones((5, 5, 5 if not two_d else 1), bool))
    if interior.sum() > 500:
        residual = np.where(interior, ct - ct[interior].mean(), 0.0)
        sigma = residual[interior].std()
        check(abs(sigma / parameters["noise_sigma_hu"] - 1.0) < 0.12,
              f"{where} noise {sigma:.1f} HU in the landmark, drawn {parameters['noise_sigma_hu']}")
        for axis, expected in ((0, 4 / 6), (1, 4 / 6), (2, 0.0)):
            if dims[axis] < 2:
                continue
            a = [slice(None)] * 3
            b = [slice(None)] * 3
            a[axis], b[axis] = slice(0, -1), slice(1, None)
            both = interior[tuple(a)] & interior[tuple(b)]
            r = np.corrcoef(residual[tuple(a)][both], residual[tuple(b)][both])[0, 1]
            check(abs(r - expected) < 0.1, f"{where} noise correlation {r:.2f} along axis {axis}, expected {expected:.2f}")
        worst["noise_checked"] += 1
    # The landmark has two lobes: the left one reaches towards the midline, in front.
    lobe = parameters["landmark_lobe"]
    right = parameters["landmark"]
    check(lobe["centre_mm"][0] < right["centre_mm"][0] and lobe["centre_mm"][1] > right["centre_mm"][1]
          and (two_d or lobe["centre_mm"][2] > right["centre_mm"][2]),
          f"{where} the left lobe {lobe['centre_mm']} is not medial, anterior and superior of {right['centre_mm']} (RAS)")
    lobe_voxel = np.round(np.linalg.solve(affine, np.append(lobe["centre_mm"], 1.0))[:3]).astype(int)
    inside = all(0 <= lobe_voxel[a] < dims[a] for a in range(3))
    check(inside and lab[tuple(lobe_voxel)] == 1, f"{where} the landmark's left lobe centre {lobe['centre_mm']} is not landmark")

    for n, entry in enumerate(distractors, start=1):
        where_n = f"{where} look-alike {n} ({entry['placement']})"
        region = dis == n
        gap = nearest(landmark_points, region)
        check(gap >= 10.0 and gap > target_gap + 5.0,
              f"{where_n} is {gap:.1f} mm from the landmark, the target {target_gap:.1f} mm")
        worst["nearest_distractor"] = min(worst["nearest_distractor"], gap)
        apart = nearest(target_points, region)
        check(apart >= 6.0, f"{where_n} is {apart:.1f} mm from the target")
        check(0.5 <= region.sum() / target.sum() <= 2.0,
              f"{where_n} covers {region.sum()} voxels, the target {target.sum()}")
        inner = ndimage.binary_erosion(region, structure=np.ones((3, 3, 1), bool))
        difference = abs(ct[inner if inner.any() else region].mean() - target_mean)
        check(difference < 20, f"{where_n} mean intensity differs from the target's by {difference:.0f} HU")
        worst["mean_difference"] = max(worst["mean_difference"], difference)
        # The recorded centre is where the mask is (world mm through the affine).
        centroid = affine @ np.append(np.argwhere(region).mean(axis=0), 1.0)
        check(np.allclose(centroid[:3], entry["centre_mm"], atol=max(spacing)),
              f"{where_n} mask centroid {centroid[:3]} but recorded centre {entry['centre_mm']}")
    centroid = affine @ np.append(np.argwhere(target).mean(axis=0), 1.0)
    check(np.allclose(centroid[:3], parameters["target"]["centre_mm"], atol=max(spacing)),
          f"{where} target centroid {centroid[:3]} but recorded centre {parameters['target']['centre_mm']}")

if failures:
    print(f"{len(failures)} problem(s); first ones:", *failures[:20], sep="\n  ")
    sys.exit(1)
print(f"{len(cases)} cases OK ({worst['noise_checked']} with the noise measured): target at most {worst['target_gap']:.1f} mm from the landmark, "
      f"look-alikes at least {worst['nearest_distractor']:.1f} mm, mean intensities within "
      f"{worst['mean_difference']:.1f} HU")
