#!/usr/bin/python3
"""The workbench opens a window under Xvfb, draws its menu bar and the About window, and saves a
screenshot of itself.

Usage: workbench_smoke_test.py XVFB_RUN WORKBENCH OUT_DIR
"""
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

xvfb_run, workbench, out = sys.argv[1], sys.argv[2], Path(sys.argv[3])
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(workbench, out)


def screenshot(name, *extra):
    shot = out / name
    shot.unlink(missing_ok=True)
    result = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1024x768x24", workbench, *extra, "--screenshot", str(shot),
                             "--frames", "3", "--width", "800", "--height", "600"], capture_output=True, text=True,
                            timeout=120)
    if result.returncode != 0:
        problems.append(f"{name}: exit {result.returncode}: {result.stderr}")
        return None
    if not shot.exists():
        problems.append(f"{name}: no screenshot written")
        return None
    return np.asarray(Image.open(shot).convert("RGB")).astype(int)


problems = cli.failures
plain = screenshot("plain.png")
about = screenshot("about.png", "--about")
if plain is not None and about is not None:
    if about.shape != (600, 800, 3):
        problems.append(f"screenshot is {about.shape}, expected 600x800 RGB")
    else:
        menu_bar = about[:18].reshape(-1, 3)
        # The menu bar has text on a bar colour; the About window covers the centre of the window.
        if len(np.unique(menu_bar, axis=0)) < 3:
            problems.append("menu bar is blank")
        changed = (np.abs(about[250:350, 300:500] - plain[250:350, 300:500]).sum(axis=2) > 30).mean()
        if changed < 0.03:  # the window's text and frame over the same dark background
            problems.append(f"no About window in the centre ({changed:.3f} of its pixels changed)")
        if np.abs(about[100:200, 20:200] - plain[100:200, 20:200]).sum(axis=2).max() > 30:
            problems.append("the About window changed the panels outside the centre")
cli.finish()
