#!/usr/bin/python3
"""`gatescope render` end to end on a small evaluation of the bundled demo models (two test cases of
the synthetic abdomen, predictions saved): every figure kind is written as PNG (at the asked DPI),
PDF and SVG; the pictures are images of the right size and not blank; usage errors are one line and
leave no file behind.

Usage: render_cli_test.py GATESCOPE XVFB_RUN DEMO_EVALUATION_DIR OUT_DIR
(DEMO_EVALUATION_DIR: written by tests/fixtures/make_demo_evaluation.py)
"""
import os
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import nibabel as nib
import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[4])
gatescope, out, check = cli.gatescope, cli.out, cli.check
xvfb_run, demo = sys.argv[2], Path(sys.argv[3])


def run(*args, display=False, timeout=600):
    command = ([xvfb_run, "-a"] if display else []) + [gatescope, *map(str, args)]
    env = dict(os.environ)
    if not display:
        env.pop("DISPLAY", None)
    return subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env)


evaluation = demo / "evaluation"
check((evaluation / "predictions" / "A" / "abdomen_041").is_dir(), "--save-cases saves the chosen case")
check(not (evaluation / "predictions" / "A" / "abdomen_040").exists(), "--save-cases saves only the chosen cases")

source = ["--evaluation", evaluation, "--case", "abdomen_041"]
figures = {
    "gates": (["render", "gates", *source, "--label", "right kidney"], False),
    "compare": (["render", "compare", *source, "--label", "liver", "--views", "axial,coronal"], False),
    "montage": (["render", "montage", *source, "--slices", "10:40:6", "--columns", "3"], False),
    "paired": (["render", "plot", "--report", evaluation, "--kind", "paired", "--metric", "dice", "--label", "1"], False),
    "bland_altman": (["render", "plot", "--report", evaluation / "report.json", "--kind", "bland-altman"], False),
    "attention": (["render", "plot", "--report", evaluation, "--kind", "attention", "--label", "liver"], False),
    "training": (["render", "plot", "--report", Path(__file__).resolve().parents[2] / "data" / "demo" / "models" /
                  "train.json", "--kind", "training"], False),
    "3d": (["render", "3d", *source, "--gate", "attentionblock2", "--size", "256", "--label", "liver"], True),
}
for name, (args, display) in figures.items():
    for extension in ("png", "pdf", "svg"):
        target = out / f"{name}.{extension}"
        res = run(*args, "--out", target, "--dpi", "150", display=display)
        check(res.returncode == 0, f"{name}.{extension}: exit {res.returncode}: {res.stderr[-1500:]}")
        if res.returncode != 0 or not target.exists():
            check(False, f"{name}.{extension} was not written")
            continue
        data = target.read_bytes()
        if extension == "png":
            with Image.open(target) as image:
                dpi = image.info.get("dpi", (0, 0))
                check(abs(dpi[0] - 150) < 1, f"{name}.png: {dpi} dpi, asked for 150")
                check(image.width >= 300 and image.height >= 200, f"{name}.png is {image.size}")
                colours = image.convert("RGB").getcolors(maxcolors=1 << 20)
                check(colours is None or len(colours) > 20, f"{name}.png is nearly blank ({len(colours or [])} colours)")
        elif extension == "pdf":
            check(data.startswith(b"%PDF-") and b"%%EOF" in data[-1024:], f"{name}.pdf is not a complete PDF")
        else:
            try:
                root = ElementTree.fromstring(data)
                check(root.tag.endswith("svg"), f"{name}.svg root is {root.tag}")
            except ElementTree.ParseError as e:
                check(False, f"{name}.svg does not parse: {e}")

# The 3D picture without title and letters is the rendering itself, at --size.
plain = out / "plain3d.png"
res = run("render", "3d", *source, "--camera", "anterior", "--size", "200", "--no-letters", "--out", plain, display=True)
check(res.returncode == 0, f"plain 3d: {res.stderr[-1500:]}")
if plain.exists():
    with Image.open(plain) as image:
        check(image.size == (200, 200), f"plain 3d rendering is {image.size}")

# From files: the case's image and reference and the two prediction folders (infer's layout).
image = demo / "dataset" / "imagesTs" / "abdomen_041.nii.gz"
reference = demo / "dataset" / "labelsTs" / "abdomen_041.nii.gz"
files = ["--image", image, "--reference", reference, "--prediction-dir", evaluation / "predictions" / "A" / "abdomen_041",
         "--prediction-dir", evaluation / "predictions" / "B" / "abdomen_041"]
from_files = out / "from_files.png"

# An empty label (no voxel of it anywhere): its surface is skipped and VTK prints nothing
# ("No data to smooth!" and the like stay out of the terminal).
empty_reference = out / "empty_reference.nii.gz"
reference_image = nib.load(str(reference))
nib.save(nib.Nifti1Image(np.zeros(reference_image.shape, np.uint8), reference_image.affine), empty_reference)
res = run("render", "3d", "--image", image, "--reference", empty_reference, "--prediction-dir",
          evaluation / "predictions" / "A" / "abdomen_041", "--gate", "attentionblock2", "--size", "200",
          "--out", out / "empty_label.png", display=True)
check(res.returncode == 0, f"3d with an empty label: {res.stderr[-800:]}")
check("vtk" not in res.stderr.lower() and "no data" not in res.stderr.lower() and "\x1b[" not in res.stderr,
      f"3d with an empty label prints VTK's log: {res.stderr[-800:]!r}")
res = run("render", "compare", *files, "--label", "1", "--out", from_files, "--dpi", "150")
check(res.returncode == 0, f"compare from files: {res.stderr[-1500:]}")
with_evaluation = out / "compare_again.png"
run("render", "compare", *source, "--label", "1", "--out", with_evaluation, "--dpi", "150")
if from_files.exists() and with_evaluation.exists():
    # The same volumes give the same panels; only the titles (model names) may differ.
    with Image.open(from_files) as a, Image.open(with_evaluation) as b:
        check(a.size == b.size, f"files vs evaluation: {a.size} vs {b.size}")
mismatched = out / "error" / "mismatched.png"
res = run("render", "gates", "--image", image, "--reference", Path(__file__).resolve().parents[2] / "data" / "demo" /
          "brain_pd_slice.png", "--prediction-dir", evaluation / "predictions" / "A" / "abdomen_041", "--out", mismatched)
check(res.returncode == 1 and "brain_pd_slice.png" in res.stderr and "lies on" in res.stderr,
      f"reference on another grid: {res.returncode} {res.stderr!r}")
check(not mismatched.exists(), "a failed render leaves no file")

# Usage errors: one line, exit 2, nothing written.
errors = {
    "unknown case": (["render", "gates", "--evaluation", evaluation, "--case", "abdomen_999"], 2, "abdomen_999"),
    "case without predictions": (["render", "gates", "--evaluation", evaluation, "--case", "abdomen_040"], 2,
                                 "has no saved predictions"),
    "unknown gate": (["render", "montage", *source, "--gate", "attentionblock9"], 2, "attentionblock9"),
    "unknown label": (["render", "gates", *source, "--label", "spleen"], 2, "spleen"),
    "bad extension": (["render", "gates", *source], 2, ".jpg"),
    "bad metric": (["render", "plot", "--report", evaluation, "--metric", "accuracy"], 2, "accuracy"),
    "missing report": (["render", "plot", "--report", out / "nowhere"], 1, "nowhere"),
}
for what, (args, code, needle) in errors.items():
    target = out / "error" / "figure.jpg" if what == "bad extension" else out / "error" / "figure.png"
    res = run(*args, "--out", target)
    check(res.returncode == code, f"{what}: exit {res.returncode}, expected {code}: {res.stderr}")
    check(needle in res.stderr and len(res.stderr.strip().splitlines()) == 1, f"{what}: message {res.stderr!r}")
    check(not target.exists(), f"{what}: left {target}")
res = run("render", "3d", *source, "--out", out / "error" / "nodisplay.png")
check(res.returncode == 1 and "display" in res.stderr, f"3d without a display: {res.returncode} {res.stderr!r}")

cli.finish()
