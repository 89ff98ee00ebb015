#!/bin/sh
# Builds the CSV reader's libFuzzer target with clang and runs it.
#
#   scripts/fuzz-csv.sh [SECONDS] [extra libFuzzer flags...]     (default 60 seconds)
#
# The build goes to build-fuzz/ (override with LETHE_FUZZ_BUILD). New inputs found by the fuzzer
# are kept in BUILD/fuzz-corpus/csv, so the seeds in tests/fuzz/corpus/csv stay as committed; a
# crash is written to BUILD/fuzz-artifacts/ and the script exits non-zero.
set -eu

cd "$(dirname "$0")/.."
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${LETHE_FUZZ_BUILD:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
    CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false
fi
# Only the fuzz target: it does not need the rest of the library.
ninja -C "$build" tests/fuzz/fuzz-csv-reader

mkdir -p "$build/fuzz-corpus/csv" "$build/fuzz-artifacts"
exec "$build/tests/fuzz/fuzz-csv-reader" \
    -max_total_time="$seconds" \
    -dict=tests/fuzz/csv.dict \
    -max_len=4096 \
    -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/" \
    "$@" \
    "$build/fuzz-corpus/csv" tests/fuzz/corpus/csv
