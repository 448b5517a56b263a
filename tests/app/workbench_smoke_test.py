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
out.mkdir(parents=True, exist_ok=True)
shot = out / "about.png"
shot.unlink(missing_ok=True)
result = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1024x768x24", workbench, "--about",
                         "--screenshot", str(shot), "--frames", "3", "--width", "800",
                         "--height", "600"], capture_output=True, text=True, timeout=120)
problems = []
if result.returncode != 0:
    problems.append(f"exit {result.returncode}: {result.stderr}")
elif not shot.exists():
    problems.append("no screenshot written")
else:
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    if pixels.shape != (600, 800, 3):
        problems.append(f"screenshot is {pixels.shape}, expected 600x800 RGB")
    else:
        background = pixels[300, 20]
        menu_bar = pixels[:18].reshape(-1, 3)
        centre = pixels[250:350, 300:500].reshape(-1, 3)
        # The menu bar has text on a bar colour; the About window sits in the centre.
        if len(np.unique(menu_bar, axis=0)) < 3:
            problems.append("menu bar is blank")
        if (np.abs(centre - background).sum(axis=1) > 30).mean() < 0.5:
            problems.append("no About window in the centre")
for p in problems:
    print("FAIL:", p)
sys.exit(1 if problems else 0)
