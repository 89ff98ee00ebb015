#!/bin/sh
# Builds the intake body parser's libFuzzer target with clang and runs it (scripts/fuzz.sh).
#
#   scripts/fuzz-intake.sh [SECONDS] [extra libFuzzer flags...]     (default 60 seconds)
exec "$(dirname "$0")/fuzz.sh" intake "$@"
