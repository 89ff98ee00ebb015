#!/usr/bin/env bash
# Runs every test suite of a built tree and ends with one line: "tests: N passed, M failed"
# (N and M count Catch2 test cases and the checks of packaging/prometheus/test-rules and
# packaging/grafana/check-dashboard; a suite that crashes before its summary counts as a failure).
set -uo pipefail

build_dir="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
export LETHE_BIN="$root/$build_dir/src/lethe"
export LETHE_SANDBOX_BIN="$root/$build_dir/src/sandbox/lethe-sandbox"
export LETHE_SOURCE_ROOT="$root"

passed=0
failed=0
logs="$root/$build_dir/test-logs"
mkdir -p "$logs"

run_suite() {
    local name="$1" binary="$2"
    echo "=== $name"
    "$binary" --reporter console --durations no 2>&1 | tee "$logs/$name.log"
    local rc=${PIPESTATUS[0]}
    local summary
    summary="$(grep -E '^(All tests passed|test cases:)' "$logs/$name.log" | tail -1)"
    # A test tagged [!shouldfail] that fails is "failed as expected": it counts as passed (it
    # documents a known gap; once it passes, Catch2 counts it as failed).
    if [[ "$summary" =~ \ \|\ *([0-9]+)\ failed\ as\ expected ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        summary="${summary/ | ${BASH_REMATCH[1]} failed as expected/}"
        if [[ "$summary" =~ ^test\ cases:\ *[0-9]+\ \|\ *([0-9]+)\ passed$ ]]; then
            summary="All tests passed (in ${BASH_REMATCH[1]} test cases)"
        fi
    fi
    if [[ "$summary" =~ ^All\ tests\ passed.*in\ ([0-9]+)\ test\ case ]]; then
        passed=$((passed + BASH_REMATCH[1]))
    elif [[ "$summary" =~ test\ cases:\ *([0-9]+)\ \|\ *([0-9]+)\ passed\ \|\ *([0-9]+)\ failed ]]; then
        passed=$((passed + BASH_REMATCH[2]))
        failed=$((failed + BASH_REMATCH[3]))
    elif [[ "$summary" =~ test\ cases:\ *([0-9]+)\ \|\ *([0-9]+)\ failed ]]; then
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "$name: no test summary (exit code $rc); counting the suite as one failure"
        failed=$((failed + 1))
    fi
    if [[ $rc -ne 0 && ! "$summary" =~ failed ]]; then
        echo "$name: exit code $rc"
        failed=$((failed + 1))
    fi
}

# A check script that ends with "<prefix>: N passed, M failed"; without that line it counts as one
# failure.
run_checks() {
    local name="$1" prefix="$2"
    shift 2
    echo "=== $name"
    "$@" 2>&1 | tee "$logs/$name.log"
    local line
    line="$(grep -E "^$prefix: [0-9]+ passed, [0-9]+ failed$" "$logs/$name.log" | tail -1)"
    if [[ "$line" =~ ([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
        passed=$((passed + BASH_REMATCH[1]))
        failed=$((failed + BASH_REMATCH[2]))
    else
        echo "$name: no summary; counting it as one failure"
        failed=$((failed + 1))
    fi
}

run_suite unit "$root/$build_dir/tests/lethe-unit-tests"
run_suite e2e "$root/$build_dir/tests/lethe-e2e-tests"
# The alert rules (promtool check/test rules) and the dashboard's queries (packaging/).
run_checks alerts alerts "$root/packaging/prometheus/test-rules"
run_checks dashboard dashboard "$root/packaging/grafana/check-dashboard"

echo "tests: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
