#!/usr/bin/env bash
# Intake benchmark (issue 7): sustained signed POST /v1/erasure-requests to `lethe serve` on
# 127.0.0.1 from a second process (bench/serve_client.py: Python threads, one keep-alive
# connection each, HMAC by Python's hmac module). Reports requests/s and latency percentiles,
# then stops the server with SIGTERM and checks with the sqlite3 CLI that every acknowledged
# (201) request is in the database with its request.received audit entry, and that the audit
# chain verifies.
#
# Usage: bench/serve.sh [--seconds N] [--threads N] [--mode post|status] [--client cpp|python]
#                       [--build DIR]
#   --seconds N  length of the load (default 20)
#   --threads N  client connections (default 8)
#   --mode M     post: signed POSTs with unique request ids (default); status: signed GETs of the
#                requests a 5 s POST warm-up stored, each query signed afresh (lethe refuses a
#                replayed query)
#   --client C   cpp: bench/serve_load.cpp, compiled here (default; issue 18); python:
#                bench/serve_client.py (issue 7's figures; post only)
#   --senders N  N named senders ([[intake.sender]], two secrets each, as during a rotation); the
#                client signs as the last one. 0 (default): the single [intake] secret
#   --build DIR  meson build directory (default build-bench; configure it with
#                `meson setup build-bench --buildtype=release -Dtests=false && ninja -C build-bench`)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
seconds=20
threads=8
build="build-bench"
mode="post"
client="cpp"
senders=0
while [ $# -gt 0 ]; do
    case "$1" in
    --seconds) seconds="$2"; shift 2 ;;
    --threads) threads="$2"; shift 2 ;;
    --mode) mode="$2"; shift 2 ;;
    --client) client="$2"; shift 2 ;;
    --senders) senders="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h | --help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "serve.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

lethe="${LETHE_BIN:-$root/$build/src/lethe}"
[ -x "$lethe" ] || { echo "serve.sh: no binary at $lethe (build it first)" >&2; exit 2; }
command -v sqlite3 >/dev/null || { echo "serve.sh: sqlite3 is missing (apt-get install sqlite3)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lethe-serve-bench.XXXXXX")"
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
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
TOML
new_secret() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
if [ "$senders" -eq 0 ]; then
    echo 'secret_file = "intake.secret"' >>"$work/lethe.toml"
    new_secret >"$work/intake.secret"
else
    for i in $(seq 1 "$senders"); do
        # Two lines: the current secret and the next one, so every request is checked against
        # 2 x N secrets. The client signs with the last sender's current secret.
        { new_secret; echo; new_secret; echo; } >"$work/sender-$i.secret"
        chmod 600 "$work/sender-$i.secret"
        printf '[[intake.sender]]\nname = "sender-%s"\nsecret_file = "sender-%s.secret"\nscopes = ["submit", "read"]\n' \
            "$i" "$i" >>"$work/lethe.toml"
    done
    head -1 "$work/sender-$senders.secret" >"$work/intake.secret"
fi
chmod 600 "$work/intake.secret"
"$lethe" --config "$work/lethe.toml" init >/dev/null

"$lethe" --config "$work/lethe.toml" --log-level warn serve >"$work/serve.out" 2>"$work/serve.err" &
server_pid=$!
url=""
for _ in $(seq 1 500); do
    url="$(sed -n 's/^lethe serve listening on //p' "$work/serve.out")"
    [ -n "$url" ] && break
    sleep 0.01
done
[ -n "$url" ] || { echo "serve.sh: lethe serve did not start"; cat "$work/serve.err"; exit 1; }

echo "lethe serve at $url; $threads connections for $seconds s ($mode, $client client, $( [ "$senders" -eq 0 ] && echo "one [intake] secret" || echo "$senders senders"))"
if [ "$client" = "python" ]; then
    figures="$(python3 "$root/bench/serve_client.py" "$url" "$work/intake.secret" "$seconds" "$threads" "$work/acked.txt")"
else
    # shellcheck disable=SC2046
    g++ -O2 -std=c++20 "$root/bench/serve_load.cpp" -o "$work/serve_load" \
        $(pkg-config --cflags --libs cpp-httplib) -lcrypto -lpthread 2>/dev/null
    if [ "$mode" = "status" ]; then
        "$work/serve_load" "$url" "$work/intake.secret" 5 32 post "$work/acked.txt" >/dev/null
        figures="$("$work/serve_load" "$url" "$work/intake.secret" "$seconds" "$threads" status /dev/null "$work/acked.txt")"
    else
        figures="$("$work/serve_load" "$url" "$work/intake.secret" "$seconds" "$threads" post "$work/acked.txt")"
    fi
fi
echo "client: $figures"
cpu_ticks="$(awk '{print $14 + $15}' "/proc/$server_pid/stat")"
echo "server CPU: $(echo "$cpu_ticks / $(getconf CLK_TCK)" | bc -l | xargs printf '%.1f') s (user + system)"

kill -TERM "$server_pid"
status=0
wait "$server_pid" || status=$?
server_pid=""
[ "$status" -eq 0 ] || { echo "serve.sh: lethe serve exited with $status"; cat "$work/serve.err"; exit 1; }

acked="$(wc -l <"$work/acked.txt")"
stored="$(sqlite3 "$work/lethe.db" <<SQL
CREATE TEMP TABLE acked (request_id TEXT PRIMARY KEY);
.mode list
.import $work/acked.txt acked
SELECT count(*) FROM acked a
  JOIN requests r ON r.request_id = a.request_id
  JOIN audit_log l ON l.request_ref = a.request_id AND l.event = 'request.received';
SQL
)"
total="$(sqlite3 "$work/lethe.db" 'SELECT count(*) FROM requests')"
echo "acknowledged (201): $acked; stored with their audit entry: $stored; rows in requests: $total"
verify="$("$lethe" --config "$work/lethe.toml" audit verify 2>&1 | tail -1)"
echo "audit verify: $verify"
if [ "$acked" -ne "$stored" ] || [ "$acked" -eq 0 ]; then
    echo "serve.sh: FAILED: acknowledged requests missing from the database"
    exit 1
fi
echo "serve.sh: ok"
