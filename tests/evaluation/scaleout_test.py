#!/usr/bin/python3
"""Evaluations shared among processes, end to end, against a single process's report.

On the demo dataset (the bundled gated and ungated models, the first CASES test cases) and on the
classification demo (the first IMAGES test images):
- `mpirun -np 2` (oversubscribed, as root where CI runs) gives the single-process report: same
  keys in the same order, same case records in dataset order, same summary and comparison; only
  timings, the creation date and per-case seconds differ. Both ranks ran cases.
- a rank killed with SIGKILL in the middle ends the job (non-zero exit, nothing torn: every journal
  line verifies); `--resume` under mpirun then gives the same report;
- `--shard K/3` runs into separate folders and into one shared folder, each followed by
  `gatescope merge`, give the same report; saved predictions of shards in separate folders appear
  under the merged folder;
- errors: a missing shard (exit 1, naming the missing cases and the shard), shards of another case
  list (exit 2), a bad --shard (exit 2), --shard under mpirun (exit 2), a folder of another run
  under mpirun (exit 2, one message).

Every process runs with the same number of threads (GATESCOPE_THREADS, half the cores as two ranks
on this node get): a network's outputs on the CPU depend in their last bits on how its reductions
are split among threads, so runs with different thread counts agree only up to float rounding.

Usage: scaleout_test.py GATESCOPE DEMO_MODELS DEMO_CLASSIFIERS OUT_DIR [--no-mpi]
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

gatescope, models, classifiers, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
with_mpi = "--no-mpi" not in sys.argv[5:] and shutil.which("mpirun") is not None
shutil.rmtree(out, ignore_errors=True)
out.mkdir(parents=True)
failures = []
CASES = 8
os.environ["GATESCOPE_THREADS"] = str(max(1, (os.cpu_count() or 2) // 2))
IMAGES = 24


def check(condition, message):
    if not condition:
        failures.append(message)
        print("FAIL:", message, file=sys.stderr)


def run(*args, timeout=900):
    return subprocess.run([gatescope, *map(str, args)], capture_output=True, text=True, timeout=timeout)


MPIRUN = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", "2"]


def mpirun(*args, timeout=900):
    return subprocess.run([*MPIRUN, gatescope, *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


def comparable(report):
    """The report without what may differ between runs: timings, the creation date, seconds."""
    report = json.loads(json.dumps(report))
    report.pop("timings_s", None)
    report.pop("created", None)
    for record in report["cases"]:
        for entry in record.get("models", {}).values():
            entry.pop("seconds", None)
            entry.pop("attribution_seconds", None)
    return report


def same_report(folder, name, what):
    expected = references[name]
    path = folder / "report.json"
    if not path.exists():
        check(False, f"{what}: no report.json")
        return
    got = json.loads(path.read_text())
    check(list(got.keys()) == list(expected.keys()), f"{what}: report keys {list(got.keys())}")
    a, b = comparable(got), comparable(expected)
    check([c["id"] for c in a["cases"]] == [c["id"] for c in b["cases"]], f"{what}: case order")
    for ca, cb in zip(a["cases"], b["cases"]):
        check(ca == cb, f"{what}: case {cb['id']} differs")
    for key in b:
        if key != "cases":
            check(a.get(key) == b[key], f"{what}: '{key}' differs")
    # cases.csv: the same rows but for the seconds column
    def rows(p):
        lines = p.read_text().splitlines()
        header = lines[0].split(",")
        drop = [i for i, h in enumerate(header) if h.endswith("seconds")]
        return [[v for i, v in enumerate(line.split(",")) if i not in drop] for line in lines]
    check(rows(folder / "cases.csv") == rows(out / f"{name}_single" / "cases.csv"), f"{what}: cases.csv differs")


def verified_lines(journal):
    """Every case line of a journal carries the SHA-256 of its record's JSON text."""
    lines = journal.read_text().splitlines()
    good = 0
    for line in lines[1:]:
        prefix, suffix = '{"case":', ',"sha256":"'
        if not line.startswith(prefix) or suffix not in line:
            continue
        record, digest = line[len(prefix):line.rindex(suffix)], line[line.rindex(suffix) + len(suffix):-2]
        good += hashlib.sha256(record.encode()).hexdigest() == digest
    return good, len(lines) - 1


# --- the data and the single-process references ----------------------------------------------
demo = out / "demo"
res = run("demo", "--out", demo, "--data-only", "--quiet")
assert res.returncode == 0, res.stderr
cls_demo = out / "cls_demo"
res = run("demo", "--task", "classification", "--out", cls_demo, "--data-only", "--quiet")
assert res.returncode == 0, res.stderr

segmentation = ["--model", models / "gated" / "model.json", "--model", models / "baseline" / "model.json",
                "--dataset", demo / "dataset", "--limit", CASES, "--quiet"]
classification = ["--model", classifiers / "gated" / "model.json", "--model",
                  classifiers / "baseline" / "model.json", "--dataset", cls_demo / "dataset" / "planes.csv",
                  "--split", "test", "--limit", IMAGES, "--quiet"]
references = {}
for name, args in (("segmentation", segmentation), ("classification", classification)):
    start = time.time()
    res = run("evaluate", *args, "--out", out / f"{name}_single")
    assert res.returncode == 0, res.stderr
    references[name] = json.loads((out / f"{name}_single" / "report.json").read_text())
    check(len(references[name]["cases"]) == (CASES if name == "segmentation" else IMAGES),
          f"{name}: the single run has {len(references[name]['cases'])} cases")
    print(f"{name}: single process {time.time() - start:.1f} s")

# --- shards into separate folders, and into one folder ---------------------------------------
for name, args in (("segmentation", segmentation), ("classification", classification)):
    separate = [out / f"{name}_shard{k}" for k in range(3)]
    extra = ["--save-predictions"] if name == "segmentation" else []
    for k, folder in enumerate(separate):
        res = run("evaluate", *args, *extra, "--shard", f"{k}/3", "--out", folder)
        check(res.returncode == 0, f"{name}: shard {k}/3: {res.stderr}")
        check(not (folder / "report.json").exists(), f"{name}: shard {k}/3 wrote a report")
        journal = folder / f"journal-shard-{k}-of-3.jsonl"
        ids = [json.loads(line)["case"]["id"] for line in journal.read_text().splitlines()[1:]]
        expected_ids = [c["id"] for c in references[name]["cases"]][k::3]
        check(ids == expected_ids, f"{name}: shard {k}/3 ran {ids}, expected {expected_ids}")
    merged = out / f"{name}_merged"
    res = run("merge", *separate, "--out", merged, "--quiet")
    check(res.returncode == 0, f"{name}: merge: {res.stderr}")
    same_report(merged, name, f"{name}: shards in three folders + merge")
    if name == "segmentation":
        for record in references[name]["cases"]:
            for key in ("A", "B"):
                saved = merged / "predictions" / key / record["id"] / "labels.nii.gz"
                check(saved.exists(), f"merge: {saved} is missing")

    shared = out / f"{name}_shared"
    for k in range(3):
        res = run("evaluate", *args, "--shard", f"{k}/3", "--out", shared)
        check(res.returncode == 0, f"{name}: shard {k}/3 in a shared folder: {res.stderr}")
    res = run("merge", shared, "--out", shared, "--quiet")
    check(res.returncode == 0, f"{name}: merge of a shared folder: {res.stderr}")
    same_report(shared, name, f"{name}: shards in one folder + merge")

# --- merge errors --------------------------------------------------------------------------
seg_shards = [out / f"segmentation_shard{k}" for k in range(3)]
res = run("merge", seg_shards[0], seg_shards[1], "--out", out / "incomplete")
check(res.returncode == 1, f"merge without a shard: exit {res.returncode}")
missing = [c["id"] for c in references["segmentation"]["cases"]][2::3]
check(all(m in res.stderr for m in missing[:2]) and "2/3" in res.stderr and "--resume" in res.stderr,
      f"merge without a shard names the missing cases and shard: {res.stderr}")
check(not (out / "incomplete" / "report.json").exists(), "merge without a shard wrote a report")
other = out / "other_limit"
res = run("evaluate", *segmentation[:-3], "--limit", 2, "--save-predictions", "--shard", "0/3", "--out", other,
          "--quiet")
check(res.returncode == 0, f"a shard of another case list: {res.stderr}")
res = run("merge", seg_shards[0], other, "--out", out / "mixed")
check(res.returncode == 2 and "another list of cases" in res.stderr and "--limit" in res.stderr,
      f"merge of two case lists: exit {res.returncode}: {res.stderr}")
res = run("merge", out / "classification_shard0", seg_shards[1], "--out", out / "mixed")
check(res.returncode == 2 and "different run" in res.stderr,
      f"merge of two runs: exit {res.returncode}: {res.stderr}")
for bad in ("3/3", "1", "-1/2", "a/b", "1/0"):
    res = run("evaluate", *segmentation, "--shard", bad, "--out", out / "bad_shard")
    check(res.returncode == 2 and "--shard" in res.stderr and res.stderr.count("\n") == 1,
          f"--shard {bad}: exit {res.returncode}: {res.stderr}")
res = run("merge", out / "empty_folder_that_is_missing", "--out", out / "x")
check(res.returncode == 2, f"merge of a missing folder: exit {res.returncode}")
(out / "not_an_evaluation").mkdir()
res = run("merge", out / "not_an_evaluation", "--out", out / "x")
check(res.returncode == 2 and "no evaluation journal" in res.stderr, f"merge of a folder without journals: {res.stderr}")

# --- MPI -------------------------------------------------------------------------------------
if with_mpi:
    for name, args in (("segmentation", segmentation), ("classification", classification)):
        folder = out / f"{name}_mpi"
        start = time.time()
        res = mpirun("evaluate", *args, "--out", folder)
        check(res.returncode == 0, f"{name}: mpirun -np 2: {res.stdout} {res.stderr}")
        print(f"{name}: mpirun -np 2 {time.time() - start:.1f} s")
        same_report(folder, name, f"{name}: mpirun -np 2")
        for rank in range(2):
            journal = folder / f"journal-rank-{rank}.jsonl"
            good, total = verified_lines(journal) if journal.exists() else (0, 0)
            check(good >= 1 and good == total, f"{name}: rank {rank} journaled {good} of {total} verified case(s)")

    # A rank killed in the middle, then --resume.
    killed = out / "segmentation_killed"
    proc = subprocess.Popen([*MPIRUN, gatescope, "evaluate", *map(str, segmentation), "--out", str(killed)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    rank1 = killed / "journal-rank-1.jsonl"
    deadline = time.time() + 300
    while time.time() < deadline and proc.poll() is None:
        if rank1.exists() and rank1.read_text().count("\n") >= 3:  # identity + 2 cases
            break
        time.sleep(0.05)
    victim = None
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"OMPI_COMM_WORLD_RANK=1" in environ and str(killed).encode() in cmdline:
            victim = int(pid)
    check(victim is not None, "found rank 1's process")
    if victim:
        os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    print("the killed job said:", stderr[-1500:])
    check(proc.returncode != 0, f"a killed rank ends the job with a non-zero exit ({proc.returncode})")
    check(not (killed / "report.json").exists() or victim is None, "the killed job wrote no report")
    done = 0
    for journal in sorted(killed.glob("journal-rank-*.jsonl")):
        good, total = verified_lines(journal)
        check(total - good <= 1, f"{journal.name}: {total - good} torn line(s)")
        done += good
    check(0 < done < CASES, f"the killed job journaled {done} of {CASES} cases")
    res = mpirun("evaluate", *segmentation, "--out", killed, "--resume")
    check(res.returncode == 0, f"resume under mpirun after a killed rank: {res.stderr}")
    same_report(killed, "segmentation", "a rank killed, then --resume")

    # Errors: one message for a failure every rank shares; --shard under mpirun.
    res = mpirun("evaluate", *segmentation, "--out", out / "segmentation_mpi")
    check(res.returncode != 0 and res.stderr.count("already holds an evaluation") == 1,
          f"mpirun into a used folder: exit {res.returncode}: {res.stderr}")
    res = mpirun("evaluate", *segmentation, "--shard", "0/2", "--out", out / "mpi_shard")
    check(res.returncode != 0 and "--shard" in res.stderr, f"--shard under mpirun: {res.stderr}")
    # A single process resumes what an MPI job left (and the report is the same).
    res = run("evaluate", *segmentation, "--out", out / "segmentation_mpi", "--resume")
    check(res.returncode == 0, f"a single process resuming an MPI run: {res.stderr}")
    same_report(out / "segmentation_mpi", "segmentation", "MPI run re-summarised by one process")
else:
    print("mpirun not found or --no-mpi: the MPI checks are skipped")

if failures:
    print(f"{len(failures)} failure(s)", file=sys.stderr)
    sys.exit(1)
print("scale-out: MPI, shards and merge give the single-process report")
