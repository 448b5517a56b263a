#!/usr/bin/python3
"""Loads every model gatescope trained under DIR (DIR/<name>/model.json + model.pth) into the
PyTorch reference network with strict load_state_dict, as the original training code would, and
writes its logits (evaluation mode) for a fixed input next to it for the C++ test to compare:
DIR/<name>/check_input.f32 and check_logits.f32.

Usage: check_trained_model.py DIR
"""
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures"))
import zoo_reference  # noqa: E402

root = Path(sys.argv[1])
manifests = sorted(root.glob("*/model.json"))
if not manifests:
    sys.exit(f"no */model.json under {root}")
torch.manual_seed(5)
for path in manifests:
    manifest = json.loads(path.read_text())
    model = zoo_reference.build(manifest)
    state = torch.load(path.parent / manifest["weights"])
    model.load_state_dict(state, strict=True)
    model.eval()
    x = torch.randn(1, manifest["in_channels"], 32, 32, 16)
    with torch.no_grad():
        logits, _ = model(x)
    x.numpy().astype("<f4").tofile(path.parent / "check_input.f32")
    logits.numpy().astype("<f4").tofile(path.parent / "check_logits.f32")
    print(f"{path.parent.name}: {len(state)} tensors load strictly into {manifest['architecture']}")
