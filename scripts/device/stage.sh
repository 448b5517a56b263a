#!/usr/bin/env bash
# Copies what the GPU machine's image lacks (headers and small libraries from this machine's Debian
# packages) into DIR for scripts/device/gpu_check.sh; DIR must be git-ignored and carried.
set -euo pipefail
dir=${1:?usage: stage.sh DIR}
bash ../shared/tools/stage-device-deps.sh "$dir" > /dev/null
# Package configurations find their files three levels up (share/cmake/<name>): keep that layout.
mkdir -p "$dir/share/cmake"
rm -rf "$dir/share/cmake/nlohmann_json" "$dir/share/cmake/CLI11" "$dir/share/NIFTI"
mv "$dir/share/nlohmann_json" "$dir/share/cmake/"
cp -r /usr/share/cmake/CLI11 "$dir/share/cmake/"
multiarch=/usr/lib/x86_64-linux-gnu
mkdir -p "$dir/include" "$dir/lib/pkgconfig" "$dir/lib/cmake"
cp -r /usr/include/fmt /usr/include/libdeflate.h /usr/include/png.h /usr/include/pngconf.h \
  /usr/include/pnglibconf.h /usr/include/zlib.h /usr/include/zconf.h "$dir/include/"
cp -a $multiarch/libfmt.so* $multiarch/libdeflate.so* $multiarch/libpng16.so* $multiarch/libpng.so "$dir/lib/"
# A small fmt package configuration pointing at the copies (Debian's hard-codes /usr paths).
mkdir -p "$dir/lib/cmake/fmt"
cp $multiarch/cmake/fmt/fmt-config-version.cmake "$dir/lib/cmake/fmt/"
cat > "$dir/lib/cmake/fmt/fmt-config.cmake" <<'CONFIG'
if(NOT TARGET fmt::fmt)
  add_library(fmt::fmt SHARED IMPORTED)
  set_target_properties(fmt::fmt PROPERTIES
    IMPORTED_LOCATION "${CMAKE_CURRENT_LIST_DIR}/../../libfmt.so.9"
    INTERFACE_INCLUDE_DIRECTORIES "${CMAKE_CURRENT_LIST_DIR}/../../../include"
    INTERFACE_COMPILE_DEFINITIONS FMT_SHARED)
endif()
CONFIG
printf 'prefix=%s\nlibdir=${prefix}/lib\nincludedir=${prefix}/include\n\nName: libdeflate\nDescription: libdeflate\nVersion: 1.14\nLibs: -L${libdir} -ldeflate\nCflags: -I${includedir}\n' \
  "\${pcfiledir}/../.." > "$dir/lib/pkgconfig/libdeflate.pc"
echo "staged in $dir"
