#!/usr/bin/env bash
# The GPU check, run on a lent GPU machine (../shared/DEVICE.md) from the repository root: builds
# the headless CLI and the LibTorch plugin against that machine's PyTorch (CUDA), then runs the
# demo models on the CPU and on CUDA, compares the outputs and times them.
#
#   here:   bash scripts/device/stage.sh .device-deps        (once; the folder is git-ignored)
#   device: bash scripts/device/gpu_check.sh .device-deps "$OUT" [scale]
# With "scale", it then measures the evaluation pipeline against PyTorch and a Python pipeline
# (scripts/bench/pipeline_benchmark.py; needs nibabel and scipy there) and runs the CT-sized
# memory-budget check (scripts/bench/ct_budget_check.py), instead of the timing above.
set -uo pipefail
deps=$(realpath "$1")
out=$2
mkdir -p "$out"
echo "== machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available())'
cmake --version | head -1; gcc --version | head -1; ldd --version | head -1
prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
export LD_LIBRARY_PATH="$deps/lib:${LD_LIBRARY_PATH:-}"
export PKG_CONFIG_PATH="$deps/lib/pkgconfig"
generator=(); command -v ninja > /dev/null && generator=(-G Ninja)
echo "== configure"
if ! cmake -S . -B build-gpu "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DGATESCOPE_GUI=OFF -DGATESCOPE_VTK=OFF \
    -DGATESCOPE_FIGURES=OFF -DGATESCOPE_TESTS=OFF -DGATESCOPE_CCACHE=OFF \
    -DCMAKE_PREFIX_PATH="$prefix;$deps;$deps/lib/cmake" -DCMAKE_INCLUDE_PATH="$deps/include" \
    -DCMAKE_LIBRARY_PATH="$deps/lib" > "$out/configure.log" 2>&1; then
  tail -40 "$out/configure.log"; exit 1
fi
grep -E "LibTorch|CUDA" "$out/configure.log"
echo "== build"
start=$(date +%s)
if ! cmake --build build-gpu -j 16 --target gatescope gatescope_torch_plugin > "$out/build.log" 2>&1; then
  grep -m 30 -B 2 -A 6 -E "error|Error" "$out/build.log"; exit 1
fi
echo "built in $(( $(date +%s) - start )) s"
g=build-gpu/bin/gatescope
$g --version
echo "== CPU vs CUDA on the demo image (64x64x24), gated and baseline models"
for model in gated baseline; do
  for device in cpu cuda; do
    $g infer --model data/demo/models/$model/model.json --input data/demo/abdomen_ct.nii.gz \
      --out "$out/$model-$device" --device $device --quiet || echo "infer $model $device failed"
  done
done
python3 scripts/device/compare_outputs.py "$out"
if [ "${3:-}" = scale ]; then
  echo "== the evaluation pipeline against PyTorch's bare forward and a Python pipeline (160x160x96)"
  if python3 -c 'import nibabel, scipy' 2> /dev/null; then
    python3 scripts/bench/pipeline_benchmark.py "$g" /tmp/gatescope-pipeline --device cuda --batch 1,4
  else
    echo "skipped: this machine's Python lacks nibabel or scipy"
  fi
  echo "== memory-safe inference on a 512x512x900 CT under a 16 GB budget"
  python3 scripts/bench/ct_budget_check.py "$g" /tmp/gatescope-ct --device cuda
  exit 0
fi
echo "== timing: the paper's input size (160x160x96), unet_ct_single_att_dsv fs4 and the demo models"
python3 scripts/device/time_inference.py "$g" "$out"
