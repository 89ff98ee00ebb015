#!/usr/bin/env bash
# Contention benchmark (issue 16, "Figures": the resident worker during a large import).
#
# A `lethe serve --with-worker` service (pacing_ms = 100, concurrency 4) erases PENDING requests
# against lethe-sandbox on 127.0.0.1 while `lethe import` adds ROWS more, and a paced client sends
# it 10 signed POSTs/s throughout. Prints the worker's erasures/s over a quiet window before the
# import and over the import itself, the import's duration, and the intake's latency during it.
# Targets of the issue: at least 9 erasures/s and intake p99 < 1 s during a 1,000,000-row import.
#
# Usage: bench/contention.sh [--rows N] [--pending N] [--build DIR]
#   --rows N     rows of the import (default 1000000)
#   --pending N  requests waiting for the worker before the import (default 3000)
#   --build DIR  meson build directory (default build-bench)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rows=1000000
pending=3000
build="build-bench"
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --pending) pending="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h | --help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "contention.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

lethe="${LETHE_BIN:-$root/$build/src/lethe}"
sandbox="${LETHE_SANDBOX_BIN:-$root/$build/src/sandbox/lethe-sandbox}"
for bin in "$lethe" "$sandbox"; do
    [ -x "$bin" ] || { echo "contention.sh: no binary at $bin (build it first)" >&2; exit 2; }
done
command -v sqlite3 >/dev/null || { echo "contention.sh: sqlite3 is missing" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lethe-contention.XXXXXX")"
pids=()
cleanup() {
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

export LETHE_SANDBOX_API_KEY="sk_bench_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LETHE_BENCH_TRACK_KEY="$LETHE_SANDBOX_API_KEY"
: >"$work/sandbox.out"
"$sandbox" --listen 127.0.0.1:0 --site-id bench-site >"$work/sandbox.out" 2>"$work/sandbox.err" &
pids+=($!)
# Prints the URL a server announced in FILE ("NAME listening on URL"), waiting up to 10 s.
listening_url() { # $1 name, $2 file
    local url=""
    for _ in $(seq 1 500); do
        url="$(sed -n "s/^$1 listening on \(http[^ ]*\).*/\1/p" "$2")"
        [ -n "$url" ] && break
        sleep 0.02
    done
    [ -n "$url" ] || { echo "contention.sh: $1 did not start" >&2; cat "${2%.out}.err" >&2; exit 1; }
    echo "$url"
}
url="$(listening_url lethe-sandbox "$work/sandbox.out")"

cat >"$work/lethe.toml" <<TOML
[database]
path = "state/lethe.db"
[customerio]
track_url = "$url"
allow_insecure_loopback = true
site_id = "bench-site"
api_key_env = "LETHE_BENCH_TRACK_KEY"
[worker]
pacing_ms = 100
concurrency = 4
[intake]
listen = "127.0.0.1:0"
secret_file = "intake.secret"
[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
export LETHE_CONFIG="$work/lethe.toml"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/intake.secret"
chmod 600 "$work/intake.secret"
"$lethe" init >/dev/null
# The worker's requests: their own request ids (P...), so the import adds all of its rows.
python3 "$root/bench/gen_requests.py" "$pending" "$work/pending.csv" --seed 7 >/dev/null
sed -e '1n' -e '/^"/d' -e 's/^/P/' "$work/pending.csv" >"$work/pending-p.csv"
"$lethe" import "$work/pending-p.csv" >/dev/null
python3 "$root/bench/gen_requests.py" "$rows" "$work/big.csv" --seed 3 >/dev/null

done_count() {
    sqlite3 "$work/state/lethe.db" "SELECT count(*) FROM requests WHERE state = 'done'"
}
now() { date +%s%N; }
rate() { # $1 erased, $2 ns
    awk -v n="$1" -v ns="$2" 'BEGIN { printf "%.2f", n / (ns / 1e9) }'
}

"$lethe" --log-level warn serve --with-worker >"$work/run.out" 2>"$work/run.err" &
pids+=($!)
intake="$(listening_url "lethe serve" "$work/run.out")"
sleep 5 # the worker's first claims and pacing settle
d0=$(done_count)
t0=$(now)
sleep 10
d1=$(done_count)
t1=$(now)
python3 "$root/bench/paced_client.py" "$intake" "$work/intake.secret" 10 "$work/stop" \
    >"$work/paced.json" &
client=$!
"$lethe" import "$work/big.csv" >"$work/import.out" 2>"$work/import.err"
d2=$(done_count)
t2=$(now)
touch "$work/stop"
wait "$client"
grep -q "^new requests:" "$work/import.out" || { cat "$work/import.err" >&2; exit 1; }
if grep -q "halted" "$work/run.err"; then
    echo "contention.sh: the worker halted during the import:" >&2
    tail -5 "$work/run.err" >&2
    exit 1
fi

quiet=$(rate $((d1 - d0)) $((t1 - t0)))
during=$(rate $((d2 - d1)) $((t2 - t1)))
import_s=$(awk -v ns=$((t2 - t1)) 'BEGIN { printf "%.1f", ns / 1e9 }')
echo "new requests: $(sed -n "s/^new requests: *//p" "$work/import.out") of $rows rows (the rest: linked duplicates)"
echo "import (staged and published in chunks): ${import_s} s"
echo "worker before the import: $quiet erasures/s"
echo "worker during the import: $during erasures/s ($((d2 - d1)) erased)"
echo "worker halted: no; busy waits logged: $(grep -c 'the database is busy' "$work/run.err" || true)"
echo "intake during the import (10 signed POSTs/s): $(cat "$work/paced.json")"
