#!/usr/bin/env bash
# Remakes the example figures in docs/images from the demo evaluation, with gatescope's own
# commands (docs/rendering.md shows them):
#
#   build/bin/gatescope demo --out build/demo
#   scripts/make_figures.sh [EVALUATION_DIR [CASE]]
#
# The 3D rendering needs an X display; without one it runs under xvfb-run.
set -euo pipefail
cd "$(dirname "$0")/.."

evaluation=${1:-build/demo/evaluation}
case_id=${2:-abdomen_042}
gatescope=build/bin/gatescope
out=docs/images
mkdir -p "$out"
display=()
[[ -n ${DISPLAY:-} ]] || display=(xvfb-run -a)

source=(--evaluation "$evaluation" --case "$case_id")
set -x
$gatescope render gates "${source[@]}" --label "right kidney" --dpi 110 --out "$out/render_gates.png"
$gatescope render compare "${source[@]}" --label liver --views axial,coronal --dpi 110 --out "$out/render_compare.png"
$gatescope render compare "${source[@]}" --label liver --views axial,coronal --out "$out/render_compare.pdf"
$gatescope render montage "${source[@]}" --slices 14:34:4 --columns 3 --dpi 110 --out "$out/render_montage.png"
$gatescope render plot --report "$evaluation" --kind paired --metric dice --label 2 --dpi 150 --out "$out/plot_paired.png"
$gatescope render plot --report "$evaluation" --kind paired --metric dice --label 2 --out "$out/plot_paired.pdf"
$gatescope render plot --report "$evaluation" --kind bland-altman --label 1 --dpi 150 --out "$out/plot_bland_altman.png"
$gatescope render plot --report "$evaluation" --kind attention --label 2 --dpi 150 --out "$out/plot_attention.png"
"${display[@]}" $gatescope render 3d "${source[@]}" --gate attentionblock2 --camera anterior --size 600 \
  --dpi 110 --out "$out/render_3d.png"

# The workbench on the demo (docs/workbench.md), by replaying scripts/workbench_tour.json: the case, the
# A | B | difference mode, translucent fills, the open dialog's browser; and the layout at 1024x700.
"${display[@]}" build/bin/gatescope-workbench --evaluation "$evaluation" --case "$case_id" \
  --play scripts/workbench_tour.json
echo '[{"screenshot": "docs/images/workbench_1024.png"}]' > "$out/.small.json"
"${display[@]}" build/bin/gatescope-workbench --evaluation "$evaluation" --case "$case_id" --width 1024 --height 700 \
  --play "$out/.small.json"
rm -f "$out/.small.json"

# Attribution maps (docs/attribution.md): both models' Grad-CAM at the skip connections on the first
# three test cases, and the workbench showing B's Grad-CAM beside A's gate.
attribution=${evaluation}_attribution
rm -rf "$attribution"
$gatescope evaluate --model data/demo/models/gated/model.json --model data/demo/models/baseline/model.json \
  --dataset "$(dirname "$evaluation")/dataset" --split test --limit 3 --attribution gradcam@conv2,conv3,conv4 \
  --save-predictions --save-cases "$case_id" --out "$attribution" --quiet
$gatescope render plot --report "$attribution" --kind attention --label 2 --dpi 150 --out "$out/plot_attribution.png"
$gatescope render plot --kind training --report data/demo/models/train.json --dpi 150 --out "$out/plot_training.png"
$gatescope render compare --evaluation "$attribution" --case "$case_id" --attribution gradcam@conv2 \
  --label "right kidney" --dpi 150 --out "$out/render_compare_attribution.png"
"${display[@]}" build/bin/gatescope-workbench --evaluation "$attribution" --case "$case_id" \
  --play scripts/workbench_attribution.json
