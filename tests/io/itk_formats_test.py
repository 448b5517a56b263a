#!/usr/bin/python3
"""NRRD and MetaImage end to end, against files and parsers written here by hand (numpy raw data
plus a text header, from the formats' specifications) and against nibabel:

- files written here (every datatype, 2D/3D/4D, oblique directions, anisotropic spacing, raw and
  gzip, attached and detached headers, LPS and RAS NRRD spaces) read by `gatescope info --json`
  with the values and the RAS geometry computed here;
- `gatescope convert` to NIfTI read back by nibabel (same values, affine to 1e-4 mm);
- `gatescope convert` to NRRD/MetaImage parsed back here (same values, LPS geometry);
- bad files (a header naming a missing data file, truncated data, a header declaring far more
  voxels than the file holds) give one-line errors and write nothing.

Usage: itk_formats_test.py GATESCOPE OUT_DIR
"""
import gzip
import json
import math
import re
import sys
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[2])
check, run, out = cli.check, cli.run, cli.out

NRRD_TYPES = {"uint8": "uchar", "int8": "signed char", "int16": "short", "uint16": "ushort",
              "int32": "int", "float32": "float", "float64": "double", "uint32": "uint"}
MET_TYPES = {"uint8": "MET_UCHAR", "int8": "MET_CHAR", "int16": "MET_SHORT", "uint16": "MET_USHORT",
             "int32": "MET_INT", "float32": "MET_FLOAT", "float64": "MET_DOUBLE", "uint32": "MET_UINT"}
FLIP = np.diag([-1.0, -1.0, 1.0])  # LPS <-> RAS


def rotation(degrees_z, degrees_x):
    z, x = math.radians(degrees_z), math.radians(degrees_x)
    rz = np.array([[math.cos(z), -math.sin(z), 0], [math.sin(z), math.cos(z), 0], [0, 0, 1]])
    rx = np.array([[1, 0, 0], [0, math.cos(x), -math.sin(x)], [0, math.sin(x), math.cos(x)]])
    return rz @ rx


def values(dtype, shape, seed):
    rng = np.random.default_rng(seed)
    if dtype.startswith("float"):
        return (rng.standard_normal(shape) * 100).astype(dtype)
    info = np.iinfo(dtype)
    lo, hi = max(info.min, -30000), min(info.max, 30000)
    return rng.integers(lo, hi, size=shape, endpoint=True).astype(dtype)


def file_bytes(array, order="<"):
    """Voxels in file order: i fastest, then j, k, and the 4th axis slowest."""
    return np.asfortranarray(array).astype(array.dtype.newbyteorder(order)).tobytes(order="F")


def vec(v):
    return "(" + ",".join(repr(float(x)) for x in v) + ")"


def write_nrrd(path, array, direction, spacing, origin, encoding="raw", space="LPS", detached=False,
               endian="little"):
    """direction: columns are the LPS directions of the spatial axes (2x2 for 2D, 3x3 for 3D)."""
    nd = direction.shape[0]
    cols = [direction[:, c] * spacing[c] for c in range(nd)]
    org = np.asarray(origin, float)
    # NRRD names 3D spaces only; a 2D image gives its space's dimension (read as LPS, as ITK does).
    space_line = "space dimension: 2" if nd == 2 else "space: left-posterior-superior"
    if space == "RAS":  # the same geometry told in RAS
        flip = FLIP[:nd, :nd]
        cols, org, space_line = [flip @ c for c in cols], flip @ org, "space: right-anterior-superior"
    dirs = " ".join(vec(c) for c in cols) + (" none" if array.ndim > nd else "")
    kinds = " ".join(["domain"] * nd + (["list"] if array.ndim > nd else []))
    data = file_bytes(array, "<" if endian == "little" else ">")
    if encoding == "gzip":
        data = gzip.compress(data)
    header = (f"NRRD0004\ntype: {NRRD_TYPES[str(array.dtype)]}\ndimension: {array.ndim}\n"
              f"{space_line}\nsizes: {' '.join(map(str, array.shape))}\n"
              f"space directions: {dirs}\nkinds: {kinds}\nendian: {endian}\nencoding: {encoding}\n"
              f"space origin: {vec(org)}\n")
    if detached:
        data_name = path.stem + (".raw.gz" if encoding == "gzip" else ".raw")
        (path.parent / data_name).write_bytes(data)
        path.write_text(header + f"data file: {data_name}\n")
    else:
        path.write_bytes((header + "\n").encode() + data)


def write_mha(path, array, direction, spacing, origin, detached=False):
    nd = array.ndim
    sd = direction.shape[0]
    matrix = np.eye(nd)
    matrix[:sd, :sd] = direction
    full_spacing = list(spacing) + [1.0] * (nd - sd)
    full_origin = list(origin) + [0.0] * (nd - sd)
    # MetaImage's TransformMatrix lists the direction of axis 0 first, then axis 1, ...
    transform = " ".join(repr(float(x)) for c in range(nd) for x in matrix[:, c])
    data_name = path.stem + ".raw" if detached else "LOCAL"
    header = (f"ObjectType = Image\nNDims = {nd}\nBinaryData = True\nBinaryDataByteOrderMSB = False\n"
              f"CompressedData = False\nTransformMatrix = {transform}\n"
              f"Offset = {' '.join(repr(float(x)) for x in full_origin)}\n"
              f"ElementSpacing = {' '.join(repr(float(x)) for x in full_spacing)}\n"
              f"DimSize = {' '.join(map(str, array.shape))}\nElementType = {MET_TYPES[str(array.dtype)]}\n"
              f"ElementDataFile = {data_name}\n")
    if detached:
        (path.parent / data_name).write_bytes(file_bytes(array))
        path.write_text(header)
    else:
        path.write_bytes(header.encode() + file_bytes(array))


# --- parsers for what gatescope writes ----------------------------------------------------------
NRRD_DTYPES = {v: k for k, v in NRRD_TYPES.items()}
NRRD_DTYPES.update({"int8": "int8", "uint8": "uint8", "int16": "int16", "uint16": "uint16",
                    "int32": "int32", "signed char": "int8", "unsigned char": "uint8"})
MET_DTYPES = {v: k for k, v in MET_TYPES.items()}


def read_nrrd(path):
    raw = path.read_bytes()
    end = raw.index(b"\n\n") if path.suffix == ".nrrd" else len(raw)
    fields = {}
    for line in raw[:end].decode().splitlines()[1:]:
        if line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        fields[key.strip()] = value.strip().lstrip("=").strip()
    sizes = [int(s) for s in fields["sizes"].split()]
    if "data file" in fields or "datafile" in fields:
        data = (path.parent / fields.get("data file", fields.get("datafile"))).read_bytes()
    else:
        data = raw[end + 2:]
    if fields["encoding"] in ("gzip", "gz"):
        data = gzip.decompress(data)
    dtype = np.dtype(NRRD_DTYPES[fields["type"]]).newbyteorder("<" if fields.get("endian", "little") == "little" else ">")
    array = np.frombuffer(data, dtype=dtype).reshape(sizes, order="F")
    dirs = [d for d in re.findall(r"\(([^)]*)\)|none", fields["space directions"])]
    cols = [np.array([float(x) for x in d.split(",")]) for d in dirs if d]
    origin = np.array([float(x) for x in re.findall(r"\(([^)]*)\)", fields["space origin"])[0].split(",")])
    return array, fields["space"], np.stack(cols, axis=1), origin


def read_mha(path):
    raw = path.read_bytes()
    fields, offset = {}, 0
    for line in raw.split(b"\n"):
        offset += len(line) + 1
        key, _, value = line.decode(errors="replace").partition("=")
        fields[key.strip()] = value.strip()
        if key.strip() == "ElementDataFile":
            break
    nd = int(fields["NDims"])
    dims = [int(x) for x in fields["DimSize"].split()]
    data = raw[offset:] if fields["ElementDataFile"] == "LOCAL" else (path.parent / fields["ElementDataFile"]).read_bytes()
    if fields.get("CompressedData", "False") == "True":
        data = zlib.decompress(data)
    dtype = np.dtype(MET_DTYPES[fields["ElementType"]]).newbyteorder(">" if fields.get("BinaryDataByteOrderMSB") == "True" else "<")
    array = np.frombuffer(data, dtype=dtype).reshape(dims, order="F")
    m = np.array([float(x) for x in fields["TransformMatrix"].split()]).reshape(nd, nd).T
    spacing = np.array([float(x) for x in fields["ElementSpacing"].split()])
    origin = np.array([float(x) for x in fields["Offset"].split()])
    return array, m @ np.diag(spacing), origin


# --- the cases ----------------------------------------------------------------------------------
R3 = rotation(20, 15)
R2 = rotation(25, 0)[:2, :2]
SPACING3, ORIGIN3 = (0.7, 1.3, 2.5), (-12.5, 30.25, 7.0)
SPACING2, ORIGIN2 = (0.6, 1.4), (3.5, -2.25)

cases = []  # (file, array, lps_direction 3x3, spacing3, lps_origin3)
seed = 0
for dtype in ("uint8", "int8", "int16", "uint16", "int32", "float32", "float64"):
    for kind in ("nrrd", "nrrd-gzip", "nrrd-gzip-big", "nhdr", "mha", "mhd"):
        seed += 1
        for nd in (2, 3, 4):
            if nd != 3 and kind not in ("nrrd", "mha"):
                continue
            shape = {2: (7, 5), 3: (6, 5, 4), 4: (5, 4, 3, 2)}[nd]
            array = values(dtype, shape, seed * 10 + nd)
            direction, spacing, origin = (R2, SPACING2, ORIGIN2) if nd == 2 else (R3, SPACING3, ORIGIN3)
            ext = {"nhdr": ".nhdr", "mha": ".mha", "mhd": ".mhd"}.get(kind, ".nrrd")
            path = out / f"{dtype}_{kind}_{nd}d{ext}"
            if kind.startswith("nrrd") or kind == "nhdr":
                write_nrrd(path, array, direction, spacing, origin,
                           encoding="gzip" if kind.startswith("nrrd-gzip") else "raw", detached=kind == "nhdr",
                           endian="big" if kind.endswith("-big") else "little",
                           space="RAS" if seed % 3 == 0 and nd == 3 else "LPS")
            else:
                write_mha(path, array, direction, spacing, origin, detached=kind == "mhd")
            d3, s3, o3 = np.eye(3), [1.0, 1.0, 1.0], [0.0, 0.0, 0.0]
            d3[:direction.shape[0], :direction.shape[0]] = direction
            s3[:len(spacing)], o3[:len(origin)] = spacing, origin
            cases.append((path, array, d3, s3, o3))

# uint32 labels (nnU-Net writes them) are read as int32 when they fit.
u32 = np.arange(6 * 5 * 4, dtype="uint32").reshape(6, 5, 4)
write_mha(out / "uint32_labels.mha", u32, R3, SPACING3, ORIGIN3)


def close(a, b, tol):
    return np.allclose(np.asarray(a, float), np.asarray(b, float), rtol=0, atol=tol)


result = run("info", "--json", *[c[0] for c in cases])
check(result.returncode == 0, f"info --json: exit {result.returncode}: {result.stderr}")
report = json.loads(result.stdout)["files"] if result.returncode == 0 else []
for (path, array, d3, s3, o3), got in zip(cases, report):
    name = path.name
    check(got["datatype"] == str(array.dtype), f"{name}: datatype {got['datatype']} != {array.dtype}")
    check(list(got["dims"]) == list(array.shape), f"{name}: dims {got['dims']} != {list(array.shape)}")
    check(close(got["spacing_mm"], s3, 1e-9), f"{name}: spacing {got['spacing_mm']} != {s3}")
    check(close(got["origin"], FLIP @ np.asarray(o3), 1e-9), f"{name}: RAS origin {got['origin']} != {FLIP @ o3}")
    check(close(got["direction"], FLIP @ d3, 1e-9), f"{name}: RAS direction {got['direction']} != {FLIP @ d3}")
    a = array.astype(float)
    check(math.isclose(got["min"], a.min(), rel_tol=1e-6) and math.isclose(got["max"], a.max(), rel_tol=1e-6),
          f"{name}: min/max {got['min']}/{got['max']} != {a.min()}/{a.max()}")

# To NIfTI: nibabel sees the same values and the RAS affine computed here.
for path, array, d3, s3, o3 in cases:
    target = out / "nifti" / (path.name.replace(".", "_") + ".nii.gz")
    target.parent.mkdir(exist_ok=True)
    r = run("convert", path, target, "--quiet")
    if r.returncode:
        check(False, f"convert {path.name} -> NIfTI: {r.stderr.strip()}")
        continue
    img = nib.load(str(target))
    data = np.asanyarray(img.dataobj)
    check(data.dtype == array.dtype, f"{path.name} -> NIfTI: dtype {data.dtype} != {array.dtype}")
    check(data.shape == array.shape and np.array_equal(data, array), f"{path.name} -> NIfTI: values differ")
    affine = np.eye(4)
    affine[:3, :3] = FLIP @ d3 @ np.diag(s3)
    affine[:3, 3] = FLIP @ np.asarray(o3)
    check(close(img.affine, affine, 1e-4), f"{path.name} -> NIfTI: affine\n{img.affine}\n!= expected\n{affine}")

r = run("convert", out / "uint32_labels.mha", out / "uint32_labels.nii.gz", "--quiet")
check(r.returncode == 0, f"uint32 MetaImage: {r.stderr.strip()}")
if r.returncode == 0:
    data = np.asanyarray(nib.load(str(out / "uint32_labels.nii.gz")).dataobj)
    check(data.dtype == np.int32 and np.array_equal(data, u32), "uint32 labels must read as the same int32 values")

# From NIfTI (nibabel writes it) to every format gatescope writes, parsed back here.
ras = np.eye(4)
ras[:3, :3] = FLIP @ R3 @ np.diag(SPACING3)
ras[:3, 3] = FLIP @ np.asarray(ORIGIN3)
for dtype in ("uint8", "int16", "float32", "float64"):
    array = values(dtype, (6, 5, 4), 99)
    source = out / f"nib_{dtype}.nii.gz"
    nib.save(nib.Nifti1Image(array, ras), str(source))
    for ext in (".nrrd", ".nhdr", ".mha", ".mhd"):
        target = out / "written" / f"{dtype}{ext}"
        target.parent.mkdir(exist_ok=True)
        r = run("convert", source, target, "--quiet")
        if r.returncode:
            check(False, f"convert NIfTI -> {ext}: {r.stderr.strip()}")
            continue
        if ext in (".nrrd", ".nhdr"):
            data, space, cols, origin = read_nrrd(target)
            check(space == "left-posterior-superior", f"{target.name}: space {space}")
        else:
            data, cols, origin = read_mha(target)
        check(data.dtype.name == dtype and np.array_equal(data, array), f"{target.name}: values or dtype differ ({data.dtype})")
        check(close(cols, R3 @ np.diag(SPACING3), 1e-6), f"{target.name}: LPS axes\n{cols}\n!= {R3 @ np.diag(SPACING3)}")
        check(close(origin, ORIGIN3, 1e-6), f"{target.name}: LPS origin {origin} != {ORIGIN3}")
        leftovers = [p.name for p in target.parent.iterdir() if p.name.startswith(".")]
        check(not leftovers, f"staging files left behind: {leftovers}")

# A scaled NIfTI keeps its real values; --datatype converts them; integers must fit.
scaled = nib.Nifti1Image(np.arange(24, dtype=np.int16).reshape(4, 3, 2), ras)
scaled.header.set_slope_inter(0.5, -3.0)
nib.save(scaled, str(out / "scaled.nii"))
real = np.arange(24).reshape(4, 3, 2) * 0.5 - 3.0
r = run("convert", out / "scaled.nii", out / "scaled.nrrd", "--quiet")
check(r.returncode == 0, f"scaled -> NRRD: {r.stderr.strip()}")
if r.returncode == 0:
    data = read_nrrd(out / "scaled.nrrd")[0]
    check(data.dtype == np.float32 and np.array_equal(data, real.astype(np.float32)), "scaled NIfTI -> NRRD: real values as float32")
r = run("convert", out / "scaled.nii", out / "scaled_f64.mha", "--datatype", "float64", "--quiet")
check(r.returncode == 0 and np.array_equal(read_mha(out / "scaled_f64.mha")[0], real), f"--datatype float64: {r.stderr.strip()}")
r = run("convert", out / "scaled.nii", out / "scaled_int16.mha", "--datatype", "int16")
check(r.returncode == 1 and "not an integer" in r.stderr and r.stderr.count("\n") == 1,
      f"--datatype int16 of half-integers must fail in one line: {r.returncode} {r.stderr!r}")
check(not (out / "scaled_int16.mha").exists(), "a failed convert must not write")

# Round trip through gatescope's own writers: NRRD -> MHA -> NRRD keeps values and geometry.
first = out / "int16_nrrd_3d.nrrd"
for a, b in ((first, out / "trip.mha"), (out / "trip.mha", out / "trip.nhdr"), (out / "trip.nhdr", out / "trip.nrrd")):
    r = run("convert", a, b, "--quiet")
    check(r.returncode == 0, f"convert {a.name} -> {b.name}: {r.stderr.strip()}")
r1, r2 = run("info", "--json", first), run("info", "--json", out / "trip.nrrd")
if r1.returncode == 0 and r2.returncode == 0:
    f1, f2 = json.loads(r1.stdout)["files"][0], json.loads(r2.stdout)["files"][0]
    for key in ("datatype", "dims", "min", "max", "mean"):
        check(f1[key] == f2[key], f"round trip: {key} {f1[key]} != {f2[key]}")
    for key in ("spacing_mm", "origin", "direction"):
        check(close(f1[key], f2[key], 1e-9), f"round trip: {key} {f1[key]} != {f2[key]}")


# --- bad files: one line, exit 1, nothing written ------------------------------------------------
def fails_cleanly(label, path, needle):
    target = out / "bad" / "never.nii.gz"
    target.parent.mkdir(exist_ok=True)
    r = run("convert", path, target)
    check(r.returncode == 1, f"{label}: exit {r.returncode}, expected 1 ({r.stderr.strip()})")
    check(r.stderr.count("\n") == 1 and str(path) in r.stderr and needle in r.stderr,
          f"{label}: expected one line naming {path.name} and '{needle}', got {r.stderr!r}")
    check(not target.exists() and not any(target.parent.iterdir()), f"{label}: something was written")


array = values("int16", (6, 5, 4), 5)
write_mha(out / "missing_raw.mhd", array, R3, SPACING3, ORIGIN3, detached=True)
(out / "missing_raw.raw").unlink()
fails_cleanly("MetaImage header naming a missing raw file", out / "missing_raw.mhd", "missing_raw.raw")
write_nrrd(out / "missing_raw.nhdr", array, R3, SPACING3, ORIGIN3, detached=True)
(out / "missing_raw.raw").unlink()
fails_cleanly("NRRD header naming a missing data file", out / "missing_raw.nhdr", "missing_raw.raw")
write_nrrd(out / "truncated.nrrd", array, R3, SPACING3, ORIGIN3)
(out / "truncated.nrrd").write_bytes((out / "truncated.nrrd").read_bytes()[:-40])
fails_cleanly("truncated NRRD", out / "truncated.nrrd", "truncated.nrrd")
write_mha(out / "truncated.mha", array, R3, SPACING3, ORIGIN3)
(out / "truncated.mha").write_bytes((out / "truncated.mha").read_bytes()[:-40])
fails_cleanly("truncated MetaImage", out / "truncated.mha", "truncated.mha")
huge = (out / "truncated.mha").read_text(errors="replace").split("ElementDataFile")[0]
(out / "huge.mha").write_bytes(huge.replace("DimSize = 6 5 4", "DimSize = 60000 50000 40000").encode()
                               + b"ElementDataFile = LOCAL\n" + b"\0" * 100)
fails_cleanly("header declaring far more voxels than the file holds", out / "huge.mha", "declares")
# Compressed MetaImage (as gatescope and ITK write it): cut short, and damaged in the middle.
r = run("convert", out / "nib_int16.nii.gz", out / "packed.mha", "--quiet")
check(r.returncode == 0, f"convert to compressed MetaImage: {r.stderr.strip()}")
packed = (out / "packed.mha").read_bytes()
(out / "packed_cut.mha").write_bytes(packed[:-30])
fails_cleanly("compressed MetaImage cut short", out / "packed_cut.mha", "packed_cut.mha")
damaged = bytearray(packed)
damaged[len(packed) - 60] ^= 0xFF
(out / "packed_damaged.mha").write_bytes(bytes(damaged))
fails_cleanly("compressed MetaImage damaged", out / "packed_damaged.mha", "packed_damaged.mha")
gz = out / "int16_nrrd-gzip_3d.nrrd"
(out / "gzip_cut.nrrd").write_bytes(gz.read_bytes()[:-30])
fails_cleanly("gzip NRRD cut short", out / "gzip_cut.nrrd", "gzip_cut.nrrd")
(out / "garbage.nrrd").write_bytes(b"this is not a NRRD file\n" * 4)
fails_cleanly("not a NRRD file", out / "garbage.nrrd", "garbage.nrrd")

cli.finish()
