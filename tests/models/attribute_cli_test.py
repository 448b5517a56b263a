#!/usr/bin/python3
"""`gatescope attribute` end to end against PyTorch autograd on the reference networks
(tests/fixtures/zoo_reference.py): z-score and padding to a multiple of 16 as a prediction does, the
score's region kept off the padding, maps cropped back to the image with its geometry, every class
on the 4th axis, region predicted / all / reference, TorchScript exports (input methods, and layer
methods through "feature/<name>" outputs), --list-layers, and errors.

Usage: attribute_cli_test.py GATESCOPE ZOO_DIR OUT_DIR
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
out, check, run = cli.out, cli.check, cli.run
zoo = Path(sys.argv[2])
STEPS, PATCH, STRIDE = 4, 8, 6


def close_to_reference(got, want, what, tol=1e-4):
    """Within `tol` of the reference's largest magnitude, as docs/attribution.md promises."""
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    if got.shape != want.shape:
        check(False, f"{what}: shape {got.shape}, expected {want.shape}")
        return
    scale = max(np.max(np.abs(want)), 1e-12)
    error = np.max(np.abs(got - want)) / scale
    check(error < tol, f"{what}: largest difference {error:.2e} of the reference's maximum")


def on_image(t, crop, dim):
    """(1, spatial) map on the padded grid -> the image's part as gatescope writes it (i, j, k)."""
    a = t[(0,) + tuple(slice(0, c) for c in crop)].detach().numpy()
    return a[:, :, None] if dim == 2 else a


affine = np.array([[0.0, -0.9, 0.0, 12.5], [0.8, 0.0, 0.0, -40.0], [0.0, 0.0, 2.5, 7.25], [0, 0, 0, 1]])
entries = {e["name"]: e for e in json.loads((zoo / "zoo.json").read_text())}


def prepared(name, shrink):
    """The fixture network, its input cropped to sizes that are not multiples of 16, written as a
    NIfTI image, and the reference preprocessing (z-score, zero padding at the end)."""
    entry = entries[name]
    manifest = json.loads((zoo / entry["manifest"]).read_text())
    model = zoo_reference.build(manifest)
    model.load_state_dict(torch.load(zoo / manifest["weights"]))
    model.eval()
    x = torch.from_numpy(np.fromfile(zoo / entry["input"]["file"], "<f4").reshape(entry["input"]["shape"]))
    crop = tuple(max(1, n - d) for n, d in zip(x.shape[2:], shrink))
    x = x[(slice(None), slice(None)) + tuple(slice(0, c) for c in crop)]
    dims = tuple(range(2, x.dim()))
    mean, std = x.mean(dim=dims, keepdim=True), x.std(dim=dims, keepdim=True, unbiased=False)
    padded = [(n + 15) // 16 * 16 for n in crop]
    pad = []
    for n, p in reversed(list(zip(crop, padded))):
        pad += [0, p - n]
    xin = F.pad((x - mean) / std, pad)
    manifest["weights"] = str((zoo / manifest["weights"]).resolve())
    manifest["preprocessing"] = {"normalize": "zscore", "pad_to_multiple": 16}
    manifest_path = out / f"{name}.json"
    manifest_path.write_text(json.dumps(manifest))
    volume = np.moveaxis(x[0].numpy(), 0, -1)
    if volume.ndim == 3 and len(crop) == 2:
        volume = volume[:, :, None, :]
    image = out / f"{name}_input.nii.gz"
    nib.save(nib.Nifti1Image((volume[..., 0] if volume.shape[-1] == 1 else volume).astype(np.float32), affine),
             image)
    return model, manifest_path, image, xin, crop, len(crop)


def check_run(name, result):
    check(result.returncode == 0, f"{name}: exit {result.returncode}: {result.stderr.strip()[-400:]}")
    return result.returncode == 0


# Every class on the 4th axis, on a gated 3D, an ungated 3D and a 2D network; every method on the
# last two (the gated network's integrated gradients and occlusion are checked by the models tests).
ALL = "gradcam,hirescam,gradient,gradient_x_input,integrated_gradients,occlusion"
for name, shrink, layers, methods in [
        ("single3d", (3, 5, 2), ["conv2", "conv3", "attentionblock2"], "gradcam,hirescam,gradient,gradient_x_input"),
        ("dsv3d", (5, 1, 3), ["conv3", "conv4"], ALL),
        ("single2d_debug", (7, 4), ["conv2", "up_concat2"], ALL)]:
    model, manifest, image, xin, crop, dim = prepared(name, shrink)
    classes = json.loads(manifest.read_text())["n_classes"]
    target = out / name
    if not check_run(name, run("attribute", "--model", manifest, "--input", image, "--out", target,
                               "--method", methods, "--layers", ",".join(layers), "--class", "all",
                               "--steps", STEPS, "--patch", PATCH, "--stride", STRIDE, "--device", "cpu",
                               "--quiet")):
        continue
    report = json.loads((target / "attribute.json").read_text())
    check(report["classes"] == list(range(classes)), f"{name}: classes {report['classes']}")
    check(report["layers"] == layers, f"{name}: layers {report['layers']}")
    by_key = {m["key"]: m for m in report["maps"]}
    expected_keys = {f"{m}@{l}" if m in ("gradcam", "hirescam") else f"{m}@input"
                     for m in methods.split(",") for l in layers}
    check(set(by_key) == expected_keys, f"{name}: maps {sorted(by_key)}")
    references = [zoo_reference.attribution_reference(model, xin, c, layers, "predicted", STEPS, extent=list(crop),
                                                      occlusion=(PATCH, STRIDE)) for c in range(classes)]
    for key, entry in by_key.items():
        if key not in expected_keys:
            continue
        method, layer = key.split("@")
        ref_key = method if layer == "input" else key
        written = nib.load(str(target / entry["file"]))
        check(np.allclose(written.affine, affine, atol=1e-5), f"{name} {key}: geometry")
        data = written.get_fdata()
        check(data.shape == tuple(crop) + ((1,) if dim == 2 else ()) + (classes,),
              f"{name} {key}: shape {data.shape}")
        if data.shape[-1] != classes:
            continue
        for c, (maps, used, completeness) in enumerate(references):
            check(entry["regions"][c] == used, f"{name} {key} class {c}: region {entry['regions'][c]} != {used}")
            tol = 1e-3 if method == "occlusion" else 1e-4
            close_to_reference(data[..., c], on_image(maps[ref_key][1], crop, dim), f"{name} {key} class {c}", tol)
            if method == "integrated_gradients":
                check(abs(entry["completeness_errors"][c] - completeness) < 1e-3 * max(1.0, completeness),
                      f"{name} class {c}: completeness {entry['completeness_errors'][c]} != {completeness}")
            if layer != "input":
                native = nib.load(str(target / entry["native_file"]))
                want = maps[ref_key][0]
                stride = [p // a for p, a in zip(xin.shape[2:], want.shape[1:])]
                covered = [(n + s - 1) // s for n, s in zip(crop, stride)]
                close_to_reference(native.get_fdata()[..., c], on_image(want, covered, dim),
                                   f"{name} {key} class {c} native")
                centre = affine[:3, :3] @ (np.array(stride + [1] * (3 - dim)) - 1) / 2 + affine[:3, 3]
                check(np.allclose(native.affine[:3, 3], centre, atol=1e-4), f"{name} {key}: native origin")

# Sliding windows: each window explains the score over its part of the (blended) prediction's region,
# maps blended with the prediction's Gaussian weights; against the same computation in PyTorch.
for name, shrink, window, layers, methods, classes in [
        ("single2d_debug", (7, 4), [32, 32], ["conv2", "up_concat2"],
         "gradcam,gradient_x_input,integrated_gradients,occlusion", "all"),
        ("single3d", (3, 5, 2), [16, 16, 16], ["conv3"], "gradcam,gradient", "1")]:
    model, manifest, image, xin, crop, dim = prepared(name, shrink)
    target = out / f"{name}_windows"
    if not check_run(f"{name} windows",
                     run("attribute", "--model", manifest, "--input", image, "--out", target, "--method", methods,
                         "--layers", ",".join(layers), "--class", classes, "--steps", STEPS, "--patch", PATCH,
                         "--stride", STRIDE, "--window", ",".join(map(str, window)), "--overlap", "0.5",
                         "--device", "cpu", "--quiet")):
        continue
    report = json.loads((target / "attribute.json").read_text())
    check(report["settings"]["window"] == window and "sliding windows" in report["values"],
          f"{name} windows: settings {report['settings']}")
    x = xin[(slice(None), slice(None)) + tuple(slice(0, n) for n in crop)]
    for entry in report["maps"]:
        method, layer = entry["key"].split("@")
        ref_key = method if layer == "input" else entry["key"]
        data = nib.load(str(target / entry["file"])).get_fdata()
        if dim == 3 and data.ndim == 3:
            data = data[..., None]
        for n, c in enumerate(report["classes"]):
            maps, used, completeness = zoo_reference.windowed_attribution_reference(
                model, x, c, layers, window, 0.5, [16] * dim, STEPS, (PATCH, STRIDE))
            what = f"{name} windows {entry['key']} class {c}"
            check(entry["regions"][n] == used, f"{what}: region {entry['regions'][n]} != {used}")
            close_to_reference(data[..., n], on_image(maps[ref_key][1], crop, dim), what,
                               1e-3 if method == "occlusion" else 1e-4)
            if method == "integrated_gradients":
                check(abs(entry["completeness_errors"][n] - completeness) < 1e-3 * max(1.0, completeness),
                      f"{what}: completeness {entry['completeness_errors'][n]} != {completeness}")
            if layer != "input":
                native = nib.load(str(target / entry["native_file"])).get_fdata()
                if dim == 3 and native.ndim == 3:
                    native = native[..., None]
                want = maps[ref_key][0]  # the voxels covering the image
                close_to_reference(native[..., n], on_image(want, want.shape[1:], dim), f"{what} native")

# Region reference: where a label file equals the class.
model, manifest, image, xin, crop, dim = prepared("single3d", (3, 5, 2))
rng = np.random.default_rng(5)
labels = np.zeros(crop, np.uint8)
labels[2:12, 4:20, 1:8] = 2
labels[14:24, 10:22, 3:12] = 1
nib.save(nib.Nifti1Image(labels, affine), out / "reference.nii.gz")
if check_run("reference", run("attribute", "--model", manifest, "--input", image, "--out", out / "reference",
                              "--method", "gradcam,gradient_x_input", "--class", "2",
                              "--region", f"reference:{out / 'reference.nii.gz'}", "--device", "cpu", "--quiet")):
    padded_labels = torch.zeros((1,) + tuple(xin.shape[2:]))
    padded_labels[(0,) + tuple(slice(0, c) for c in crop)] = torch.from_numpy(labels).float()
    maps, used, _ = zoo_reference.attribution_reference(model, xin, 2, ["conv2", "conv3", "conv4"], "reference",
                                                        STEPS, extent=list(crop), reference=padded_labels)
    report = json.loads((out / "reference" / "attribute.json").read_text())
    check(report["layers"] == ["conv2", "conv3", "conv4"], f"default layers: {report['layers']}")
    for entry in report["maps"]:
        ref_key = entry["method"] if entry["layer"] == "input" else entry["key"]
        check(entry["regions"] == ["reference"], f"reference: region {entry['regions']}")
        close_to_reference(nib.load(str(out / "reference" / entry["file"])).get_fdata(),
                           on_image(maps[ref_key][1], crop, dim), f"reference {entry['key']}")

# TorchScript: input methods on any export; layer methods through "feature/<name>" outputs.


class Featured(torch.nn.Module):
    def __init__(self, net, layers):
        super().__init__()
        self.net, self.layers = net, layers

    def forward(self, x):
        acts = {}
        handles = [getattr(self.net, n).register_forward_hook(
            lambda m, i, o, n=n: acts.__setitem__(n, o[0] if isinstance(o, tuple) else o)) for n in self.layers]
        logits, _ = self.net(x)
        for h in handles:
            h.remove()
        return dict({"logits": logits}, **{"feature/" + n: a for n, a in acts.items()})


traced = torch.jit.trace(Featured(model, ["conv3", "conv4"]), xin, strict=False)
metadata = {"name": "featured", "in_channels": 1, "n_classes": 4, "tensor_dim": "3D",
            "preprocessing": {"normalize": "zscore", "pad_to_multiple": 16}}
torch.jit.save(traced, str(out / "featured.pt"), _extra_files={"gatescope.json": json.dumps(metadata)})
listed = run("attribute", "--list-layers", "--model", out / "featured.pt")
check(listed.returncode == 0 and "conv3" in listed.stdout and "conv4" in listed.stdout and
      "4x4x4" in listed.stdout, f"TorchScript --list-layers: {listed.stdout} {listed.stderr}")
if check_run("torchscript", run("attribute", "--model", out / "featured.pt", "--input", image, "--out",
                                out / "featured", "--method", "gradcam,gradient", "--class", "1", "--quiet")):
    maps, used, _ = zoo_reference.attribution_reference(model, xin, 1, ["conv3", "conv4"], "predicted", STEPS,
                                                        extent=list(crop))
    report = json.loads((out / "featured" / "attribute.json").read_text())
    check({m["key"] for m in report["maps"]} == {"gradcam@conv3", "gradcam@conv4", "gradient@input"},
          f"TorchScript maps: {[m['key'] for m in report['maps']]}")
    for entry in report["maps"]:
        ref_key = entry["method"] if entry["layer"] == "input" else entry["key"]
        close_to_reference(nib.load(str(out / "featured" / entry["file"])).get_fdata(),
                           on_image(maps[ref_key][1], crop, dim), f"TorchScript {entry['key']}")

# --list-layers on a native model: names, channels, strides, the default layers marked.
listed = run("attribute", "--list-layers", "--model", manifest)
seen = {}
hook = model.conv3.register_forward_hook(lambda m, i, o: seen.__setitem__("conv3", o))
with torch.no_grad():
    model(xin)
hook.remove()
lines = {line.split()[0]: line.split()[1:] for line in listed.stdout.splitlines()[1:] if line.strip()}
check(lines.get("conv3", [None])[0] == str(seen["conv3"].shape[1]) and lines["conv3"][1] == "4x4x4"
      and "(default)" in lines["conv3"] and "(default)" not in lines.get("center", []),
      f"--list-layers: {listed.stdout}")

# Errors: one line naming the problem, exit 2, nothing written.
for args, expect in [
        (["--method", "gradcam", "--layers", "conv9"], "no layer 'conv9'"),
        (["--method", "sharpness"], "unknown method 'sharpness'"),
        (["--method", "gradient@conv2"], "takes no layers"),
        (["--class", "7"], "classes 0-3"),
        (["--class", "one"], "expected a class number or all"),
        (["--region", "elsewhere"], "expected predicted, all or reference:FILE"),
        (["--region", f"reference:{out / 'missing.nii.gz'}"], "no such label image"),
        (["--steps", "0", "--method", "integrated_gradients"], "--steps"),
]:
    target = out / "refused"
    r = run("attribute", "--model", manifest, "--input", image, "--out", target, "--quiet", *args)
    check(r.returncode == 2 and expect in r.stderr and len(r.stderr.strip().splitlines()) == 1,
          f"{args}: exit {r.returncode}, {r.stderr!r}")
    check(not target.exists(), f"{args}: wrote {target}")
plain = out / "plain.pt"
torch.jit.save(torch.jit.script(torch.nn.Conv3d(1, 2, 3, padding=1).eval()), str(plain))
r = run("attribute", "--model", plain, "--input", image, "--out", out / "refused", "--method", "gradcam", "--quiet")
check(r.returncode == 2 and "no named layers" in r.stderr, f"layer method without layers: {r.stderr!r}")
mismatched = out / "mismatched.nii.gz"
nib.save(nib.Nifti1Image(labels[:-1], affine), mismatched)
r = run("attribute", "--model", manifest, "--input", image, "--out", out / "refused", "--quiet",
        "--region", f"reference:{mismatched}")
check(r.returncode != 0 and "grid differs" in r.stderr, f"mismatched reference: {r.stderr!r}")

cli.finish()
