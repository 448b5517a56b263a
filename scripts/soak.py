#!/usr/bin/python3
"""Soak test of `gatescope evaluate` (not part of CI; docs/reliability.md records its figures).

1. Memory: one evaluation of N small volumes (default 1000) with both demo models; the process's
   resident memory is sampled twice a second. Growth is the change of the median RSS from cases
   N/10-N/5 (everything allocated once is allocated by then) to the last tenth; it must stay under 5%.
2. Crashes: an evaluation of M cases (default 120) killed with SIGKILL at random moments K times
   (default 20), each time continued with --resume, then finished; its report must equal the report
   of an uninterrupted run, timings aside.

Usage: scripts/soak.py [--cases 1000] [--kill-cases 120] [--kills 20] [--out build/soak] [--seed 1]
Needs a build (build/bin/gatescope) and Debian's python3 with nibabel.
"""
import argparse
import json
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nibabel as nib
import numpy as np

root = Path(__file__).resolve().parents[1]
parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--cases", type=int, default=1000)
parser.add_argument("--kill-cases", type=int, default=120)
parser.add_argument("--kills", type=int, default=20)
parser.add_argument("--out", type=Path, default=root / "build" / "soak")
parser.add_argument("--seed", type=int, default=1)
parser.add_argument("--gatescope", type=Path, default=root / "build" / "bin" / "gatescope")
args = parser.parse_args()
rng = np.random.default_rng(args.seed)
random.seed(args.seed)
shutil.rmtree(args.out, ignore_errors=True)
args.out.mkdir(parents=True)
models = [root / "data" / "demo" / "models" / "gated" / "model.json",
          root / "data" / "demo" / "models" / "baseline" / "model.json"]


def make_dataset(folder, count):
    """Small noisy volumes with a blob per label (48x48x16, 1.5 x 1.5 x 3 mm)."""
    (folder / "imagesTr").mkdir(parents=True)
    (folder / "labelsTr").mkdir()
    affine = np.diag([1.5, 1.5, 3.0, 1.0])
    grid = np.stack(np.meshgrid(np.arange(48), np.arange(48), np.arange(16), indexing="ij"), -1)
    entries = []
    for n in range(count):
        labels = np.zeros((48, 48, 16), np.uint8)
        for label, radius in ((1, 9), (2, 5)):
            centre = rng.uniform([12, 12, 4], [36, 36, 12])
            inside = (((grid - centre) / [radius, radius, radius / 2]) ** 2).sum(-1) < 1
            labels[inside] = label
        image = (labels * 60.0 + rng.normal(0, 20, labels.shape)).astype(np.float32)
        nib.save(nib.Nifti1Image(image, affine), folder / "imagesTr" / f"soak_{n:04d}.nii.gz")
        nib.save(nib.Nifti1Image(labels, affine), folder / "labelsTr" / f"soak_{n:04d}.nii.gz")
        entries.append({"image": f"./imagesTr/soak_{n:04d}.nii.gz", "label": f"./labelsTr/soak_{n:04d}.nii.gz"})
    (folder / "dataset.json").write_text(json.dumps({
        "name": "soak", "labels": {"0": "background", "1": "liver", "2": "kidney"}, "numTraining": count,
        "training": entries}))


def evaluate(dataset, out, *extra):
    command = [str(args.gatescope), "evaluate", "--dataset", str(dataset), "--split", "training", "--out", str(out),
               "--device", "cpu", "--quiet"]
    for m in models:
        command += ["--model", str(m)]
    return command + list(extra)


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def done_cases(out):
    journal = out / "journal.jsonl"
    return max(0, journal.read_text().count("\n") - 1) if journal.exists() else 0


def without_timings(report):
    report = json.loads(json.dumps(report))
    for key in ("created", "timings_s"):
        report.pop(key, None)
    for case in report["cases"]:
        for model in case.get("models", {}).values():
            model.pop("seconds", None)
    return report


failures = []
# -- 1. memory over a long run ---------------------------------------------------------------------
dataset = args.out / "dataset"
print(f"writing {args.cases} cases ...", flush=True)
make_dataset(dataset, args.cases)
process = subprocess.Popen(evaluate(dataset, args.out / "long"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                           text=True)
samples = []  # (cases done, rss MB)
start = time.time()
while process.poll() is None:
    rss = rss_mb(process.pid)
    if rss is not None:
        samples.append((done_cases(args.out / "long"), rss, time.time() - start))
    time.sleep(0.5)
if process.returncode != 0:
    failures.append(f"the long evaluation exited {process.returncode}: {process.stderr.read()}")
# RSS moves by tens of MB from case to case (allocator arenas, the next case's inference running
# beside the current case's analysis): compare medians over windows of cases, not single samples.
def median_rss(lo, hi):
    window = sorted(rss for done, rss, _ in samples if lo <= done < hi)
    return window[len(window) // 2] if window else None


early = median_rss(args.cases // 10, args.cases // 5)
late = median_rss(args.cases * 9 // 10, args.cases)
if early and late:
    growth = (late - early) / early * 100.0
    peak = max(rss for _, rss, _ in samples)
    print(f"memory: {len(samples)} samples over {time.time() - start:.0f} s; median RSS over cases "
          f"{args.cases // 10}-{args.cases // 5}: {early:.1f} MB, over the last tenth: {late:.1f} MB "
          f"(growth {growth:+.2f}%); peak {peak:.1f} MB (writing the report included)")
    if growth >= 5.0:
        failures.append(f"RSS grew by {growth:.2f}% (limit 5%)")
else:
    failures.append("too few memory samples")
(args.out / "rss.json").write_text(json.dumps(samples))

# -- 2. kill -9 and resume -------------------------------------------------------------------------
small = args.out / "small_dataset"
print(f"writing {args.kill_cases} cases for the kill cycles ...", flush=True)
make_dataset(small, args.kill_cases)
clean = subprocess.run(evaluate(small, args.out / "clean"), capture_output=True, text=True)
if clean.returncode != 0:
    failures.append(f"the clean evaluation failed: {clean.stderr}")
killed = args.out / "killed"
clean_seconds = max(1.0, json.loads((args.out / "clean" / "report.json").read_text())["timings_s"]["total"]) \
    if clean.returncode == 0 else 10.0
progress = []
for cycle in range(args.kills):
    extra = ["--resume"] if (killed / "journal.jsonl").exists() else []
    p = subprocess.Popen(evaluate(small, killed, *extra), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(random.uniform(0.2, 1.5) + random.uniform(0, clean_seconds / args.kills))
    if p.poll() is None:
        p.send_signal(signal.SIGKILL)
    p.wait()
    progress.append(done_cases(killed))
final = subprocess.run(evaluate(small, killed, "--resume"), capture_output=True, text=True)
print(f"kill cycles: cases in the journal after each SIGKILL: {progress}")
if final.returncode != 0:
    failures.append(f"the final --resume failed: {final.stderr}")
elif clean.returncode == 0:
    a = without_timings(json.loads((args.out / "clean" / "report.json").read_text()))
    b = without_timings(json.loads((killed / "report.json").read_text()))
    if a != b:
        failures.append("the report after the kill cycles differs from the uninterrupted run's")
    else:
        print(f"after {args.kills} SIGKILLs and a final --resume the report equals the uninterrupted run's")
for f in failures:
    print("FAIL:", f)
sys.exit(1 if failures else 0)
