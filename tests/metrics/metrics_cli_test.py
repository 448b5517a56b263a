#!/usr/bin/python3
"""`gatescope metrics` end to end against scipy implementations of each preset's definitions
(tests/fixtures/metrics_reference.py), plus per-case errors and the report formats.

Usage: metrics_cli_test.py GATESCOPE REFERENCE_DIR OUT_DIR
"""
import csv
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np

gatescope, ref_dir, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


def run(*args):
    return subprocess.run([gatescope, *map(str, args)], capture_output=True, text=True, timeout=300)


def close(got, want, key):
    if isinstance(want, str) or isinstance(got, str):
        return str(got) == str(want)
    if key in ("tp", "fp", "fn", "tn"):
        return got == want
    return math.isclose(got, want, rel_tol=1e-6, abs_tol=1e-9)


def compare(got_labels, want_labels, where):
    check(sorted(got_labels) == sorted(want_labels), f"{where}: labels {sorted(got_labels)} != {sorted(want_labels)}")
    for label, want in want_labels.items():
        got = got_labels.get(label, {})
        for key, value in want.items():
            if key == "error":
                check("error" in got, f"{where} label {label}: expected an error note")
                continue
            check(key in got and close(got[key], value, key),
                  f"{where} label {label} {key}: gatescope {got.get(key)} != reference {value}")


common = ["--percentile", "95", "--tolerance-mm", "1,2.5", "--quiet"]
for variant in ("default", "monai", "medpy", "metricsreloaded", "medpy_full"):
    preset = variant.split("_")[0]
    extra = ["--connectivity", "full"] if variant.endswith("_full") else []
    report = out / f"{variant}.json"
    table = out / f"{variant}.csv"
    result = run("metrics", "--reference", ref_dir / "reference", "--prediction", ref_dir / "prediction",
                 "--preset", preset, "--json", report, "--csv", table, *extra, *common)
    check(result.returncode == 0, f"{preset}: exit {result.returncode}: {result.stderr}")
    if not report.exists():
        failures.append(f"{preset}: no JSON report")
        continue
    got = json.loads(report.read_text())
    want = json.loads((ref_dir / f"expected_{variant}.json").read_text())
    check(got["schema"] == "gatescope.metrics/1" and got["preset"] == preset, f"{preset}: header")
    cases = {c["id"]: c for c in got["cases"]}
    check(sorted(cases) == sorted(want), f"{preset}: cases {sorted(cases)}")
    for case_id, labels in want.items():
        compare(cases.get(case_id, {}).get("labels", {}), labels, f"{preset} {case_id}")
    rows = list(csv.DictReader(table.open()))
    check(len(rows) == sum(len(v) for v in want.values()), f"{preset}: one CSV row per case and label")
    # Summary: mean over cases of a label's finite values.
    dice_1 = [c["labels"]["1"]["dice"] for c in got["cases"] if "1" in c["labels"]]
    finite = [v for v in dice_1 if not isinstance(v, str)]
    check(math.isclose(got["summary"]["1"]["dice"]["mean"], float(np.mean(finite)), rel_tol=1e-12),
          f"{preset}: summary mean")
    check(got["summary"]["1"]["dice"]["n"] == len(finite), f"{preset}: summary n")

# Background as a label.
name, want = next(iter(json.loads((ref_dir / "expected_background.json").read_text()).items()))
report = out / "background.json"
result = run("metrics", "--reference", ref_dir / "reference" / f"{name}.nii.gz", "--prediction",
             ref_dir / "prediction" / f"{name}.nii.gz", "--include-background", "--json", report, *common)
check(result.returncode == 0, "--include-background runs")
compare({"0": json.loads(report.read_text())["cases"][0]["labels"]["0"]}, {"0": want}, "background")

# Worst-case substitution in summaries: +inf distances (one mask empty) become the image diagonal.
report = out / "worst.json"
run("metrics", "--reference", ref_dir / "reference", "--prediction", ref_dir / "prediction",
    "--nonfinite", "diagonal", "--json", report, *common)
got = json.loads(report.read_text())
img = nib.load(str(ref_dir / "reference" / "one_sided.nii.gz"))
diagonal = float(np.linalg.norm(np.array(img.shape) * np.array(img.header.get_zooms())))
hd3 = got["summary"]["3"]["hd_mm"]
check(math.isclose(hd3["mean"], diagonal, rel_tol=1e-5) and hd3["n_inf"] == 0,
      f"--nonfinite diagonal: label 3 hd mean {hd3['mean']} != diagonal {diagonal}")
one_sided = next(c for c in got["cases"] if c["id"] == "one_sided")
check(one_sided["labels"]["3"]["hd_mm"] == "inf", "per-case values stay as computed")

# A label absent from both images, asked for explicitly: each preset's both-empty policy.
both = json.loads((ref_dir / "expected_both_empty.json").read_text())
for preset, want in both.items():
    report = out / f"both_empty_{preset}.json"
    result = run("metrics", "--reference", ref_dir / "reference" / "identical.nii.gz",
                 "--prediction", ref_dir / "prediction" / "identical.nii.gz", "--labels", "7",
                 "--preset", preset, "--json", report, *common)
    check(result.returncode == 0, f"both empty {preset}: exit {result.returncode}")
    got = json.loads(report.read_text())["cases"][0]["labels"]
    compare(got, {"7": {k: v for k, v in want.items() if k not in ("tn", "specificity", "volume_similarity")}},
            f"both empty {preset}")

# Per-case errors: a missing partner, a different grid, a non-label image; the rest still runs.
bad = out / "bad"
shutil.copytree(ref_dir / "reference", bad / "reference")
shutil.copytree(ref_dir / "prediction", bad / "prediction")
(bad / "prediction" / "identical.nii.gz").unlink()
img = nib.load(str(bad / "prediction" / "cavity.nii.gz"))
nib.save(nib.Nifti1Image(np.asarray(img.dataobj), img.affine * np.diag([2, 1, 1, 1])), bad / "prediction" / "cavity.nii.gz")
img = nib.load(str(bad / "prediction" / "edge_touching.nii.gz"))
nib.save(nib.Nifti1Image(np.asarray(img.dataobj).astype(np.float32) * 0.5, img.affine), bad / "prediction" / "edge_touching.nii.gz")
report = out / "bad.json"
result = run("metrics", "--reference", bad / "reference", "--prediction", bad / "prediction", "--json", report, *common)
check(result.returncode == 1, f"per-case errors: exit {result.returncode}, expected 1")
got = {c["id"]: c for c in json.loads(report.read_text())["cases"]}
check(got["identical"]["status"] == "error" and "no prediction file" in got["identical"]["error"], "missing partner recorded")
check(got["cavity"]["status"] == "error" and "different grids" in got["cavity"]["error"], "geometry mismatch recorded")
check(got["edge_touching"]["status"] == "error" and "not a label image" in got["edge_touching"]["error"], "non-label datatype recorded")
check(got["blobs_3d"]["status"] == "ok", "other cases still measured")
check(json.loads(report.read_text())["n_failed"] == 3, "n_failed counts the failures")
check(all(Path(p).name in result.stderr for p in ["cavity.nii.gz", "edge_touching.nii.gz"]), "errors name the files")

# Usage errors exit 2; nothing is written.
check(run("metrics", "--reference", ref_dir / "reference", "--prediction", ref_dir / "prediction" / "cavity.nii.gz").returncode == 2,
      "file against folder is a usage error")
check(run("metrics", "--reference", "nowhere", "--prediction", "nowhere").returncode == 2, "missing paths exit 2")
check(run("metrics", "--reference", ref_dir / "reference", "--prediction", ref_dir / "prediction", "--preset", "bogus").returncode == 2,
      "unknown preset exits 2")
check(run("metrics", "--reference", ref_dir / "reference", "--prediction", ref_dir / "prediction",
          "--tolerance-mm", "x", "--json", out / "never.json").returncode == 2, "bad tolerance exits 2")
check(not (out / "never.json").exists(), "no report on usage errors")

for f in failures:
    print("FAIL:", f)
print(f"{len(failures)} failures")
sys.exit(1 if failures else 0)
