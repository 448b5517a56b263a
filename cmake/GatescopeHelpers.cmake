# Small helpers shared by every module's CMakeLists.txt.

function(gatescope_setup_ccache)
  if(NOT GATESCOPE_CCACHE)
    return()
  endif()
  find_program(GATESCOPE_CCACHE_PROGRAM ccache)
  if(GATESCOPE_CCACHE_PROGRAM)
    # Relative paths in the cache key let a fresh clone in another folder reuse the cache.
    set(launcher ${CMAKE_COMMAND} -E env CCACHE_BASEDIR=${PROJECT_SOURCE_DIR} CCACHE_NOHASHDIR=1
                 CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
                 ${GATESCOPE_CCACHE_PROGRAM})
    set(CMAKE_C_COMPILER_LAUNCHER ${launcher} PARENT_SCOPE)
    set(CMAKE_CXX_COMPILER_LAUNCHER ${launcher} PARENT_SCOPE)
  endif()
endfunction()

# Warnings and sanitizers for a gatescope target.
function(gatescope_target_defaults target)
  target_compile_features(${target} PUBLIC cxx_std_20)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wno-unused-parameter
                         -Wno-restrict)  # GCC 12 false positives in std::string concatenation
  if(GATESCOPE_SANITIZE)
    target_compile_options(${target} PUBLIC -fsanitize=address,undefined -fno-omit-frame-pointer
                                            -fno-sanitize-recover=undefined)
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()

# gatescope_add_library(NAME SOURCES...): a module library whose headers are included as
# "module/sub/file.hpp" from the source tree root.
function(gatescope_add_library name)
  add_library(${name} ${ARGN})
  target_include_directories(${name} PUBLIC ${PROJECT_SOURCE_DIR} ${PROJECT_BINARY_DIR}/generated)
  gatescope_target_defaults(${name})
endfunction()

function(gatescope_print_summary)
  message(STATUS "")
  message(STATUS "gatescope ${PROJECT_VERSION} configuration")
  message(STATUS "  build type            ${CMAKE_BUILD_TYPE}")
  message(STATUS "  compiler              ${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}")
  message(STATUS "  ccache                ${GATESCOPE_CCACHE_PROGRAM}")
  message(STATUS "  GATESCOPE_GUI         ${GATESCOPE_GUI}")
  message(STATUS "  GATESCOPE_VTK         ${GATESCOPE_VTK}")
  message(STATUS "  GATESCOPE_FIGURES     ${GATESCOPE_FIGURES}")
  message(STATUS "  GATESCOPE_TESTS       ${GATESCOPE_TESTS}")
  message(STATUS "  GATESCOPE_SANITIZE    ${GATESCOPE_SANITIZE}")
  message(STATUS "  LibTorch              ${Torch_VERSION} (${TORCH_INSTALL_PREFIX})")
  if(TORCH_CUDA_LIBRARIES OR CUDA_FOUND)
    message(STATUS "  CUDA                  yes")
  else()
    message(STATUS "  CUDA                  no (CPU only)")
  endif()
  message(STATUS "  NIfTI C library       ${NiftiC_NIFTI2_LIBRARY}")
  message(STATUS "  libdeflate            ${LIBDEFLATE_VERSION}")
  message(STATUS "  libpng                ${PNG_VERSION_STRING}")
  message(STATUS "  nlohmann_json         ${nlohmann_json_VERSION}")
  message(STATUS "  CLI11                 ${CLI11_VERSION}")
  if(GATESCOPE_GUI)
    message(STATUS "  GLFW                  ${glfw3_VERSION}")
    message(STATUS "  Dear ImGui            ${IMGUI_VERSION}")
  endif()
  if(GATESCOPE_FIGURES)
    message(STATUS "  cairo                 ${CAIRO_VERSION}")
  endif()
  if(GATESCOPE_VTK)
    message(STATUS "  VTK                   ${VTK_VERSION}")
  endif()
  message(STATUS "")
endfunction()
