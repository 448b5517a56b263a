#!/usr/bin/python3
"""Evaluation overhead beyond model inference on the demo test split (20 cases of 96x96x48, the
bundled gated and ungated demo models, CPU).

Usage: evaluation_benchmark.py GATESCOPE [WORK_DIR] [--models DIR] [--repeat N]

Runs `gatescope evaluate` twice per repeat: with --no-overlap, where every prediction runs alone,
so the summed prediction time (report timings_s.inference) is the cost of inference itself; and
normally (inference of the next case overlapping the analysis of the current one), whose wall time
is what a user waits. Overhead = (normal wall - inference alone) / normal wall: loading the models
and the data, metrics, attention statistics and writing. Target: at most 5%.
"""
import argparse
import json
import shutil
import subprocess
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-evaluation-bench")
parser.add_argument("--models", default=str(Path(__file__).resolve().parents[2] / "data" / "demo" / "models"))
parser.add_argument("--repeat", type=int, default=2)
args = parser.parse_args()
work = Path(args.work)
work.mkdir(parents=True, exist_ok=True)
subprocess.run([args.gatescope, "demo", "--out", work, "--data-only", "--quiet"], check=True, stdout=subprocess.DEVNULL)
models = Path(args.models)


def evaluate(*extra):
    out = work / "run"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    subprocess.run([args.gatescope, "evaluate", "--model", models / "gated" / "model.json", "--model",
                    models / "baseline" / "model.json", "--dataset", work / "dataset", "--split", "test",
                    "--device", "cpu", "--out", out, "--quiet", *extra], check=True, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    timings = json.loads((out / "report.json").read_text())["timings_s"]
    return wall, timings


alone, normal = [], []
for _ in range(args.repeat):
    alone.append(evaluate("--no-overlap"))
    normal.append(evaluate())
inference = min(t["inference"] for _, t in alone)
wall_alone = min(w for w, _ in alone)
wall = min(w for w, _ in normal)
analysis = min(t["analysis"] for _, t in alone)
print("demo test split: 20 cases of 96x96x48, gated + ungated demo models, CPU")
print(f"{'inference alone (sum of predictions, --no-overlap)':<56} {inference:8.2f} s")
print(f"{'analysis alone (metrics, attention statistics, journal)':<56} {analysis:8.2f} s")
print(f"{'evaluate wall, --no-overlap':<56} {wall_alone:8.2f} s")
print(f"{'evaluate wall (what a user waits)':<56} {wall:8.2f} s")
print(f"overhead beyond inference: {100 * (wall - inference) / wall:5.1f}%  (target <= 5%)")
