#!/bin/sh
# Builds one libFuzzer target with clang and runs it.
#
#   scripts/fuzz.sh NAME [SECONDS] [extra libFuzzer flags...]     (default 60 seconds)
#
# NAME is csv (fuzz-csv-reader) or intake (fuzz-intake-body). The build goes to build-fuzz/
# (override with LETHE_FUZZ_BUILD). New inputs found by the fuzzer are kept in
# BUILD/fuzz-corpus/NAME, so the seeds in tests/fuzz/corpus/NAME stay as committed; a crash is
# written to BUILD/fuzz-artifacts/ and the script exits non-zero.
set -eu

cd "$(dirname "$0")/.."
name=${1:?usage: scripts/fuzz.sh csv|intake [SECONDS] [libFuzzer flags...]}
shift
case "$name" in
    csv) target=fuzz-csv-reader ;;
    intake) target=fuzz-intake-body ;;
    *) echo "scripts/fuzz.sh: unknown target $name (csv or intake)" >&2; exit 2 ;;
esac
seconds=${1:-60}
[ $# -gt 0 ] && shift
build=${LETHE_FUZZ_BUILD:-build-fuzz}

if [ ! -f "$build/build.ninja" ]; then
    CXX=clang++ meson setup "$build" -Dfuzz=true -Dtests=false
fi
# Only the fuzz target: it does not need the rest of the library.
ninja -C "$build" "tests/fuzz/$target"

mkdir -p "$build/fuzz-corpus/$name" "$build/fuzz-artifacts"
exec "$build/tests/fuzz/$target" \
    -max_total_time="$seconds" \
    -dict="tests/fuzz/$name.dict" \
    -max_len=4096 \
    -print_final_stats=1 \
    -artifact_prefix="$build/fuzz-artifacts/" \
    "$@" \
    "$build/fuzz-corpus/$name" "tests/fuzz/corpus/$name"
