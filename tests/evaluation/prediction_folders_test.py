#!/usr/bin/python3
"""Prediction folders stand for models in `gatescope evaluate` (docs/evaluation.md#prediction-folders),
end to end on the demo dataset's first test cases (CPU):

- the saved predictions of a model's evaluation (<case>/labels.nii.gz), evaluated as a folder, give
  exactly the model's case metrics; so do the same labels converted to flat NRRD files
  (<case>.nrrd, written by `gatescope convert`) under a --name;
- a folder against the model itself (folder first: model A) gives a paired comparison whose
  differences are all zero; the folder's report entry has no gates and a digest of its files;
- an nnU-Net v2 trainer folder (plans.json, dataset.json, fold_0/ and fold_1/validation/ with the
  summary.json nnU-Net writes, its Dice and IoU computed here from voxel counts with numpy as
  nnU-Net's compute_metrics does, NaN included) is evaluated as one model over both folds, and the
  report's nnunet_check finds no difference (also after shards are merged); a summary altered by
  0.01 is reported as such;
- the same cases as an nnU-Net dataset of MetaImage files give the same metrics as the NIfTI files;
- a folder missing a case, or holding a prediction on another grid, fails that case alone with a
  one-line error.

Every report validates against docs/report.schema.json.

Figures (`render montage`) of a folder's evaluation draw the folder's files; `render gates` says a
folder has no gates. With the workbench: it opens a case of the flat folder's evaluation (no predictions saved with it:
the workbench reads the folder's file) and draws the folder's prediction contours.

Usage: prediction_folders_test.py GATESCOPE DEMO_MODELS SCHEMA OUT_DIR FLAT_EXTENSION [XVFB_RUN WORKBENCH]
(FLAT_EXTENSION: .nrrd, or .nii.gz for a gatescope built without ITK)
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import nibabel as nib
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[4])
check, run, out = cli.check, cli.run, cli.out
models, schema = Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text())
FLAT = sys.argv[5] if len(sys.argv) > 5 else ".nrrd"
CASES = 6
model = models / "gated" / "model.json"


def evaluate(name, *sources, exit_code=0):
    res = run("evaluate", *sources, "--dataset", demo / "dataset", "--split", "test", "--limit", CASES,
              "--device", "cpu", "--out", out / "runs" / name, "--quiet")
    check(res.returncode == exit_code, f"{name}: exit {res.returncode}: {res.stderr.strip()}")
    path = out / "runs" / name / "report.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as e:
        check(False, f"{name}: report.json does not validate: {e.message}")
    return report


def label_metrics(report, key="A"):
    return {c["id"]: c["models"][key].get("labels") for c in report["cases"]}


demo = out / "demo"
res = run("demo", "--out", demo, "--data-only", "--quiet")
check(res.returncode == 0, f"demo: {res.stderr.strip()}")

base = evaluate("model", "--model", model, "--save-predictions")
saved = out / "runs" / "model" / "predictions" / "A"
ids = [c["id"] for c in base["cases"]] if base else []
check(len(ids) == CASES and all(c["models"]["A"]["status"] == "ok" for c in base["cases"]),
      "the model's evaluation must succeed on every case")

# The same cases as an nnU-Net v2 dataset of MetaImage files (file_ending ".mha", images and labels
# converted by gatescope): the model's metrics are the same as on the NIfTI files.
msd = json.loads((demo / "dataset" / "dataset.json").read_text())
mha = out / "Dataset002_MetaImage"
(mha / "imagesTr").mkdir(parents=True)
(mha / "labelsTr").mkdir()
for case in ids:
    for source, target in ((demo / "dataset" / "imagesTs" / f"{case}.nii.gz", mha / "imagesTr" / f"{case}_0000.mha"),
                           (demo / "dataset" / "labelsTs" / f"{case}.nii.gz", mha / "labelsTr" / f"{case}.mha")):
        r = run("convert", source, target, "--quiet")
        check(r.returncode == 0, f"convert {source.name} to MetaImage: {r.stderr.strip()}")
(mha / "dataset.json").write_text(json.dumps({
    "channel_names": {"0": "CT"}, "labels": {name: int(value) for value, name in msd["labels"].items()},
    "numTraining": len(ids), "file_ending": ".mha"}))
res = run("evaluate", "--model", model, "--dataset", mha, "--split", "training", "--device", "cpu",
          "--out", out / "runs" / "metaimage_dataset", "--quiet")
check(res.returncode == 0, f"evaluate over a MetaImage dataset: {res.stderr.strip()}")
if res.returncode == 0 and base:
    report = json.loads((out / "runs" / "metaimage_dataset" / "report.json").read_text())
    check(label_metrics(report) == label_metrics(base), "a MetaImage dataset: metrics differ from the NIfTI dataset's")

nested = evaluate("nested", "--predictions", saved)
if base and nested:
    check(label_metrics(nested) == label_metrics(base), "saved predictions as a folder: metrics differ from the model's")
    a = nested["models"]["A"]
    check(a["architecture"] == "predictions" and a["gates"] == [] and a["name"] == "A",
          f"folder description: {a}")
    check(a["predictions"] == {"cases": CASES, "probabilities": CASES}, f"folder counts: {a.get('predictions')}")
    check(all(not c["models"]["A"].get("attention") for c in nested["cases"]), "a folder has no attention statistics")

flat = out / "flat"
flat.mkdir()
for case in ids:
    r = run("convert", saved / case / "labels.nii.gz", flat / f"{case}{FLAT}", "--quiet")
    check(r.returncode == 0, f"convert {case} to NRRD: {r.stderr.strip()}")
named = evaluate("flat", "--predictions", flat, "--name", "nrrd export")
if base and named:
    check(label_metrics(named) == label_metrics(base), "flat NRRD folder: metrics differ from the model's")
    check(named["models"]["A"]["name"] == "nrrd export", f"--name: {named['models']['A']['name']}")
    check(named["models"]["A"]["predictions"]["probabilities"] == 0, "a flat folder has no probabilities")

paired = evaluate("paired", "--predictions", flat, "--model", model)
if base and paired:
    check(paired["models"]["A"]["architecture"] == "predictions" and paired["models"]["B"]["architecture"] != "predictions",
          "--predictions before --model: the folder is model A")
    check(label_metrics(paired, "A") == label_metrics(paired, "B") == label_metrics(base),
          "paired: A and B must both equal the model's metrics")
    comparison = paired.get("comparison", {})
    diffs = [v for label in comparison.values() for m in label.values() if isinstance(m, dict)
             for k, v in m.items() if k == "mean_difference" and isinstance(v, (int, float))]
    check(comparison and diffs and all(d == 0 for d in diffs), f"paired comparison of equal predictions: {diffs[:5]}")


# --- nnU-Net v2 results --------------------------------------------------------------------------
def reference_file(case):
    for folder in ("labelsTs", "labelsTr"):
        p = demo / "dataset" / folder / f"{case}.nii.gz"
        if p.exists():
            return p
    raise FileNotFoundError(case)


dataset_json = json.loads((demo / "dataset" / "dataset.json").read_text())
labels = sorted(int(v) for v in (dataset_json["labels"].values() if isinstance(next(iter(dataset_json["labels"].values())), int)
                                 else dataset_json["labels"].keys()) if int(v) > 0)


def nnunet_metrics(ref, pred, label):
    """nnU-Net v2's compute_metrics for one label (nnunetv2/evaluation/evaluate_predictions.py)."""
    r, p = ref == label, pred == label
    tp, fp, fn = int((r & p).sum()), int((~r & p).sum()), int((r & ~p).sum())
    tn = int((~r & ~p).sum())
    if tp + fp + fn == 0:
        dice = iou = float("nan")
    else:
        dice, iou = 2 * tp / (2 * tp + fp + fn), tp / (tp + fp + fn)
    return {"Dice": dice, "FN": fn, "FP": fp, "IoU": iou, "TN": tn, "TP": tp,
            "n_pred": fp + tp, "n_ref": fn + tp}


trainer = out / "nnUNet_results" / "Dataset001_Demo" / "nnUNetTrainer__nnUNetPlans__3d_fullres"
(trainer).mkdir(parents=True)
(trainer / "plans.json").write_text(json.dumps({"dataset_name": "Dataset001_Demo", "plans_name": "nnUNetPlans"}))
(trainer / "dataset.json").write_text(json.dumps({"labels": {"background": 0, **{f"l{v}": v for v in labels}},
                                                  "file_ending": ".nii.gz", "channel_names": {"0": "CT"}}))
extra_label = max(labels) + 1  # absent from reference and prediction: nnU-Net writes NaN for it
for fold in (0, 1):
    validation = trainer / f"fold_{fold}" / "validation"
    validation.mkdir(parents=True)
    per_case = []
    for case in ids[fold::2]:
        target = validation / f"{case}.nii.gz"
        shutil.copy(saved / case / "labels.nii.gz", target)
        ref = np.asanyarray(nib.load(str(reference_file(case))).dataobj)
        pred = np.asanyarray(nib.load(str(target)).dataobj)
        per_case.append({"metrics": {str(v): nnunet_metrics(ref, pred, v) for v in labels + [extra_label]},
                         "prediction_file": str(target), "reference_file": str(reference_file(case))})
    (validation / "summary.json").write_text(json.dumps({"metric_per_case": per_case, "mean": {}, "foreground_mean": {}}, indent=4))

nn = evaluate("nnunet", "--predictions", trainer)
if nn and base:
    check(label_metrics(nn) == label_metrics(base), "nnU-Net trainer folder (both folds): metrics differ from the model's")
    a = nn["models"]["A"]
    check(a.get("nnunet", {}).get("configuration") == "3d_fullres" and a["nnunet"].get("trainer") == "nnUNetTrainer"
          and a["nnunet"].get("dataset") == "Dataset001_Demo", f"nnunet description: {a.get('nnunet')}")
    chk = a.get("nnunet_check", {})
    check(chk.get("cases_compared") == CASES, f"nnunet_check compared {chk.get('cases_compared')} cases")
    check(chk.get("max_abs_difference", 1) <= 1e-12, f"nnunet_check: gatescope and nnU-Net differ by {chk.get('max_abs_difference')}")
    check(len(chk.get("summary_files", [])) == 2, "both folds' summary.json are read")
    check(all(str(v) in chk.get("labels", {}) for v in labels), f"every label compared: {list(chk.get('labels', {}))}")

# Shards of the same evaluation, merged: the merged report has the same check.
shards = out / "runs" / "nnunet_shards"
for k in (0, 1):
    r = run("evaluate", "--predictions", trainer, "--dataset", demo / "dataset", "--split", "test", "--limit", CASES,
            "--shard", f"{k}/2", "--out", shards, "--quiet")
    check(r.returncode == 0, f"shard {k}/2: {r.stderr.strip()}")
r = run("merge", shards, "--out", out / "runs" / "nnunet_merged", "--quiet")
check(r.returncode == 0, f"merge: {r.stderr.strip()}")
if r.returncode == 0 and nn:
    merged = json.loads((out / "runs" / "nnunet_merged" / "report.json").read_text())
    chk = merged["models"]["A"].get("nnunet_check", {})
    check(chk.get("cases_compared") == CASES and chk.get("labels") == nn["models"]["A"]["nnunet_check"]["labels"],
          f"merged shards: nnunet_check {chk.get('cases_compared')} cases, labels differ from one process's")

# An altered summary: the check shows the difference instead of hiding it.
altered = out / "altered" / trainer.name
shutil.copytree(trainer, altered)
summary_file = altered / "fold_0" / "validation" / "summary.json"
summary = json.loads(summary_file.read_text())
first_case = summary["metric_per_case"][0]
first_case["metrics"][str(labels[0])]["Dice"] += 0.01
summary_file.write_text(json.dumps(summary))
nn2 = evaluate("nnunet_altered", "--predictions", altered)
if nn2:
    chk = nn2["models"]["A"].get("nnunet_check", {})
    check(abs(chk.get("max_abs_difference", 0) - 0.01) < 1e-9, f"altered summary: max difference {chk.get('max_abs_difference')}")
    row = [r for r in chk.get("cases", []) if r["label"] == labels[0] and r["id"] == Path(first_case["prediction_file"]).name[:-7]]
    check(row and abs(row[0]["dice_difference"] + 0.01) < 1e-9, f"altered case row: {row}")

# A missing case and a prediction on another grid fail alone.
broken = out / "broken"
shutil.copytree(flat, broken)
(broken / f"{ids[0]}{FLAT}").unlink()
img = nib.load(str(saved / ids[1] / "labels.nii.gz"))
(broken / f"{ids[1]}{FLAT}").unlink()
nib.save(nib.Nifti1Image(np.asanyarray(img.dataobj)[:-2], img.affine), str(broken / f"{ids[1]}.nii.gz"))
bad = evaluate("broken", "--predictions", broken, exit_code=1)  # failed cases: exit 1
if bad:
    status = {c["id"]: c["models"]["A"] for c in bad["cases"]}
    check(status[ids[0]]["status"] == "error" and "no prediction for case" in status[ids[0]].get("error", ""),
          f"missing case: {status[ids[0]]}")
    check(status[ids[1]]["status"] == "error" and "lies on" in status[ids[1]].get("error", ""),
          f"prediction on another grid: {status[ids[1]]}")
    check(all(status[c]["status"] == "ok" for c in ids[2:]), "the other cases are measured")

r = run("evaluate", "--dataset", demo / "dataset", "--out", out / "none")
check(r.returncode == 2 and "--predictions" in r.stderr, f"no model at all: {r.returncode} {r.stderr!r}")
r = run("evaluate", "--predictions", flat, "--name", "a", "--name", "b", "--dataset", demo / "dataset", "--out", out / "names")
check(r.returncode == 2 and "--name" in r.stderr, f"more names than folders: {r.returncode} {r.stderr!r}")

# Figures of the flat folder's evaluation, which saved no predictions: the folder's files are drawn;
# gate panels are refused with the reason.
if named and run("render", "--help").returncode == 0:
    montage = out / "montage.png"
    r = run("render", "montage", "--evaluation", out / "runs" / "flat", "--case", ids[0], "--out", montage)
    check(r.returncode == 0 and montage.exists(), f"render montage of a folder's evaluation: {r.stderr.strip()}")
    r = run("render", "gates", "--evaluation", out / "runs" / "flat", "--case", ids[0], "--out", out / "gates.png")
    check(r.returncode == 2 and "folder of predictions" in r.stderr and not (out / "gates.png").exists(),
          f"render gates of a folder: {r.returncode} {r.stderr!r}")

# The workbench on the flat folder's evaluation, which saved no predictions.
if len(sys.argv) > 7 and named:
    from PIL import Image

    xvfb_run, workbench = sys.argv[6], sys.argv[7]
    shot = out / "workbench.png"
    res = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", workbench, "--evaluation",
                          str(out / "runs" / "flat"), "--case", ids[0], "--screenshot", str(shot), "--frames", "4",
                          "--width", "1400", "--height", "900"],
                         capture_output=True, text=True, timeout=300,
                         env={"HOME": str(out / "home"), "PATH": "/usr/bin:/bin"})
    check(res.returncode == 0 and shot.exists(), f"workbench on a folder's evaluation: exit {res.returncode}: {res.stderr[-1500:]}")
    if shot.exists():
        pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)[40:660, 330:1070].reshape(-1, 3)
        r, g, b = pixels[:, 0], pixels[:, 1], pixels[:, 2]
        magenta = ((r > 200) & (g < 80) & (b > 200)).sum()
        check(magenta >= 20, f"the folder's prediction contours are not drawn ({magenta} magenta pixels)")

cli.finish()
