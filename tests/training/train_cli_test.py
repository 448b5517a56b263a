#!/usr/bin/python3
"""`gatescope train` end to end on a tiny dataset (images/ + labels/): outputs and train.json,
bit-identical reruns, checkpoints that PyTorch loads strictly into the reference networks
(tests/fixtures/zoo_reference.py), `gatescope infer` on the written manifests, Ctrl-C, and errors.

Usage: train_cli_test.py GATESCOPE OUT_DIR
"""
import json
import signal
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import torch

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import zoo_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[2])
gatescope, out, check, run = cli.gatescope, cli.out, cli.check, cli.run


# A dataset of blobs in noise, sizes that are not multiples of 16 (training pads them).
rng = np.random.default_rng(17)
affine = np.array([[-1.6, 0, 0, 30.0], [0, -1.6, 0, 25.0], [0, 0, 3.2, -20.0], [0, 0, 0, 1]])
data = out / "data"
(data / "images").mkdir(parents=True)
(data / "labels").mkdir()
for n in range(5):
    shape = (40 + 2 * n, 36, 20)
    i, j, k = np.meshgrid(*[np.arange(s) for s in shape], indexing="ij")
    labels = np.zeros(shape, np.uint8)
    labels[((i - 14 - n) / 7.0) ** 2 + ((j - 16) / 6.0) ** 2 + ((k - 10) / 4.0) ** 2 <= 1] = 1
    labels[((i - 28) / 4.0) ** 2 + ((j - 22 + n) / 3.0) ** 2 + ((k - 8) / 3.0) ** 2 <= 1] = 2
    image = (np.array([-100.0, 60.0, 140.0])[labels] + rng.normal(0, 20, shape)).astype(np.int16)
    nib.save(nib.Nifti1Image(image, affine), data / "images" / f"case_{n:03}.nii.gz")
    nib.save(nib.Nifti1Image(labels, affine), data / "labels" / f"case_{n:03}.nii.gz")

config = {
    "dataset": "data",
    "model": {"architecture": "unet_ct_single_att_dsv", "n_classes": 3, "feature_scale": 16},
    "pair": {"gated": {"architecture": "unet_ct_single_att_dsv", "name": "attention"},
             "baseline": {"architecture": "unet_ct_dsv", "name": "plain"}},
    "epochs": 2, "batch_size": 2, "learning_rate": 0.01, "seed": 7,
    "patch_size": [32, 32, 16],
    "augmentation": {"flip_axes": [0, 1], "flip_probability": 0.5, "intensity_scale": [0.9, 1.1],
                     "intensity_shift": [-0.1, 0.1]},
    "validation_fraction": 0.2,
    "labels": {"0": "background", "1": "organ", "2": "target"},
}
config_path = out / "train.json"
config_path.write_text(json.dumps(config))

first = run("train", "--config", config_path, "--out", out / "first", "--pair", "--device", "cpu")
check(first.returncode == 0, f"pair training: exit {first.returncode}: {first.stderr}")
check("epoch 2/2" in first.stderr and "ETA" in first.stderr, f"progress per epoch: {first.stderr}")
second = run("train", "--config", config_path, "--out", out / "second", "--pair", "--quiet")
check(second.returncode == 0 and second.stderr == "", f"--quiet: exit {second.returncode}: {second.stderr!r}")

if first.returncode == 0:
    report = json.loads((out / "first" / "train.json").read_text())
    check(report["schema"] == "gatescope.train/1", "train.json schema")
    check("--pair" in report["command_line"] and str(config_path) in report["command_line"], "command line recorded")
    check(report["config"]["dataset"] == str(data.resolve()), "dataset resolved against the config's folder")
    check(report["seed"] == 7 and report["device"] == "cpu" and report["deterministic"], "seed, device")
    check(torch.__version__.startswith(report["torch_version"]), f"torch version {report['torch_version']}")
    check(len(report["dataset"]["training_cases"]) == 4 and len(report["dataset"]["validation_cases"]) == 1,
          "one of five cases held out for validation")
    check([m["name"] for m in report["models"]] == ["attention", "plain"], "model names from the config")
    for m in report["models"]:
        check(len(m["epochs"]) == 2 and all(np.isfinite(e["loss"]) and "validation_loss" in e for e in m["epochs"]),
              f"{m['name']}: losses per epoch")
    check(not any(p.name.startswith(".") for p in (out / "first").iterdir()), "no staging folder left behind")
    for name in ("attention", "plain"):
        check((out / "first" / name / "model.pth").read_bytes() == (out / "second" / name / "model.pth").read_bytes(),
              f"{name}: a second run gives identical checkpoint bytes")
        manifest = json.loads((out / "first" / name / "model.json").read_text())
        check(manifest["labels"] == config["labels"] and manifest["preprocessing"]["normalize"] == "zscore",
              f"{name}: manifest labels and preprocessing")
        model = zoo_reference.build(manifest)
        try:
            model.load_state_dict(torch.load(out / "first" / name / manifest["weights"]), strict=True)
        except RuntimeError as e:
            check(False, f"{name}: strict load_state_dict: {e}")
        inferred = out / f"infer_{name}"
        r = run("infer", "--model", out / "first" / name / "model.json", "--input", data / "images" / "case_001.nii.gz",
                "--out", inferred, "--device", "cpu", "--quiet")
        check(r.returncode == 0, f"{name}: gatescope infer on the trained model: {r.stderr}")
        if r.returncode == 0:
            labels = nib.load(str(inferred / "labels.nii.gz"))
            check(labels.shape == (42, 36, 20) and np.allclose(labels.affine, affine), f"{name}: inferred labels")
            check((inferred / "gates" / "attentionblock2.nii.gz").exists() == (name == "attention"), f"{name}: gates")

# One model, without --pair: its folder is the model's name.
single = dict(config, epochs=1)
single.pop("pair")
(out / "single.json").write_text(json.dumps(single))
r = run("train", "--config", out / "single.json", "--out", out / "single", "--quiet")
check(r.returncode == 0 and (out / "single" / "unet_ct_single_att_dsv" / "model.pth").exists(), f"single: {r.stderr}")

# Learning-rate schedules: the rate of every epoch (train.json, the progress lines) is what
# PyTorch's schedulers give an optimiser stepped once per epoch.
def scheduled_rates(scheduler, epochs):
    optimizer = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=0.01)
    scheduler = scheduler(optimizer)
    rates = []
    for _ in range(epochs):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    return rates


schedules = {
    "step": ({"kind": "step", "every_epochs": 2, "factor": 0.5},
             lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=2, gamma=0.5)),
    "cosine": ({"kind": "cosine", "final_learning_rate": 0.0001},
               lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=4, eta_min=0.0001)),
    "poly": ({"kind": "poly", "power": 0.9},
             lambda o: torch.optim.lr_scheduler.PolynomialLR(o, total_iters=5, power=0.9)),
}
for kind, (schedule, reference) in schedules.items():
    scheduled = dict(config, epochs=5, learning_rate_schedule=schedule, validation_fraction=0)
    scheduled.pop("pair")
    (out / f"schedule_{kind}.json").write_text(json.dumps(scheduled))
    r = run("train", "--config", out / f"schedule_{kind}.json", "--out", out / f"schedule_{kind}")
    check(r.returncode == 0, f"{kind} schedule: {r.stderr}")
    if r.returncode == 0:
        log = json.loads((out / f"schedule_{kind}" / "train.json").read_text())
        rates = [e["learning_rate"] for e in log["models"][0]["epochs"]]
        want = scheduled_rates(reference, 5)
        check(np.allclose(rates, want, rtol=1e-9, atol=0), f"{kind} schedule: {rates} != PyTorch's {want}")
        check(log["config"]["learning_rate_schedule"] == schedule, f"{kind}: schedule recorded")
        check(f"epoch 5/5 (learning rate {want[4]:.3g})" in r.stderr, f"{kind}: rate in the progress: {r.stderr}")

# Ctrl-C: stops after the current batch, exit 130, nothing written into DIR.
long_run = dict(config, epochs=500)
(out / "long.json").write_text(json.dumps(long_run))
process = subprocess.Popen([gatescope, "train", "--config", out / "long.json", "--out", out / "interrupted", "--pair"],
                           stderr=subprocess.PIPE, text=True)
for line in process.stderr:
    if line.startswith("epoch 1/"):
        process.send_signal(signal.SIGINT)
        break
rest = process.communicate(timeout=120)[1]
check(process.returncode == 130 and "interrupted" in rest, f"Ctrl-C: exit {process.returncode}: {rest}")
check(not (out / "interrupted").exists() or not any((out / "interrupted").iterdir()), "Ctrl-C leaves DIR empty")


# Errors: bad usage exits 2 with one line naming the config file (and the field or case file).
def fails(name, settings, *expected, pair=False):
    path = out / f"{name}.json"
    path.write_text(json.dumps(settings))
    r = run("train", "--config", path, "--out", out / "bad", *(["--pair"] if pair else []))
    lines = [l for l in r.stderr.splitlines() if l.startswith("gatescope:")]
    check(r.returncode == 2 and len(lines) == 1 and all(e in r.stderr for e in expected),
          f"{name}: exit {r.returncode}, {r.stderr!r}")


fails("unknown_key", dict(config, epoch=3), str(out / "unknown_key.json"), "unknown key \"epoch\"")
fails("bad_patch", dict(config, patch_size=[30, 32, 16]), str(out / "bad_patch.json"), "patch_size", "multiple of 16")
fails("bad_flip", dict(config, augmentation={"flip_probability": 2}), "augmentation.flip_probability")
fails("no_dataset", dict(config, dataset="nowhere"), "nowhere")
fails("few_classes", dict(config, model=dict(config["model"], n_classes=2), labels={}), "case_000.nii.gz",
      "label value 2", "n_classes")
ungated = dict(config, model=dict(config["model"], architecture="unet_ct_dsv"))
ungated.pop("pair")
fails("ungated_pair", ungated, "has no attention gates", pair=True)
check(not (out / "bad").exists() or not any((out / "bad").iterdir()), "no outputs after errors")
r = run("train", "--config", out / "missing.json", "--out", out / "bad")
check(r.returncode == 2 and "missing.json" in r.stderr, f"missing config: {r.stderr}")

cli.finish()
