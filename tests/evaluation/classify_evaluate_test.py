#!/usr/bin/python3
"""`gatescope evaluate` with two classifiers end to end: a folder-per-class dataset with masks and
a CSV with boxes, splits and broken rows. Checked against PyTorch (probabilities, predictions),
scikit-learn (metrics), statsmodels (McNemar), numpy (gate attention against masks and boxes) and
docs/report.schema.json; resume after kill -9 gives the same report; errors exit 2.

Usage: classify_evaluate_test.py GATESCOPE CLASSIFIER_FIXTURES SCHEMA OUT_DIR
"""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from sklearn import metrics
from statsmodels.stats.contingency_tables import mcnemar

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import classifier_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[4])
gatescope, fixtures, schema = sys.argv[1], Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text())
out, check, run = cli.out, cli.check, cli.run
rng = np.random.default_rng(8)
classes = ["abdomen", "brain", "heart"]

# Two three-class classifiers (one and three input channels: gray images are repeated for B).
models = {}
for key, name in (("A", "ag_sigmoid_mean"), ("B", "ag_mean_flow_ft")):
    manifest = json.loads((fixtures / f"{name}.json").read_text())
    manifest["weights"] = str(fixtures / manifest["weights"])
    (out / f"{key}.json").write_text(json.dumps(manifest))
    # The same model naming its classes: dataset labels are then looked up among them.
    (out / f"{key}_named.json").write_text(json.dumps(dict(manifest, labels=dict(enumerate(classes)))))
    model = classifier_reference.build(manifest)
    model.load_state_dict(torch.load(manifest["weights"]), strict=True)
    models[key] = (model.eval(), manifest)

# A folder per class: 5 gray PNGs each, masks for the first two of every class.
root = out / "planes"
boxes = {}
for c in classes:
    for k in range(5):
        image = (rng.random((64, 80)) * 255).astype(np.uint8)
        path = root / c / f"{c}_{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(path)
        if k < 2:
            mask = np.zeros((64, 80), np.uint8)
            r0, c0 = rng.integers(0, 40), rng.integers(0, 50)
            mask[r0:r0 + 20, c0:c0 + 25] = 1
            (root / "masks" / c).mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask).save(root / "masks" / c / f"{c}_{k}.png")


def reference(path, localisation):
    """Probabilities of both models, and each gate's attention against the localisation."""
    pixels = np.asarray(Image.open(path)).astype(np.float64)  # a classifier takes (row, column)
    result = {}
    for key, (model, manifest) in models.items():
        x = torch.from_numpy(np.repeat(pixels[None], manifest["in_channels"], axis=0)).float()[None]
        with torch.no_grad():
            heads, gates = model(x)
        p = classifier_reference.aggregate(heads, manifest)[0].numpy()
        attention = {}
        if localisation is not None:
            for gate, alpha in gates.items():
                a = F.interpolate(alpha, size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0].numpy()
                inside = localisation > 0
                attention[gate] = {"mass_in_reference": a[inside].sum() / a.sum(),
                                   "mean_inside": a[inside].mean(), "mean_outside": a[~inside].mean()}
                top = np.sort(a, axis=None)[-2:]
                if top[1] - top[0] > 1e-4:  # a clear maximum: the pointing game cannot tip on rounding
                    attention[gate]["pointing_game"] = float(inside.flat[np.argmax(a)])
        result[key] = (p, attention)
    return result


def close(a, b, what, tolerance=1e-5):
    a, b = np.asarray(a, float), np.asarray(b, float)
    check(a.shape == b.shape and np.allclose(a, b, rtol=tolerance, atol=tolerance), f"{what}: {a} != {b}")


def check_report(report, expected, truth_of, what):
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    check(not errors, f"{what}: schema: {[e.message[:200] for e in errors[:3]]}")
    check(report["task"] == "classification" and report["dataset"]["classes"] == classes, f"{what}: task, classes")
    answers = {k: ([], [], []) for k in models}
    for case in report["cases"]:
        if case["id"] not in expected:
            continue
        want = expected[case["id"]]
        check(case["status"] == "ok" and case["true_class"] == truth_of[case["id"]], f"{what} {case['id']}: {case}")
        for key, (p, attention) in want.items():
            got = case["models"][key]
            close(got["probabilities"], p, f"{what} {case['id']} {key} probabilities")
            check(got["predicted_class"] == int(np.argmax(p)), f"{what} {case['id']} {key}: predicted class")
            check(("attention" in got) == bool(attention), f"{what} {case['id']} {key}: attention only with a localisation")
            for gate, stats in attention.items():
                for stat, value in stats.items():
                    close(got["attention"][gate][stat], value, f"{what} {case['id']} {key} {gate} {stat}", 1e-4)
            answers[key][0].append(truth_of[case["id"]])
            answers[key][1].append(got["predicted_class"])
            answers[key][2].append(got["probabilities"])
    check(len(answers["A"][0]) == len(expected), f"{what}: {len(answers['A'][0])} of {len(expected)} images checked")
    labels = list(range(len(classes)))
    for key, (truth, predicted, probabilities) in answers.items():
        s = report["summary"][key]
        close(s["accuracy"], metrics.accuracy_score(truth, predicted), f"{what} {key} accuracy", 1e-12)
        close(s["balanced_accuracy"], metrics.balanced_accuracy_score(truth, predicted), f"{what} {key} balanced", 1e-12)
        close(s["macro_f1"], metrics.f1_score(truth, predicted, labels=labels, average="macro", zero_division=0),
              f"{what} {key} macro F1", 1e-12)
        close(s["log_loss"], metrics.log_loss(truth, probabilities, labels=labels), f"{what} {key} log loss", 1e-9)
        check(s["confusion_matrix"] == metrics.confusion_matrix(truth, predicted, labels=labels).tolist(),
              f"{what} {key} confusion matrix")
    ta, pa, _ = answers["A"]
    _, pb, _ = answers["B"]
    ca, cb = np.array(pa) == np.array(ta), np.array(pb) == np.array(ta)
    b_, c_ = int(np.sum(ca & ~cb)), int(np.sum(~ca & cb))
    test = mcnemar([[int(np.sum(ca & cb)), b_], [c_, int(np.sum(~ca & ~cb))]], exact=b_ + c_ < 25, correction=True)
    m = report["comparison"]["mcnemar"]
    check(m["only_a_correct"] == b_ and m["only_b_correct"] == c_, f"{what}: McNemar counts {m}")
    close(m["p"], test.pvalue, f"{what}: McNemar p", 1e-9)
    difference = report["comparison"]["accuracy"]
    close(difference["difference"], ca.mean() - cb.mean(), f"{what}: accuracy difference", 1e-12)
    check(difference["ci95"][0] <= difference["difference"] <= difference["ci95"][1], f"{what}: interval {difference}")


expected, truth_of = {}, {}
for c in classes:
    for k in range(5):
        rel = f"{c}/{c}_{k}.png"
        mask_path = root / "masks" / c / f"{c}_{k}.png"
        localisation = np.asarray(Image.open(mask_path)) if mask_path.exists() else None
        expected[rel] = reference(root / rel, localisation)
        truth_of[rel] = classes.index(c)

r = run("evaluate", "--model", out / "A.json", "--model", out / "B.json", "--dataset", root, "--out", out / "folders",
        "--device", "cpu")
check(r.returncode == 0, f"folders: exit {r.returncode}: {r.stderr}")
check("McNemar" in r.stdout and "accuracy" in r.stdout, f"summary: {r.stdout}")
if r.returncode == 0:
    report = json.loads((out / "folders" / "report.json").read_text())
    check_report(report, expected, truth_of, "folders")
    csv = (out / "folders" / "cases.csv").read_text().splitlines()
    check(len(csv) == 16 and csv[0].startswith("id,true_class,status,A_predicted_class"), f"cases.csv: {csv[:2]}")

# --save-predictions of two images: each model's answer and gate maps as infer writes them (the gates
# on the image grid as PyTorch resamples them, in nibabel's (i = column, j = row) order); render
# draws the figure of classifiers from them.
saved_ids = ["brain/brain_0.png", "heart/heart_3.png"]
r = run("evaluate", "--model", out / "A.json", "--model", out / "B.json", "--dataset", root, "--out", out / "saved",
        "--save-predictions", "--save-cases", ",".join(saved_ids), "--quiet")
check(r.returncode == 0, f"saved: exit {r.returncode}: {r.stderr}")
saved_dirs = sorted(str(p.relative_to(out / "saved" / "predictions")) for p in (out / "saved" / "predictions").glob("*/*/*"))
check(saved_dirs == sorted(f"{k}/{i}" for k in "AB" for i in saved_ids), f"saved folders: {saved_dirs}")
for rel in saved_ids:
    pixels = torch.from_numpy(np.asarray(Image.open(root / rel)).astype(np.float64))
    for key, (model, manifest) in models.items():
        folder = out / "saved" / "predictions" / key / rel
        record = json.loads((folder / "infer.json").read_text()) if (folder / "infer.json").exists() else {}
        p, _ = expected[rel][key]
        close(record.get("probabilities", []), p, f"saved {rel} {key}: infer.json probabilities")
        check(record.get("predicted_class") == int(np.argmax(p)), f"saved {rel} {key}: predicted class")
        x = pixels.repeat(manifest["in_channels"], 1, 1)[None].float()
        with torch.no_grad():
            _, gates = model(x)
        check(sorted(g["name"] for g in record.get("gates", [])) == sorted(gates), f"saved {rel} {key}: gate list")
        for gate, alpha in gates.items():
            want = F.interpolate(alpha, size=x.shape[2:], mode="bilinear", align_corners=False)[0, 0].numpy()
            got = nib.load(folder / "gates" / f"{gate}.nii.gz").get_fdata()[:, :, 0].T
            close(got, want, f"saved {rel} {key} {gate}")
            native = nib.load(folder / "gates" / f"{gate}_native.nii.gz").get_fdata()[:, :, 0].T
            close(native, alpha[0, 0].numpy(), f"saved {rel} {key} {gate} native")
saved_report = json.loads((out / "saved" / "report.json").read_text()) if (out / "saved" / "report.json").exists() else {}
for case in saved_report.get("cases", []):
    if case["id"].startswith("abdomen/abdomen_0"):
        check(case.get("mask") and Path(case["mask"]).exists(), f"the report names the mask: {case}")
for sub, extra in (("compare", []), ("gates", ["--model", "B", "--case", saved_ids[1]])):
    figure = out / f"classes_{sub}.png"
    r = run("render", sub, "--evaluation", out / "saved", *extra, "--out", figure)
    check(r.returncode == 0 and figure.exists(), f"render {sub}: exit {r.returncode}: {r.stderr}")
    if figure.exists():
        width, height = Image.open(figure).size
        # compare: one row per saved image (two), image + A's and B's gates; gates: one row.
        check(width > height if sub == "compare" else width > 1.5 * height, f"render {sub}: {width} x {height}")
r = run("render", "compare", "--evaluation", out / "saved", "--case", "brain/brain_1.png", "--out", out / "bad_case.png")
check(r.returncode == 2 and "no saved predictions" in r.stderr and saved_ids[0] in r.stderr
      and not (out / "bad_case.png").exists(), f"render of an unsaved image: exit {r.returncode}, {r.stderr!r}")

# A CSV: boxes instead of masks, a split column, an unknown label and a missing file (recorded).
rows = ["path,label,split,x0,y0,x1,y1"]
csv_expected, csv_truth = {}, {}
for n, rel in enumerate(sorted(expected)):
    x0, y0 = 4 + n, 6 + n // 2
    x1, y1 = x0 + 30.5, y0 + 20
    split = "test" if n % 3 else "training"
    rows.append(f"planes/{rel},{rel.split('/')[0]},{split},{x0},{y0},{x1},{y1}")
    if split == "test":
        i, j = np.meshgrid(np.arange(80) + 0.5, np.arange(64) + 0.5, indexing="ij")  # pixel centres
        box = ((i >= x0) & (i < x1) & (j >= y0) & (j < y1)).T  # as (row, column), like the pixels
        csv_expected[f"planes/{rel}"] = reference(root / rel, box)
        csv_truth[f"planes/{rel}"] = truth_of[rel]
rows.append("planes/abdomen/abdomen_0.png,spleen,test,0,0,5,5")
rows.append("planes/missing.png,brain,test,0,0,5,5")
(out / "list.csv").write_text("\n".join(rows) + "\n")
r = run("evaluate", "--model", out / "A_named.json", "--model", out / "B_named.json", "--dataset",
        out / "list.csv", "--split", "test", "--out", out / "csv", "--device", "cpu", "--quiet")
check(r.returncode == 1 and "2 of" in r.stderr, f"csv: exit {r.returncode} (two broken rows): {r.stderr}")
if (out / "csv" / "report.json").exists():
    report = json.loads((out / "csv" / "report.json").read_text())
    check_report(report, csv_expected, csv_truth, "csv")
    broken = [c for c in report["cases"] if c["status"] == "error"]
    check(len(broken) == 2 and any("label 'spleen' is not a class" in c["error"] for c in broken)
          and any("no such image" in c["error"] for c in broken), f"csv: recorded problems {broken}")
    check(all(c.get("localisation") == "box" for c in report["cases"] if c["status"] == "ok"), "csv: boxes")

# kill -9 part way, then --resume: the same cases and summary as the uninterrupted run.
resumed = out / "resumed"
process = subprocess.Popen([gatescope, "evaluate", "--model", out / "A.json", "--model", out / "B.json",
                            "--dataset", root, "--out", resumed, "--device", "cpu", "--quiet"])
journal = resumed / "journal.jsonl"
deadline = time.time() + 120
while time.time() < deadline and process.poll() is None:
    if journal.exists() and len(journal.read_text().splitlines()) >= 4:
        os.kill(process.pid, signal.SIGKILL)
        break
    time.sleep(0.02)
process.wait()
r = run("evaluate", "--model", out / "A.json", "--model", out / "B.json", "--dataset", root, "--out", resumed,
        "--device", "cpu", "--resume")


def untimed(cases):
    """The case records without each model's measured seconds (which differ from run to run)."""
    cases = json.loads(json.dumps(cases))
    for case in cases:
        for model in case["models"].values():
            check(model.get("status") != "ok" or model.get("seconds", -1) >= 0, f"{case['id']}: seconds")
            model.pop("seconds", None)
    return cases


check(r.returncode == 0, f"resume: exit {r.returncode}: {r.stderr}")
if r.returncode == 0 and (out / "folders" / "report.json").exists():
    first = json.loads((out / "folders" / "report.json").read_text())
    again = json.loads((resumed / "report.json").read_text())
    check(untimed(again["cases"]) == untimed(first["cases"]) and again["summary"] == first["summary"]
          and again["comparison"] == first["comparison"], "a resumed run reports what an uninterrupted one does")
    check(again["timings_s"]["cases_run"] < 15 or process.returncode == 0, "resume ran only the missing images")


# Errors: exit 2 before anything is written.
def fails(what, args, *expected_text):
    target = out / f"bad_{what}"
    r = run("evaluate", *args, "--out", target)
    check(r.returncode == 2 and all(e in r.stderr for e in expected_text) and not target.exists(),
          f"{what}: exit {r.returncode}, {r.stderr!r}")


fails("split", ["--model", out / "A_named.json", "--dataset", out / "list.csv", "--split", "validation"],
      "no image in split 'validation'")
fails("window", ["--model", out / "A.json", "--dataset", root, "--window", "64,64"], "does not apply to classifiers")
segmenter = json.loads((tests.parent / "data" / "demo" / "models" / "gated" / "model.json").read_text())
segmenter["weights"] = str(tests.parent / "data" / "demo" / "models" / "gated" / segmenter["weights"])
(out / "segmenter.json").write_text(json.dumps(segmenter))
fails("mixed", ["--model", out / "A.json", "--model", out / "segmenter.json", "--dataset", root], "segments")

# compare: each model evaluated alone, then paired by image id, gives the two-model evaluation's
# summaries and paired tests exactly.
if (out / "folders" / "report.json").exists():
    for key in ("A", "B"):
        r = run("evaluate", "--model", out / f"{key}.json", "--dataset", root, "--out", out / f"alone_{key}", "--quiet")
        check(r.returncode == 0, f"{key} alone: exit {r.returncode}: {r.stderr}")
    r = run("compare", out / "alone_A" / "report.json", out / "alone_B" / "report.json", "--out", out / "compared")
    check(r.returncode == 0 and "McNemar" in r.stdout, f"compare: exit {r.returncode}: {r.stderr}")
    if r.returncode == 0:
        together = json.loads((out / "folders" / "report.json").read_text())
        compared = json.loads((out / "compared" / "report.json").read_text())
        check(compared["task"] == "classification", "compare keeps the task")
        check(compared["summary"] == together["summary"], "compare: the summaries of the two-model evaluation")
        check(compared["comparison"] == together["comparison"], "compare: the paired tests of the two-model evaluation")
        errors = list(jsonschema.Draft202012Validator(schema).iter_errors(compared))
        check(not errors, f"compare: schema: {[e.message[:200] for e in errors[:3]]}")
        check((out / "compared" / "cases.csv").read_text() == (out / "folders" / "cases.csv").read_text(),
              "compare: the same cases.csv")
    r = run("compare", out / "alone_A" / "report.json", out / "alone_A" / "report.json:B", "--out", out / "no_b")
    check(r.returncode == 2 and "has no model B" in r.stderr, f"compare with a missing model: {r.stderr!r}")

# Commands that read segmentation reports say what they got.
if (out / "folders" / "report.json").exists():
    r = run("render", "plot", "--report", out / "folders", "--kind", "paired", "--out", out / "bad.png")
    check(r.returncode != 0 and "a classification report" in r.stderr and not (out / "bad.png").exists(),
          f"render of a classification report: exit {r.returncode}, {r.stderr!r}")

cli.finish()
