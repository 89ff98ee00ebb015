#!/usr/bin/env bash
# Hostile-client benchmark (issue 16, points 4 and 5): `lethe serve` on 127.0.0.1 with ROWS
# pending requests (bench/gen_requests.py, then `lethe import`), then bench/hostile_client.py:
#   1. /metrics: 1000 scrapes (first, median, p99) with /healthz probed every 10 ms meanwhile;
#   2. bombs: 1 GiB chunked body, 256 MiB header lines, gzip/br compression bombs: bytes taken,
#      answers, the server's RSS and peak RSS growth;
#   3. slowloris: 100 trickling connections (+5 trickling bodies), /healthz p99 and signed POSTs
#      meanwhile, then SIGTERM with all of them connected: seconds to exit.
# Prints each part's figures as JSON.
#
# Usage: bench/hostile.sh [--rows N] [--build DIR]
#   --rows N     pending requests to import first (default 1000000; 0 skips the import)
#   --build DIR  meson build directory (default build-bench; configure it with
#                `meson setup build-bench --buildtype=release -Dtests=false && ninja -C build-bench`)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rows=1000000
build="build-bench"
while [ $# -gt 0 ]; do
    case "$1" in
    --rows) rows="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h | --help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "hostile.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

lethe="${LETHE_BIN:-$root/$build/src/lethe}"
[ -x "$lethe" ] || { echo "hostile.sh: no binary at $lethe (build it first)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lethe-hostile-bench.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

cat >"$work/lethe.toml" <<TOML
[database]
path = "lethe.db"
[audit]
subject_key_file = "subject.key"
checkpoint_key_file = "checkpoint.key"
checkpoint_dir = "checkpoints"
[intake]
listen = "127.0.0.1:0"
secret_file = "intake.secret"
TOML
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$work/intake.secret"
chmod 600 "$work/intake.secret"
"$lethe" --config "$work/lethe.toml" init >/dev/null
echo "lethe: $("$lethe" --version | head -1); $(nproc) cores; $(date -u +%FT%TZ)"

if [ "$rows" -gt 0 ]; then
    python3 "$root/bench/gen_requests.py" "$rows" "$work/requests.csv"
    start=$(date +%s.%N)
    "$lethe" --config "$work/lethe.toml" --log-level warn import "$work/requests.csv" >/dev/null
    echo "imported $rows rows in $(echo "$(date +%s.%N) - $start" | bc -l | xargs printf '%.1f') s"
    # The full count a scrape made before schema 5 (RequestQueue::status), for comparison.
    start=$(date +%s.%N)
    "$lethe" --config "$work/lethe.toml" --log-level warn status >/dev/null
    echo "lethe status (full count, what /metrics ran before): $(echo "$(date +%s.%N) - $start" | bc -l | xargs printf '%.2f') s"
fi

start_server() {
    "$lethe" --config "$work/lethe.toml" --log-level error serve >"$work/serve.out" 2>"$work/serve.err" &
    server_pid=$!
    url=""
    for _ in $(seq 1 1000); do
        url="$(sed -n 's/^lethe serve listening on //p' "$work/serve.out")"
        [ -n "$url" ] && break
        sleep 0.01
    done
    [ -n "$url" ] || { echo "hostile.sh: lethe serve did not start"; cat "$work/serve.err"; exit 1; }
}

start_server
client() { python3 "$root/bench/hostile_client.py" "$url" "$work/intake.secret" "$server_pid" "$@"; }
echo "--- /metrics with $rows pending requests"
client metrics 1000
echo "--- bombs"
client bombs
echo "--- slowloris, then SIGTERM"
client slowloris 100
status=0
wait "$server_pid" || status=$?
server_pid=""
echo "lethe serve exit status: $status"
[ "$status" -eq 0 ] || { cat "$work/serve.err"; exit 1; }
