#!/usr/bin/python3
"""Evaluation throughput of one process against MPI ranks and shards on the CPU.

Usage: ranks_benchmark.py GATESCOPE [WORK_DIR] [--cases 200] [--models DIR] [--ranks 2]

A synthetic set of CASES cases (images/ + labels/, the 60 demo abdomen cases of 96x96x48 under new
names, as symbolic links, so reading costs what it costs), the bundled gated and ungated demo pair,
CPU. Runs, one after the other on the same files:
- one process with every core (the normal `gatescope evaluate`);
- `mpirun -np RANKS` (the cores divided among the ranks: GATESCOPE_THREADS = cores / ranks);
- RANKS shards started at once (`--shard K/RANKS`, same threads each) and `gatescope merge`.
Prints the wall time, cases per second and the ratio to one process, and checks that all three
reports have the same cases and metrics.
"""
import argparse
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

parser = argparse.ArgumentParser()
parser.add_argument("gatescope")
parser.add_argument("work", nargs="?", default="/tmp/gatescope-ranks-bench")
parser.add_argument("--cases", type=int, default=200)
parser.add_argument("--ranks", type=int, default=2)
parser.add_argument("--models", default=str(Path(__file__).resolve().parents[2] / "data" / "demo" / "models"))
args = parser.parse_args()
work = Path(args.work)
work.mkdir(parents=True, exist_ok=True)
subprocess.run([args.gatescope, "demo", "--out", work / "demo", "--data-only", "--quiet"], check=True,
               stdout=subprocess.DEVNULL)
source = work / "demo" / "dataset"
pairs = sorted(zip(sorted((source / "imagesTr").glob("*.nii.gz")) + sorted((source / "imagesTs").glob("*.nii.gz")),
                   sorted((source / "labelsTr").glob("*.nii.gz")) + sorted((source / "labelsTs").glob("*.nii.gz"))))
dataset = work / f"synthetic_{args.cases}"
shutil.rmtree(dataset, ignore_errors=True)
(dataset / "images").mkdir(parents=True)
(dataset / "labels").mkdir()
for n in range(args.cases):
    image, label = pairs[n % len(pairs)]
    (dataset / "images" / f"case_{n:04d}.nii.gz").symlink_to(image)
    (dataset / "labels" / f"case_{n:04d}.nii.gz").symlink_to(label)
models = Path(args.models)
common = ["evaluate", "--model", models / "gated" / "model.json", "--model", models / "baseline" / "model.json",
          "--dataset", dataset, "--device", "cpu", "--quiet"]
cores = os.cpu_count() or 1
threads = max(1, cores // args.ranks)


def fresh(name):
    out = work / name
    shutil.rmtree(out, ignore_errors=True)
    return out


def timed(commands, env=None):
    start = time.perf_counter()
    procs = [subprocess.Popen([str(c) for c in command], env=env, stdout=subprocess.DEVNULL) for command in commands]
    for proc in procs:
        if proc.wait() != 0:
            raise SystemExit(f"{commands[0][:2]} failed")
    return time.perf_counter() - start


results = {}
out = fresh("one")
results["one process"] = (timed([[args.gatescope, *common, "--out", out]]), out)
out = fresh("mpi")
results[f"mpirun -np {args.ranks}"] = (timed([["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", args.ranks,
                                                args.gatescope, *common, "--out", out]]), out)
out = fresh("shards")
env = dict(os.environ, GATESCOPE_THREADS=str(threads), OMP_NUM_THREADS=str(threads))
wall = timed([[args.gatescope, *common, "--shard", f"{k}/{args.ranks}", "--out", out] for k in range(args.ranks)], env)
wall += timed([[args.gatescope, "merge", out, "--out", out, "--quiet"]])
results[f"{args.ranks} shards + merge"] = (wall, out)


def metrics(report):
    return [(c["id"], json.dumps(c["models"]["A"].get("labels")), json.dumps(c["models"]["B"].get("labels")))
            for c in report["cases"]]


base_wall, base_out = results["one process"]
base = metrics(json.loads((base_out / "report.json").read_text()))
print(f"{args.cases} cases of 96x96x48, gated + ungated demo models, {cores} cores, CPU")
print(f"{'run':<24} {'wall s':>8} {'cases/s':>8} {'speed-up':>9}  same metrics")
for name, (wall, out) in results.items():
    same = metrics(json.loads((out / "report.json").read_text())) == base
    print(f"{name:<24} {wall:8.1f} {args.cases / wall:8.2f} {base_wall / wall:8.2f}x  {'yes' if same else 'NO'}")
