#!/usr/bin/python3
"""The synthetic scan-plane dataset (gatescope demo --task classification --data-only), checked
from its files with numpy and PIL alone: the CSV list and the folder per class agree, every image
is 128 x 96 8-bit gray, black outside one sector and speckled inside it, each mask covers the
telling structure that generator.json records for its image (and none for the background class),
the structures look as docs/classification.md describes them, two runs give identical files, a
fixed image has its recorded pixels, and unusable options are refused.

Usage: scan_planes_test.py GATESCOPE OUT_DIR
"""
import csv
import hashlib
import json
import sys
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[2])
out, run = cli.out, cli.run


def check(condition, message):
    cli.check(condition, message)
    return condition

CLASSES = ["background", "femur", "heart", "spine", "stomach"]

first, second = out / "first", out / "second"
for folder in (first, second):
    r = run("demo", "--task", "classification", "--data", folder, "--data-only", "--quiet")
    check(r.returncode == 0, f"{folder.name}: exit {r.returncode}: {r.stderr}")

files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
check(files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file()), "the same files twice")
check(all((first / f).read_bytes() == (second / f).read_bytes() for f in files), "byte-identical files twice")

rows = list(csv.DictReader(open(first / "planes.csv")))
generator = json.loads((first / "generator.json").read_text())
check(generator["classes"] == CLASSES, f"classes {generator['classes']}")
for split, per_class in (("training", 200), ("test", 60)):
    for c in CLASSES:
        n = sum(1 for row in rows if row["split"] == split and row["label"] == c)
        check(n == per_class, f"{split} {c}: {n} images, {per_class} expected")
check(len({row["path"] for row in rows}) == len(rows) == len(generator["images"]), "one row per image")
images_on_disk = {str(p.relative_to(first)) for c in CLASSES for p in (first / c).glob("*.png")}
check(images_on_disk == {row["path"] for row in rows}, "the CSV lists exactly the images of the class folders")

# The recorded pixels of the first image of each class: a change to the generator shows here.
recorded = {"background/plane_0000.png": "e671db8403fba2bf", "femur/plane_0001.png": "4f4c5e686ea219b6",
            "heart/plane_0002.png": "232f4320aecc5d34", "spine/plane_0003.png": "6873abafba327577",
            "stomach/plane_0004.png": "bc86e6fe6806e014"}

sector = None
fill = {c: [] for c in CLASSES}  # per class: the mask's share of dark and of bright pixels
for entry, row in zip(generator["images"], rows):
    path = row["path"]
    check(entry["path"] == path and entry["class"] == row["label"] == path.split("/")[0] and entry["split"] == row["split"],
          f"{path}: generator.json and the CSV agree")
    image = np.asarray(Image.open(first / path))
    if not check(image.dtype == np.uint8 and image.shape == (96, 128), f"{path}: {image.dtype} {image.shape}"):
        continue
    if path in recorded:
        digest = hashlib.sha256(image.tobytes()).hexdigest()[:16]
        check(recorded[path] == digest, f"{path}: pixels {digest}, recorded {recorded[path]}")
    # One sector for all: the pixels outside it are 0 in every image, and inside it almost none are.
    inside = image > 0
    sector = inside.copy() if sector is None else sector | inside
    shapes = entry["shapes"]
    telling = [s for s in shapes if s["kind"] in CLASSES]
    mask_path = first / "masks" / path
    if row["label"] == "background":
        check(not telling and not mask_path.exists(), f"{path}: no telling structure, no mask")
        continue
    check(len(telling) == 1 and telling[0]["kind"] == row["label"] and shapes[0] is telling[0],
          f"{path}: the telling structure first and of its class")
    if not check(mask_path.is_file(), f"{path}: mask missing"):
        continue
    mask = np.asarray(Image.open(mask_path))
    check(mask.shape == image.shape and set(np.unique(mask)) <= {0, 255}, f"{path}: mask 0/255 of the image's size")
    on = mask > 0
    if not check(on.sum() > 20, f"{path}: mask of {on.sum()} pixels"):
        continue
    rows_, cols = np.nonzero(on)
    centre = np.array([cols.mean() + 0.5, rows_.mean() + 0.5])
    size = telling[0]["size"]
    check(np.linalg.norm(centre - np.array(telling[0]["centre"])) < 0.35 * size + 1.0,
          f"{path}: mask centred at {centre}, structure at {telling[0]['centre']}")
    extent = np.hypot(cols + 0.5 - telling[0]["centre"][0], rows_ + 0.5 - telling[0]["centre"][1]).max()
    check(extent <= size + 1.5, f"{path}: mask reaches {extent:.1f} px, the structure's size is {size}")
    check(inside[on].all(), f"{path}: the mask lies inside the sector")
    # No clutter part overlaps the telling structure.
    for s in shapes[1:]:
        gap = np.hypot(s["centre"][0] - telling[0]["centre"][0], s["centre"][1] - telling[0]["centre"][1])
        check(gap > s["size"] + size, f"{path}: {s['kind']} at {gap:.1f} px overlaps the {row['label']}")
    values = image[on].astype(float)
    tissue = image[inside & ~on].astype(float)
    fill[row["label"]].append(((values < 0.5 * np.median(tissue)).mean(), (values > 2.0 * np.median(tissue)).mean()))

outside = ~sector
check(outside[0, 0] and outside[0, -1] and outside[-1, 0] and outside[-1, -1], "corners outside the sector")
check(outside[:, 64].sum() < 20 and 0.25 < outside.mean() < 0.5, f"sector covers {1 - outside.mean():.2f} of the image")
for c in CLASSES[1:]:
    dark, bright = np.mean(fill[c], axis=0)
    # heart and stomach: mostly dark fluid with a bright cross / rim; femur and spine: bright bone.
    if c in ("heart", "stomach"):
        check(dark > 0.35 and bright > 0.03, f"{c}: dark {dark:.2f} and bright {bright:.2f} shares of the mask")
    else:
        check(dark < 0.1 and bright > 0.3, f"{c}: dark {dark:.2f} and bright {bright:.2f} shares of the mask")

# Unusable options: an occupied folder is refused, and nothing is written into it.
occupied = out / "occupied"
occupied.mkdir()
(occupied / "keep.txt").write_text("x")
r = run("demo", "--task", "classification", "--data", occupied, "--data-only", "--quiet")
check(r.returncode == 2 and "not empty" in r.stderr and sorted(p.name for p in occupied.iterdir()) == ["keep.txt"],
      f"an occupied folder: exit {r.returncode}: {r.stderr}")
r = run("demo", "--task", "classification", "--attribution", "none", "--out", out / "refused", "--quiet")
check(r.returncode == 2 and "segmentation demo" in r.stderr and not (out / "refused").exists(),
      f"--attribution with the classification demo: exit {r.returncode}: {r.stderr}")
cli.finish()
