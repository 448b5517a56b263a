#!/usr/bin/python3
"""`gatescope evaluate` and `gatescope compare` end to end, against independent references.

Writes an MSD-layout dataset with nibabel (multi-label, a test case whose label file is missing),
a gated and an ungated network with random weights (tests/fixtures/zoo_reference.py), then checks:
- report.json validates against docs/report.schema.json;
- every case's Dice and HD95 equal numpy/scipy on PyTorch's own prediction (same preprocessing);
- every gate's attention mass per label equals numpy on PyTorch's gate maps resampled to the input;
- the paired comparison equals scipy.stats.wilcoxon and numpy on the per-case differences;
- the missing label file is recorded as a failed case naming the file, and the run goes on;
- a run killed with SIGKILL in the middle and resumed gives the report of an uninterrupted run
  (timings and dates aside);
- cases.csv has one row per case, model and label; compare of two single-model reports equals the
  two-model evaluation; usage errors (existing output, a different run, bad paths) exit 2.

Usage: evaluate_cli_test.py GATESCOPE SCHEMA OUT_DIR
"""
import csv
import json
import math
import os
import shutil
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
from scipy import ndimage, stats

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import zoo_reference  # noqa: E402

gatescope, schema_path, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
schema = json.loads(schema_path.read_text())
failures = []
SPACING = (1.5, 1.25, 3.0)
SHAPE = (40, 36, 20)


def check(condition, message):
    if not condition:
        failures.append(message)


def run(*args, **kw):
    return subprocess.run([gatescope, *map(str, args)], capture_output=True, text=True, timeout=600, **kw)


def near(a, b, tol=1e-6):
    if isinstance(b, str) or isinstance(a, str):
        return a == b
    return abs(a - b) <= tol * max(1.0, abs(b))


# -- dataset --------------------------------------------------------------------------------------
rng = np.random.default_rng(5)
msd = out / "msd"
for sub in ("imagesTr", "labelsTr", "imagesTs", "labelsTs"):
    (msd / sub).mkdir(parents=True)
affine = np.diag(SPACING + (1.0,))
affine[:3, 3] = (-20.0, 10.0, 4.0)


def make_case(folder_images, folder_labels, case_id, write_label=True):
    grid = np.stack(np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij"), -1) * np.array(SPACING)
    labels = np.zeros(SHAPE, np.uint8)
    for label, radius in ((1, rng.uniform(9, 13)), (2, rng.uniform(4, 6))):
        centre = np.array([rng.uniform(0.3, 0.7) * n * s for n, s in zip(SHAPE, SPACING)])
        labels[np.linalg.norm(grid - centre, axis=-1) <= radius] = label
    image = rng.normal(0, 1, SHAPE) + 2.0 * labels
    image = ndimage.gaussian_filter(image, 1.0).astype(np.float32)
    nib.save(nib.Nifti1Image(image, affine), folder_images / f"{case_id}.nii.gz")
    if write_label:
        nib.save(nib.Nifti1Image(labels, affine), folder_labels / f"{case_id}.nii.gz")
    return image, labels


truth = {}
training, test = [], []
for n in range(8):
    cid = f"case_{n:03d}"
    truth[cid] = make_case(msd / "imagesTr", msd / "labelsTr", cid)
    training.append({"image": f"./imagesTr/{cid}.nii.gz", "label": f"./labelsTr/{cid}.nii.gz"})
for n in range(8, 13):
    cid = f"case_{n:03d}"
    truth[cid] = make_case(msd / "imagesTs", msd / "labelsTs", cid, write_label=(n != 10))
    test.append(f"./imagesTs/{cid}.nii.gz")
(msd / "dataset.json").write_text(json.dumps({
    "name": "evaluate test", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "organ", "2": "target"},
    "numTraining": len(training), "numTest": len(test), "training": training, "test": test}, indent=1))

# -- models ---------------------------------------------------------------------------------------
torch.manual_seed(3)
networks = {}
for key, arch in (("gated", "unet_ct_single_att_dsv"), ("baseline", "unet_ct_dsv")):
    manifest = {"name": f"{key} test model", "architecture": arch, "tensor_dim": "3D", "weights": f"{key}.pth",
                "in_channels": 1, "n_classes": 3, "feature_scale": 16,
                "preprocessing": {"normalize": "zscore", "pad_to_multiple": 16}}
    model = zoo_reference.build(manifest)
    zoo_reference.randomize(model)
    model.eval()
    torch.save(model.state_dict(), out / f"{key}.pth")
    (out / f"{key}.json").write_text(json.dumps(manifest))
    networks[key] = model


def reference_prediction(model, image):
    """PyTorch's labels and gate maps on the input grid, with gatescope's preprocessing."""
    x = torch.from_numpy(image)[None, None]
    x = (x - x.mean()) / x.std(unbiased=False)
    padded = [(n + 15) // 16 * 16 for n in SHAPE]
    pad = []
    for n, p in reversed(list(zip(SHAPE, padded))):
        pad += [0, p - n]
    with torch.no_grad():
        logits, alphas = model(F.pad(x, pad))
    crop = (slice(None), slice(None)) + tuple(slice(0, n) for n in SHAPE)
    labels = torch.softmax(logits, 1)[crop].argmax(1)[0].numpy()
    gates = {g: F.interpolate(a, size=padded, mode="trilinear", align_corners=False)[crop][0, 0].numpy()
             for g, a in alphas.items()}
    return labels, gates


def hd95(ref, pred):
    def border(m):
        return m & ~ndimage.binary_erosion(m, structure=ndimage.generate_binary_structure(3, 1), border_value=0)
    rb, pb = border(ref), border(pred)
    d_pr = ndimage.distance_transform_edt(~rb, sampling=SPACING)[pb]
    d_rp = ndimage.distance_transform_edt(~pb, sampling=SPACING)[rb]
    return max(np.percentile(d_pr, 95), np.percentile(d_rp, 95))


expected = {}
for cid, (image, labels) in truth.items():
    expected[cid] = {}
    for key, model in networks.items():
        pred, gates = reference_prediction(model, image)
        per = {}
        for label in (1, 2):
            r, p = labels == label, pred == label
            tp, fp, fn = int((r & p).sum()), int((~r & p).sum()), int((r & ~p).sum())
            dice = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn else float("nan")
            hd = hd95(r, p) if r.any() and p.any() else ("inf" if r.any() != p.any() else "nan")
            per[label] = {"dice": dice, "hd95_mm": hd,
                          "attention": {g: float(a[r].sum() / a.sum()) for g, a in gates.items()}}
        expected[cid][key] = per

# -- evaluate: two models over the test split ---------------------------------------------------------
res = run("evaluate", "--model", out / "gated.json", "--model", out / "baseline.json", "--dataset", msd,
          "--out", out / "test_run", "--quiet")
check(res.returncode == 1, f"evaluate with a failing case should exit 1, got {res.returncode}: {res.stderr}")
check("case_010" in res.stderr and "labelsTs" in res.stderr, f"the failed case is not reported: {res.stderr}")
report = json.loads((out / "test_run" / "report.json").read_text())
try:
    jsonschema.validate(report, schema)
except jsonschema.ValidationError as e:
    failures.append(f"report.json does not follow docs/report.schema.json: {e.message} at {list(e.absolute_path)}")
check(report["dataset"]["split"] == "test" and report["dataset"]["cases"] == 5, f"split: {report['dataset']}")
check([c["id"] for c in report["cases"]] == [f"case_{n:03d}" for n in range(8, 13)], "case order")
check(report["models"]["A"]["architecture"] == "unet_ct_single_att_dsv", "model A is the first --model")
check(len(report["models"]["A"]["weights_sha256"]) == 64, "weights hash")
import hashlib  # noqa: E402
check(report["models"]["B"]["weights_sha256"] == hashlib.sha256((out / "baseline.pth").read_bytes()).hexdigest(),
      "weights_sha256 is the SHA-256 of the checkpoint")
missing = [c for c in report["cases"] if c["id"] == "case_010"][0]
check(missing["status"] == "error" and "labelsTs" in missing.get("error", ""), f"missing label: {missing}")
check(report["summary"]["A"]["n_failed"] == 1 and report["summary"]["B"]["n_failed"] == 1, "n_failed")

model_key = {"A": "gated", "B": "baseline"}
for case in report["cases"]:
    if case["id"] == "case_010":
        continue
    for mk, name in model_key.items():
        got = case["models"][mk]
        for label in (1, 2):
            want = expected[case["id"]][name][label]
            values = got["labels"][str(label)]
            check(near(values["dice"], want["dice"]), f"{case['id']} {mk} label {label} dice {values['dice']} != {want['dice']}")
            check(near(values["hd95_mm"], want["hd95_mm"]),
                  f"{case['id']} {mk} label {label} hd95 {values['hd95_mm']} != {want['hd95_mm']}")
            for gate, mass in want["attention"].items():
                g = got.get("attention", {}).get(gate, {}).get(str(label), {})
                check(near(g.get("mass_in_reference", -1), mass, 1e-4),
                      f"{case['id']} {mk} {gate} label {label} attention mass {g.get('mass_in_reference')} != {mass}")
    check("attention" not in case["models"]["B"], "the ungated model has no attention statistics")

for label in (1, 2):
    ids = [c for c in sorted(expected) if c.startswith("case_") and 8 <= int(c[5:]) < 13 and c != "case_010"]
    a = np.array([expected[c]["gated"][label]["dice"] for c in ids])
    b = np.array([expected[c]["baseline"][label]["dice"] for c in ids])
    comp = report["comparison"][str(label)]["dice"]
    check(comp["n"] == len(ids), f"comparison n {comp['n']}")
    check(near(comp["mean_difference"], float(np.mean(a - b)), 1e-6), f"mean difference label {label}")
    d = a - b
    if np.any(d != 0):
        p = stats.wilcoxon(a, b, zero_method="wilcox", mode="exact" if len(d) <= 25 else "approx").pvalue
        check(near(comp["wilcoxon_p"], float(p), 1e-6), f"Wilcoxon p label {label}: {comp['wilcoxon_p']} vs scipy {p}")
    summary = report["summary"]["A"][str(label)]["dice"]
    check(near(summary["mean"], float(np.mean(a))) and summary["n"] == len(ids), f"summary label {label}")

rows = list(csv.DictReader(open(out / "test_run" / "cases.csv")))
check(len(rows) == 4 * 2 * 2 + 2, f"cases.csv rows: {len(rows)} (4 cases x 2 models x 2 labels + 2 error rows)")
check(all(r["status"] in ("ok", "error", "prediction_empty", "reference_empty", "both_empty") for r in rows), "csv status")
gate_columns = [c for c in rows[0] if c.startswith("attentionblock")]
check(any(c.endswith(":mass_in_reference") for c in gate_columns), f"csv attention columns: {gate_columns}")

# -- usage errors -----------------------------------------------------------------------------------
again = run("evaluate", "--model", out / "gated.json", "--dataset", msd, "--out", out / "test_run", "--quiet")
check(again.returncode == 2 and "--resume" in again.stderr, f"existing output without --resume: {again.returncode} {again.stderr}")
other = run("evaluate", "--model", out / "baseline.json", "--model", out / "gated.json", "--dataset", msd,
            "--out", out / "test_run", "--resume", "--quiet")
check(other.returncode == 2 and "different run" in other.stderr, f"--resume of another run: {other.returncode} {other.stderr}")
nowhere = run("evaluate", "--model", out / "gated.json", "--dataset", out / "no_such_dataset", "--out", out / "x")
check(nowhere.returncode == 2 and "no_such_dataset" in nowhere.stderr, f"missing dataset: {nowhere.stderr}")
nomodel = run("evaluate", "--model", out / "nothing.json", "--dataset", msd, "--out", out / "x")
check(nomodel.returncode == 2 and "nothing.json" in nomodel.stderr, f"missing model: {nomodel.stderr}")

# -- kill -9 in the middle, then --resume -----------------------------------------------------------
base_args = ["evaluate", "--model", out / "gated.json", "--model", out / "baseline.json", "--dataset", msd,
             "--split", "training", "--quiet"]
clean = run(*base_args, "--out", out / "clean")
check(clean.returncode == 0, f"clean run: {clean.stderr}")
# Progress into a log (stderr is not a terminal): the first case, at most a line every 5 s, the last.
started = time.time()
logged = run(*[a for a in base_args if a != "--quiet"], "--out", out / "logged")
seconds = time.time() - started
lines = [line.split() for line in logged.stderr.splitlines() if line.startswith("evaluate ")]
check(logged.returncode == 0 and lines and len(lines) <= 2 + seconds / 5 and
      lines[0][1].startswith("1/") and lines[-1][1].split("/")[0] == lines[-1][1].split("/")[1],
      f"progress lines in {seconds:.1f} s: {logged.stderr}")
killed_dir = out / "killed"
proc = subprocess.Popen([gatescope, *map(str, base_args), "--out", str(killed_dir)], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
journal = killed_dir / "journal.jsonl"
deadline = time.time() + 300
while time.time() < deadline and proc.poll() is None:
    if journal.exists() and journal.read_text().count("\n") >= 4:  # identity + 3 cases
        break
    time.sleep(0.002)
killed_midway = proc.poll() is None
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
check(killed_midway, "the run finished before it could be killed (test too fast)")
check(not (killed_dir / "report.json").exists(), "a killed run must not leave a report")
lines = journal.read_text().count("\n")
check(1 < lines < 9, f"journal of the killed run holds {lines - 1} case(s)")
resumed = run(*base_args, "--out", killed_dir, "--resume")
check(resumed.returncode == 0, f"resume: {resumed.stderr}")


def without_timings(r):
    r = json.loads(json.dumps(r))
    r.pop("created", None)
    r.pop("timings_s", None)
    for c in r["cases"]:
        for m in c.get("models", {}).values():
            m.pop("seconds", None)
    return r


if resumed.returncode == 0:
    a = without_timings(json.loads((out / "clean" / "report.json").read_text()))
    b = without_timings(json.loads((killed_dir / "report.json").read_text()))
    check(a == b, "the resumed report differs from the uninterrupted one")
    check((out / "clean" / "cases.csv").read_text().count("\n") == (killed_dir / "cases.csv").read_text().count("\n"),
          "cases.csv of the resumed run")

# A torn last line (power loss while writing) is dropped and the case is run again.
torn = out / "torn"
shutil.copytree(out / "clean", torn)
text = (torn / "journal.jsonl").read_text()
(torn / "journal.jsonl").write_text(text[: len(text) - 40])
(torn / "report.json").unlink()
res = run(*base_args, "--out", torn, "--resume")
check(res.returncode == 0, f"resume after a torn journal line: {res.stderr}")
if res.returncode == 0:
    check(without_timings(json.loads((torn / "report.json").read_text())) ==
          without_timings(json.loads((out / "clean" / "report.json").read_text())), "report after a torn journal line")

# A torn or edited line in the *middle* of the journal (each line carries the SHA-256 of its record):
# that case alone runs again, every other journal line is kept, and the run says so.
for name, damage in [("torn_middle", lambda line: line[: len(line) // 2]),
                     ("edited", lambda line: line.replace('"dice":', '"dice":5.0,"was":', 1))]:
    damaged = out / name
    shutil.copytree(out / "clean", damaged)
    lines = (damaged / "journal.jsonl").read_text().splitlines(keepends=True)
    middle = len(lines) // 2
    check('"dice":' in lines[middle], f"{name}: the journal line to damage holds a Dice")
    damaged_id = json.loads(lines[middle])["case"]["id"]
    lines[middle] = damage(lines[middle].rstrip("\n")) + "\n"
    (damaged / "journal.jsonl").write_text("".join(lines))
    (damaged / "report.json").unlink()
    res = run(*base_args, "--out", damaged, "--resume")
    check(res.returncode == 0, f"resume after a {name} journal line: {res.stderr}")
    check("1 torn or damaged line(s)" in res.stderr, f"{name}: the dropped line is reported: {res.stderr!r}")
    if res.returncode == 0:
        check(without_timings(json.loads((damaged / "report.json").read_text())) ==
              without_timings(json.loads((out / "clean" / "report.json").read_text())), f"report after a {name} line")
        kept = [json.loads(line)["case"]["id"] for line in (damaged / "journal.jsonl").read_text().splitlines()[1:]]
        check(kept.count(damaged_id) == 1 and len(kept) == len(lines) - 1, f"{name}: every case once in the journal")

# -- --save-predictions: the files infer writes, per model and case -------------------------------------
res = run("evaluate", "--model", out / "gated.json", "--dataset", msd, "--split", "training", "--limit", "2",
          "--save-predictions", "--out", out / "saved", "--quiet")
check(res.returncode == 0, f"--save-predictions: {res.stderr}")
saved = out / "saved" / "predictions" / "A"
check(sorted(p.name for p in saved.iterdir()) == ["case_000", "case_001"] if saved.exists() else False,
      "--save-predictions writes one folder per case under predictions/A/")
if (saved / "case_000" / "labels.nii.gz").exists():
    written = nib.load(str(saved / "case_000" / "labels.nii.gz"))
    want, gates = reference_prediction(networks["gated"], truth["case_000"][0])
    check(np.array_equal(np.asarray(written.dataobj), want), "saved labels differ from PyTorch's argmax")
    check(np.allclose(written.affine, affine, atol=1e-5), "saved labels lose the input geometry")
    for gate in gates:
        check((saved / "case_000" / "gates" / f"{gate}.nii.gz").exists(), f"saved gate {gate}")
    check((saved / "case_000" / "probabilities.nii.gz").exists(), "saved probabilities")

# -- compare: two single-model reports --------------------------------------------------------------
for key in ("gated", "baseline"):
    res = run("evaluate", "--model", out / f"{key}.json", "--dataset", msd, "--split", "training",
              "--out", out / f"single_{key}", "--quiet")
    check(res.returncode == 0, f"single-model evaluate {key}: {res.stderr}")
res = run("compare", out / "single_gated" / "report.json", out / "single_baseline" / "report.json",
          "--out", out / "compared", "--quiet")
check(res.returncode == 0, f"compare: {res.stderr}")
if res.returncode == 0:
    compared = json.loads((out / "compared" / "report.json").read_text())
    try:
        jsonschema.validate(compared, schema)
    except jsonschema.ValidationError as e:
        failures.append(f"compare report does not follow the schema: {e.message} at {list(e.absolute_path)}")
    two_model = json.loads((out / "clean" / "report.json").read_text())
    check(compared["comparison"] == two_model["comparison"], "compare differs from the two-model evaluation")
bad = run("compare", out / "gated.json", out / "single_baseline" / "report.json", "--out", out / "bad")
check(bad.returncode == 1 and "gated.json" in bad.stderr and "not a gatescope" in bad.stderr, f"compare bad input: {bad.stderr}")
monai = run("evaluate", "--model", out / "baseline.json", "--dataset", msd, "--split", "training", "--preset", "monai",
            "--out", out / "single_monai", "--quiet")
mixed = run("compare", out / "single_gated" / "report.json", out / "single_monai" / "report.json", "--out", out / "bad2")
check(mixed.returncode == 2 and "different metric settings" in mixed.stderr, f"compare across presets: {mixed.stderr}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("evaluate and compare match the references")
