#!/usr/bin/python3
"""Seed corpora for the fuzz targets: small valid inputs of every kind each reader accepts, written
by the libraries users write them with (nibabel, Pillow, torch.save) and from the project's own
examples. The output is committed as tests/fuzz/corpus/<target>/; findings are added beside.

Usage: make_seeds.py OUT_DIR      (Debian's /usr/bin/python3 with nibabel, Pillow, torch)
"""
import collections
import hashlib
import io
import json
import pickle
import shutil
import sys
import zipfile
from pathlib import Path

import nibabel as nib
import numpy as np
import torch
from PIL import Image

out = Path(sys.argv[1])
root = Path(__file__).resolve().parents[2]
rng = np.random.default_rng(1)


def folder(name):
    path = out / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# NIfTI: NIfTI-1 and -2, plain and gzip, integer/float, scaled, 4D, big-endian.
d = folder("nifti")
affine = np.diag([0.8, 0.7, 2.5, 1.0])
nib.save(nib.Nifti1Image(rng.integers(0, 4, (6, 5, 4)).astype(np.uint8), affine), d / "labels.nii")
nib.save(nib.Nifti1Image(rng.normal(size=(6, 5, 4)).astype(np.float32), affine), d / "image.nii.gz")
nib.save(nib.Nifti2Image(rng.integers(-50, 50, (4, 3, 2)).astype(np.int16), affine), d / "nifti2.nii")
scaled = nib.Nifti1Image(rng.integers(0, 100, (4, 4, 3)).astype(np.int16), affine)
scaled.header.set_slope_inter(0.5, -10)
nib.save(scaled, d / "scaled.nii")
nib.save(nib.Nifti1Image(rng.normal(size=(3, 3, 2, 2)).astype(np.float64), affine), d / "four_d.nii.gz")
big = nib.Nifti1Image(rng.integers(0, 9, (3, 4, 2)).astype(np.int32), affine,
                      nib.Nifti1Header(endianness=">"))
nib.save(big, d / "big_endian.nii")

# PNG: gray 8/16 bit, RGB, palette, gray + alpha, RGBA, 1 bit.
d = folder("png")
Image.fromarray(rng.integers(0, 256, (5, 7), dtype=np.uint8), "L").save(d / "gray8.png")
Image.fromarray(rng.integers(0, 65536, (4, 3)).astype(np.int32), "I").convert("I;16").save(d / "gray16.png")
Image.fromarray(rng.integers(0, 256, (4, 5, 3), dtype=np.uint8), "RGB").save(d / "rgb.png")
palette = Image.fromarray(rng.integers(0, 4, (5, 5), dtype=np.uint8), "P")
palette.putpalette([0, 0, 0, 255, 0, 0, 0, 255, 0, 0, 0, 255])
palette.save(d / "palette.png")
Image.fromarray(rng.integers(0, 256, (3, 4, 2), dtype=np.uint8), "LA").save(d / "gray_alpha.png")
Image.fromarray(rng.integers(0, 256, (3, 4, 4), dtype=np.uint8), "RGBA").save(d / "rgba.png")
Image.fromarray(rng.random((6, 6)) > 0.5).save(d / "one_bit.png")

# Checkpoints: torch.save of state dicts, zip and legacy formats.
state = collections.OrderedDict([("conv.weight", torch.randn(2, 1, 3, 3)), ("conv.bias", torch.randn(2)),
                                 ("bn.running_var", torch.rand(2)), ("bn.num_batches_tracked", torch.tensor(3))])
state._metadata = collections.OrderedDict([("", {"version": 1})])
d = folder("checkpoint")
torch.save(state, d / "state_zip.pth")
torch.save(state, d / "state_legacy.pth", _use_new_zipfile_serialization=False)
torch.save({"epoch": 3, "state_dict": state}, d / "wrapped_zip.pth")
torch.save(torch.randn(3).double(), d / "tensor_legacy.pth", _use_new_zipfile_serialization=False)

d = folder("zip")
shutil.copy(out / "checkpoint" / "state_zip.pth", d / "state.zip")
shutil.copy(out / "checkpoint" / "wrapped_zip.pth", d / "wrapped.zip")
with zipfile.ZipFile(d / "deflated.zip", "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("archive/data.pkl", pickle.dumps({"a": 1}, protocol=2))

d = folder("unpickler")
with zipfile.ZipFile(out / "checkpoint" / "state_zip.pth") as z:
    (d / "state_data.pkl").write_bytes(z.read(next(n for n in z.namelist() if n.endswith("data.pkl"))))
for protocol in (0, 1, 2, 4):
    value = {"list": [1, 2.5, "x", None, True], "tuple": (1, (2, (3,))), "nested": {"a": {"b": [b"bytes"]}},
             "big": 2 ** 70, "negative": -5}
    (d / f"protocol{protocol}.pkl").write_bytes(pickle.dumps(value, protocol=protocol))
(d / "ordered.pkl").write_bytes(pickle.dumps(collections.OrderedDict([("k", 1)]), protocol=2))

# JSON readers.
d = folder("manifest")
for path in sorted((root / "data" / "demo" / "models").glob("*/model.json")):
    shutil.copy(path, d / f"{path.parent.name}.json")
(d / "full.json").write_text(json.dumps({
    "name": "AttUNet", "architecture": "unet_ct_multi_att_dsv", "tensor_dim": "2D", "weights": "w.pth",
    "in_channels": 2, "n_classes": 3, "feature_scale": 8, "attention_dsample": [2, 2],
    "nonlocal_mode": "concatenation_debug", "upsample_align_corners": True,
    "preprocessing": {"normalize": "none", "pad_to_multiple": 32}, "labels": {"0": "bg", "1": "a", "2": "b"}}))

d = folder("torchscript_metadata")
(d / "objects.json").write_text(json.dumps({
    "name": "export", "in_channels": 1, "n_classes": 3, "tensor_dim": "3D", "labels": {"0": "bg", "1": "liver"},
    "preprocessing": {"normalize": "zscore", "pad_to_multiple": 16}, "upsample_align_corners": False,
    "size_multiple": [16, 16, 8], "gates": [{"name": "g2", "stride": [2, 2, 2], "level": 2}, {"name": "g3"}]}))
(d / "names.json").write_text(json.dumps({"n_classes": 2, "tensor_dim": "2D", "gates": ["g1", "g2"]}))

d = folder("dataset_json")
(d / "msd.json").write_text(json.dumps({
    "name": "Task03_Liver", "labels": {"0": "background", "1": "liver", "2": "cancer"},
    "modality": {"0": "CT"}, "numTraining": 2, "numTest": 1,
    "training": [{"image": "./imagesTr/liver_0.nii.gz", "label": "./labelsTr/liver_0.nii.gz"},
                 {"image": "./imagesTr/liver_1.nii.gz", "label": "./labelsTr/liver_1.nii.gz"}],
    "test": ["./imagesTs/liver_9.nii.gz"]}))
(d / "nnunet_v2.json").write_text(json.dumps({
    "channel_names": {"0": "T2", "1": "ADC"}, "labels": {"background": 0, "PZ": 1, "TZ": 2},
    "numTraining": 2, "file_ending": ".nii.gz"}))

d = folder("report")
labels = {"status": "ok", "dice": 0.8, "jaccard": 0.66, "precision": 0.9, "recall": 0.75, "hd_mm": 4.0,
          "hd95_mm": "inf", "assd_mm": "nan", "tp": 10, "fp": 1, "fn": 3}
attention = {"attentionblock2": {"1": {"mass_in_reference": 0.4, "contrast": 2.5, "pointing_game": 1.0}}}
model = {"name": "gated", "architecture": "unet_ct_single_att_dsv", "manifest": "m.json", "weights_sha256": "0" * 64}
report = {"schema": "gatescope.report/1", "gatescope_version": "0.1.0", "created": "2026-01-01T00:00:00Z",
          "preset": "default", "device": "cpu", "torch_version": "1.13",
          "models": {"A": model, "B": dict(model, name="baseline", architecture="unet_ct_dsv")},
          "dataset": {"path": "/data", "cases": 3, "labels": {"1": "liver"}},
          "cases": [{"id": f"case_{n}", "status": "ok",
                     "models": {"A": {"status": "ok", "seconds": 0.5, "labels": {"1": dict(labels, dice=0.5 + n / 10)},
                                      "attention": attention},
                                "B": {"status": "ok", "seconds": 0.4, "labels": {"1": dict(labels, dice=0.4 + n / 9)}}}}
                    for n in range(3)] + [{"id": "failed", "status": "error", "error": "unreadable",
                                           "models": {"A": {"status": "error", "error": "unreadable"}}}],
          "summary": {}}
(d / "two_models.json").write_text(json.dumps(report))

d = folder("journal")
identity = {"dataset": "fuzz"}
lines = [json.dumps({"journal": "gatescope.evaluation/2", "identity": identity}, separators=(",", ":"))]
for n in range(2):
    record = {"id": f"case_{n}", "status": "ok", "models": {"A": {"status": "ok", "labels": {"1": {"dice": n}}}}}
    text = json.dumps(record, separators=(",", ":"))
    lines.append(json.dumps({"case": record, "sha256": hashlib.sha256(text.encode()).hexdigest()},
                            separators=(",", ":")))
(d / "two_cases.jsonl").write_text("\n".join(lines) + "\n")
(d / "torn.jsonl").write_text("\n".join(lines)[:-20])

d = folder("session")
(d / "session.json").write_text(json.dumps({
    "evaluation": "", "case": "", "cursor": [1, 2, 3], "window": {"center": 40, "width": 400},
    "layers": {"show_reference": True, "show_prediction_a": True, "show_prediction_b": False,
               "label_style": "contours", "label_opacity": 0.8, "overlay_model": 0, "overlay_gate": "mean",
               "colormap": "jet", "opacity": 0.5, "threshold": 0.1, "native_gate": False, "focus_label": 1},
    "browser_label": 1, "side_by_side": False, "views": [{"zoom": 1, "pan_x": 0, "pan_y": 0}] * 3}))
print(f"wrote seed corpora to {out}")
