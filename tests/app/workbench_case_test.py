#!/usr/bin/python3
"""The workbench on the demo evaluation (--demo) under Xvfb: it opens the saved case, composites the three slice
views with model A's gate overlay and the contours, renders the 3D view, fills the case browser
and the metrics panel, and saves a screenshot of itself once the case is loaded.

Usage: workbench_case_test.py XVFB_RUN WORKBENCH DEMO_EVALUATION_DIR OUT_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

xvfb_run, workbench, demo, out = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(workbench, out)
problems = cli.failures
width, height, side = 1400, 900, 330  # side columns: the case browser (left) and the inspector (right)

shot = out / "case.png"
env_home = out / "home"
# --demo finds the demo evaluation through $GATESCOPE_DEMO_OUT and opens its saved case.
res = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", workbench, "--demo", "--screenshot", str(shot),
                      "--frames", "4", "--width", str(width), "--height", str(height)],
                     capture_output=True, text=True, timeout=300,
                     env={"HOME": str(env_home), "PATH": "/usr/bin:/bin", "GATESCOPE_DEMO_OUT": str(demo)})
if res.returncode != 0:
    problems.append(f"exit {res.returncode}: {res.stderr[-2000:]}")
elif not shot.exists():
    problems.append("no screenshot written")
else:
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    if pixels.shape != (height, width, 3):
        problems.append(f"screenshot is {pixels.shape}")
    else:
        views = pixels[40:height - 240, side:width - side].reshape(-1, 3)
        r, g, b = views[:, 0], views[:, 1], views[:, 2]
        # jet's upper half (attention above ~0.6) blended over the image: red clearly above blue.
        warm = ((r > 150) & (r > b + 60)).mean()
        contour_a = ((r > 200) & (g < 80) & (b > 200)).sum()  # magenta prediction contours
        reference = ((r > 200) & (g > 200) & (b < 60)).sum()  # yellow reference contours
        if warm < 0.01:
            problems.append(f"no attention overlay in the views ({warm:.4f} of pixels warm)")
        if reference < 20:
            problems.append(f"no reference contours ({reference} yellow pixels)")
        if contour_a < 20:
            problems.append(f"no prediction contours ({contour_a} magenta pixels)")
        for name, region in (("case browser", pixels[60:400, 10:side - 10]), ("inspector", pixels[60:600, width - side + 10:width - 10])):
            if len(np.unique(region.reshape(-1, 3), axis=0)) < 8:
                problems.append(f"the {name} is blank")
    recent = env_home / ".config" / "gatescope" / "recent.json"
    if not recent.exists() or "evaluation" not in recent.read_text():
        problems.append("the opened evaluation is not in the recent files")

# A session file (as File > Save session writes it) restores the case, here in A | B | difference.
session = out / "session.json"
session.write_text(json.dumps({"evaluation": str((demo / "evaluation").resolve()), "case": "abdomen_041",
                               "side_by_side": True, "layers": {"colormap": "viridis", "focus_label": 1}}))
restored = out / "session.png"
res = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", workbench, "--session", str(session),
                      "--screenshot", str(restored), "--frames", "4", "--width", str(width), "--height", str(height)],
                     capture_output=True, text=True, timeout=300, env={"HOME": str(env_home), "PATH": "/usr/bin:/bin"})
if res.returncode != 0 or not restored.exists():
    problems.append(f"--session: exit {res.returncode}: {res.stderr[-1500:]}")
else:
    pixels = np.asarray(Image.open(restored).convert("RGB")).astype(int)
    views = pixels[80:height - 240, side:width - side]
    # The layout changed (three columns, another colour map): most of the views differ from --demo's.
    if shot.exists():
        before = np.asarray(Image.open(shot).convert("RGB")).astype(int)[80:height - 240, side:width - side]
        changed = (np.abs(views - before).sum(axis=2) > 40).mean()
        if changed < 0.2:
            problems.append(f"--session did not restore its layout and colours ({changed:.3f} of the views changed)")
    # The difference column: the diverging map's light-to-dark blues where B is more confident. The
    # demo's trained models differ only along the organs' borders: a thin rim of colour.
    third = views[:, 2 * views.shape[1] // 3:].reshape(-1, 3)
    blue = ((third[:, 2] > third[:, 0] + 60) & (third[:, 2] > 100)).mean()
    if blue < 0.0005:
        problems.append(f"--session with side_by_side shows no difference column ({blue:.4f} blue)")
bad = out / "bad_session.json"
bad.write_text(json.dumps({"evaluation": str(out / "nowhere"), "case": "abdomen_041"}))
res = subprocess.run([xvfb_run, "-a", workbench, "--session", str(bad), "--screenshot", str(out / "bad.png"),
                      "--frames", "3"], capture_output=True, text=True, timeout=120,
                     env={"HOME": str(env_home), "PATH": "/usr/bin:/bin"})
if res.returncode != 0:
    problems.append(f"a bad session must open an error dialog, not stop the program: exit {res.returncode}")

# Without a demo evaluation anywhere it says how to make one.
empty = out / "empty"
empty.mkdir()
res = subprocess.run([workbench, "--demo"], capture_output=True, text=True, timeout=60, cwd=empty,
                     env={"HOME": str(env_home), "PATH": "/usr/bin:/bin", "GATESCOPE_DEMO_OUT": str(empty)})
if res.returncode != 1 or "gatescope demo" not in res.stderr:
    problems.append(f"--demo without a demo: exit {res.returncode}, {res.stderr!r}")

cli.finish()
