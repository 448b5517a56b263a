#!/usr/bin/python3
"""`gatescope infer` end to end against the PyTorch reference networks
(tests/fixtures/zoo_reference.py): probabilities, labels and gates, geometry of every output,
preprocessing (z-score, padding to a multiple of 16 and cropping back), and errors.

Usage: infer_cli_test.py GATESCOPE ZOO_DIR OUT_DIR
"""
import json
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import zoo_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[3])
gatescope, out, check, run = cli.gatescope, cli.out, cli.check, cli.run
zoo = Path(sys.argv[2])


def close(a, b, what, tol=1e-5):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    ok = a.shape == b.shape and np.max(np.abs(a - b) / np.maximum(1.0, np.abs(b))) < tol
    check(ok, f"{what}: shapes {a.shape} vs {b.shape}, largest difference "
              f"{np.max(np.abs(a - b)) if a.shape == b.shape else 'n/a'}")


def to_image(x, affine, path):
    """(C, i, j[, k]) -> NIfTI (i, j, k[, C]); 2D inputs become one-slice volumes."""
    volume = np.moveaxis(x, 0, -1)
    if volume.ndim == 3:  # 2D: (i, j, C) -> (i, j, 1, C)
        volume = volume[:, :, None, :]
    if volume.shape[-1] == 1:
        volume = volume[..., 0]
    nib.save(nib.Nifti1Image(volume.astype(np.float32), affine), path)


def channels_last(t):
    """(1, C, i, j[, k]) tensor -> (i, j, k[, C]) array as gatescope writes it."""
    a = t[0].numpy()
    a = np.moveaxis(a, 0, -1)
    if a.ndim == 3:
        a = a[:, :, None, :]
    return a[..., 0] if a.shape[-1] == 1 else a


affine = np.array([[0.0, -0.9, 0.0, 12.5], [0.8, 0.0, 0.0, -40.0], [0.0, 0.0, 2.5, 7.25], [0, 0, 0, 1]])
for entry in json.loads((zoo / "zoo.json").read_text()):
    name = entry["name"]
    manifest = json.loads((zoo / entry["manifest"]).read_text())
    dim = int(manifest["tensor_dim"][0])
    model = zoo_reference.build(manifest)
    model.load_state_dict(torch.load(zoo / manifest["weights"]))
    model.eval()
    x = torch.from_numpy(np.fromfile(zoo / entry["input"]["file"], "<f4").reshape(entry["input"]["shape"]))
    # Crop to sizes that are not multiples of 16: gatescope pads, runs and crops back.
    crop = tuple(max(1, n - d) for n, d in zip(x.shape[2:], (3, 5, 2)))
    x = x[(slice(None), slice(None)) + tuple(slice(0, c) for c in crop)]
    # Reference preprocessing: z-score per channel, zero padding at the end to a multiple of 16.
    mean = x.mean(dim=tuple(range(2, x.dim())), keepdim=True)
    std = x.std(dim=tuple(range(2, x.dim())), keepdim=True, unbiased=False)
    padded_size = [(n + 15) // 16 * 16 for n in crop]
    pad = []
    for n, p in reversed(list(zip(crop, padded_size))):
        pad += [0, p - n]
    xin = F.pad((x - mean) / std, pad)
    with torch.no_grad():
        logits, alphas = model(xin)
    region = (slice(None), slice(None)) + tuple(slice(0, c) for c in crop)
    probabilities = torch.softmax(logits, 1)[region]
    manifest_path = out / f"{name}.json"
    manifest["weights"] = str((zoo / manifest["weights"]).resolve())
    manifest["preprocessing"] = {"normalize": "zscore", "pad_to_multiple": 16}
    manifest_path.write_text(json.dumps(manifest))
    image = out / f"{name}_input.nii.gz"
    to_image(x[0].numpy(), affine, image)
    result = run("infer", "--model", manifest_path, "--input", image, "--out", out / name, "--device", "cpu", "--quiet",
                 "--coarse-gates")
    check(result.returncode == 0, f"{name}: exit {result.returncode}: {result.stderr}")
    if result.returncode:
        continue
    prob = nib.load(str(out / name / "probabilities.nii.gz"))
    close(prob.get_fdata(), channels_last(probabilities), f"{name} probabilities")
    check(np.allclose(prob.affine, affine, atol=1e-5), f"{name}: probabilities geometry differs from the input")
    labels = nib.load(str(out / name / "labels.nii.gz"))
    want = channels_last(probabilities.argmax(1, keepdim=True).float())
    top2 = torch.topk(probabilities, 2, dim=1).values
    tie = channels_last((top2[:, :1] - top2[:, 1:2]).abs() < 1e-5)
    check(np.all((np.asarray(labels.dataobj) == want) | tie), f"{name}: labels differ from argmax")
    check(labels.get_data_dtype() == np.uint8 and np.allclose(labels.affine, affine, atol=1e-5), f"{name}: labels file")
    report = json.loads((out / name / "infer.json").read_text())
    check(sorted(g["name"] for g in report["gates"]) == sorted(alphas), f"{name}: gate list in infer.json")
    for gate, alpha in alphas.items():
        native = nib.load(str(out / name / "gates" / f"{gate}_native.nii.gz"))
        stride = [p // a for p, a in zip(padded_size, alpha.shape[2:])]
        covered = tuple((c + s - 1) // s for c, s in zip(crop, stride))
        close(native.get_fdata(), channels_last(alpha[(slice(None), slice(None)) + tuple(slice(0, c) for c in covered)]),
              f"{name} {gate} native")
        spacing = np.linalg.norm(affine[:3, :3], axis=0)
        check(np.allclose(np.linalg.norm(native.affine[:3, :3], axis=0)[:dim], (spacing[:dim] * stride)), f"{name} {gate}: native spacing")
        centre = affine[:3, :3] @ (np.array(stride + [1] * (3 - dim)) - 1) / 2 + affine[:3, 3]
        check(np.allclose(native.affine[:3, 3], centre, atol=1e-4), f"{name} {gate}: native origin {native.affine[:3, 3]} != {centre}")
        resampled = nib.load(str(out / name / "gates" / f"{gate}.nii.gz"))
        up = F.interpolate(alpha, size=xin.shape[2:], mode="trilinear" if dim == 3 else "bilinear", align_corners=False)
        close(resampled.get_fdata(), channels_last(up[region]), f"{name} {gate} on the input grid")
        check(np.allclose(resampled.affine, affine, atol=1e-5), f"{name} {gate}: geometry")
        # The compatibility grid before the gate's upsampling, on request.
        coarse = getattr(model, gate).coarse
        coarse_stride = [p // a for p, a in zip(padded_size, coarse.shape[2:])]
        check(all(c == 2 * s for c, s in zip(coarse_stride, stride)), f"{name} {gate}: the coarse grid is half the map's")
        covered = tuple((c + s - 1) // s for c, s in zip(crop, coarse_stride))
        close(nib.load(str(out / name / "gates" / f"{gate}_coarse.nii.gz")).get_fdata(),
              channels_last(coarse[(slice(None), slice(None)) + tuple(slice(0, c) for c in covered)]), f"{name} {gate} coarse")
        entry = next(g for g in report["gates"] if g["name"] == gate)
        check(entry.get("coarse_file") == f"gates/{gate}_coarse.nii.gz", f"{name} {gate}: coarse file in infer.json")

# Sliding windows: a window that covers the padded volume gives the whole-volume result exactly;
# smaller overlapping windows cover every voxel (probabilities sum to 1) and stay close to it.
image = out / "single3d_input.nii.gz"
whole = nib.load(str(out / "single3d" / "probabilities.nii.gz")).get_fdata()
r = run("infer", "--model", single := out / "single3d.json", "--input", image, "--out", out / "covering",
        "--window", "32,32,16", "--quiet")
check(r.returncode == 0, f"covering window: {r.stderr}")
if r.returncode == 0:
    close(nib.load(str(out / "covering" / "probabilities.nii.gz")).get_fdata(), whole, "covering window = whole volume")
    for gate in ("attentionblock2", "attentionblock3", "attentionblock4"):
        close(nib.load(str(out / "covering" / "gates" / f"{gate}_native.nii.gz")).get_fdata(),
              nib.load(str(out / "single3d" / "gates" / f"{gate}_native.nii.gz")).get_fdata(), f"covering window {gate}")
# A larger smooth image in overlapping windows (32 voxels, step 16 along i and j).
rng = np.random.default_rng(3)
field = torch.nn.functional.avg_pool3d(torch.from_numpy(rng.normal(size=(1, 1, 72, 64, 20))).float(), 5, 1, 2)[0, 0]
large = out / "large_input.nii.gz"
nib.save(nib.Nifti1Image(field.numpy(), affine), large)
r = run("infer", "--model", single, "--input", large, "--out", out / "windows", "--window", "32,32,16",
        "--overlap", "0.5", "--quiet")
check(r.returncode == 0, f"overlapping windows: {r.stderr}")
if r.returncode == 0:
    windowed = nib.load(str(out / "windows" / "probabilities.nii.gz")).get_fdata()
    check(windowed.shape[:3] == (72, 64, 20) and np.allclose(windowed.sum(-1), 1.0, atol=1e-5),
          "windows cover every voxel with probabilities that sum to 1")
    native = nib.load(str(out / "windows" / "gates" / "attentionblock2_native.nii.gz")).get_fdata()
    check(np.all(np.isfinite(native)) and native.min() >= 0 and native.max() <= 1, "blended gate is a coefficient map")
    # Seamless: the jump between neighbouring voxels at window edges (i = 16, 32, ...) is no larger
    # than the typical jump elsewhere.
    steps = np.abs(np.diff(windowed, axis=0)).mean(axis=(1, 2, 3))
    edges = [15, 31, 47]
    inside = np.delete(steps, edges)
    check(steps[edges].max() < 2 * inside.mean() + 1e-6,
          f"no seams at window edges: {steps[edges]} vs typical {inside.mean()}")
check(run("infer", "--model", single, "--input", image, "--out", out / "bad", "--window", "20,16,16").returncode == 2,
      "a window that is not a multiple of 16 exits 2")

# TorchScript exports: with gates and metadata, and without either.
ts = zoo.parent / "torchscript"
r = run("infer", "--model", ts / "gated.pt", "--input", image, "--out", out / "ts_gated", "--quiet")
check(r.returncode == 0, f"TorchScript with gates: {r.stderr}")
if r.returncode == 0:
    report = json.loads((out / "ts_gated" / "infer.json").read_text())
    check(report["model"]["name"] == "gated export" and report["model"]["labels"]["2"] == "tumour", "metadata")
    check(sorted(g["name"] for g in report["gates"]) == ["attentionblock2", "attentionblock3", "attentionblock4"],
          "TorchScript gates written")
r = run("infer", "--model", ts / "plain.pt", "--input", image, "--out", out / "ts_plain", "--quiet")
check(r.returncode == 0 and json.loads((out / "ts_plain" / "infer.json").read_text())["gates"] == [],
      f"TorchScript without gates: {r.stderr}")
check(run("infer", "--model", ts / "plain.pt", "--input", image, "--out", out / "bad", "--gates", "attentionblock2").returncode == 2,
      "naming a gate of a model without gates exits 2")

# Errors: exit 2 for bad usage, 1 for a checkpoint that does not fit; nothing half-written.
two_channel = out / "multi3d_input.nii.gz"
check(run("infer", "--model", single, "--input", two_channel, "--out", out / "bad").returncode == 2,
      "wrong channel count exits 2")
check(run("infer", "--model", single, "--input", out / "single3d_input.nii.gz", "--out", out / "bad", "--gates", "nope").returncode == 2,
      "unknown gate exits 2")
if not torch.cuda.is_available():
    check(run("infer", "--model", single, "--input", out / "single3d_input.nii.gz", "--out", out / "bad",
              "--device", "cpu", "--precision", "fp16").returncode == 2, "fp16 autocast on the CPU exits 2")
    r = run("infer", "--model", single, "--input", out / "single3d_input.nii.gz", "--out", out / "bad", "--device", "cuda")
    check(r.returncode == 2 and "CUDA" in r.stderr, "--device cuda without a GPU exits 2 and says why")
broken = json.loads((zoo / "broken.json").read_text())
broken["weights"] = str((zoo / "broken.pth").resolve())
(out / "broken.json").write_text(json.dumps(broken))
r = run("infer", "--model", out / "broken.json", "--input", out / "single3d_input.nii.gz", "--out", out / "bad")
check(r.returncode == 1 and "missing key" in r.stderr and len(r.stderr.strip().splitlines()) <= 2, f"broken checkpoint: {r.stderr}")
check(not any((out / "bad").glob("*.nii.gz")), "no outputs after errors")

cli.finish()
