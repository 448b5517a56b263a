#!/usr/bin/python3
"""`gatescope evaluate --attribution` end to end, against PyTorch autograd and numpy/scipy.

A gated and an ungated network (random weights, tests/fixtures/zoo_reference.py) over a small MSD
dataset written with nibabel. Checks:
- report.json validates against docs/report.schema.json with the attribution keys;
- every case's, model's and label's attribution statistics equal numpy's on PyTorch's maps (the
  map for the label's class, region predicted, z-score and padding as a prediction);
- attribution_comparison equals numpy and scipy.stats.wilcoxon on the per-case differences;
- evaluate's saved maps equal `gatescope attribute` on the same case, with and without --window;
- a run killed with SIGKILL and resumed gives the uninterrupted report; compare of two single-model
  reports gives the same attribution_comparison; bad --attribution values exit 2.

Usage: evaluate_attribution_test.py GATESCOPE SCHEMA OUT_DIR
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
from scipy import ndimage, stats

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import zoo_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[3])
out, check, run = cli.out, cli.check, cli.run
schema = json.loads(Path(sys.argv[2]).read_text())
SPACING, SHAPE = (1.5, 1.25, 3.0), (40, 36, 20)
LAYERS = ["conv2", "conv3", "conv4"]


def near(a, b, tol=1e-5):
    """Numbers within `tol`; NaN (written "nan" in reports) only equals NaN."""
    a, b = (float(v) if isinstance(v, str) and v == "nan" else v for v in (a, b))
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    if np.isnan(a) or np.isnan(b):
        return bool(np.isnan(a) and np.isnan(b))
    return abs(a - b) <= tol * max(1.0, abs(b))


# -- dataset and models ---------------------------------------------------------------------------
rng = np.random.default_rng(9)
msd = out / "msd"
for sub in ("imagesTr", "labelsTr", "imagesTs", "labelsTs"):
    (msd / sub).mkdir(parents=True, exist_ok=True)
affine = np.diag(SPACING + (1.0,))
affine[:3, 3] = (-20.0, 10.0, 4.0)
truth = {}
grid = np.stack(np.meshgrid(*[np.arange(n) for n in SHAPE], indexing="ij"), -1) * np.array(SPACING)
for n in range(4):
    cid = f"case_{n:03d}"
    labels = np.zeros(SHAPE, np.uint8)
    for label, radius in ((1, rng.uniform(9, 13)), (2, rng.uniform(4, 6))):
        centre = np.array([rng.uniform(0.3, 0.7) * k * s for k, s in zip(SHAPE, SPACING)])
        labels[np.linalg.norm(grid - centre, axis=-1) <= radius] = label
    image = ndimage.gaussian_filter(rng.normal(0, 1, SHAPE) + 2.0 * labels, 1.0).astype(np.float32)
    nib.save(nib.Nifti1Image(image, affine), msd / "imagesTs" / f"{cid}.nii.gz")
    nib.save(nib.Nifti1Image(labels, affine), msd / "labelsTs" / f"{cid}.nii.gz")
    truth[cid] = (image, labels)
(msd / "dataset.json").write_text(json.dumps({
    "name": "attribution test", "modality": {"0": "CT"}, "labels": {"0": "background", "1": "organ", "2": "target"},
    "numTraining": 0, "numTest": len(truth), "training": [],
    "test": [f"./imagesTs/{c}.nii.gz" for c in truth]}))

torch.manual_seed(4)
networks = {}
for key, arch in (("gated", "unet_ct_single_att_dsv"), ("baseline", "unet_ct_dsv")):
    manifest = {"name": f"{key} model", "architecture": arch, "tensor_dim": "3D", "weights": f"{key}.pth",
                "in_channels": 1, "n_classes": 3, "feature_scale": 16,
                "preprocessing": {"normalize": "zscore", "pad_to_multiple": 16}}
    model = zoo_reference.build(manifest)
    zoo_reference.randomize(model)
    model.eval()
    torch.save(model.state_dict(), out / f"{key}.pth")
    (out / f"{key}.json").write_text(json.dumps(manifest))
    networks[key] = model


def prepared(image):
    x = torch.from_numpy(image)[None, None]
    x = (x - x.mean()) / x.std(unbiased=False)
    pad = []
    for n in reversed(SHAPE):
        pad += [0, (n + 15) // 16 * 16 - n]
    return F.pad(x, pad)


def statistics(m, mask):
    """docs/metrics.md on the map's positive part divided by its maximum."""
    e = np.maximum(m, 0)
    if e.max() <= 0:  # no evidence for the class anywhere ("no_attention")
        nan = float("nan")
        return {"mass_in_reference": nan, "pointing_game": nan, "mean_inside": 0.0, "mean_outside": 0.0,
                "coverage_reference": 0.0, "precision_above_threshold": nan}
    e = e / e.max()
    inside, outside = e[mask], e[~mask]
    above = e >= 0.5
    return {"mass_in_reference": inside.sum() / e.sum(),
            "pointing_game": float(mask.flat[np.argmax(e)]),
            "mean_inside": inside.mean(), "mean_outside": outside.mean(),
            "coverage_reference": above[mask].mean(),
            "precision_above_threshold": (above & mask).sum() / above.sum()}


crop = (0,) + tuple(slice(0, n) for n in SHAPE)
expected = {}  # case -> model -> key -> label -> statistics
for cid, (image, labels) in truth.items():
    xin = prepared(image)
    for name, model in networks.items():
        for label in (1, 2):
            maps, used, _ = zoo_reference.attribution_reference(model, xin, label, LAYERS, "predicted", 2,
                                                                extent=list(SHAPE), occlusion=(16, 16))
            for key in [f"gradcam@{layer}" for layer in LAYERS] + ["gradient_x_input"]:
                m = maps[key][1][crop].detach().numpy()
                name_in_report = key if "@" in key else key + "@input"
                expected.setdefault(cid, {}).setdefault(name, {}).setdefault(name_in_report, {})[label] = \
                    statistics(m, labels == label)

# -- evaluate A and B with attribution maps -------------------------------------------------------------
base = ["evaluate", "--model", out / "gated.json", "--model", out / "baseline.json", "--dataset", msd,
        "--attribution", "gradcam@conv2,conv3,conv4", "--attribution", "gradient_x_input", "--quiet"]
res = run(*base, "--out", out / "run", "--save-predictions", "--save-cases", "case_001")
check(res.returncode == 0, f"evaluate --attribution: exit {res.returncode}: {res.stderr}")
report = json.loads((out / "run" / "report.json").read_text()) if res.returncode == 0 else None
if report:
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as e:
        check(False, f"report.json does not follow the schema: {e.message} at {list(e.absolute_path)}")
    model_names = {"A": "gated", "B": "baseline"}
    for case in report["cases"]:
        for mk, name in model_names.items():
            got = case["models"][mk].get("attribution", {})
            want = expected[case["id"]][name]
            check(sorted(got) == sorted(want), f"{case['id']} {mk}: maps {sorted(got)}")
            for key, per_label in want.items():
                for label, values in per_label.items():
                    g = got.get(key, {}).get(str(label), {})
                    for stat, value in values.items():
                        check(near(g.get(stat, -1), float(value), 1e-4),
                              f"{case['id']} {mk} {key} label {label} {stat}: {g.get(stat)} != {value}")
    # The paired comparison of A's and B's maps.
    compared_finite = False
    for key in ("gradcam@conv3", "gradient_x_input@input"):
        for label in (1, 2):
            a = np.array([expected[c]["gated"][key][label]["mass_in_reference"] for c in truth])
            b = np.array([expected[c]["baseline"][key][label]["mass_in_reference"] for c in truth])
            comp = report.get("attribution_comparison", {}).get(key, {}).get(str(label), {}).get("mass_in_reference")
            if not comp:
                check(False, f"attribution_comparison lacks {key} label {label}")
                continue
            finite = np.isfinite(a - b)  # a map without evidence for the class has no statistics
            d = (a - b)[finite]
            check(comp["n"] == finite.sum() and (not d.size or near(comp["mean_difference"], float(d.mean()), 1e-4)),
                  f"{key} label {label}: n {comp['n']}, mean difference {comp['mean_difference']} != {d}")
            if np.all(finite):
                p = stats.wilcoxon(a, b, zero_method="wilcox", mode="exact").pvalue
                check(near(comp["wilcoxon_p"], float(p), 1e-6),
                      f"{key} label {label}: Wilcoxon p {comp['wilcoxon_p']} != {p}")
                compared_finite = True
    check(compared_finite, "no map with evidence in every case: the Wilcoxon test was not checked")
    summary = report["summary"]["B"].get("attribution", {}).get("gradcam@conv4", {}).get("1", {})
    want = np.mean([expected[c]["baseline"]["gradcam@conv4"][1]["mass_in_reference"] for c in truth])
    check(near(summary.get("mass_in_reference", {}).get("mean", -1), float(want), 1e-4), "summary of B's Grad-CAM")
    check(report["settings"]["attribution"]["region"] == "predicted", "settings.attribution")
    header = (out / "run" / "cases.csv").read_text().splitlines()[0]
    check("gradcam@conv3:mass_in_reference" in header, f"cases.csv columns: {header[:200]}")

# -- evaluate's saved maps equal `gatescope attribute` on the same case ---------------------------------
saved = out / "run" / "predictions" / "B" / "case_001" / "attributions" / "gradcam" / "conv3.nii.gz"
res = run("attribute", "--model", out / "baseline.json", "--input", msd / "imagesTs" / "case_001.nii.gz",
          "--out", out / "attributed", "--method", "gradcam", "--class", "2", "--quiet")
check(res.returncode == 0 and saved.exists(), f"attribute / saved maps: {res.stderr} {saved.exists()}")
if res.returncode == 0 and saved.exists():
    from_evaluate = nib.load(str(saved)).get_fdata()
    check(from_evaluate.shape == SHAPE + (2,), f"saved maps: shape {from_evaluate.shape} (classes 1 and 2)")
    single = nib.load(str(out / "attributed" / "attributions" / "gradcam" / "conv3.nii.gz")).get_fdata()
    check(np.array_equal(from_evaluate[..., 1], single), "evaluate's Grad-CAM for class 2 differs from attribute's")

# -- figures: the saved maps beside the gates (layouts and pixels: tests/renderers/figures_test.cpp) ----
evaluated = ["--evaluation", out / "run", "--case", "case_001"]
for n, args in enumerate([["compare", *evaluated, "--attribution", "gradcam@conv3", "--label", "2"],
                          ["gates", *evaluated, "--model", "B", "--attribution", "gradcam"],
                          ["gates", "--image", msd / "imagesTs" / "case_001.nii.gz", "--prediction-dir",
                           out / "attributed", "--attribution", "gradcam@conv3", "--label", "2"]]):
    figure = out / f"figure_{n}.png"
    res = run("render", *args, "--out", figure)
    check(res.returncode == 0 and figure.exists(), f"render {args}: {res.stderr}")
res = run("render", "gates", "--evaluation", out / "run", "--case", "case_001", "--model", "B", "--attribution",
          "hirescam@conv3", "--out", out / "refused.png")
check(res.returncode == 2 and "no attribution map hirescam@conv3" in res.stderr and "gradcam@conv3 class 1" in res.stderr
      and len(res.stderr.strip().splitlines()) == 1 and not (out / "refused.png").exists(),
      f"render a map that was not saved: {res.returncode} {res.stderr!r}")

# -- sliding windows: evaluate's maps equal `attribute --window` (checked against PyTorch by the models
# tests), and its statistics are numpy's on those maps --------------------------------------------------
windowed = out / "windowed"
res = run("evaluate", "--model", out / "baseline.json", "--dataset", msd, "--out", windowed, "--quiet",
          "--attribution", "gradcam@conv3", "--window", "32,32,16", "--save-predictions")
check(res.returncode == 0, f"evaluate --window --attribution: {res.stderr}")
res = run("attribute", "--model", out / "baseline.json", "--input", msd / "imagesTs" / "case_002.nii.gz",
          "--out", out / "attributed_windows", "--method", "gradcam", "--layers", "conv3", "--class", "all",
          "--window", "32,32,16", "--quiet")
check(res.returncode == 0, f"attribute --window: {res.stderr}")
if res.returncode == 0 and (windowed / "report.json").exists():
    w_report = json.loads((windowed / "report.json").read_text())
    check("windows" in w_report["settings"]["attribution"], f"settings: {w_report['settings']['attribution']}")
    saved = nib.load(str(windowed / "predictions" / "A" / "case_002" / "attributions" / "gradcam" /
                         "conv3.nii.gz")).get_fdata()
    single = nib.load(str(out / "attributed_windows" / "attributions" / "gradcam" / "conv3.nii.gz")).get_fdata()
    check(np.array_equal(saved, single[..., 1:]), "evaluate --window's Grad-CAM differs from attribute --window's")
    whole = expected["case_002"]["baseline"]["gradcam@conv3"]
    case = next(c for c in w_report["cases"] if c["id"] == "case_002")
    for n, label in enumerate((1, 2)):
        want = statistics(saved[..., n], truth["case_002"][1] == label)
        got = case["models"]["A"]["attribution"]["gradcam@conv3"][str(label)]
        for stat, value in want.items():
            check(near(got[stat], float(value), 1e-4), f"windows label {label} {stat}: {got[stat]} != {value}")
        check(any(not near(got[stat], float(whole[label][stat]), 1e-6) for stat in want),
              f"windows label {label}: the statistics equal the whole image's, were windows used?")

# -- kill -9 in the middle, then --resume ---------------------------------------------------------
killed = out / "killed"
proc = subprocess.Popen([cli.gatescope, *map(str, base), "--out", str(killed)], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
journal = killed / "journal.jsonl"
deadline = time.time() + 300
while time.time() < deadline and proc.poll() is None:
    if journal.exists() and journal.read_text().count("\n") >= 2:  # identity + 1 case
        break
    time.sleep(0.002)
midway = proc.poll() is None
os.kill(proc.pid, signal.SIGKILL)
proc.wait()
check(midway, "the run finished before it could be killed")
resumed = run(*base, "--out", killed, "--resume")
check(resumed.returncode == 0, f"resume: {resumed.stderr}")


def without_timings(r):
    r = json.loads(json.dumps(r))
    for key in ("created", "timings_s"):
        r.pop(key, None)
    for c in r["cases"]:
        for m in c.get("models", {}).values():
            m.pop("seconds", None)
            m.pop("attribution_seconds", None)
    return r


if resumed.returncode == 0 and report:
    check(without_timings(json.loads((killed / "report.json").read_text())) == without_timings(report),
          "the resumed report differs from the uninterrupted one")

# -- compare of two single-model reports carries the attribution comparison -----------------------
for key in ("gated", "baseline"):
    res = run("evaluate", "--model", out / f"{key}.json", "--dataset", msd, "--out", out / f"single_{key}",
              "--attribution", "gradcam@conv2,conv3,conv4", "--attribution", "gradient_x_input", "--quiet")
    check(res.returncode == 0, f"single {key}: {res.stderr}")
res = run("compare", out / "single_gated" / "report.json", out / "single_baseline" / "report.json",
          "--out", out / "compared", "--quiet")
check(res.returncode == 0, f"compare: {res.stderr}")
if res.returncode == 0 and report:
    compared = json.loads((out / "compared" / "report.json").read_text())
    check(compared.get("attribution_comparison") == report.get("attribution_comparison"),
          "compare's attribution_comparison differs from the two-model evaluation's")
    check([m["model"] for m in compared["settings"]["attribution"]["maps"]] == ["A", "A", "B", "B"],
          f"compare: settings.attribution.maps {compared['settings']['attribution']['maps']}")
    try:
        jsonschema.validate(compared, schema)
    except jsonschema.ValidationError as e:
        check(False, f"compared report does not follow the schema: {e.message}")

# -- bad --attribution values: exit 2 before any case runs ---------------------------------------------
for args, expect in [(["--attribution", "sharpness"], "unknown method 'sharpness'"),
                     (["--attribution", "gradcam@conv9"], "no layer 'conv9'"),
                     (["--attribution", "gradient@conv2"], "takes no layers"),
                     (["--attribution", "gradcam", "--window", "24,32,16"], "multiple of 16")]:
    target = out / "refused"
    res = run("evaluate", "--model", out / "gated.json", "--dataset", msd, "--out", target, "--quiet", *args)
    check(res.returncode == 2 and expect in res.stderr, f"{args}: exit {res.returncode}: {res.stderr!r}")
    check(not (target / "report.json").exists(), f"{args}: wrote a report")

cli.finish()
