#!/usr/bin/python3
"""`gatescope train` of classifiers end to end on a small scan-plane dataset (a CSV list): the pair
AG-SonoNet / SonoNet, train.json with each epoch's validation accuracy, checkpoints that PyTorch
loads strictly into the reference classifiers (tests/fixtures/classifier_reference.py), the last
epoch's validation accuracy recomputed in PyTorch from the written weights, `gatescope infer` on the
written manifests, and configuration errors.

Usage: train_classifier_cli_test.py GATESCOPE OUT_DIR
"""
import csv
import json
import sys
from pathlib import Path

import numpy as np
import torch
from PIL import Image

tests = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(tests / "fixtures"), str(tests / "support")]
import classifier_reference  # noqa: E402
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[2])
out, check, run = cli.out, cli.check, cli.run

planes = out / "planes"
r = run("demo", "--task", "classification", "--data", planes, "--data-only", "--quiet")
check(r.returncode == 0, f"generating the scan planes: {r.stderr}")
rows = list(csv.DictReader(open(planes / "planes.csv")))
# A small list beside the full one: 8 training images per class and 2 test images per class.
small = [row for row in rows if row["split"] == "training"][:40] + [row for row in rows if row["split"] == "test"][:10]
with open(planes / "small.csv", "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=["path", "label", "split"])
    writer.writeheader()
    writer.writerows(small)

config = {
    "dataset": "planes/small.csv",
    "model": {"architecture": "sononet_grid_attention", "tensor_dim": "2D", "n_classes": 5, "feature_scale": 16,
              "nonlocal_mode": "concatenation_mean_flow", "aggregation_mode": "mean"},
    "epochs": 2, "batch_size": 8, "learning_rate": 0.002, "seed": 3, "validation_fraction": 0.25,
    "augmentation": {"flip_axes": [0], "intensity_scale": [0.9, 1.1]},
}
config_path = out / "config.json"
config_path.write_text(json.dumps(config))
trained = out / "trained"
r = run("train", "--config", config_path, "--out", trained, "--pair", "--device", "cpu")
check(r.returncode == 0, f"pair training: exit {r.returncode}: {r.stderr}")
check("accuracy" in r.stderr and "dice" not in r.stderr, f"classifier progress lines: {r.stderr}")


def zscored(path):
    x = np.asarray(Image.open(path), dtype=np.float64)
    sd = x.std()
    return (x - x.mean()) / (sd if sd > 0 else 1.0)


if r.returncode == 0:
    report = json.loads((trained / "train.json").read_text())
    check(len(report["dataset"]["training_cases"]) == 30 and len(report["dataset"]["validation_cases"]) == 10,
          "a quarter of the 40 training images held out")
    check(not set(report["dataset"]["validation_cases"]) & {row["path"] for row in small[40:]},
          "no test image is trained or validated on")
    check([m["architecture"] for m in report["models"]] == ["sononet_grid_attention", "sononet"], "the pair")
    classes = sorted({row["label"] for row in rows})
    for m in report["models"]:
        name = m["name"]
        epochs = m["epochs"]
        check(len(epochs) == 2 and all("validation_accuracy" in e and "validation_dice" not in e for e in epochs),
              f"{name}: validation accuracy per epoch")
        manifest = json.loads((trained / name / "model.json").read_text())
        check(manifest["labels"] == {str(i): c for i, c in enumerate(classes)}, f"{name}: class names from the data")
        check(manifest["tensor_dim"] == "2D", f"{name}: 2D")
        model = classifier_reference.build(manifest)
        try:
            model.load_state_dict(torch.load(trained / name / manifest["weights"]), strict=True)
        except RuntimeError as e:
            check(False, f"{name}: strict load_state_dict: {e}")
            continue
        model.eval()
        # The last epoch validated the weights that were written: its accuracy, recomputed here.
        correct, loss = 0, 0.0
        for image_id in report["dataset"]["validation_cases"]:
            x = torch.tensor(zscored(planes / image_id), dtype=torch.float32)[None, None]
            true_class = torch.tensor([classes.index(image_id.split("/")[0])])
            with torch.no_grad():
                heads, _ = model(x)
            predicted = classifier_reference.aggregate(heads, manifest).argmax(1).item()
            correct += predicted == true_class.item()
            loss += sum(torch.nn.functional.cross_entropy(h, true_class).item() for h in heads)
        count = len(report["dataset"]["validation_cases"])
        check(abs(epochs[-1]["validation_accuracy"] - correct / count) < 1e-9,
              f"{name}: validation accuracy {epochs[-1]['validation_accuracy']} vs PyTorch {correct / count}")
        check(abs(epochs[-1]["validation_loss"] - loss / count) < 1e-4 * max(1.0, loss / count),
              f"{name}: validation loss {epochs[-1]['validation_loss']} vs PyTorch {loss / count}")
        # gatescope infer on a test image gives the reference's probabilities.
        test_image = planes / small[-1]["path"]
        inferred = out / f"infer_{name}"
        r = run("infer", "--model", trained / name / "model.json", "--input", test_image, "--out", inferred,
                "--device", "cpu", "--quiet")
        check(r.returncode == 0, f"{name}: gatescope infer on the trained classifier: {r.stderr}")
        if r.returncode == 0:
            result = json.loads((inferred / "infer.json").read_text())
            x = torch.tensor(zscored(test_image), dtype=torch.float32)[None, None]
            with torch.no_grad():
                heads, _ = model(x)
            expected = classifier_reference.aggregate(heads, manifest)[0].numpy()
            check(np.abs(np.array(result["probabilities"]) - expected).max() < 1e-5,
                  f"{name}: infer probabilities {result['probabilities']} vs PyTorch {expected.tolist()}")
            check(result["class_names"] == {str(i): c for i, c in enumerate(classes)}, f"{name}: class names in infer.json")


def fails(name, changes, *expected, pair=False):
    broken = json.loads(json.dumps(config))
    for key, value in changes.items():
        target = broken
        *path, last = key.split(".")
        for p in path:
            target = target[p]
        target[last] = value
    path = out / f"{name}.json"
    path.write_text(json.dumps(broken))
    args = ["train", "--config", path, "--out", out / name, "--quiet"] + (["--pair"] if pair else [])
    r = run(*args)
    message = r.stderr.strip()
    check(r.returncode == 2 and all(e in message for e in expected) and "\n" not in message,
          f"{name}: exit {r.returncode}, one line naming {expected}: {message!r}")
    check(not (out / name).exists(), f"{name}: nothing written")


fails("dice_loss", {"loss": {"dice": 1.0}}, "dice_loss.json", "loss.dice", "cross-entropy")
fails("three_d", {"model.tensor_dim": "3D"}, "three_d.json", "2D")
fails("mixed_pair", {"pair": {"gated": "sononet_grid_attention", "baseline": "unet"}}, "mixed_pair.json",
      "same task", pair=True)
fails("too_few_classes", {"model.n_classes": 3}, "n_classes", "3")
cli.finish()
