#!/usr/bin/python3
"""`gatescope demo --task classification` end to end with the bundled AG-SonoNet / SonoNet pair:
the scan planes are generated, both models are evaluated on the test split, and the report is
schema-valid, agrees with the dataset's CSV (each image's true class) and with itself (each model's
accuracy recomputed from its per-image predictions), holds the paired tests, and meets the demo's
targets - both models at least 90 % accurate, no class below 75 % recall, and AG-SonoNet's first
gate denser on the telling structure than off it.

Usage: classification_demo_test.py GATESCOPE SCHEMA OUT_DIR
"""
import csv
import json
import sys
from pathlib import Path

import jsonschema

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from cli_test_support import CliTest  # noqa: E402

cli = CliTest(sys.argv[1], sys.argv[3])
schema = json.loads(Path(sys.argv[2]).read_text())
out, check, run = cli.out, cli.check, cli.run

r = run("demo", "--task", "classification", "--out", out, "--device", "cpu")
check(r.returncode == 0, f"demo: exit {r.returncode}: {r.stderr[-2000:]}")
check("McNemar" in r.stdout and "compatibility_score1" in r.stdout, f"summary: {r.stdout}")
check(f"render compare --evaluation {out / 'evaluation'}" in r.stdout, f"the demo names the figure: {r.stdout}")
report_path = out / "evaluation" / "report.json"
if r.returncode == 0 and report_path.exists():
    report = json.loads(report_path.read_text())
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(report))
    check(not errors, f"schema: {[e.message[:200] for e in errors[:3]]}")
    check(report["task"] == "classification", "task")
    check(report["models"]["A"]["architecture"] == "sononet_grid_attention"
          and report["models"]["B"]["architecture"] == "sononet", "A is AG-SonoNet, B SonoNet")
    classes = report["dataset"]["classes"]
    truth = {row["path"]: classes.index(row["label"])
             for row in csv.DictReader(open(out / "dataset" / "planes.csv")) if row["split"] == "test"}
    check(sorted(c["id"] for c in report["cases"]) == sorted(truth), "every test image, nothing else")
    check(all(c["status"] == "ok" for c in report["cases"]), "no image failed")
    for key in ("A", "B"):
        cases = [c for c in report["cases"] if c["status"] == "ok"]
        check(all(c["true_class"] == truth[c["id"]] for c in cases), f"{key}: true classes from the CSV")
        right = sum(c["models"][key]["predicted_class"] == c["true_class"] for c in cases)
        summary = report["summary"][key]
        check(abs(summary["accuracy"] - right / len(cases)) < 1e-12, f"{key}: accuracy from the cases")
        check(summary["accuracy"] >= 0.90, f"{key}: accuracy {summary['accuracy']:.3f} below the demo's 0.90")
        recalls = [c["recall"] for c in summary["per_class"]]
        check(min(recalls) >= 0.75, f"{key}: per-class recall {recalls}")
    attention = report["summary"]["A"]["attention"]
    check(set(attention) == {"compatibility_score1", "compatibility_score2"}, f"gates {sorted(attention)}")
    gate = attention.get("compatibility_score1", {})
    check(gate.get("contrast", {}).get("mean", 0) > 2.0, f"the first gate's contrast on the structure: {gate}")
    check("attention" not in report["summary"]["B"], "SonoNet has no gates")
    comparison = report["comparison"]
    check({"mcnemar", "accuracy", "macro_f1"} <= set(comparison), f"paired tests: {sorted(comparison)}")
    # The figures of a classification report.
    for kind, suffix in (("confusion", "png"), ("confusion-normalised", "pdf"), ("per-class", "svg"),
                         ("reliability", "png")):
        figure = out / f"{kind}.{suffix}"
        r = run("render", "plot", "--report", out / "evaluation", "--kind", kind, "--out", figure)
        check(r.returncode == 0 and figure.is_file() and figure.stat().st_size > 1000,
              f"render plot --kind {kind}: exit {r.returncode}: {r.stderr}")
    r = run("render", "plot", "--report", out / "evaluation", "--kind", "paired", "--out", out / "paired.png")
    check(r.returncode == 2 and "confusion" in r.stderr and not (out / "paired.png").exists(),
          f"a segmentation plot of a classification report: exit {r.returncode}: {r.stderr}")
    # Every test image's answers and gate maps were saved; the paper's figure shows the first image of
    # each class, five rows.
    saved = sorted(str(p.relative_to(out / "evaluation" / "predictions" / "A"))
                   for p in (out / "evaluation" / "predictions" / "A").glob("*/*"))
    check(saved == sorted(truth), f"saved predictions of {len(saved)} images, not {len(truth)}")
    figure = out / "gates.png"
    r = run("render", "compare", "--evaluation", out / "evaluation", "--dpi", "72", "--out", figure)
    check(r.returncode == 0 and figure.is_file(), f"render compare: exit {r.returncode}: {r.stderr}")
cli.finish()
