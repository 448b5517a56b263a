#!/usr/bin/python3
"""DICOM series end to end, against series written here with pydicom:

- an oblique CT series with anisotropic pixels, a rescale slope and intercept, files named and
  numbered in an order unrelated to their positions: `gatescope convert` to NIfTI puts every voxel
  at the world position its DICOM tags give (to 1e-4 mm, read back with nibabel) with the rescaled
  values, and `gatescope info` agrees;
- a folder with two series: an error listing both (exit 2), `--series UID` reads each;
- a series with a missing slice: a one-line error (exit 1) and nothing written; a single .dcm file
  reads as a one-slice image.

Usage: dicom_series_test.py GATESCOPE OUT_DIR
"""
import json
import math
import random
import shutil
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[2])
check, run, out = cli.check, cli.run, cli.out
FLIP = np.diag([-1.0, -1.0, 1.0, 1.0])  # DICOM's LPS -> RAS
CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2"


def ds_text(x):
    """A DICOM decimal string (at most 16 characters)."""
    return f"{x:.10g}"[:16]


def write_series(folder, pixels, row_dir, col_dir, origin, pixel_spacing, slice_gap, slope, intercept,
                 description, positions=None, seed=0):
    """pixels: [k][rows][cols] int16. Writes one file per slice under shuffled names, with instance
    numbers reversed against the positions. Returns the series UID and, per slice as written, the
    Image Position (Patient) read back from the file's own decimal strings."""
    folder.mkdir(parents=True, exist_ok=True)
    series, study = generate_uid(), generate_uid()
    normal = np.cross(row_dir, col_dir)
    n = len(pixels)
    names = [f"IM{v:05d}" for v in random.Random(seed).sample(range(10000, 99999), n)]
    written = []
    for k in range(n):
        position = origin + normal * slice_gap * (positions[k] if positions else k)
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = CT_IMAGE_STORAGE
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / names[k]), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.is_little_endian, ds.is_implicit_VR = True, False
        ds.SOPClassUID, ds.SOPInstanceUID = CT_IMAGE_STORAGE, meta.MediaStorageSOPInstanceUID
        ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series
        ds.Modality, ds.SeriesDescription = "CT", description
        ds.PatientName, ds.PatientID = "Phantom^Test", "0001"
        ds.InstanceNumber = n - k
        ds.ImagePositionPatient = [ds_text(v) for v in position]
        ds.ImageOrientationPatient = [ds_text(v) for v in (*row_dir, *col_dir)]
        ds.PixelSpacing = [ds_text(pixel_spacing[0]), ds_text(pixel_spacing[1])]
        ds.SliceThickness = ds_text(slice_gap)
        ds.Rows, ds.Columns = pixels[k].shape
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = ds_text(slope), ds_text(intercept), "HU"
        ds.PixelData = pixels[k].astype("<i2").tobytes()
        ds.save_as(str(folder / names[k]), write_like_original=False)
        written.append(np.array([float(v) for v in ds.ImagePositionPatient]))
    return series, written


def unit(v):
    v = np.asarray(v, float)
    return v / np.linalg.norm(v)


# An oblique series: rows along (cos a, sin a, 0.2), columns perpendicular, 1 mm gaps along the normal.
row_dir = unit([math.cos(0.4), math.sin(0.4), 0.2])
col_dir = unit(np.cross(unit([0.1, -0.3, 1.0]), row_dir))
row_dir = unit(np.array([float(ds_text(v)) for v in row_dir]))
rows, cols, n = 9, 11, 6
pixel_spacing = (0.8, 0.55)  # (between rows, between columns) as DICOM's PixelSpacing
slope, intercept = 0.5, -100.0
rng = np.random.default_rng(7)
pixels = rng.integers(-2000, 3000, size=(n, rows, cols)).astype(np.int16)
origin = np.array([-40.25, 12.5, 101.75])
series, positions = write_series(out / "ct", pixels, row_dir, col_dir, origin, pixel_spacing, 1.25,
                                 slope, intercept, "oblique phantom", seed=1)

# The reference: voxel (i, j, k) of slice k (sorted along the normal) sits at
# IPP_k + i * column spacing * row direction + j * row spacing * column direction (LPS).
iop = [np.array([float(ds_text(v)) for v in row_dir]), np.array([float(ds_text(v)) for v in col_dir])]
normal = np.cross(iop[0], iop[1])
order = sorted(range(n), key=lambda k: float(positions[k] @ normal))
expected_values = np.stack([pixels[k].T * slope + intercept for k in order], axis=2)  # [i, j, k]

target = out / "ct.nii.gz"
r = run("convert", out / "ct", target, "--quiet")
check(r.returncode == 0, f"convert DICOM folder: exit {r.returncode}: {r.stderr.strip()}")
if r.returncode == 0:
    img = nib.load(str(target))
    data = np.asanyarray(img.dataobj).astype(float)
    check(data.shape == expected_values.shape, f"shape {data.shape} != {expected_values.shape}")
    check(data.shape == expected_values.shape and np.array_equal(data, expected_values),
          "rescaled values differ from stored * slope + intercept")
    worst = 0.0
    for k_sorted, k in enumerate(order):
        for i in (0, cols - 1):
            for j in (0, rows - 1):
                lps = positions[k] + i * pixel_spacing[1] * iop[0] + j * pixel_spacing[0] * iop[1]
                ras = (FLIP @ np.append(lps, 1.0))[:3]
                got = (img.affine @ np.array([i, j, k_sorted, 1.0]))[:3]
                worst = max(worst, float(np.abs(got - ras).max()))
    check(worst < 1e-4, f"world coordinates differ from the DICOM tags by up to {worst} mm")

r = run("info", "--json", out / "ct")
check(r.returncode == 0, f"info on the DICOM folder: {r.stderr.strip()}")
if r.returncode == 0:
    f = json.loads(r.stdout)["files"][0]
    check(f["dims"] == [cols, rows, n], f"info dims {f['dims']}")
    check(math.isclose(f["min"], expected_values.min()) and math.isclose(f["max"], expected_values.max()),
          f"info min/max {f['min']}/{f['max']} != {expected_values.min()}/{expected_values.max()}")
    check(np.allclose(f["spacing_mm"], [pixel_spacing[1], pixel_spacing[0], 1.25], atol=1e-5),
          f"info spacing {f['spacing_mm']}")

# One .dcm file on its own: a one-slice image at that slice's position.
single = out / "single.dcm"
shutil.copy(next((out / "ct").iterdir()), single)
r = run("info", "--json", single)
check(r.returncode == 0 and json.loads(r.stdout)["files"][0]["dims"][:2] == [cols, rows],
      f"a single .dcm file: {r.returncode} {r.stderr.strip()}")

# Two series in one folder: an error naming both, then --series picks each.
mixed = out / "mixed"
shutil.copytree(out / "ct", mixed)
other = rng.integers(0, 100, size=(3, rows, cols)).astype(np.int16)
series_b, _ = write_series(mixed, other, row_dir, col_dir, origin + 50, pixel_spacing, 2.0, 1.0, 0.0,
                           "second series", seed=2)
r = run("convert", mixed, out / "mixed.nii.gz")
check(r.returncode == 2 and series in r.stderr and series_b in r.stderr and "--series" in r.stderr
      and r.stderr.count("\n") == 1, f"two series without --series: {r.returncode} {r.stderr!r}")
check(not (out / "mixed.nii.gz").exists(), "nothing written for an ambiguous folder")
for uid, slices in ((series, n), (series_b, 3)):
    r = run("info", "--json", "--series", uid, mixed)
    check(r.returncode == 0 and json.loads(r.stdout)["files"][0]["dims"] == [cols, rows, slices],
          f"--series {uid}: {r.returncode} {r.stderr.strip()}")
r = run("convert", mixed, out / "nope.nii.gz", "--series", "1.2.3.4")
check(r.returncode == 2 and "1.2.3.4" in r.stderr, f"unknown --series: {r.returncode} {r.stderr!r}")

# A missing slice: uneven spacing is an error, not a silently stretched volume.
gap = out / "gap"
write_series(gap, pixels[:5], row_dir, col_dir, origin, pixel_spacing, 1.25, slope, intercept, "gap",
             positions=[0, 1, 2, 4, 5], seed=3)
r = run("convert", gap, out / "gap.nii.gz")
check(r.returncode == 1 and "evenly spaced" in r.stderr and str(gap) in r.stderr and r.stderr.count("\n") == 1,
      f"missing slice: {r.returncode} {r.stderr!r}")
check(not (out / "gap.nii.gz").exists(), "nothing written for a series with a gap")

# A folder without DICOM files.
(out / "empty").mkdir()
(out / "empty" / "notes.txt").write_text("no images here\n")
r = run("convert", out / "empty", out / "empty.nii.gz")
check(r.returncode == 1 and "no DICOM" in r.stderr, f"folder without DICOM: {r.returncode} {r.stderr!r}")

cli.finish()
