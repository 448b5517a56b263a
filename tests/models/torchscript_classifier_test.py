#!/usr/bin/python3
"""TorchScript classifiers end to end: an AG-SonoNet export (traced, forward returning {"logits",
"gate/<name>"}, gatescope.json with task "classification") and a SonoNet export returning only its
logits, through `gatescope infer` and `gatescope evaluate`, against the same exports run by PyTorch
on the images as PIL reads them (probabilities within 1e-5, gate maps within 1e-5 after the
documented bilinear resampling). Bad exports fail in one line naming the file.

Usage: torchscript_classifier_test.py GATESCOPE CLASSIFIER_FIXTURES OUT_DIR
"""
import json
import sys
from pathlib import Path
from typing import Dict

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import classifier_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[3])
fixtures = Path(sys.argv[2])
out, check, run = cli.out, cli.check, cli.run
rng = np.random.default_rng(17)
classes = ["abdomen", "brain", "heart"]


class Gated(torch.nn.Module):
    """AG-SonoNet as a TorchScript classifier: the mean of its heads' logits, and its gates."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x) -> Dict[str, torch.Tensor]:
        heads, gates = self.net(x)
        result = {"logits": torch.stack(heads).mean(0)}
        for name, alpha in gates.items():
            result["gate/" + name] = alpha
        return result


class Plain(torch.nn.Module):
    """SonoNet returning only its logits."""

    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        heads, _ = self.net(x)
        return heads[0]


def load(name):
    manifest = json.loads((fixtures / f"{name}.json").read_text())
    model = classifier_reference.build(manifest)
    model.load_state_dict(torch.load(fixtures / manifest["weights"]), strict=True)
    return model.eval()


example = torch.randn(1, 1, 64, 80)
metadata = {"task": "classification", "name": "ag export", "in_channels": 1, "n_classes": 3,
            "labels": dict(enumerate(classes)), "preprocessing": {"normalize": "zscore"},
            "gates": ["compatibility_score1", "compatibility_score2"]}
with torch.no_grad():
    gated = torch.jit.trace(Gated(load("ag_sigmoid_mean")), example, strict=False)
    plain = torch.jit.trace(Plain(load("sononet2")), example.repeat(1, 3, 1, 1))
    four = torch.jit.trace(Plain(load("sononet")), example)
torch.jit.save(gated, str(out / "gated.pt"), _extra_files={"gatescope.json": json.dumps(metadata)})
# No n_classes: the export's output tells them. Three channels: gray images are repeated.
torch.jit.save(plain, str(out / "plain.pt"), _extra_files={"gatescope.json": json.dumps(
    {"task": "classification", "in_channels": 3, "preprocessing": {"normalize": "zscore"}})})
torch.jit.save(four, str(out / "four.pt"), _extra_files={"gatescope.json": json.dumps({"task": "classification"})})
# Not a classifier's output: per-pixel logits under task "classification".
torch.jit.save(torch.jit.script(torch.nn.Conv2d(1, 3, 3, padding=1)), str(out / "pixels.pt"),
               _extra_files={"gatescope.json": json.dumps({"task": "classification"})})

# Gray PNGs of two sizes: the exports run on sizes they were not traced at.
root = out / "planes"
for c in classes:
    for k in range(2):
        shape = (64, 80) if k == 0 else (72, 96)
        path = root / c / f"{c}_{k}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray((rng.random(shape) * 255).astype(np.uint8)).save(path)


def reference(model, path):
    """The export run by PyTorch on the image as PIL reads it, z-scored as the manifest says."""
    x = torch.from_numpy(np.asarray(Image.open(path)).astype(np.float64))
    x = ((x - x.mean()) / x.std(unbiased=False)).float()[None, None]
    if model is plain:
        x = x.repeat(1, 3, 1, 1)
    with torch.no_grad():
        result = model(x)
    if isinstance(result, torch.Tensor):
        result = {"logits": result}
    p = F.softmax(result["logits"].double(), dim=1)[0].numpy()
    gates = {k[5:]: v for k, v in result.items() if k.startswith("gate/")}
    return p, gates, x.shape[2:]


def close(a, b, what, tolerance=1e-5):
    a, b = np.asarray(a, float), np.asarray(b, float)
    check(a.shape == b.shape and np.allclose(a, b, rtol=tolerance, atol=tolerance), f"{what}: {a} != {b}"[:400])


# infer: probabilities, predicted class and its name, gate maps native and on the image grid.
image = root / "heart" / "heart_1.png"
r = run("infer", "--model", out / "gated.pt", "--input", image, "--out", out / "infer_gated")
check(r.returncode == 0, f"infer gated: exit {r.returncode}: {r.stderr}")
if r.returncode == 0:
    record = json.loads((out / "infer_gated" / "infer.json").read_text())
    p, gates, size = reference(gated, image)
    close(record["probabilities"], p, "infer probabilities")
    check(record["predicted_class"] == int(np.argmax(p)) and record["predicted_class_name"] == classes[int(np.argmax(p))],
          f"infer predicted class {record['predicted_class']} {record.get('predicted_class_name')}")
    check(record["head_names"] == ["logits"] and len(record["heads"]) == 1, f"one head: {record['head_names']}")
    check(sorted(g["name"] for g in record["gates"]) == sorted(gates), f"gates {record['gates']}")
    for name, alpha in gates.items():
        native = nib.load(out / "infer_gated" / "gates" / f"{name}_native.nii.gz").get_fdata()[:, :, 0].T
        close(native, alpha[0, 0].numpy(), f"infer {name} native")
        resampled = F.interpolate(alpha, size=size, mode="bilinear", align_corners=False)[0, 0].numpy()
        on_image = nib.load(out / "infer_gated" / "gates" / f"{name}.nii.gz").get_fdata()[:, :, 0].T
        close(on_image, resampled, f"infer {name} on the image grid")

# evaluate: the two exports paired over the folder dataset.
r = run("evaluate", "--model", out / "gated.pt", "--model", out / "plain.pt", "--dataset", root, "--out",
        out / "evaluation", "--quiet")
check(r.returncode == 0, f"evaluate: exit {r.returncode}: {r.stderr}")
if r.returncode == 0:
    report = json.loads((out / "evaluation" / "report.json").read_text())
    check(report["task"] == "classification" and len(report["cases"]) == 6, "a classification report of six images")
    for case in report["cases"]:
        for key, model in (("A", gated), ("B", plain)):
            p, _, _ = reference(model, root / case["id"])
            close(case["models"][key]["probabilities"], p, f"evaluate {case['id']} {key}")
        check(case["true_class"] == classes.index(case["id"].split("/")[0]), f"{case['id']}: true class")
    check("comparison" in report and "mcnemar" in report["comparison"], "paired tests")

# Classifiers of different class counts are not paired.
r = run("evaluate", "--model", out / "gated.pt", "--model", out / "four.pt", "--dataset", root, "--out", out / "four")
check(r.returncode == 2 and "model A has 3 classes, model B 4" in r.stderr and not (out / "four").exists(),
      f"3 vs 4 classes: exit {r.returncode}, {r.stderr!r}")

# A classifier's export that returns per-pixel logits: one line naming the file and the problem.
r = run("infer", "--model", out / "pixels.pt", "--input", image, "--out", out / "infer_pixels")
check(r.returncode != 0 and "pixels.pt" in r.stderr and "(batch, classes)" in r.stderr
      and r.stderr.count("gatescope:") == 1 and not (out / "infer_pixels").exists(),
      f"per-pixel logits: exit {r.returncode}, {r.stderr!r}")

cli.finish()
