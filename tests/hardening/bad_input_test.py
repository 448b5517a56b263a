#!/usr/bin/python3
"""The bad-input matrix: crafted damaged, hostile or inconsistent inputs across the commands.

Every case must end with the documented exit code (1: a bad input file, 2: bad usage), exactly one
line on stderr that names the offending file (or field), no "internal error", within a time limit
(no hang), and nothing left in the output folder. The inputs are written here with nibabel, PyTorch
and plain byte surgery; docs/reliability.md lists the matrix.

Usage: bad_input_test.py GATESCOPE ZOO_DIR TORCHSCRIPT_DIR OUT_DIR [CASE...]
"""
import gzip
import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[4])
gatescope, out, failures = cli.gatescope, cli.out, cli.failures
zoo, ts_dir = Path(sys.argv[2]), Path(sys.argv[3])
only = set(sys.argv[5:])
inputs = out / "inputs"
inputs.mkdir()
cases = []


def case(name, args, code, names, out_dir=None, timeout=60, contains=None):
    """A run of gatescope that must fail cleanly. `names`: text the error line must hold (the file)."""
    cases.append((name, [str(a) for a in args], code, names, out_dir, timeout, contains))


# -- valid material the damaged inputs start from ------------------------------------------------
rng = np.random.default_rng(5)
affine = np.diag([0.8, 0.8, 2.0, 1.0])
image = rng.normal(size=(32, 32, 16)).astype(np.float32)
labels = np.zeros((32, 32, 16), np.uint8)
labels[8:20, 10:22, 4:10] = 1
nib.save(nib.Nifti1Image(image, affine), inputs / "image.nii.gz")
nib.save(nib.Nifti1Image(labels, affine), inputs / "labels.nii.gz")
nib.save(nib.Nifti1Image(labels, affine), inputs / "labels.nii")

models = out / "models"
models.mkdir()
shutil.copy(zoo / "single3d.pth", models / "single3d.pth")
manifest = json.loads((zoo / "single3d.json").read_text())
manifest["weights"] = "single3d.pth"
manifest["preprocessing"] = {"normalize": "zscore", "pad_to_multiple": 16}
(models / "good.json").write_text(json.dumps(manifest))


def model_variant(name, **changes):
    m = dict(manifest)
    m.update(changes)
    path = models / f"{name}.json"
    path.write_text(json.dumps(m))
    return path


def infer(model, image_path, name):
    return ["infer", "--model", model, "--input", image_path, "--out", out / "runs" / name, "--device", "cpu",
            "--quiet"]


def deep_json(depth, kind="["):
    close = "]" if kind == "[" else "}"
    opener = "[" if kind == "[" else '{"a":'
    return opener * depth + "1" + close * depth


# -- NIfTI -------------------------------------------------------------------------------------------
big = rng.integers(0, 1000, size=(64, 64, 32)).astype(np.int16)
nib.save(nib.Nifti1Image(big, affine), inputs / "big.nii.gz")
data = bytearray((inputs / "big.nii.gz").read_bytes())
data[len(data) // 2] ^= 0x10  # one flipped bit mid-stream
(inputs / "flipped.nii.gz").write_bytes(bytes(data))
case("nifti_gzip_flipped_byte", ["info", inputs / "flipped.nii.gz"], 1, ["flipped.nii.gz"], contains="gzip")
gz = (inputs / "big.nii.gz").read_bytes()
(inputs / "truncated.nii.gz").write_bytes(gz[: len(gz) * 2 // 3])
case("nifti_gzip_truncated", ["info", inputs / "truncated.nii.gz"], 1, ["truncated.nii.gz"])
# The same data, but the gzip trailer's CRC-32 and length changed: every byte decodes.
(inputs / "bad_crc.nii.gz").write_bytes(gz[:-8] + struct.pack("<II", zlib.crc32(b"x"), 12))
case("nifti_gzip_bad_crc", ["info", inputs / "bad_crc.nii.gz"], 1, ["bad_crc.nii.gz"], contains="gzip")

plain = bytearray((inputs / "labels.nii").read_bytes())


def patched(name, offset, fmt, value):
    b = bytearray(plain)
    struct.pack_into(fmt, b, offset, value)
    (inputs / name).write_bytes(bytes(b))
    return inputs / name


case("nifti1_vox_offset_past_end", ["info", patched("far_offset.nii", 108, "<f", 3e9)], 1, ["far_offset.nii"])
case("nifti1_vox_offset_negative", ["info", patched("negative_offset.nii", 108, "<f", -400.0)], 1,
     ["negative_offset.nii"])
case("nifti1_bitpix_mismatch", ["info", patched("bitpix.nii", 72, "<h", 16)], 1, ["bitpix.nii"], contains="bitpix")
case("nifti1_dim_zero", ["info", patched("dim_zero.nii", 42, "<h", 0)], 1, ["dim_zero.nii"])
(inputs / "short.nii").write_bytes(bytes(plain[: len(plain) - 100]))
case("nifti1_truncated_voxels", ["info", inputs / "short.nii"], 1, ["short.nii"])
(inputs / "header_only.nii").write_bytes(bytes(plain[:200]))
case("nifti1_truncated_header", ["info", inputs / "header_only.nii"], 1, ["header_only.nii"])

n2 = nib.Nifti2Image(labels, affine)
n2.to_filename(inputs / "labels2.nii")
b2 = bytearray((inputs / "labels2.nii").read_bytes())
struct.pack_into("<q", b2, 168, 2 ** 63 - 16)  # vox_offset + size wraps around 64 bits
(inputs / "wrap2.nii").write_bytes(bytes(b2))
case("nifti2_vox_offset_wraps", ["info", inputs / "wrap2.nii"], 1, ["wrap2.nii"])

nan_image = image.copy()
nan_image[3, 4, 5] = np.nan
nib.save(nib.Nifti1Image(nan_image, affine), inputs / "nan_voxel.nii.gz")
case("infer_nan_voxel", infer(models / "good.json", inputs / "nan_voxel.nii.gz", "nan_voxel"), 1,
     ["nan_voxel.nii.gz"], out_dir=out / "runs" / "nan_voxel", contains="NaN")

# -- files that are not regular files -------------------------------------------------------------
fifo = inputs / "fifo.nii"
os.mkfifo(fifo)
case("image_is_fifo", ["info", fifo], 1, ["fifo.nii"], timeout=20, contains="FIFO")
os.mkfifo(models / "fifo.pth")
case("weights_are_fifo", infer(model_variant("fifo_weights", weights="fifo.pth"), inputs / "image.nii.gz",
                               "fifo_weights"), 1, ["fifo.pth"], out_dir=out / "runs" / "fifo_weights", timeout=30)
os.mkfifo(models / "fifo_manifest.json")
case("manifest_is_fifo", infer(models / "fifo_manifest.json", inputs / "image.nii.gz", "fifo_manifest"), 1,
     ["fifo_manifest.json"], out_dir=out / "runs" / "fifo_manifest", timeout=30)
(inputs / "folder.nii.gz").mkdir()
case("image_is_folder", ["info", inputs / "folder.nii.gz"], 1, ["folder.nii.gz"])

# -- PNG -----------------------------------------------------------------------------------------
png = inputs / "gray.png"
from PIL import Image  # noqa: E402
Image.fromarray(rng.integers(0, 255, size=(20, 30), dtype=np.uint8), "L").save(png)
(inputs / "truncated.png").write_bytes(png.read_bytes()[:60])
case("png_truncated", ["info", inputs / "truncated.png"], 1, ["truncated.png"])

# -- model manifests -----------------------------------------------------------------------------
for name, changes, field in [
        ("n_classes_2_40", {"n_classes": 2 ** 40}, "n_classes"),
        ("n_classes_absurd", {"n_classes": 1000000}, "n_classes"),
        ("n_classes_zero", {"n_classes": 0}, "n_classes"),
        ("in_channels_fraction", {"in_channels": 1.5}, "in_channels"),
        ("n_classes_text", {"n_classes": "four"}, "n_classes"),
        ("attention_dsample_zero", {"attention_dsample": [0, 0, 0]}, "attention_dsample"),
        ("attention_dsample_short", {"attention_dsample": [2]}, "attention_dsample"),
        ("unknown_architecture", {"architecture": "unet_magic"}, "unet_magic"),
        ("unknown_key", {"learning_rate": 0.1}, "learning_rate"),
        ("labels_not_values", {"labels": {"one": "liver"}}, "labels")]:
    case(f"manifest_{name}", infer(model_variant(name, **changes), inputs / "image.nii.gz", name), 1,
         [f"{name}.json", field], out_dir=out / "runs" / name)
(models / "deep.json").write_text(deep_json(100000))
case("manifest_nested_100000", infer(models / "deep.json", inputs / "image.nii.gz", "deep"), 1, ["deep.json"],
     out_dir=out / "runs" / "deep", contains="nested")
(models / "not_json.json").write_text("{\"architecture\": ")
case("manifest_not_json", infer(models / "not_json.json", inputs / "image.nii.gz", "not_json"), 1,
     ["not_json.json"], out_dir=out / "runs" / "not_json")
(models / "array.json").write_text("[1, 2]")
case("manifest_not_object", infer(models / "array.json", inputs / "image.nii.gz", "array"), 1, ["array.json"],
     out_dir=out / "runs" / "array")

# -- checkpoints ---------------------------------------------------------------------------------


def nested_pickle(depth, kind):
    """A protocol-2 pickle nested `depth` deep: tuples, lists or dicts."""
    body = io.BytesIO()
    body.write(b"\x80\x02")
    if kind == "tuple":
        body.write(b"N" + b"\x85" * depth)  # TUPLE1 around None, depth times
    elif kind == "list":
        body.write(b"]" * depth + b"a" * (depth - 1))  # EMPTY_LIST x depth, APPEND x depth-1
    else:
        body.write(b"}" + b"K\x00}" * (depth - 1) + b"s" * (depth - 1))  # {0: {0: ...}}
    body.write(b".")
    return body.getvalue()


def zip_checkpoint(path, pickle_bytes):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pickle_bytes)
        z.writestr("archive/version", "3\n")


for kind in ("tuple", "list", "dict"):
    deep = nested_pickle(300000, kind)
    (models / f"deep_{kind}_legacy.pth").write_bytes(deep)
    zip_checkpoint(models / f"deep_{kind}_zip.pth", deep)
    for form in ("legacy", "zip"):
        name = f"deep_{kind}_{form}"
        case(f"checkpoint_nested_{kind}_{form}",
             infer(model_variant(name, weights=f"{name}.pth"), inputs / "image.nii.gz", name), 1, [f"{name}.pth"],
             out_dir=out / "runs" / name)
# A list that contains itself: [L] with L appended into L.
(models / "cycle.pth").write_bytes(b"\x80\x02]q\x00h\x00a.")
case("checkpoint_self_reference", infer(model_variant("cycle", weights="cycle.pth"), inputs / "image.nii.gz",
                                        "cycle"), 1, ["cycle.pth"], out_dir=out / "runs" / "cycle")
state = torch.load(zoo / "single3d.pth")
nan_state = dict(state)
key = "conv1.conv1.0.weight"
nan_state[key] = state[key].clone()
nan_state[key].view(-1)[7] = float("nan")
torch.save(nan_state, models / "nan_weights.pth")
case("checkpoint_nan_weight", infer(model_variant("nan_weights", weights="nan_weights.pth"), inputs / "image.nii.gz",
                                    "nan_weights"), 1, ["nan_weights.pth", key], out_dir=out / "runs" / "nan_weights")
var_key = next(k for k in state if k.endswith("running_var"))
negative = dict(state)
negative[var_key] = -state[var_key].abs() - 0.5
torch.save(negative, models / "negative_var.pth")
case("checkpoint_negative_variance", infer(model_variant("negative_var", weights="negative_var.pth"),
                                           inputs / "image.nii.gz", "negative_var"), 1,
     ["negative_var.pth", var_key], out_dir=out / "runs" / "negative_var")
# Finite weights so large that the activations overflow: the prediction is refused, not written as
# all-background labels from NaN probabilities.
huge = dict(state)
huge[key] = torch.full_like(state[key], 1e38)  # each finite, their sums are not
torch.save(huge, models / "overflowing.pth")
case("prediction_non_finite", infer(model_variant("overflowing", weights="overflowing.pth"), inputs / "image.nii.gz",
                                    "overflowing"), 1, ["overflowing.json", "non-finite"],
     out_dir=out / "runs" / "overflowing")
(models / "text.pth").write_text("this is not a checkpoint\n")
case("checkpoint_text", infer(model_variant("text", weights="text.pth"), inputs / "image.nii.gz", "text"), 1,
     ["text.pth"], out_dir=out / "runs" / "text")
whole = (zoo / "single3d.pth").read_bytes()
(models / "truncated.pth").write_bytes(whole[: len(whole) // 2])
case("checkpoint_truncated", infer(model_variant("truncated", weights="truncated.pth"), inputs / "image.nii.gz",
                                   "truncated"), 1, ["truncated.pth"], out_dir=out / "runs" / "truncated")

# -- TorchScript ---------------------------------------------------------------------------------


class FiveClasses(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(1, 5, 1)

    def forward(self, x):
        return self.conv(x)


class Raises(torch.nn.Module):
    def forward(self, x):
        if x.sum() > -1e30:
            raise ValueError("this model refuses every input")
        return x


class WrongGate(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv3d(1, 3, 1)

    def forward(self, x):
        return {"logits": self.conv(x), "gate/g1": x[:, :, :5, :5, :5]}


def script(module, name, meta=None):
    path = models / f"{name}.pt"
    extra = {"gatescope.json": meta if isinstance(meta, str) else json.dumps(meta)} if meta is not None else {}
    torch.jit.save(torch.jit.script(module), str(path), _extra_files=extra)
    return path


ts_cases = [
    ("ts_classes_mismatch", FiveClasses(), {"n_classes": 3}, "5 classes"),
    ("ts_n_classes_zero", FiveClasses(), {"n_classes": 0}, "n_classes"),
    ("ts_size_multiple_zero", FiveClasses(), {"n_classes": 5, "size_multiple": [0, 0, 0]}, "size_multiple"),
    ("ts_gates_wrong_type", FiveClasses(), {"n_classes": 5, "gates": 3}, "gates"),
    ("ts_gate_without_name", FiveClasses(), {"n_classes": 5, "gates": [{"stride": [2, 2, 2]}]}, "gates[0].name"),
    ("ts_labels_wrong", FiveClasses(), {"n_classes": 5, "labels": {"x": 1}}, "labels"),
    ("ts_metadata_deep", FiveClasses(), deep_json(50000, "{"), "nested"),
    ("ts_raises", Raises(), None, "refuses every input"),
    ("ts_gate_shape", WrongGate(), {"n_classes": 3, "gates": ["g1"]}, "gate/g1"),
]
for name, module, meta, needle in ts_cases:
    path = script(module, name, meta)
    case(name, infer(path, inputs / "image.nii.gz", name), 1, [f"{name}.pt"], out_dir=out / "runs" / name,
         contains=needle)
stride_zero = script(FiveClasses(), "ts_stride_zero", {"n_classes": 5, "gates": [{"name": "g", "stride": [0, 0, 0]}]})
case("ts_gate_stride_zero_window", infer(stride_zero, inputs / "image.nii.gz", "ts_stride_zero") +
     ["--window", "16,16,16"], 1, ["ts_stride_zero.pt", "stride"], out_dir=out / "runs" / "ts_stride_zero")

# -- datasets and evaluation ---------------------------------------------------------------------
msd = out / "msd"
(msd / "imagesTr").mkdir(parents=True)
(msd / "labelsTr").mkdir()
for n in range(2):
    nib.save(nib.Nifti1Image(image, affine), msd / "imagesTr" / f"case_{n}.nii.gz")
    nib.save(nib.Nifti1Image(labels, affine), msd / "labelsTr" / f"case_{n}.nii.gz")
good_dataset = {"name": "bad inputs", "labels": {"0": "background", "1": "organ"}, "numTraining": 2,
                "training": [{"image": f"./imagesTr/case_{n}.nii.gz", "label": f"./labelsTr/case_{n}.nii.gz"}
                             for n in range(2)]}
(msd / "dataset.json").write_text(json.dumps(good_dataset))
for depth in (50000, 100000):
    folder = out / f"deep_dataset_{depth}"
    shutil.copytree(msd, folder)
    (folder / "dataset.json").write_text(deep_json(depth))
    case(f"dataset_json_nested_{depth}", ["evaluate", "--model", models / "good.json", "--dataset", folder,
                                          "--split", "training", "--out", out / "runs" / f"deep_dataset_{depth}",
                                          "--quiet", "--device", "cpu"], 1, ["dataset.json"],
         out_dir=out / "runs" / f"deep_dataset_{depth}", contains="nested")
bad_labels = out / "bad_labels_dataset"
shutil.copytree(msd, bad_labels)
(bad_labels / "dataset.json").write_text(json.dumps(dict(good_dataset, labels={"background": 0, "organ": 2 ** 40})))
case("dataset_json_label_2_40", ["evaluate", "--model", models / "good.json", "--dataset", bad_labels, "--split",
                                 "training", "--out", out / "runs" / "bad_labels", "--quiet", "--device", "cpu"], 1,
     ["dataset.json", "organ"], out_dir=out / "runs" / "bad_labels")

# -- compare -------------------------------------------------------------------------------------
evaluated = out / "evaluated"
res = subprocess.run([gatescope, "evaluate", "--model", str(models / "good.json"), "--dataset", str(msd), "--split",
                      "training", "--out", str(evaluated), "--quiet", "--device", "cpu"],
                     capture_output=True, text=True, timeout=300)
if res.returncode != 0:
    failures.append(f"the evaluation the compare cases start from failed: {res.stderr}")
else:
    report = json.loads((evaluated / "report.json").read_text())
    duplicated = json.loads(json.dumps(report))
    duplicated["cases"].append(duplicated["cases"][0])
    (inputs / "duplicated.json").write_text(json.dumps(duplicated))
    case("compare_duplicated_case", ["compare", inputs / "duplicated.json", evaluated / "report.json", "--out",
                                     out / "runs" / "duplicated"], 1, ["duplicated.json", "case_0"],
         out_dir=out / "runs" / "duplicated")
    text_metric = json.loads(json.dumps(report))
    text_metric["cases"][1]["models"]["A"]["labels"]["1"]["dice"] = "high"
    (inputs / "text_metric.json").write_text(json.dumps(text_metric))
    case("compare_text_metric", ["compare", evaluated / "report.json", inputs / "text_metric.json", "--out",
                                 out / "runs" / "text_metric"], 1, ["text_metric.json", "dice"],
         out_dir=out / "runs" / "text_metric")
    (inputs / "deep_report.json").write_text(deep_json(100000, "{"))
    case("compare_deep_report", ["compare", evaluated / "report.json", inputs / "deep_report.json", "--out",
                                 out / "runs" / "deep_report"], 1, ["deep_report.json"],
         out_dir=out / "runs" / "deep_report")
    no_models = dict(report)
    no_models["models"] = []
    (inputs / "no_models.json").write_text(json.dumps(no_models))
    case("compare_models_not_object", ["compare", evaluated / "report.json", inputs / "no_models.json", "--out",
                                       out / "runs" / "no_models"], 1, ["no_models.json", "models"],
         out_dir=out / "runs" / "no_models")

# -- metrics -------------------------------------------------------------------------------------
case("metrics_json_into_missing_folder", ["metrics", "--reference", inputs / "labels.nii.gz", "--prediction",
                                          inputs / "labels.nii.gz", "--json", out / "no" / "such" / "m.json"], 2,
     ["no/such"])
nib.save(nib.Nifti1Image(labels, np.diag([0.8, 0.8, 2.5, 1.0])), inputs / "other_spacing.nii.gz")
case("metrics_different_grids", ["metrics", "--reference", inputs / "labels.nii.gz", "--prediction",
                                 inputs / "other_spacing.nii.gz"], 1, ["other_spacing.nii.gz", "spacing"])

# -- training ------------------------------------------------------------------------------------
(inputs / "deep_train.json").write_text(deep_json(100000))
# A training configuration that is not valid is bad usage of train (exit 2, docs/cli.md).
case("train_config_nested", ["train", "--config", inputs / "deep_train.json", "--out", out / "runs" / "train"], 2,
     ["deep_train.json"], out_dir=out / "runs" / "train")

# -- run the matrix ------------------------------------------------------------------------------
ran = 0
for name, args, code, names, out_dir, timeout, contains in cases:
    if only and name not in only:
        continue
    ran += 1
    try:
        r = subprocess.run([gatescope, *args], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        failures.append(f"{name}: no answer within {timeout} s (hangs)")
        continue
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    problems = []
    if r.returncode != code:
        problems.append(f"exit {r.returncode}, expected {code}")
    if len(lines) != 1:
        problems.append(f"{len(lines)} stderr lines, expected 1")
    text = r.stderr.strip()
    for needle in names:
        if needle not in text:
            problems.append(f"the error does not name {needle!r}")
    if contains and contains not in text:
        problems.append(f"the error does not say {contains!r}")
    if "internal error" in text or "json.exception" in text or len(text) > 600:
        problems.append("not a clean one-line error")
    if out_dir is not None and out_dir.exists() and any(out_dir.iterdir()):
        problems.append(f"left files in {out_dir}: {sorted(p.name for p in out_dir.iterdir())}")
    if problems:
        failures.append(f"{name}: {'; '.join(problems)} -- stderr: {text[:400]!r}")

print(f"{ran} bad inputs")
cli.check(ran >= (1 if only else 40), f"only {ran} bad inputs ran")
cli.finish()
