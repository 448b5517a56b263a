#!/usr/bin/python3
"""The workbench on an evaluation of classifiers (the classification demo's) under Xvfb: it opens on
the first image the two models answer differently, shows the image with model A's gate maps and
model B beside it, the image browser, the metrics, paired tests and the confusion matrices in the
models' colours; --case opens another image.

Usage: workbench_classification_test.py XVFB_RUN WORKBENCH GATESCOPE OUT_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

xvfb_run, workbench, gatescope, out = sys.argv[1], sys.argv[2], sys.argv[3], Path(sys.argv[4])
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(gatescope, out)
check = cli.check
width, height, browser, side = 1400, 900, 380, 315

r = cli.run("demo", "--task", "classification", "--out", out / "demo", "--device", "cpu", "--quiet")
check(r.returncode == 0, f"demo: exit {r.returncode}: {r.stderr[-1500:]}")
evaluation = out / "demo" / "evaluation"
report = json.loads((evaluation / "report.json").read_text()) if (evaluation / "report.json").exists() else {"cases": []}
disagreements = [c["id"] for c in report["cases"]
                 if c["status"] == "ok" and c["models"]["A"]["predicted_class"] != c["models"]["B"]["predicted_class"]]
check(len(disagreements) > 0, "the demo's models disagree on some image")


def shoot(name, *extra):
    shot = out / f"{name}.png"
    res = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", workbench, "--evaluation", str(evaluation),
                          *extra, "--screenshot", str(shot), "--frames", "4", "--width", str(width),
                          "--height", str(height)],
                         capture_output=True, text=True, timeout=300, env={"HOME": str(out / "home"), "PATH": "/usr/bin:/bin"})
    check(res.returncode == 0 and shot.exists(), f"{name}: exit {res.returncode}: {res.stderr[-1500:]}")
    return np.asarray(Image.open(shot).convert("RGB")).astype(int) if shot.exists() else None


def outline(pixels):
    """Yellow pixels (the telling structure's outline) in the first panel, the image without a map."""
    panel = pixels[70:320, browser + 5:browser + 330].reshape(-1, 3)
    return int(((panel[:, 0] > 200) & (panel[:, 1] > 200) & (panel[:, 2] < 60)).sum())


first = shoot("opening")
if first is not None:
    check(first.shape == (height, width, 3), f"screenshot is {first.shape}")
    centre = first[40:height - 40, browser:width - side].reshape(-1, 3)
    r_, g_, b_ = centre[:, 0], centre[:, 1], centre[:, 2]
    warm = ((r_ > 150) & (r_ > b_ + 60)).mean()  # jet's upper half blended over the image
    check(warm > 0.005, f"no gate map in the image panel ({warm:.4f} of pixels warm)")
    yellow = outline(first)
    check(yellow > 20, f"no outline of the telling structure ({yellow} yellow pixels)")
    inspector = first[40:height - 40, width - side:].reshape(-1, 3)
    magenta = ((inspector[:, 0] > 180) & (inspector[:, 1] < 120) & (inspector[:, 2] > 180)).sum()
    sky = ((inspector[:, 2] > 180) & (inspector[:, 0] < 120) & (inspector[:, 1] > 120)).sum()
    check(magenta > 50 and sky > 50, f"no confusion matrices in the models' colours ({magenta} magenta, {sky} sky blue)")
    table = first[60:height - 60, 10:browser - 10]
    check(len(np.unique(table.reshape(-1, 3), axis=0)) > 8, "the image browser is blank")

# Another image: a background image has no telling structure, so no outline, and other gate maps.
background = next((c["id"] for c in report["cases"] if c["true_class"] == 0), None)
other = shoot("background", "--case", background) if background else None
if other is not None and first is not None:
    yellow = outline(other)
    check(yellow < 20, f"a background image shows an outline ({yellow} yellow pixels)")
    changed = (np.abs(other[40:height - 40, browser:width - side] - first[40:height - 40, browser:width - side]).sum(axis=2) > 40).mean()
    check(changed > 0.1, f"--case did not open another image ({changed:.3f} of the panel changed)")

cli.finish()
