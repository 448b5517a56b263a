#!/usr/bin/python3
"""The evaluation pipeline (docs/scaling.md#one-node): read-ahead, batches, probabilities only when
saved, end to end on the demo dataset (the bundled gated and ungated models, the first CASES test
cases of 96x96x48, CPU):

- the reference run reads, infers and measures one case after the other (--no-overlap) and saves
  every prediction;
- the normal pipelined run without --save-predictions (the probabilities never leave the network's
  device) gives the same case records (metrics, attention statistics, statuses) and writes no
  predictions;
- `--batch 4 --save-predictions`: every saved prediction equals PyTorch's forward of the same four
  cases as one batch (tests/fixtures/zoo_reference.py) within 3e-5, probabilities and gate maps,
  labels the argmax but at near-ties, and the one-at-a-time run within 1e-5; the report says the
  batch size, and each group's cases share one forward's time; case records whose labels are equal are equal (attention statistics within 1e-5
  relative: a batch's convolutions sum in another order);
- `--analysis-threads 3` (three cases measured at once) gives the same records and saved
  predictions as one by one;
- Ctrl-C finishes and journals the cases in progress and starts nothing new (exit 130, no report);
  `--resume` then gives the same records;
- a case that cannot be read fails alone: its batch's other cases are measured as without it;
- `--batch 0`, and `--batch 2` with classifiers, exit 2 with one line.

Every report validates against docs/report.schema.json.

Usage: pipeline_test.py GATESCOPE DEMO_MODELS DEMO_CLASSIFIERS SCHEMA OUT_DIR
"""
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import jsonschema
import nibabel as nib
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import zoo_reference  # noqa: E402

gatescope, models, classifiers = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
schema, out = json.loads(Path(sys.argv[4]).read_text()), Path(sys.argv[5])
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
failures = []
CASES = 8
BATCH = 4
# The same threads for every run and for PyTorch: reductions split alike.
threads = max(1, (os.cpu_count() or 2))
os.environ["GATESCOPE_THREADS"] = str(threads)
torch.set_num_threads(threads)


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)


def run(*args):
    return subprocess.run([gatescope, *map(str, args)], capture_output=True, text=True, timeout=900)


def evaluate(name, *extra):
    res = run("evaluate", "--model", models / "gated" / "model.json", "--model", models / "baseline" / "model.json",
              "--dataset", demo / "dataset", "--split", "test", "--limit", CASES, "--device", "cpu",
              "--out", out / name, "--quiet", *extra)
    check(res.returncode == 0, f"{name}: exit {res.returncode}: {res.stderr.strip()}")
    path = out / name / "report.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    try:
        jsonschema.validate(report, schema)
    except jsonschema.ValidationError as e:
        check(False, f"{name}: report.json does not validate: {e.message}")
    return report


def records(report):
    """Case records without their seconds."""
    cases = json.loads(json.dumps(report["cases"]))
    for record in cases:
        for entry in record.get("models", {}).values():
            entry.pop("seconds", None)
    return cases


def close(a, b, rel=1e-5):
    """Equal JSON values, numbers within a relative tolerance (the attention statistics of gate maps
    that differ in their last float bits)."""
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(close(a[k], b[k], rel) for k in a)
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(close(u, v, rel) for u, v in zip(a, b))
    if isinstance(a, float) and isinstance(b, (int, float)):
        return abs(a - b) <= rel * max(1.0, abs(a), abs(b))
    return a == b


def saved(name, key, case):
    folder = out / name / "predictions" / key / case
    probabilities = np.asarray(nib.load(folder / "probabilities.nii.gz").dataobj)
    labels = np.asarray(nib.load(folder / "labels.nii.gz").dataobj)
    gates = {g.name[:-len(".nii.gz")]: np.asarray(nib.load(g).dataobj) for g in sorted((folder / "gates").glob("*.nii.gz"))
             if not g.name.endswith("_native.nii.gz")}
    return probabilities, labels, gates


def channels_last(t):
    """(C, i, j, k) tensor -> (i, j, k, C) array as gatescope writes it; one channel squeezed."""
    a = np.moveaxis(t.numpy(), 0, -1)
    return a[..., 0] if a.shape[-1] == 1 else a


demo = out / "demo"
res = run("demo", "--out", demo, "--data-only", "--quiet")
check(res.returncode == 0, f"demo: {res.stderr.strip()}")

reference = evaluate("one_by_one", "--no-overlap", "--save-predictions")
pipelined = evaluate("pipelined")
batched = evaluate("batched", "--batch", BATCH, "--save-predictions")
threaded = evaluate("threaded", "--analysis-threads", 3, "--save-predictions")
if reference and threaded:
    check(records(threaded) == records(reference), "--analysis-threads 3: case records differ")
    check(threaded["timings_s"].get("analysis_threads") == 3, f"timings_s: {threaded['timings_s']}")
    for case in [c["id"] for c in reference["cases"]]:
        for key in ("A", "B"):
            got, want = saved("threaded", key, case), saved("one_by_one", key, case)
            check(np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]),
                  f"--analysis-threads 3: saved prediction {key}/{case} differs")
    journal = [json.loads(line) for line in (out / "threaded" / "journal.jsonl").read_text().splitlines()[1:]]
    check([line["case"]["id"] for line in journal] == [c["id"] for c in reference["cases"]],
          "--analysis-threads 3: journal lines not in the cases' order")
if reference and pipelined:
    check(records(pipelined) == records(reference), "pipelined run without saved predictions: case records differ")
    check(not (out / "pipelined" / "predictions").exists(), "pipelined run wrote predictions without --save-predictions")
    check("batch" not in pipelined["timings_s"], "batch recorded for --batch 1")
if reference and batched:
    check(batched["timings_s"].get("batch") == BATCH, f"timings_s.batch: {batched['timings_s'].get('batch')}")
    ids = [c["id"] for c in reference["cases"]]
    check(ids == [c["id"] for c in batched["cases"]], "batched run: case order")
    dataset = json.loads((demo / "dataset" / "dataset.json").read_text())
    images = {Path(entry).name.replace(".nii.gz", ""): demo / "dataset" / entry for entry in dataset["test"]}
    for key, kind in (("A", "gated"), ("B", "baseline")):
        manifest = json.loads((models / kind / "model.json").read_text())
        model = zoo_reference.build(manifest)
        model.load_state_dict(torch.load(models / kind / manifest["weights"]))
        model.eval()
        for start in range(0, CASES, BATCH):
            group = ids[start:start + BATCH]
            volumes = [torch.from_numpy(np.asarray(nib.load(images[c]).dataobj, dtype=np.float32)) for c in group]
            x = torch.stack([(v - v.mean()) / v.std(unbiased=False) for v in volumes])[:, None]
            size = x.shape[2:]
            pad = []
            for n in reversed(size):
                pad += [0, (n + 15) // 16 * 16 - n]
            xin = F.pad(x, pad)
            with torch.no_grad():
                logits, alphas = model(xin)
            region = (slice(None), slice(None)) + tuple(slice(0, n) for n in size)
            probabilities = torch.softmax(logits, 1)[region]
            for b, case in enumerate(group):
                p, labels, gates = saved("batched", key, case)
                p1, labels1, gates1 = saved("one_by_one", key, case)
                want = channels_last(probabilities[b])
                check(np.abs(p - want).max() <= 3e-5, f"{key} {case}: batched probabilities differ from PyTorch's batch by {np.abs(p - want).max()}")
                check(np.abs(p - p1).max() <= 1e-5, f"{key} {case}: batched probabilities differ from one by one by {np.abs(p - p1).max()}")
                top2 = torch.topk(probabilities[b], 2, dim=0).values
                tie = (top2[0] - top2[1]).abs().numpy() < 1e-5
                check(np.all((labels == channels_last(probabilities[b].argmax(0, keepdim=True))) | tie), f"{key} {case}: labels differ from argmax")
                check(gates.keys() == set(alphas), f"{key} {case}: gates {sorted(gates)}")
                for gate, alpha in alphas.items():
                    if gate not in gates:
                        continue
                    up = F.interpolate(alpha[b:b + 1], size=xin.shape[2:], mode="trilinear",
                                       align_corners=False)[0][region[1:]]
                    want_gate = channels_last(up)
                    check(np.abs(gates[gate] - want_gate).max() <= 3e-5, f"{key} {case} {gate}: gate differs from PyTorch's batch by {np.abs(gates[gate] - want_gate).max()}")
                    check(np.abs(gates[gate] - gates1[gate]).max() <= 1e-5, f"{key} {case} {gate}: batched gate differs from one by one")
    # One forward per group: its cases share the forward's time equally.
    for start in range(0, CASES, BATCH):
        seconds = {c["models"]["A"].get("seconds") for c in batched["cases"][start:start + BATCH]}
        check(len(seconds) == 1, f"batch at case {start}: seconds {seconds} (not one forward)")
    for a, b in zip(records(batched), records(reference)):
        same_labels = all(np.array_equal(saved("batched", k, a["id"])[1], saved("one_by_one", k, a["id"])[1]) for k in ("A", "B"))
        if same_labels:
            check(close(a, b), f"batched case {a['id']}: record differs from one by one with equal labels")

# Ctrl-C: the cases in progress are finished and journaled, nothing new starts (exit 130, no
# report); --resume then gives the uninterrupted run's records.
if reference:
    command = [gatescope, "evaluate", "--model", models / "gated" / "model.json", "--model",
               models / "baseline" / "model.json", "--dataset", demo / "dataset", "--split", "test", "--limit",
               str(CASES), "--device", "cpu", "--out", out / "interrupted", "--quiet"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    journal = out / "interrupted" / "journal.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None and \
            (not journal.exists() or len(journal.read_text().splitlines()) < 2):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=300)
    done = len(journal.read_text().splitlines()) - 1 if journal.exists() else 0
    check(proc.returncode == 130, f"Ctrl-C: exit {proc.returncode}: {stderr.strip()}")
    check(1 <= done < CASES, f"Ctrl-C: {done} of {CASES} cases journaled")
    check(not (out / "interrupted" / "report.json").exists(), "Ctrl-C: a report was written")
    resumed = evaluate("interrupted", "--resume")
    if resumed:
        check(records(resumed) == records(reference), "Ctrl-C then --resume: case records differ")

# One unreadable case in a batch fails alone.
if reference:
    broken = out / "broken_dataset"
    shutil.copytree(demo / "dataset", broken, symlinks=True)
    dataset = json.loads((broken / "dataset.json").read_text())
    victim = broken / dataset["test"][1]
    data = victim.read_bytes()
    victim.write_bytes(data[:len(data) // 3])
    res = run("evaluate", "--model", models / "gated" / "model.json", "--model", models / "baseline" / "model.json",
              "--dataset", broken, "--split", "test", "--limit", CASES, "--device", "cpu", "--out", out / "broken",
              "--quiet", "--batch", BATCH)
    check(res.returncode == 1, f"broken case: exit {res.returncode} (want 1: a case failed): {res.stderr.strip()}")
    path = out / "broken" / "report.json"
    if path.exists():
        got = records(json.loads(path.read_text()))
        want = records(reference)
        for a, b in zip(got, want):
            if a["id"] == want[1]["id"]:
                check(a["status"] == "error" and victim.name in a.get("error", ""), f"truncated case: {a.get('status')} {a.get('error')}")
            else:
                a = dict(a, images=b["images"], reference=b["reference"])
                check(close(a, b), f"case {b['id']} beside a truncated one: record differs")
    else:
        check(False, "broken case: no report.json")

# Bad --batch values.
res = run("evaluate", "--model", models / "gated" / "model.json", "--dataset", demo / "dataset", "--out", out / "zero",
          "--batch", "0")
check(res.returncode == 2 and "--batch" in res.stderr and len(res.stderr.strip().splitlines()) == 1,
      f"--batch 0: exit {res.returncode}: {res.stderr.strip()}")
cls_demo = out / "cls_demo"
res = run("demo", "--task", "classification", "--out", cls_demo, "--data-only", "--quiet")
res = run("evaluate", "--model", classifiers / "gated" / "model.json", "--dataset", cls_demo / "dataset" / "planes.csv",
          "--split", "test", "--limit", 2, "--out", out / "cls", "--batch", "2")
check(res.returncode == 2 and "--batch" in res.stderr and len(res.stderr.strip().splitlines()) == 1,
      f"--batch with a classifier: exit {res.returncode}: {res.stderr.strip()}")

if failures:
    print(f"{len(failures)} failure(s)", file=sys.stderr)
    sys.exit(1)
print("pipeline: read-ahead, batches and unsaved probabilities give the one-by-one results")
