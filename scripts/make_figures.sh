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

# Attribution maps (docs/attribution.md): the demo evaluation holds both models' Grad-CAM at the skip
# connections; the workbench shows B's Grad-CAM beside A's gate.
$gatescope render plot --report "$evaluation" --kind attention --label 2 --statistic mass_in_reference \
  --dpi 150 --out "$out/plot_attribution.png"
$gatescope render plot --kind training --report data/demo/models/train.json --dpi 150 --out "$out/plot_training.png"
$gatescope render compare "${source[@]}" --attribution gradcam@conv2 \
  --label "right kidney" --dpi 150 --out "$out/render_compare_attribution.png"
"${display[@]}" build/bin/gatescope-workbench --evaluation "$evaluation" --case "$case_id" \
  --play scripts/workbench_attribution.json

# docs/demo.md: the phantom (a training case, axial and coronal), and the gates of model A on a
# typical case and on its worst case for the target (median and lowest kidney Dice of A).
dataset=$(dirname "$evaluation")/dataset
phantom=(--image "$dataset/imagesTr/abdomen_000.nii.gz" --reference "$dataset/labelsTr/abdomen_000.nii.gz")
$gatescope render montage "${phantom[@]}" --slices 12:42:3 --columns 6 --panel-width 110 --dpi 110 \
  --title "synthetic abdomen, case abdomen_000: axial slices" --out "$out/demo_phantom_axial.png"
$gatescope render montage "${phantom[@]}" --plane coronal --slices 30:70:8 --columns 6 --panel-width 110 --dpi 110 \
  --title "synthetic abdomen, case abdomen_000: coronal slices" --out "$out/demo_phantom_coronal.png"
read -r typical worst < <(python3 - "$evaluation/report.json" <<'PY'
import json, sys
cases = json.load(open(sys.argv[1]))["cases"]
dice = sorted((c["models"]["A"]["labels"]["2"]["dice"], c["id"]) for c in cases if c["status"] == "ok")
print(dice[len(dice) // 2][1], dice[0][1])
PY
)
for pair in "typical:$typical" "worst:$worst"; do
  which=${pair%%:*} id=${pair#*:}
  $gatescope infer --model data/demo/models/gated/model.json --input "$dataset/imagesTs/$id.nii.gz" \
    --out "build/figures/$which" --quiet
  $gatescope render gates --image "$dataset/imagesTs/$id.nii.gz" --reference "$dataset/labelsTs/$id.nii.gz" \
    --prediction-dir "build/figures/$which" --label 2 --views axial,coronal --dpi 110 \
    --title "gated model's attention gates, $which case $id (right kidney in focus)" --out "$out/demo_gates_$which.png"
done

# docs/classification.md: the classification demo (AG-SonoNet against SonoNet on the synthetic scan
# planes): one image per class with the gates and answers, its confusion matrices, per-class
# scores, reliability, and the pair's learning curves.
classification=build/demo-classification
$gatescope demo --task classification --out "$classification" --quiet
for kind in confusion per-class reliability; do
  $gatescope render plot --report "$classification/evaluation" --kind "$kind" --dpi 150 \
    --out "$out/classification_$kind.png"
done
$gatescope render compare --evaluation "$classification/evaluation" --dpi 110 \
  --out "$out/classification_gates.png"
$gatescope render plot --kind training --report data/demo/classifiers/train.json --dpi 150 \
  --out "$out/classification_training.png"
# docs/workbench.md#classifiers: the workbench on it, opened on the first image A and B disagree on.
"${display[@]}" build/bin/gatescope-workbench --evaluation "$classification/evaluation" \
  --width 1400 --height 900 --screenshot "$out/workbench_classification.png"
