#!/usr/bin/python3
"""A real session under Xvfb: real X mouse and keyboard events (xdotool) on the workbench running with
--record, then the recorded steps replayed with --play. Checks what --record wrote (a click on a case
row, Tab, wheel notches, a right drag, Ctrl+Q) against the events sent, that its replay shows what a
hand-written steps file with the same actions shows, and the CPU the workbench uses at rest (under
5% of a core: it waits for events instead of drawing frames).

Usage: workbench_record_test.py XVFB_RUN WORKBENCH DEMO_DIR OUT_DIR
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

xvfb_run, workbench = sys.argv[1], str(Path(sys.argv[2]).resolve())
demo, out = Path(sys.argv[3]).resolve(), Path(sys.argv[4]).resolve()
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(workbench, out)
evaluation = demo / "evaluation"
problems = cli.failures
IDLE_LIMIT = 0.05  # of one core

if "--inner" not in sys.argv:
    # Run the rest of this script inside one Xvfb server (xdotool and the workbench share it).
    res = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, __file__, *sys.argv[1:], "--inner"],
                         timeout=600)
    sys.exit(res.returncode)

env = {"HOME": str(out / "home"), "PATH": "/usr/bin:/bin", "DISPLAY": os.environ["DISPLAY"]}
if "XAUTHORITY" in os.environ:
    env["XAUTHORITY"] = os.environ["XAUTHORITY"]


def xdo(*args):
    subprocess.run(["xdotool", *map(str, args)], check=True, env=env, timeout=30)
    time.sleep(0.3)


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def wait_until_idle(pid, what, limit=120.0):
    """Waits until the workbench has used under a tenth of a core for a second (loading is done)."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        c0 = cpu_seconds(pid)
        time.sleep(1.0)
        if cpu_seconds(pid) - c0 < 0.1:
            return
    raise RuntimeError(f"still busy {limit:.0f} s after {what}")


recording = out / "recorded.json"
proc = subprocess.Popen([workbench, "--evaluation", evaluation, "--case", "abdomen_041", "--record", recording],
                        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
try:
    time.sleep(2)
    if proc.poll() is not None:
        raise RuntimeError(f"the workbench exited early ({proc.returncode}): {proc.stderr.read()[-1500:]}")
    wait_until_idle(proc.pid, "the start")  # the window opens and abdomen_041 loads
    # At rest: a few seconds without input.
    t0, c0 = time.monotonic(), cpu_seconds(proc.pid)
    time.sleep(6)
    idle = (cpu_seconds(proc.pid) - c0) / (time.monotonic() - t0)
    print(f"CPU at rest: {100 * idle:.1f}% of a core")
    if idle > IDLE_LIMIT:
        problems.append(f"CPU at rest {100 * idle:.1f}% of a core (limit {100 * IDLE_LIMIT:.0f}%)")

    window = subprocess.run(["xdotool", "search", "--sync", "--name", "gatescope workbench"], env=env,
                            capture_output=True, text=True, timeout=30).stdout.split()[0]
    # The window sits at the screen's top left without a window manager: window = screen pixels.
    xdo("windowfocus", "--sync", window)
    xdo("mousemove", 60, 236)   # abdomen_042's row in the case browser
    xdo("click", 1)
    wait_until_idle(proc.pid, "selecting abdomen_042")
    xdo("key", "Tab")           # A | B | difference
    xdo("key", "Tab")           # and back
    xdo("mousemove", 520, 190)  # over the axial view
    xdo("click", 4)             # two wheel notches up
    xdo("click", 4)
    xdo("mousedown", 3)         # a right drag: window/level
    for x, y in ((540, 180), (570, 170), (600, 160)):
        xdo("mousemove", x, y)
    xdo("mouseup", 3)
    xdo("key", "ctrl+q")
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        problems.append("Ctrl+Q did not close the workbench within 30 s")
except RuntimeError as e:
    problems.append(str(e))
finally:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
stderr = proc.stderr.read()
if proc.returncode != 0 and not problems:
    problems.append(f"the recorded session exited {proc.returncode}: {stderr[-1500:]}")
if not recording.exists():
    problems.append(f"--record wrote nothing: {stderr[-1500:]}")
    steps = []
else:
    steps = json.loads(recording.read_text())
    print("recorded:", json.dumps(steps))
    kinds = [next(iter(s)) for s in steps]
    expected = ["click", "key", "key", "scroll", "drag", "key"]
    if kinds != expected:
        problems.append(f"recorded steps {kinds}, expected {expected}")
    else:
        click, tab, _, scroll, drag, quit_key = steps
        if click["click"] != [60, 236]:
            problems.append(f"the click was recorded at {click['click']}, sent at [60, 236]")
        if tab != {"key": "Tab"} or quit_key != {"key": "Ctrl+Q"}:
            problems.append(f"keys recorded as {tab}, {quit_key}")
        if scroll["scroll"] != [520, 190, 2]:
            problems.append(f"the wheel was recorded as {scroll}, sent as two notches up at (520, 190)")
        if drag["drag"] != [520, 190, 600, 160, "right"]:
            problems.append(f"the drag was recorded as {drag}, sent from (520, 190) to (600, 160) with the right button")

# The recording replayed (without its Ctrl+Q) shows what hand-written steps of the same actions show.
if steps:
    replay = [s for s in steps if s != {"key": "Ctrl+Q"}] + [{"screenshot": str(out / "replayed.png")}]
    written = [{"select_case": "abdomen_042"}, {"key": "Tab"}, {"key": "Tab"}, {"scroll": [520, 190, 2]},
               {"drag": [520, 190, 600, 160, "right"]}, {"screenshot": str(out / "written.png")}]
    for name, play in (("replay", replay), ("written", written)):
        (out / f"{name}.json").write_text(json.dumps(play))
        res = subprocess.run([workbench, "--evaluation", evaluation, "--case", "abdomen_041", "--play", out / f"{name}.json"],
                             env=env, capture_output=True, text=True, timeout=300)
        if res.returncode != 0:
            problems.append(f"--play {name}: exit {res.returncode}: {res.stderr[-1500:]}")
    if (out / "replayed.png").exists() and (out / "written.png").exists():
        a = np.asarray(Image.open(out / "replayed.png").convert("RGB")).astype(int)
        b = np.asarray(Image.open(out / "written.png").convert("RGB")).astype(int)
        region = (slice(66, 570), slice(0, 1280))  # the case browser (selection, scroll) and the views
        differ = (np.abs(a[region] - b[region]).sum(axis=2) > 30).mean()
        if differ > 0.002:
            problems.append(f"the replayed recording and the written steps differ in {differ:.4f} of the pixels")

cli.finish()
