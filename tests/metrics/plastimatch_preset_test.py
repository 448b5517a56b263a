#!/usr/bin/python3
"""The plastimatch preset against the plastimatch binary (Debian package plastimatch): the same
binary masks through `plastimatch dice --all` and `gatescope metrics --preset plastimatch`.

Usage: plastimatch_preset_test.py GATESCOPE OUT_DIR
"""
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
from scipy import ndimage

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

plastimatch = shutil.which("plastimatch")
if not plastimatch:
    print("FAIL: plastimatch is not installed (scripts/setup.sh installs it)")
    sys.exit(1)
cli = CliTest(sys.argv[1], sys.argv[2])
gatescope, out, run = cli.gatescope, cli.out, cli.run
rng = np.random.default_rng(4)


def ellipsoid(shape, centre, radii):
    grid = np.ogrid[tuple(slice(0, n) for n in shape)]
    return sum(((g - c) / r) ** 2 for g, c, r in zip(grid, centre, radii)) <= 1


def blobs(shape):
    field = ndimage.gaussian_filter(rng.random(shape), 2.0)
    return field > np.percentile(field, 70)


cases = {}
shape = (30, 26, 14)
a = np.zeros(shape, bool); a[5:20, 4:18, 3:10] = True
b = np.zeros(shape, bool); b[8:24, 6:21, 5:12] = True
cases["boxes"] = (a, b, (0.8, 0.7, 2.5))
cases["ellipsoids_at_edges"] = (ellipsoid(shape, (0, 12, 0), (9, 7, 5)), ellipsoid(shape, (3, 14, 2), (11, 6, 4)), (1.1, 0.9, 3.0))
cases["blobs_full_extent"] = (blobs(shape), blobs(shape), (1.3, 0.6, 3.0))  # spans whole axes: the crop drops a slice
c = np.zeros(shape, bool); c[10, 10, 5] = True
d = np.zeros(shape, bool); d[14, 8, 9] = True
cases["single_voxels"] = (c, d, (1.0, 0.5, 2.0))
e = np.zeros(shape, bool); e[3:6, 3:6, 2:4] = True; e[20:27, 15:22, 8:12] = True
cases["two_components"] = (e, ellipsoid(shape, (22, 18, 10), (5, 5, 3)), (0.9, 0.9, 1.5))

tolerance = 2e-6  # plastimatch prints %f
failures = cli.failures
for name, (ref, pred, spacing) in cases.items():
    affine = np.diag(spacing + (1.0,))
    affine[:3, 3] = (-12.0, 7.5, 3.0)
    rp, pp = out / f"{name}_ref.nii", out / f"{name}_pred.nii"
    nib.save(nib.Nifti1Image(ref.astype(np.uint8), affine), rp)
    nib.save(nib.Nifti1Image(pred.astype(np.uint8), affine), pp)
    text = subprocess.run([plastimatch, "dice", "--all", rp, pp], capture_output=True, text=True).stdout

    def value(pattern):
        found = re.search(pattern, text, re.MULTILINE)
        return float(found.group(1)) if found else None

    want = {"dice": value(r"^DICE:\s+(\S+)"),
            "hd_mm": value(r"^Hausdorff distance \(boundary\) = (\S+)"),
            "hd95_mm": value(r"^Percent \(0\.95\) Hausdorff distance \(boundary\) = (\S+)"),
            "assd_mm": value(r"^Avg average Hausdorff distance \(boundary\) = (\S+)"),
            "masd_mm": value(r"^Avg average Hausdorff distance \(boundary\) = (\S+)")}
    max_avg = value(r"^Max average Hausdorff distance \(boundary\) = (\S+)")
    report = out / f"{name}.json"
    result = run("metrics", "--reference", rp, "--prediction", pp, "--preset", "plastimatch", "--json", report,
                 "--quiet")
    if result.returncode != 0:
        failures.append(f"{name}: gatescope exit {result.returncode}: {result.stderr}")
        continue
    got = json.loads(report.read_text())["cases"][0]["labels"]["1"]
    for key, expected in want.items():
        if expected is None:
            failures.append(f"{name}: plastimatch printed no {key}:\n{text}")
        elif not math.isclose(got[key], expected, rel_tol=1e-6, abs_tol=tolerance):
            failures.append(f"{name} {key}: gatescope {got[key]} != plastimatch {expected}")
    directed_max = max(got["asd_prediction_to_reference_mm"], got["asd_reference_to_prediction_mm"])
    if max_avg is None or not math.isclose(directed_max, max_avg, rel_tol=1e-6, abs_tol=tolerance):
        failures.append(f"{name}: larger directed mean {directed_max} != plastimatch max average {max_avg}")
print(f"{len(cases)} mask pairs")
cli.finish()
