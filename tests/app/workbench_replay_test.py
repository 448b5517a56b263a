#!/usr/bin/python3
"""Replayed interaction (gatescope-workbench --play) under Xvfb, on the demo evaluation with two saved
cases. Each flow's screenshots are compared with each other and with the screenshots of a fresh
start on the expected state (--case ID, --side-by-side): a view that keeps showing the previous
case, evaluation or image fails here.

Flows: case switching; Tab to A | B | difference and back; Inspect one image then one wheel step;
opening another evaluation whose case has the same id; window/level drags (there and back), a pan
and a zoom; a steps file with a bad step; layouts at 1280x800 and 1024x700.

Usage: workbench_replay_test.py XVFB_RUN WORKBENCH DEMO_DIR MODELS_DIR OUT_DIR
"""
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

xvfb_run, workbench = sys.argv[1], str(Path(sys.argv[2]).resolve())
demo, models, out = (Path(a).resolve() for a in sys.argv[3:6])
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(workbench, out)
evaluation = (demo / "evaluation").resolve()
problems = cli.failures
WIDTH, HEIGHT = 1280, 800
BROWSER, INSPECTOR, GATES, STATUS = 380, 315, 200, 26  # the layout's panels at 1280 px
# The four views (the legend line above them left out: it names models, not pictures).
VIEWS = (slice(66, HEIGHT - STATUS - GATES - 4), slice(BROWSER + 4, WIDTH - INSPECTOR - 4))
SLICE_VIEWS = [(slice(80, 300), slice(BROWSER + 8, 665)), (slice(80, 300), slice(675, 955)),
               (slice(335, 560), slice(BROWSER + 8, 665))]  # axial, coronal, sagittal
VIEW_3D = (slice(335, 560), slice(675, 955))


def run(name, args, steps=None, size=(WIDTH, HEIGHT), expect=0):
    """Runs the workbench; with steps, replays them (screenshots go to out/name/)."""
    folder = out / name
    folder.mkdir(exist_ok=True)
    cmd = [xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", workbench, *map(str, args),
           "--width", str(size[0]), "--height", str(size[1])]
    if steps is not None:
        (folder / "steps.json").write_text(json.dumps(steps, indent=1))
        cmd += ["--play", str(folder / "steps.json")]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=folder,
                         env={"HOME": str(out / "home"), "PATH": "/usr/bin:/bin"})
    if res.returncode != expect:
        problems.append(f"{name}: exit {res.returncode} (expected {expect}): {res.stderr[-1500:]}")
    return res


def start(name, *args):
    """A fresh start's screenshot."""
    run(name, [*args, "--screenshot", out / name / "start.png", "--frames", "4"])
    return load(out / name / "start.png")


def load(path):
    path = Path(path)
    if not path.exists():
        problems.append(f"{path.relative_to(out)} was not written")
        return np.zeros((HEIGHT, WIDTH, 3), int)
    return np.asarray(Image.open(path).convert("RGB")).astype(int)


def changed(a, b, region=VIEWS):
    """The share of pixels in `region` that differ clearly."""
    return (np.abs(a[region] - b[region]).sum(axis=2) > 30).mean()


def expect_same(what, a, b, region=VIEWS, tolerance=0.002):
    d = changed(a, b, region)
    if d > tolerance:
        problems.append(f"{what}: {d:.4f} of the pixels differ (expected the same picture)")


def expect_different(what, a, b, region=VIEWS, least=0.05):
    d = changed(a, b, region)
    if d < least:
        problems.append(f"{what}: only {d:.4f} of the pixels differ (expected another picture)")


case41 = ["--evaluation", evaluation, "--case", "abdomen_041"]
case42 = ["--evaluation", evaluation, "--case", "abdomen_042"]
fresh41 = start("fresh_041", *case41)
fresh42 = start("fresh_042", *case42)
expect_different("abdomen_041 and abdomen_042 at start", fresh41, fresh42, least=0.1)

# 1. Case switching: every view shows the selected case, as a fresh start on it does.
run("switch", case41, [{"screenshot": "041.png"}, {"select_case": "abdomen_042"}, {"screenshot": "042.png"},
                       {"select_case": "abdomen_041"}, {"screenshot": "041_again.png"}])
s41, s42, again = (load(out / "switch" / f) for f in ("041.png", "042.png", "041_again.png"))
expect_same("--case abdomen_041 vs its replay", s41, fresh41)
for n, region in enumerate([*SLICE_VIEWS, VIEW_3D]):
    what = ["axial", "coronal", "sagittal", "3D"][n]
    expect_same(f"{what} view after selecting abdomen_042", s42, fresh42, region)
    expect_different(f"{what} view after selecting abdomen_042 (vs abdomen_041)", s42, s41, region, least=0.02)
expect_same("back to abdomen_041", again, fresh41)

# 2. Tab to A | B | difference and back.
side42 = start("side_042", *case42, "--side-by-side")
run("tab", case42, [{"key": "Tab"}, {"screenshot": "side.png"}, {"key": "Tab"}, {"screenshot": "back.png"},
                    {"key": "Tab"}, {"select_case": "abdomen_041"}, {"screenshot": "side_041.png"}])
side, back, side41 = (load(out / "tab" / f) for f in ("side.png", "back.png", "side_041.png"))
expect_same("Tab: A | B | difference", side, side42)
expect_different("Tab: the layout changed", side, fresh42, least=0.2)
expect_same("Tab twice: back to the four views", back, fresh42)
side41_fresh = start("side_041", *case41, "--side-by-side")
expect_same("A | B | difference after selecting abdomen_041", side41, side41_fresh)

# Tab while typing in the case filter types nothing and switches nothing; the filter filters.
run("filter", case42, [{"click": [200, 163]}, {"text": "zz"}, {"key": "Tab"}, {"frames": 2},
                       {"screenshot": "typed.png"}])
typed = load(out / "filter" / "typed.png")
expect_same("Tab with the filter focused: the views stay", typed, fresh42)
browser = (slice(175, 300), slice(0, BROWSER))
expect_different("the filter 'zz' leaves no case rows", typed, fresh42, browser, least=0.01)

# 3. Inspect one image (abdomen_042 run through both models), then one wheel step over the axial view.
images = demo / "dataset"
run("inspect", case41, [
    {"inspect": {"image": str(images / "imagesTs" / "abdomen_042.nii.gz"),
                 "reference": str(images / "labelsTs" / "abdomen_042.nii.gz"),
                 "models": [str(models / "gated" / "model.json"), str(models / "baseline" / "model.json")],
                 "device": "cpu"}},
    {"screenshot": "inspected.png"}, {"scroll": [520, 190, 1]}, {"screenshot": "scrolled.png"}])
inspected, scrolled = load(out / "inspect" / "inspected.png"), load(out / "inspect" / "scrolled.png")
run("scroll_042", case42, [{"scroll": [520, 190, 1]}, {"screenshot": "scrolled.png"}])
scrolled42 = load(out / "scroll_042" / "scrolled.png")
for n, region in enumerate(SLICE_VIEWS):  # coronal and sagittal: the old bug kept abdomen_041 there
    what = ["axial", "coronal", "sagittal"][n]
    expect_same(f"{what} view of the inspected image", inspected, fresh42, region, tolerance=0.01)
    expect_same(f"{what} view after a wheel step", scrolled, scrolled42, region, tolerance=0.01)
expect_different("the wheel step moved the axial slice", scrolled, inspected, SLICE_VIEWS[0], least=0.005)

# 4. Another evaluation whose abdomen_041 holds other predictions (abdomen_042's): same case id,
#    same image, other contours and gate maps.
other = out / "other_evaluation"
shutil.copytree(evaluation, other)
for key in ("A", "B"):
    shutil.rmtree(other / "predictions" / key / "abdomen_041")
    shutil.copytree(evaluation / "predictions" / key / "abdomen_042", other / "predictions" / key / "abdomen_041")
fresh_other = start("fresh_other", "--evaluation", other.resolve(), "--case", "abdomen_041")
expect_different("the other evaluation's abdomen_041", fresh_other, fresh41, least=0.02)
run("open", case41, [{"open": str(other.resolve())}, {"select_case": "abdomen_041"}, {"screenshot": "other.png"}])
expect_same("abdomen_041 after opening the other evaluation", load(out / "open" / "other.png"), fresh_other)

# 5. Window/level: a right drag over the axial view changes all three slice views (one window),
#    not the 3D view, and the same drag back restores them; a middle drag pans one view; Ctrl+wheel zooms it.
run("window", case42, [{"drag": [520, 190, 620, 150, "right"]}, {"screenshot": "dragged.png"},
                       {"drag": [620, 150, 520, 190, "right"]}, {"screenshot": "back.png"},
                       {"drag": [810, 190, 850, 220, "middle"]}, {"screenshot": "panned.png"},
                       {"scroll": [520, 190, 3, "ctrl"]}, {"screenshot": "zoomed.png"}])
dragged, restored, panned, zoomed = (load(out / "window" / f)
                                     for f in ("dragged.png", "back.png", "panned.png", "zoomed.png"))
for n, region in enumerate(SLICE_VIEWS):
    expect_different(f"window drag: {['axial', 'coronal', 'sagittal'][n]} view", dragged, fresh42, region, least=0.05)
expect_same("window drag: the 3D view", dragged, fresh42, VIEW_3D)
expect_same("window drag there and back", restored, fresh42, tolerance=0.01)
expect_different("middle drag pans the coronal view", panned, restored, SLICE_VIEWS[1], least=0.05)
expect_same("middle drag leaves the axial view", panned, restored, SLICE_VIEWS[0])
expect_different("Ctrl+wheel zooms the axial view", zoomed, panned, SLICE_VIEWS[0], least=0.05)

# 6. "set" steps change what the inspector would; a model without gates is refused with the reason.
run("set", case42, [{"set": {"colormap": "viridis", "opacity": 0.8}}, {"screenshot": "viridis.png"}])
expect_different("set colormap viridis", load(out / "set" / "viridis.png"), fresh42, least=0.1)
res = run("set_ungated", case42, [{"set": {"attention_of": "baseline"}}], expect=1)
if "no attention gates" not in res.stderr:
    problems.append(f"attention of the ungated baseline: {res.stderr.strip()!r}")

# 7. A bad steps file is refused before a window opens, naming the file and the step.
res = run("bad_steps", case42, [{"frames": 1}, {"clik": [1, 2]}], expect=2)
if "step 2: unknown step 'clik'" not in res.stderr or "steps.json" not in res.stderr:
    problems.append(f"bad steps file: {res.stderr.strip()!r}")

# 8. Dialogs through the File menu (clicks at the 1280x800 layout's menu items and fields): a run whose
#    dataset folder does not exist says so; the view and gate-panel exports write two files (each
#    default name its own) and confirm where; a session that fails to open is not remembered.
MENU_FILE, RUN_ITEM, EXPORT_VIEW, EXPORT_GATES = [25, 9], [80, 50], [90, 140], [90, 157]
MODEL_A_FIELD, DATASET_FIELD, RUN_BUTTON = [440, 337], [440, 383], [246, 498]
bad_session = out / "bad_session.json"
bad_session.write_text(json.dumps({"evaluation": str(out / "nowhere"), "case": "abdomen_041"}))
res = run("dialogs", case42, [
    {"click": MENU_FILE}, {"click": RUN_ITEM}, {"click": MODEL_A_FIELD}, {"text": str(models / "gated" / "model.json")},
    {"click": DATASET_FIELD}, {"text": "/nowhere/dataset"}, {"click": RUN_BUTTON}, {"frames": 2}, {"key": "Enter"},
    {"click": MENU_FILE}, {"click": EXPORT_VIEW}, {"key": "Enter"},
    {"click": MENU_FILE}, {"click": EXPORT_GATES}, {"key": "Enter"},
    {"open": str(bad_session)}, {"frames": 2}, {"key": "Enter"}, {"screenshot": "after.png"}])
if "/nowhere/dataset: the dataset folder does not exist" not in res.stderr:
    problems.append(f"a run on a missing dataset folder: {res.stderr.strip()!r}")
for name in ("gatescope-view.png", "gatescope-gates.png"):
    if not (out / "dialogs" / name).exists():
        problems.append(f"the export did not write {name} in the start folder")
    if f"figure written to {out / 'dialogs' / name}" not in res.stderr:
        problems.append(f"no confirmation of {name}: {res.stderr.strip()!r}")
if "the session's evaluation folder is missing" not in res.stderr:
    problems.append(f"a bad session: {res.stderr.strip()!r}")
recent = out / "home" / ".config" / "gatescope" / "recent.json"
if recent.exists() and "bad_session" in recent.read_text():
    problems.append("a session that failed to open entered the recent files")
expect_same("after the dialogs closed, the views are as before", load(out / "dialogs" / "after.png"), fresh42)

# A run cancelled with Escape while it runs ("busy": the step does not wait for the task) says
# "cancelled", and nothing else.
res = run("cancel", case42, [
    {"click": MENU_FILE}, {"click": RUN_ITEM}, {"click": MODEL_A_FIELD}, {"text": str(models / "gated" / "model.json")},
    {"click": DATASET_FIELD}, {"text": str(demo / "dataset")}, {"click": RUN_BUTTON},
    {"frames": 2, "busy": True}, {"key": "Escape", "busy": True}, {"frames": 2}])
said = [line for line in res.stderr.splitlines() if line.startswith("gatescope-workbench:")]
if said != ["gatescope-workbench: evaluate: cancelled"]:
    problems.append(f"a cancelled run said {said}")

# 9. Layouts: at 1280x800 and 1024x700 every panel shows something and the screenshot has the size asked.
for size in ((1280, 800), (1024, 700)):
    name = f"layout_{size[0]}x{size[1]}"
    run(name, case42, [{"screenshot": "layout.png"}], size=size)
    shot = load(out / name / "layout.png")
    if shot.shape != (size[1], size[0], 3):
        problems.append(f"{name}: screenshot is {shot.shape}")
        continue
    side = int(min(380, size[0] * 0.3)), int(min(315, size[0] * 0.25))
    for panel, region in (("case browser", shot[60:200, 5:side[0] - 5]),
                          ("inspector", shot[60:size[1] - 60, size[0] - side[1] + 5:size[0] - 5]),
                          ("views", shot[70:size[1] - 240, side[0] + 5:size[0] - side[1] - 5]),
                          ("gate explorer", shot[size[1] - 200:size[1] - 30, side[0] + 5:size[0] - side[1] - 5])):
        if len(np.unique(region.reshape(-1, 3), axis=0)) < 8:
            problems.append(f"{name}: the {panel} is blank")

cli.finish()
