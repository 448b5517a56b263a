#!/usr/bin/env bash
# Installs what gatescope needs on Debian 12 (only the missing packages), configures and builds.
#
#   scripts/setup.sh            set up and build
#   scripts/setup.sh --packages only install the missing Debian packages
#   scripts/setup.sh --demo     ... then run the demo on the bundled data
#   scripts/setup.sh --test     ... then run the whole test suite (also under ASan/UBSan) and replay
#                               the fuzzing corpora
#
# Safe to run again: installs nothing that is present, rebuilds only what changed.
set -euo pipefail
cd "$(dirname "$0")/.."

mode=build
case "${1:-}" in
  "") ;;
  --packages) mode=packages ;;
  --demo) mode=demo ;;
  --test) mode=test ;;
  -h|--help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) echo "setup.sh: unknown option '$1' (use --packages, --demo, --test or nothing)" >&2; exit 2 ;;
esac

packages=(
  # toolchain
  cmake ninja-build g++ pkg-config ccache
  # libraries
  libtorch-dev libimgui-dev libglfw3-dev libgl-dev libvtk9-dev nlohmann-json3-dev catch2
  libnifti2-dev libcli11-dev libfmt-dev libpng-dev zlib1g-dev libdeflate-dev
  libcairo2-dev fonts-dejavu-core
  # NRRD, MetaImage and DICOM through ITK (optional at build time)
  libinsighttoolkit5-dev libgdcm-tools
  # evaluations shared among MPI ranks (optional at build time; mpirun for the tests)
  libopenmpi-dev openmpi-bin
  # tests: a display for OpenGL/VTK, the Python references (nibabel, PyTorch, scipy, Pillow, jsonschema) and
  # plastimatch (reference for the plastimatch metric preset and the metrics benchmark)
  xvfb xauth python3-torch python3-nibabel python3-scipy python3-sklearn python3-statsmodels python3-numpy python3-pil python3-jsonschema python3-pydicom plastimatch
  # the workbench's recording test: real mouse and keyboard events under Xvfb
  xdotool
  # fuzz targets (scripts/fuzz.sh): libFuzzer with clang; the format check (scripts/check_format.sh)
  clang-14 libfuzzer-14-dev clang-format-14
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing ${#missing[@]} Debian package(s): ${missing[*]}"
  sudo=""
  [[ $(id -u) -eq 0 ]] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

[[ $mode == packages ]] && exit 0

build() {  # build PRESET: configure once, then build incrementally
  local preset=$1 dir=build
  [[ $preset == default ]] || dir=build-$preset
  [[ -f $dir/CMakeCache.txt ]] || cmake --preset "$preset"
  cmake --build --preset "$preset"
}

echo "== building (preset default)"
build default

case $mode in
  demo)
    echo "== demo: a synthetic abdomen dataset, the bundled gated model (A) and its ungated baseline (B)"
    echo "   evaluated on its test split (report in build/demo/evaluation/)"
    build/bin/gatescope demo --out build/demo
    if [[ -x build/bin/gatescope-workbench ]]; then
      if [[ -n ${DISPLAY:-} || -n ${WAYLAND_DISPLAY:-} ]]; then
        echo "== opening the workbench on the demo (close its window to finish)"
        build/bin/gatescope-workbench --demo || echo "the workbench could not open a window: build/bin/gatescope-workbench --demo"
      else
        echo "== no display here: open the workbench on the demo where there is one with"
        echo "   build/bin/gatescope-workbench --demo"
        echo "   (or take a picture of it here: xvfb-run -a build/bin/gatescope-workbench --demo --screenshot demo.png)"
      fi
    fi
    ;;
  test)
    echo "== tests"
    ctest --preset default
    echo "== tests under AddressSanitizer + UndefinedBehaviorSanitizer (preset asan)"
    build asan
    ctest --preset asan -L '^(volume|io|cli|metrics|stats|classification|attention|models|datasets|demo|evaluation|train|renderers|app_state|hardening)$'
    echo "== fuzz targets: every committed corpus replayed under ASan/UBSan (scripts/fuzz.sh)"
    bash scripts/fuzz.sh replay
    ;;
esac
