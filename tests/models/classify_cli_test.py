#!/usr/bin/python3
"""`gatescope infer` on classifiers end to end against PyTorch: PNG and NIfTI inputs (RGB made
gray, gray made RGB), the manifest's z-score, per-head and aggregated probabilities and the
predicted class in infer.json, the gates' maps at their own grid and on the input grid (nibabel),
and the errors a classifier gives for segmentation-only options and unusable images.

Usage: classify_cli_test.py GATESCOPE CLASSIFIER_FIXTURES OUT_DIR
"""
import json
import sys
from pathlib import Path

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
fixtures, out, check, run = Path(sys.argv[2]), cli.out, cli.check, cli.run
rng = np.random.default_rng(5)


def close(a, b, what, tolerance=1e-5):
    a, b = np.asarray(a, float), np.asarray(b, float)
    ok = a.shape == b.shape and np.all(np.abs(a - b) <= tolerance * np.maximum(1.0, np.abs(b)))
    check(ok, f"{what}: shapes {a.shape} vs {b.shape}, largest difference "
              f"{np.abs(a - b).max() if a.shape == b.shape else 'n/a'}")


# Inputs: an RGB PNG for a one-channel model, a 16-bit gray PNG for a three-channel one, a 2D NIfTI
# with its own spacing; the manifests get z-score normalisation and class names.
rgb = (rng.random((72, 88, 3)) * 255).astype(np.uint8)  # rows x columns x RGB
Image.fromarray(rgb).save(out / "rgb.png")
gray16 = (rng.random((64, 96)) * 60000).astype(np.uint16)
Image.fromarray(gray16).save(out / "gray16.png")
scan = rng.normal(0, 50, (80, 96)).astype(np.float32)  # i x j
nifti_affine = np.diag([0.5, 0.7, 1.0, 1.0])
nib.save(nib.Nifti1Image(scan[:, :, None], nifti_affine), out / "scan.nii.gz")

cases = [("ag_sigmoid_mean", "rgb.png"), ("sononet2", "gray16.png"), ("ag_range_deep_sup", "scan.nii.gz"),
         ("ag_mean_flow_ft", "rgb.png")]
for name, image_file in cases:
    manifest = json.loads((fixtures / f"{name}.json").read_text())
    manifest["weights"] = str(fixtures / manifest["weights"])
    manifest["preprocessing"] = {"normalize": "zscore"}  # pad_to_multiple defaults to 16: ignored
    manifest["labels"] = {str(c): f"plane {c}" for c in range(manifest["n_classes"])}
    path = out / f"{name}.json"
    path.write_text(json.dumps(manifest))
    # The network's input as Python reads the file: a PNG as PIL and numpy hold it, (C, rows,
    # columns), a NIfTI as nibabel does, (C, i, j).
    picture = image_file.endswith(".png")
    if picture:
        pixels = np.asarray(Image.open(out / image_file)).astype(np.float64)
        channels = np.moveaxis(pixels, -1, 0) if pixels.ndim == 3 else pixels[None]
        spacing = np.ones(2)
    else:
        channels = scan[None].astype(np.float64)
        spacing = np.array([0.5, 0.7])
    if channels.shape[0] == 3 and manifest["in_channels"] == 1:
        channels = (0.299 * channels[0] + 0.587 * channels[1] + 0.114 * channels[2])[None]
    if channels.shape[0] == 1 and manifest["in_channels"] == 3:
        channels = np.repeat(channels, 3, axis=0)
    mean = channels.mean(axis=(1, 2), keepdims=True)
    std = channels.std(axis=(1, 2), keepdims=True)
    x = torch.from_numpy((channels - mean) / std).float()[None]
    model = classifier_reference.build(manifest)
    model.load_state_dict(torch.load(manifest["weights"]), strict=True)
    model.eval()
    with torch.no_grad():
        heads, gates = model(x)
    want = classifier_reference.aggregate(heads, manifest)[0].numpy()

    result = run("infer", "--model", path, "--input", out / image_file, "--out", out / name, "--device", "cpu")
    check(result.returncode == 0, f"{name}: exit {result.returncode}: {result.stderr}")
    if result.returncode != 0:
        continue
    report = json.loads((out / name / "infer.json").read_text())
    check(report["task"] == "classification" and report["schema"] == "gatescope.infer/1", f"{name}: task, schema")
    close(report["probabilities"], want, f"{name}: aggregated probabilities")
    close(report["heads"], [F.softmax(h, dim=1)[0].numpy() for h in heads], f"{name}: per-head probabilities")
    heads_named = (classifier_reference.HEADS[manifest["aggregation_mode"]]
                   if manifest["architecture"] == "sononet_grid_attention" else ["logits"])
    check(report["head_names"] == heads_named, f"{name}: head names {report['head_names']}")
    check(report["predicted_class"] == int(np.argmax(want)), f"{name}: predicted class")
    check(report["predicted_class_name"] == f"plane {int(np.argmax(want))}", f"{name}: class name")
    check(f"class {report['predicted_class']} plane" in result.stderr, f"{name}: the class in the log: {result.stderr}")
    check(sorted(g["name"] for g in report["gates"]) == sorted(gates), f"{name}: gate list {report['gates']}")
    grid = tuple(x.shape[2:])[::-1] if picture else tuple(x.shape[2:])  # the image's (i, j)
    for gate, alpha in gates.items():
        if picture:  # gatescope's maps lie on the image's (i, j) = (column, row) grid
            alpha = alpha.transpose(2, 3)
        native = nib.load(str(out / name / "gates" / f"{gate}_native.nii.gz"))
        close(native.get_fdata().reshape(native.shape[:2]), alpha[0, 0].numpy(), f"{name} {gate}: native map")
        stride = np.array(grid) // np.array(alpha.shape[2:])
        check(np.allclose(np.linalg.norm(native.affine[:3, :3], axis=0)[:2], spacing * stride),
              f"{name} {gate}: native spacing {native.header.get_zooms()}")
        on_input = nib.load(str(out / name / "gates" / f"{gate}.nii.gz"))
        up = F.interpolate(alpha, size=grid, mode="bilinear", align_corners=False)[0, 0].numpy()
        close(on_input.get_fdata().reshape(on_input.shape[:2]), up, f"{name} {gate}: map on the input grid")
        check(not (out / name / "gates" / f"{gate}_coarse.nii.gz").exists(), f"{name} {gate}: no coarse file")
    if not gates:
        check(report["gates"] == [] and not (out / name / "gates").exists(), f"{name}: no gates, no gate files")

# --gates none writes no maps; the probabilities stay.
r = run("infer", "--model", out / "ag_sigmoid_mean.json", "--input", out / "rgb.png", "--out", out / "no_gates",
        "--gates", "none", "--quiet")
check(r.returncode == 0 and not (out / "no_gates" / "gates").exists(), f"--gates none: {r.stderr}")


# Errors: exit 2, one line naming the problem, nothing written.
def fails(what, args, *expected):
    target = out / f"bad_{what}"
    r = run("infer", *args, "--out", target)
    lines = [line for line in r.stderr.splitlines() if line.startswith("gatescope:")]
    check(r.returncode == 2 and len(lines) == 1 and all(e in r.stderr for e in expected),
          f"{what}: exit {r.returncode}, {r.stderr!r}")
    check(not target.exists(), f"{what}: wrote {target}")


model_args = ["--model", out / "ag_sigmoid_mean.json"]
fails("window", [*model_args, "--input", out / "rgb.png", "--window", "64,64"], "is a classifier")
two = np.stack([rng.random((64, 64)), rng.random((64, 64))], axis=-1).astype(np.float32)
nib.save(nib.Nifti1Image(two[:, :, None, :], np.eye(4)), out / "two_channels.nii.gz")
fails("channels", [*model_args, "--input", out / "two_channels.nii.gz"], "expects 1 input channel(s), the image has 2")
nib.save(nib.Nifti1Image(rng.random((64, 64, 5)).astype(np.float32), np.eye(4)), out / "volume.nii.gz")
fails("volume", [*model_args, "--input", out / "volume.nii.gz"], "a 2D model needs 2D images")

cli.finish()
