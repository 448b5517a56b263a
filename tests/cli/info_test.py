#!/usr/bin/python3
"""`gatescope info` end to end: its report equals nibabel's and Pillow's view of the same files,
and bad input gives one-line errors with the contract's exit codes.

Usage: info_test.py GATESCOPE FIXTURES_DIR DEMO_DIR
"""
import json
import math
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1])
gatescope, check, run = cli.gatescope, cli.check, cli.run
fixtures, demo = Path(sys.argv[2]), Path(sys.argv[3])


def same(a, b, rel=1e-9, abs_=0.0):
    if isinstance(b, str) or isinstance(a, str):
        return str(a) == str(b)
    return math.isclose(a, b, rel_tol=rel, abs_tol=abs_)


# NIfTI: every datatype, scaling, qform-only, sform-only, oblique, 2D, 4D, NIfTI-2 ...
expected = json.loads((fixtures / "nifti" / "expected.json").read_text())
result = run("info", "--json", *[fixtures / "nifti" / e["file"] for e in expected])
check(result.returncode == 0, f"info --json on the NIfTI fixtures: exit {result.returncode}: {result.stderr}")
report = json.loads(result.stdout)["files"]
check(len(report) == len(expected), "one entry per file")
for e, got in zip(expected, report):
    name = e["name"]
    check(got["dims"] == e["shape"], f"{name}: dims {got['dims']} != nibabel {e['shape']}")
    check(got["datatype"] == e["dtype"], f"{name}: datatype {got['datatype']} != {e['dtype']}")
    for key in ("spacing_mm", "origin"):
        check(all(same(a, b, 1e-6, 1e-5) for a, b in zip(got[key], e[key])),
              f"{name}: {key} {got[key]} != nibabel {e[key]}")
    check(all(same(a, b, 0, 1e-6) for ra, rb in zip(got["direction"], e["direction"])
              for a, b in zip(ra, rb)), f"{name}: direction {got['direction']} != {e['direction']}")
    check(got["scaling"] == {"slope": e["slope"], "intercept": e["intercept"]}, f"{name}: scaling")
    for key in ("min", "max"):
        check(same(got[key], e[key], 1e-12), f"{name}: {key} {got[key]} != nibabel {e[key]}")
    check(same(got["mean"], e["mean"], 1e-9), f"{name}: mean {got['mean']} != nibabel {e['mean']}")
    check(got.get("labels") == e.get("labels"), f"{name}: label counts differ from numpy.unique")

# PNG: dims, datatype and value range as Pillow sees them.
import numpy as np  # noqa: E402

png = json.loads((fixtures / "png" / "expected.json").read_text())
result = run("info", "--json", *[fixtures / "png" / e["file"] for e in png])
check(result.returncode == 0, f"info --json on the PNG fixtures: exit {result.returncode}")
for e, got in zip(png, json.loads(result.stdout)["files"]):
    values = np.fromfile(fixtures / "png" / e["data"], dtype="<f8")
    dims = [e["width"], e["height"]] + ([e["channels"]] if e["channels"] > 1 else [])
    check(got["dims"] == dims, f"{e['name']}: dims {got['dims']} != {dims}")
    check(got["min"] == values.min() and got["max"] == values.max(), f"{e['name']}: value range")
    check(got["spacing_mm"] == [1.0, 1.0, 1.0], f"{e['name']}: PNG pixels are 1 mm")

# The table names every field.
table = run("info", fixtures / "nifti" / "labels_uint8.nii.gz")
check(table.returncode == 0, "table output exit code")
for field in ("format", "datatype", "dims        16 x 12 x 6", "spacing_mm", "origin", "direction",
              "scaling", "values", "labels      0: "):
    check(field in table.stdout, f"table lacks '{field}':\n{table.stdout}")

# Bad input: exit 1, one line naming the file; the good files are still reported.
bad = fixtures / "not_an_image.nii.gz"
bad.write_bytes(b"definitely not gzip")
mixed = run("info", "--json", fixtures / "nifti" / "dtype_uint8.nii.gz", bad, fixtures / "missing.nii")
check(mixed.returncode == 1, f"bad files: exit {mixed.returncode}, expected 1")
lines = mixed.stderr.strip().splitlines()
check(len(lines) == 2 and str(bad) in lines[0] and "missing.nii" in lines[1],
      f"one error line per bad file, naming it: {mixed.stderr!r}")
entries = json.loads(mixed.stdout)["files"]
check("dims" in entries[0] and "error" in entries[1] and "error" in entries[2], "JSON keeps good and bad files")

# Usage errors: exit 2. Help and version: exit 0.
check(run("info").returncode == 2, "info without files exits 2")
check(run("frobnicate").returncode == 2, "unknown command exits 2")
check(run("info", "--no-such-flag", bad).returncode == 2, "unknown flag exits 2")
top = run("--help")
check(top.returncode == 0 and "info" in top.stdout, "--help lists info")
check(run("info", "--help").returncode == 0, "info --help exits 0")
version = run("--version")
check(version.returncode == 0 and version.stdout.startswith("gatescope "), f"--version: {version.stdout!r}")

# The bundled demo files read cleanly.
demo_files = sorted(demo.glob("*.nii.gz")) + sorted(demo.glob("*.png"))
check(len(demo_files) >= 2, "demo data present")
check(run("info", *demo_files).returncode == 0, "info on the demo data")

cli.finish()
