#!/usr/bin/python3
"""`gatescope attribute` on classifiers against PyTorch autograd (tests/fixtures/zoo_reference.py's
attribution reference, on the class logit - the mean over heads - as docs/attribution.md defines
a classifier's score): AG-SonoNet (gates as layers too) and SonoNet on a PNG, which the network
takes as (row, column) like PIL, every class on the 4th axis; then `gatescope evaluate
--attribution` of two classifiers: each image's map of its true class measured against its mask,
saved with --save-predictions, and summarised per model.

Usage: attribute_classifier_test.py GATESCOPE CLASSIFIER_FIXTURES SCHEMA OUT_DIR
"""
import json
import sys
from pathlib import Path

import jsonschema
import nibabel as nib
import numpy as np
import torch
from PIL import Image

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import classifier_reference  # noqa: E402
import zoo_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[4])
fixtures, schema = Path(sys.argv[2]), json.loads(Path(sys.argv[3]).read_text())
out, check, run = cli.out, cli.check, cli.run
rng = np.random.default_rng(23)
STEPS, PATCH, STRIDE = 4, 8, 6


class AsScores(torch.nn.Module):
    """A classifier as the attribution reference takes a network: its class logits (the mean over
    heads) as a (N, classes, 1, 1) map, whose one pixel is the region; the layers as attributes."""

    def __init__(self, net, layers):
        super().__init__()
        self.net = net
        for name in layers:
            setattr(self, name, getattr(net, name))

    def forward(self, x):
        heads, gates = self.net(x)
        return torch.stack(heads).mean(0)[:, :, None, None], gates


def load(name):
    manifest = json.loads((fixtures / f"{name}.json").read_text())
    manifest["weights"] = str(fixtures / manifest["weights"])
    manifest["preprocessing"] = {"normalize": "zscore"}
    (out / f"{name}.json").write_text(json.dumps(manifest))
    model = classifier_reference.build(manifest)
    model.load_state_dict(torch.load(manifest["weights"]), strict=True)
    return model.eval(), manifest


def close_to_reference(got, want, what, tol=1e-4, floor=0.0):
    """Within `tol` of the reference's largest magnitude (plus `floor`, absolute)."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        check(False, f"{what}: shape {got.shape}, expected {want.shape}")
        return
    scale = max(np.max(np.abs(want)), 1e-12)
    error = np.max(np.abs(got - want))
    check(error < tol * scale + floor, f"{what}: largest difference {error / scale:.2e} of the reference's maximum")


pixels = (rng.random((72, 88)) * 255).astype(np.uint8)  # rows x columns
image = out / "plane.png"
Image.fromarray(pixels).save(image)
x = torch.from_numpy(pixels.astype(np.float64))
x = ((x - x.mean()) / x.std(unbiased=False)).float()[None, None]  # as PIL holds it, z-scored

ALL = "gradcam,hirescam,gradient,gradient_x_input,integrated_gradients,occlusion"
for name, layers, methods in (("ag_sigmoid_mean", ["conv3", "compatibility_score1"], ALL),
                              ("sononet2", ["conv3", "conv4"], "gradcam,gradient_x_input")):
    model, manifest = load(name)
    xin = x.repeat(1, manifest["in_channels"], 1, 1)
    target = out / name
    r = run("attribute", "--model", out / f"{name}.json", "--input", image, "--out", target, "--method", methods,
            "--layers", ",".join(layers), "--class", "all", "--steps", STEPS, "--patch", PATCH, "--stride", STRIDE,
            "--device", "cpu", "--quiet")
    check(r.returncode == 0, f"{name}: exit {r.returncode}: {r.stderr.strip()[-400:]}")
    if r.returncode != 0:
        continue
    record = json.loads((target / "attribute.json").read_text())
    classes = manifest["n_classes"]
    check(record["classes"] == list(range(classes)), f"{name}: every class by default with --class all")
    scored = AsScores(model, layers)
    for c in range(classes):
        maps, _, completeness = zoo_reference.attribution_reference(scored, xin, c, layers, "all", STEPS,
                                                                    occlusion=(PATCH, STRIDE))
        for entry in record["maps"]:
            key = entry["key"]
            method, layer = key.split("@")
            ref_key = key if method in ("gradcam", "hirescam") else method
            data = nib.load(target / entry["file"]).get_fdata()
            got = (data[:, :, 0, c] if data.ndim == 4 else data[:, :, 0]).T  # (i, j) -> (row, column)
            # Occluding a patch moves these random-weight classifiers' pooled logits by ~1e-5 of
            # their size, so occlusion maps are differences at float32's resolution of the logit:
            # allowed a millionth of the score on top.
            floor = 1e-6 * abs(entry["scores"][c]) if method == "occlusion" else 0.0
            tol = 1e-3 if method == "occlusion" else 1e-4
            close_to_reference(got, maps[ref_key][1][0].detach().numpy(), f"{name} {key} class {c}", tol, floor)
            if method == "integrated_gradients":
                got_error = entry["completeness_errors"][c]
                check(abs(got_error - completeness) < 1e-3 + 0.05 * completeness,
                      f"{name} class {c}: completeness {got_error} vs {completeness}")
    check(all(entry["regions"] == ["image"] * classes for entry in record["maps"]),
          f"{name}: a classifier's score has no region: {[e['regions'] for e in record['maps']]}")

# A classifier's score has no region.
r = run("attribute", "--model", out / "sononet2.json", "--input", image, "--out", out / "bad", "--method", "gradcam",
        "--region", f"reference:{image}")
check(r.returncode == 2 and "no region" in r.stderr and not (out / "bad").exists(), f"--region: {r.stderr!r}")

# evaluate --attribution: each image's map of its true class against its mask.
root = out / "planes"
names = ["abdomen", "brain", "heart"]
for c in names:
    for k in range(2):
        path = root / c / f"{c}_{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random((64, 80)) * 255).astype(np.uint8)).save(path)
        mask = np.zeros((64, 80), np.uint8)
        mask[10:30, 20:50] = 1
        (root / "masks" / c).mkdir(parents=True, exist_ok=True)
        Image.fromarray(mask).save(root / "masks" / c / f"{c}_{k}.png")
_, manifest_b = load("ag_mean_flow_ft")
r = run("evaluate", "--model", out / "ag_sigmoid_mean.json", "--model", out / "ag_mean_flow_ft.json", "--dataset", root,
        "--out", out / "evaluation", "--attribution", "gradcam@conv3", "--save-predictions", "--quiet")
check(r.returncode == 0, f"evaluate --attribution: exit {r.returncode}: {r.stderr[-800:]}")
if r.returncode == 0:
    report = json.loads((out / "evaluation" / "report.json").read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    check(not errors, f"schema: {[e.message[:200] for e in errors[:3]]}")
    models = {"A": load("ag_sigmoid_mean")[0], "B": load("ag_mean_flow_ft")[0]}
    channels = {"A": 1, "B": manifest_b["in_channels"]}
    for case in report["cases"]:
        picture = np.asarray(Image.open(root / case["id"])).astype(np.float64)
        xi = torch.from_numpy((picture - picture.mean()) / picture.std()).float()[None, None]
        inside = np.asarray(Image.open(root / "masks" / case["id"])) > 0
        for key, model in models.items():
            maps, _, _ = zoo_reference.attribution_reference(AsScores(model, ["conv3"]),
                                                             xi.repeat(1, channels[key], 1, 1),
                                                             case["true_class"], ["conv3"], "all", 1)
            cam = maps["gradcam@conv3"][1][0].detach().numpy()
            positive = np.clip(cam, 0, None)
            stats = case["models"][key].get("attribution", {}).get("gradcam@conv3", {})
            if positive.sum() > 0:
                want = positive[inside].sum() / positive.sum()
                check(abs(stats.get("mass_in_reference", -1) - want) < 1e-4,
                      f"{case['id']} {key}: mass {stats.get('mass_in_reference')} vs {want}")
            saved = out / "evaluation" / "predictions" / key / case["id"] / "attributions" / "gradcam" / "conv3.nii.gz"
            check(saved.exists(), f"{case['id']} {key}: the map saved")
            if saved.exists():
                close_to_reference(nib.load(saved).get_fdata()[:, :, 0].T, cam, f"{case['id']} {key} saved map")
    for key in ("A", "B"):
        # The mean over the images whose map has a positive part (the others' mass is undefined).
        masses = [c["models"][key]["attribution"]["gradcam@conv3"]["mass_in_reference"] for c in report["cases"]]
        finite = [m for m in masses if isinstance(m, float)]
        summary = report["summary"][key].get("attribution", {}).get("gradcam@conv3", {}).get("mass_in_reference", {})
        check(summary.get("n") == len(finite) and abs(summary.get("mean", -1) - np.mean(finite)) < 1e-12,
              f"summary {key}: {summary} vs {finite}")

    # The figure shows the saved maps beside the gates; a map that was not saved is named.
    figure = out / "explained.png"
    r = run("render", "compare", "--evaluation", out / "evaluation", "--attribution", "gradcam@conv3",
            "--dpi", "72", "--out", figure)
    check(r.returncode == 0 and figure.exists(), f"render --attribution: exit {r.returncode}: {r.stderr}")
    r = run("render", "compare", "--evaluation", out / "evaluation", "--attribution", "gradient_x_input",
            "--out", out / "missing.png")
    check(r.returncode == 2 and "no attribution map gradient_x_input@input" in r.stderr
          and "gradcam@conv3" in r.stderr and not (out / "missing.png").exists(), f"a map not saved: {r.stderr!r}")

cli.finish()
