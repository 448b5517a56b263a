#!/usr/bin/python3
"""`gatescope demo` end to end with the bundled demo models: the dataset is generated when absent
and reused after, the report follows docs/report.schema.json and holds both models, per-case
metrics, per-gate attention statistics and the paired tests, and the summary is printed.

Usage: demo_cli_test.py GATESCOPE SCHEMA OUT_DIR
"""
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import jsonschema

gatescope, schema_path, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
shutil.rmtree(out, ignore_errors=True)
failures = []


def check(condition, message):
    if not condition:
        failures.append(message)


started = time.time()
res = subprocess.run([gatescope, "demo", "--out", str(out), "--device", "cpu"], capture_output=True, text=True,
                     timeout=1200)
seconds = time.time() - started
check(res.returncode == 0, f"demo exit {res.returncode}: {res.stderr[-2000:]}")
check("generating the synthetic abdomen dataset" in res.stderr, "the first demo run generates the dataset")
for line in ("model A:", "model B:", "attention gates (mean over cases):", "attribution maps (mean over cases):",
             "A vs B", "attribution mass inside each label, A vs B"):
    check(line in res.stdout, f"summary lacks '{line}':\n{res.stdout}")
# The summary ends with the commands that show the result; the figure's command works as printed.
commands = [line.split("#")[0].split() for line in res.stdout.split("Look at the result:")[-1].splitlines()
            if line.strip()]
check(len(commands) == 3 and commands[0][0].endswith("gatescope-workbench") and commands[1][1:3] == ["render", "gates"],
      f"next steps: {res.stdout[-800:]}")
if len(commands) == 3:
    figure = subprocess.run([gatescope, *commands[1][1:-1], str(out / "gates.png")], capture_output=True, text=True,
                            timeout=600, cwd=out)
    check(figure.returncode == 0 and (out / "gates.png").exists(), f"the printed render command: {figure.stderr}")
# A log, not a flood: the first case, at most a progress line every 5 s, the last.
progress = [line for line in res.stderr.splitlines() if line.startswith("evaluate ")]
check(2 <= len(progress) <= 2 + seconds / 5 and progress[-1].split()[1] == "20/20",
      f"{len(progress)} progress lines in {seconds:.0f} s: {res.stderr[-2000:]}")
report_path = out / "evaluation" / "report.json"
if report_path.exists():
    report = json.loads(report_path.read_text())
    try:
        jsonschema.validate(report, json.loads(schema_path.read_text()))
    except jsonschema.ValidationError as e:
        failures.append(f"demo report does not follow the schema: {e.message} at {list(e.absolute_path)}")
    check(report["models"]["A"]["architecture"] == "unet_ct_single_att_dsv", "model A is the gated model")
    check(report["models"]["B"]["architecture"] == "unet_ct_dsv", "model B is the ungated baseline")
    check(report["dataset"]["split"] == "test" and report["dataset"]["cases"] == 20, f"dataset: {report['dataset']}")
    check(all(c["status"] == "ok" for c in report["cases"]), "every demo case succeeds")
    gates = {"attentionblock2", "attentionblock3", "attentionblock4"}
    for c in report["cases"]:
        a = c["models"]["A"]
        check(set(a["labels"]) == {"1", "2"} and set(c["models"]["B"]["labels"]) == {"1", "2"}, f"{c['id']}: labels")
        check(set(a.get("attention", {})) == gates, f"{c['id']}: gates {sorted(a.get('attention', {}))}")
        check(all(set(v) == {"1", "2"} for v in a.get("attention", {}).values()), f"{c['id']}: attention per label")
    # The bundled models are trained (docs/demo.md): mean Dice of both at least 0.85 for the
    # liver and 0.75 for the kidney, no organ missed in any case.
    for model in ("A", "B"):
        for label, least in (("1", 0.85), ("2", 0.75)):
            dice = [c["models"][model]["labels"][label]["dice"] for c in report["cases"]]
            check(sum(dice) / len(dice) >= least and min(dice) > 0,
                  f"model {model}, label {label}: mean Dice {sum(dice) / len(dice):.3f}, lowest {min(dice):.3f}")
    # The summary's per-gate statistics are the means over the report's cases, computed here.
    names = {"1": "1 liver", "2": "2 right kidney"}
    for gate in sorted(gates):
        for label in ("1", "2"):
            values = []
            for key in ("mass_in_reference", "mass_in_reference_dilated", "pointing_game", "contrast"):
                v = [c["models"]["A"]["attention"][gate][label][key] for c in report["cases"]]
                v = [x for x in v if isinstance(x, (int, float))]
                values.append(f"{sum(v) / len(v):.3f}" if v else "-")
            row = [t for t in (line.split() for line in res.stdout.splitlines())
                   if t and t[0] == gate and " ".join(t[1:-4]) == names[label]]
            check(len(row) == 1 and row[0][-4:] == values, f"summary row of {gate}, label {label}: {row} != {values}")
    maps = report.get("attribution_comparison", {})
    check(set(maps) == {"gradcam@conv2", "gradcam@conv3", "gradcam@conv4"} and
          all(set(v) == {"1", "2"} for v in maps.values()), f"paired attribution comparison: {sorted(maps)}")
    for label in ("1", "2"):
        for metric in ("dice", "hd95_mm"):
            check(metric in report["comparison"].get(label, {}), f"comparison lacks {metric} for label {label}")
    dataset_json = out / "dataset" / "dataset.json"
    stamp = dataset_json.stat().st_mtime_ns
    again = subprocess.run([gatescope, "demo", "--out", str(out), "--device", "cpu", "--quiet", "--attribution", "none"],
                           capture_output=True,
                           text=True, timeout=1200)
    check(again.returncode == 0, f"second demo run: {again.stderr[-2000:]}")
    check(dataset_json.stat().st_mtime_ns == stamp and "generating" not in again.stderr, "the dataset is reused")
missing = subprocess.run([gatescope, "demo", "--out", str(out), "--models", str(out / "nowhere")], capture_output=True,
                         text=True, timeout=120)
check(missing.returncode == 1 and "nowhere" in missing.stderr, f"missing demo models: {missing.stderr}")

if failures:
    print("\n".join(failures))
    sys.exit(1)
print("the demo runs end to end")
