#!/usr/bin/env bash
# Fuzzing of every reader of untrusted bytes with libFuzzer (clang 14) under ASan + UBSan
# (tests/fuzz/; docs/reliability.md has the targets and the hours they have run).
#
#   scripts/fuzz.sh build                 configure and build every target in build-fuzz/
#   scripts/fuzz.sh replay                run every target once over its committed corpus (CI does this)
#   scripts/fuzz.sh run TARGET SECONDS    fuzz one target; new inputs go to build-fuzz/corpus/TARGET,
#                                         findings (crash-*, leak-*, timeout-*, oom-*) to build-fuzz/findings/TARGET
#   scripts/fuzz.sh list                  the targets
#
# A finding is reproduced with build-fuzz/fuzz_TARGET FILE; once fixed, copy the file into
# tests/fuzz/corpus/TARGET/ so that every replay checks it again.
set -euo pipefail
cd "$(dirname "$0")/.."
targets=(nifti png zip unpickler checkpoint manifest torchscript_metadata dataset_json report journal session)
build_dir=build-fuzz

build() {
  if [[ ! -f $build_dir/CMakeCache.txt ]]; then
    CC=clang-14 CXX=clang++-14 cmake -S tests/fuzz -B $build_dir -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
  fi
  cmake --build $build_dir
}

# Limits that turn a hang or a runaway allocation into a finding.
limits=(-rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=20)
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

case "${1:-}" in
  build) build ;;
  list) printf '%s\n' "${targets[@]}" ;;
  replay)
    build
    for t in "${targets[@]}"; do
      n=$(find tests/fuzz/corpus/$t -type f | wc -l)
      echo "== replaying $n input(s) through fuzz_$t"
      $build_dir/fuzz_$t "${limits[@]}" -runs=0 tests/fuzz/corpus/$t 2> $build_dir/replay_$t.log ||
        { tail -40 $build_dir/replay_$t.log; echo "fuzz_$t failed on its corpus" >&2; exit 1; }
    done
    ;;
  run)
    t=${2:?target}; seconds=${3:?seconds}
    [[ " ${targets[*]} " == *" $t "* ]] || { echo "fuzz.sh: unknown target '$t' (scripts/fuzz.sh list)" >&2; exit 2; }
    build
    mkdir -p $build_dir/corpus/$t $build_dir/findings/$t
    cp -n tests/fuzz/corpus/$t/* $build_dir/corpus/$t/ 2>/dev/null || true
    dict=()
    case $t in manifest|torchscript_metadata|dataset_json|report|journal|session) dict=(-dict="$PWD/tests/fuzz/json.dict") ;; esac
    cd $build_dir/findings/$t
    exec ../../fuzz_$t "${limits[@]}" "${dict[@]}" -max_total_time="$seconds" -print_final_stats=1 ../../corpus/$t
    ;;
  *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
