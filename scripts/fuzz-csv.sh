#!/bin/sh
# Builds the CSV reader's libFuzzer target with clang and runs it (scripts/fuzz.sh).
#
#   scripts/fuzz-csv.sh [SECONDS] [extra libFuzzer flags...]     (default 60 seconds)
exec "$(dirname "$0")/fuzz.sh" csv "$@"
