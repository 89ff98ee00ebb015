#!/usr/bin/env bash
# Import benchmark (issue 2, "Tests and figures").
#
# Generates ROWS erasure requests (bench/gen_requests.py), then, on the same file:
#   - sqlite3's `.import` into a bare table (the baseline: parse and insert, nothing else);
#   - `lethe import` into a fresh installation (parse, validate, digest, deduplicate, link,
#     audit-chain every row, one transaction).
# Each is run RUNS times from a fresh database; the fastest run counts (the machine may be busy).
# Prints both rates, the ratio and lethe's peak RSS, checks the imported counts, and checks the
# targets: lethe at least half of sqlite3's rate, peak RSS under 64 MiB. Exits 1 if a target or
# a check fails.
#
# Usage: bench/import.sh [--rows N] [--runs N] [--build DIR] [--keep]
#   --build DIR  meson build directory holding src/lethe (default: build-bench; configure it
#                with `meson setup build-bench --buildtype=release && ninja -C build-bench`)
#   LETHE_BIN overrides the binary; TMPDIR chooses where the temporary files go.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rows=1000000
runs=3
build="build-bench"
keep=0
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    --keep) keep=1; shift ;;
    -h | --help) sed -n '2,16p' "$0"; exit 0 ;;
    *) echo "import.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

lethe="${LETHE_BIN:-$root/$build/src/lethe}"
[ -x "$lethe" ] || { echo "import.sh: no lethe binary at $lethe (build it first)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "import.sh: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "import.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lethe-bench.XXXXXX")"
if [ "$keep" = 0 ]; then
    trap 'rm -rf "$work"' EXIT
else
    echo "keeping $work"
fi

now_ns() { date +%s%N; }
# rows/s from a row count and a duration in nanoseconds
rate() { awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.0f", n / (ns / 1e9) }'; }
secs() { awk -v ns="$1" 'BEGIN { printf "%.2f", ns / 1e9 }'; }

csv="$work/requests.csv"
python3 "$root/bench/gen_requests.py" "$rows" "$csv"
size_mib=$(awk -v b="$(stat -c %s "$csv")" 'BEGIN { printf "%.1f", b / 1048576 }')

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "lethe:   $("$lethe" --version 2>/dev/null | head -1)"
echo "sqlite3: $(sqlite3 --version | cut -d' ' -f1)"
echo "input:   $rows rows, $size_mib MiB"
echo

# --- sqlite3 .import into a bare table -----------------------------------------------------------
best_sqlite=0
for run in $(seq "$runs"); do
    db="$work/bare.db"
    rm -f "$db" "$db-journal"
    sqlite3 "$db" 'CREATE TABLE requests (request_id TEXT, identifier TEXT, id_type TEXT, received_at TEXT);'
    t0=$(now_ns)
    sqlite3 "$db" ".import --csv --skip 1 '$csv' requests"
    t1=$(now_ns)
    n=$(sqlite3 "$db" 'SELECT count(*) FROM requests;')
    [ "$n" = "$rows" ] || { echo "sqlite3 imported $n rows, expected $rows" >&2; exit 1; }
    ns=$((t1 - t0))
    echo "sqlite3 run $run: $(secs "$ns") s, $(rate "$rows" "$ns") rows/s"
    if [ "$best_sqlite" = 0 ] || [ "$ns" -lt "$best_sqlite" ]; then best_sqlite=$ns; fi
done

# --- lethe import --------------------------------------------------------------------------------
best_lethe=0
best_rss=0
for run in $(seq "$runs"); do
    inst="$work/lethe"
    rm -rf "$inst"
    mkdir -p "$inst"
    cat >"$inst/lethe.toml" <<TOML
[database]
path = "state/lethe.db"

[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
    export LETHE_CONFIG="$inst/lethe.toml"
    "$lethe" init >/dev/null
    t0=$(now_ns)
    /usr/bin/time -v -o "$inst/time.txt" "$lethe" import "$csv" >"$inst/receipt.txt" 2>"$inst/stderr.txt" || {
        echo "lethe import failed:" >&2; cat "$inst/stderr.txt" >&2; exit 1
    }
    t1=$(now_ns)
    ns=$((t1 - t0))
    rss_kib=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$inst/time.txt")

    # The receipt and the database must account for every row: new or linked, one audit entry each.
    created=$(awk -F: '/^new requests/ { gsub(/ /, "", $2); print $2 }' "$inst/receipt.txt")
    linked=$(awk -F: '/^linked duplicates/ { gsub(/ /, "", $2); print $2 }' "$inst/receipt.txt")
    db="$inst/state/lethe.db"
    stored=$(sqlite3 "$db" 'SELECT count(*) FROM requests;')
    audited=$(sqlite3 "$db" "SELECT count(*) FROM audit_log WHERE event = 'request.received';")
    if [ $((created + linked)) != "$rows" ] || [ "$stored" != "$rows" ] || [ "$audited" != "$rows" ]; then
        echo "lethe: new $created + linked $linked, $stored stored, $audited audited; expected $rows" >&2
        exit 1
    fi
    echo "lethe   run $run: $(secs "$ns") s, $(rate "$rows" "$ns") rows/s, peak RSS $((rss_kib / 1024)) MiB" \
        "($created new, $linked linked duplicates)"
    if [ "$best_lethe" = 0 ] || [ "$ns" -lt "$best_lethe" ]; then best_lethe=$ns; fi
    if [ "$rss_kib" -gt "$best_rss" ]; then best_rss=$rss_kib; fi
done

# Re-importing the same file must add nothing (idempotency); timed for information.
t0=$(now_ns)
"$lethe" import "$csv" >"$inst/receipt2.txt" 2>"$inst/stderr2.txt"
t1=$(now_ns)
known=$(awk -F: '/^already known/ { gsub(/ /, "", $2); print $2 }' "$inst/receipt2.txt")
after=$(sqlite3 "$db" 'SELECT count(*) FROM requests;')
if [ "$known" != "$rows" ] || [ "$after" != "$rows" ]; then
    echo "lethe re-import: $known already known, $after stored; expected $rows both" >&2
    exit 1
fi
echo "lethe re-import: $(secs $((t1 - t0))) s, $(rate "$rows" $((t1 - t0))) rows/s, all $known already known"

# --- verdict -------------------------------------------------------------------------------------
sqlite_rate=$(rate "$rows" "$best_sqlite")
lethe_rate=$(rate "$rows" "$best_lethe")
ratio=$(awk -v l="$lethe_rate" -v s="$sqlite_rate" 'BEGIN { printf "%.2f", l / s }')
rss_mib=$(awk -v k="$best_rss" 'BEGIN { printf "%.1f", k / 1024 }')
rate_ok=$(awk -v r="$ratio" 'BEGIN { print (r >= 0.5) ? "PASS" : "FAIL" }')
rss_ok=$(awk -v k="$best_rss" 'BEGIN { print (k < 64 * 1024) ? "PASS" : "FAIL" }')

echo
echo "sqlite3 .import: $sqlite_rate rows/s (best of $runs)"
echo "lethe import:    $lethe_rate rows/s (best of $runs)"
echo "ratio:           $ratio (target >= 0.50)  $rate_ok"
echo "peak RSS:        $rss_mib MiB (target < 64 MiB)  $rss_ok"
[ "$rate_ok" = PASS ] && [ "$rss_ok" = PASS ]
