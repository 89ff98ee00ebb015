#!/usr/bin/env bash
# Worker benchmark (issue 3, "Figures"), against lethe-sandbox on 127.0.0.1.
#
#   1. paced:   pacing_ms = 100, concurrency 4 (the defaults), 150 ms of added latency on every
#               sandbox call. Target: at least 9.7 erasures/s. (A sequential loop of
#               suppress + destroy + 100 ms sleep reaches about 1 / (0.15 + 0.15 + 0.1) = 2.5/s.)
#   2. unpaced: pacing_ms = 0, no added latency: erasures/s and CPU time per erasure of the lethe
#               process (user + system, from /usr/bin/time).
#   3. three workspaces (issue 14): the paced run against three sandbox workspaces, each request
#               erased in all three. Pacing, concurrency and the 429 pause are per workspace, so
#               the target is at least 29 erasures/s in total and at least 9.7/s in each; CPU per
#               erasure recorded.
#   4. verified (issue 15): one workspace with an App API key, so every erasure is resolved and
#               read back; 150 ms latency on both APIs, pacing_ms = 100. Target: at least 9.7
#               verified erasures/s while the App API stays within 10 requests/s (from the
#               sandbox's log).
# Each run erases everyone with `lethe run --once` and checks that every request is `done` and the
# audit chain verifies. Prints the figures; exits 1 if the paced target is missed or a check fails.
#
# Usage: bench/worker.sh [--paced N] [--unpaced N] [--runs LIST] [--build DIR]
#   --paced N    requests in the paced run and in the three-workspace run (default 300: about
#                30 s each)
#   --unpaced N  requests in the unpaced run (default 5000)
#   --runs LIST  comma-separated runs to do, of paced,unpaced,three,verified (default all four)
#   --build DIR  meson build directory (default build-bench; configure it with
#                `meson setup build-bench --buildtype=release && ninja -C build-bench`)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
paced=300
unpaced=5000
build="build-bench"
runs="paced,unpaced,three,verified"
while [ $# -gt 0 ]; do
    case "$1" in
    --paced) paced="$2"; shift 2 ;;
    --unpaced) unpaced="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "worker.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done

lethe="${LETHE_BIN:-$root/$build/src/lethe}"
sandbox="${LETHE_SANDBOX_BIN:-$root/$build/src/sandbox/lethe-sandbox}"
for bin in "$lethe" "$sandbox"; do
    [ -x "$bin" ] || { echo "worker.sh: no binary at $bin (build it first)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "worker.sh: /usr/bin/time is missing (apt-get install time)" >&2; exit 2; }

work="$(mktemp -d "${TMPDIR:-/tmp}/lethe-worker-bench.XXXXXX")"
sandbox_pid=""
stop_sandbox() {
    if [ -n "$sandbox_pid" ]; then
        kill "$sandbox_pid" 2>/dev/null || true
        wait "$sandbox_pid" 2>/dev/null || true
        sandbox_pid=""
    fi
}
cleanup() {
    stop_sandbox
    rm -rf "$work"
}
trap cleanup EXIT

export LETHE_SANDBOX_API_KEY="sk_bench_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LETHE_BENCH_TRACK_KEY="$LETHE_SANDBOX_API_KEY"

start_sandbox() { # $@: extra sandbox flags; sets $url
    stop_sandbox
    # The shell opens the redirections in the background child, so create the files first: the
    # polling loop below may otherwise read sandbox.out before it exists.
    : >"$work/sandbox.out"
    : >"$work/sandbox.err"
    local site=(--site-id bench-site)
    [[ " $* " == *" --workspaces "* ]] && site=() # the file names each workspace's site and key
    "$sandbox" --listen 127.0.0.1:0 "${site[@]}" "$@" >"$work/sandbox.out" 2>"$work/sandbox.err" &
    sandbox_pid=$!
    url=""
    for _ in $(seq 1 200); do
        url="$(sed -n 's/^lethe-sandbox listening on \(http[^ ]*\).*/\1/p' "$work/sandbox.out")"
        [ -n "$url" ] && return 0
        sleep 0.05
    done
    echo "worker.sh: lethe-sandbox did not start" >&2
    cat "$work/sandbox.err" >&2
    exit 1
}

# The Customer.io part of lethe.toml: one [customerio] section, or the three [[workspace]] tables
# of the sandbox's $work/workspaces.json when $workspaces is set.
customerio_config() {
    if [ -z "${workspaces:-}" ]; then
        cat <<TOML
[customerio]
track_url = "$url"
allow_insecure_loopback = true
site_id = "bench-site"
api_key_env = "LETHE_BENCH_TRACK_KEY"
TOML
        return
    fi
    for i in $workspaces_list; do
        cat <<TOML
[[workspace]]
name = "ws-$i"
region = "us"
site_id = "bench-site-$i"
environment_id = $((100 + i))
api_key_env = "LETHE_BENCH_TRACK_KEY_$i"
track_url = "$url"
app_url = "$url"
allow_insecure_loopback = true
$( [ -n "${with_app:-}" ] && echo "app_api_key_env = \"LETHE_BENCH_APP_KEY_$i\"" )
TOML
    done
}

install_lethe() { # $1: folder, $2: pacing_ms, $3: request count
    local dir="$1"
    mkdir -p "$dir"
    cat >"$dir/lethe.toml" <<TOML
[database]
path = "state/lethe.db"
$(customerio_config)
[worker]
pacing_ms = $2
concurrency = 4
[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
    export LETHE_CONFIG="$dir/lethe.toml"
    "$lethe" init >/dev/null
    python3 "$root/bench/gen_requests.py" "$3" "$dir/requests.csv" --seed 3 >/dev/null
    "$lethe" import "$dir/requests.csv" >/dev/null 2>"$dir/import.err"
}

# Runs `lethe run --once`, checks the outcome; sets $seconds, $cpu and $erased.
drain() { # $1: folder, $2: expected request count
    local dir="$1" t0 t1 done_count
    t0=$(date +%s%N)
    /usr/bin/time -f "%U %S" -o "$dir/cpu.txt" "$lethe" --log-level warn run --once \
        >"$dir/run.out" 2>"$dir/run.err" || {
        echo "worker.sh: lethe run failed:" >&2; tail -5 "$dir/run.err" >&2; exit 1
    }
    t1=$(date +%s%N)
    seconds=$(awk -v ns=$((t1 - t0)) 'BEGIN { printf "%.2f", ns / 1e9 }')
    cpu=$(awk '{ printf "%.3f", $1 + $2 }' "$dir/cpu.txt")
    erased=$(sed -n 's/^erased \([0-9]*\),.*/\1/p' "$dir/run.out")
    done_count=$("$lethe" status --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["counts"]["done"])')
    "$lethe" status --json >"$dir/status.json"
    if [ "$done_count" != "$2" ]; then
        echo "worker.sh: $done_count of $2 requests done" >&2
        exit 1
    fi
    "$lethe" audit verify >/dev/null || { echo "worker.sh: audit verify failed" >&2; exit 1; }
}

wants() { [[ ",$runs," == *",$1,"* ]]; }
paced_ok=SKIP three_ok=SKIP verified_ok=SKIP

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "lethe:   $("$lethe" --version | head -1)"
echo

if wants paced; then
start_sandbox --latency-ms 150
install_lethe "$work/paced" 100 "$paced"
drain "$work/paced" "$paced"
paced_rate=$(awk -v n="$erased" -v s="$seconds" 'BEGIN { printf "%.2f", n / s }')
paced_ok=$(awk -v r="$paced_rate" 'BEGIN { print (r >= 9.7) ? "PASS" : "FAIL" }')
echo "paced   (pacing 100 ms, latency 150 ms, concurrency 4): $erased erasures in $seconds s" \
    "= $paced_rate erasures/s (target >= 9.7)  $paced_ok"
fi

if wants unpaced; then
start_sandbox
install_lethe "$work/unpaced" 0 "$unpaced"
drain "$work/unpaced" "$unpaced"
unpaced_rate=$(awk -v n="$erased" -v s="$seconds" 'BEGIN { printf "%.0f", n / s }')
cpu_per=$(awk -v c="$cpu" -v n="$erased" 'BEGIN { printf "%.0f", c / n * 1e6 }')
echo "unpaced (pacing 0, no latency, concurrency 4):          $erased erasures in $seconds s" \
    "= $unpaced_rate erasures/s; lethe CPU $cpu s = $cpu_per µs per erasure"
fi

if wants three; then
# Three workspaces: the sandbox holds three, each with its own key; every request applies to all.
workspaces=1
workspaces_list="1 2 3"
python3 - "$work/workspaces.json" <<'PY'
import json, os, sys
spaces = [{"name": f"ws-{i}", "region": "us", "site_id": f"bench-site-{i}",
           "track_api_key": os.environ["LETHE_SANDBOX_API_KEY"] + f"-{i}",
           "environment_id": 100 + i, "identify_by": "email_or_id"} for i in (1, 2, 3)]
json.dump({"workspaces": spaces}, open(sys.argv[1], "w"))
PY
for i in 1 2 3; do export "LETHE_BENCH_TRACK_KEY_$i=$LETHE_SANDBOX_API_KEY-$i"; done
start_sandbox --workspaces "$work/workspaces.json" --latency-ms 150
install_lethe "$work/three" 100 "$paced"
drain "$work/three" "$paced"
three_rate=$(awk -v n="$erased" -v s="$seconds" 'BEGIN { printf "%.2f", n / s }')
three_cpu_per=$(awk -v c="$cpu" -v n="$erased" 'BEGIN { printf "%.0f", c / n * 1e6 }')
per_ws=$(python3 - "$work/three/status.json" "$seconds" <<'PY'
import json, sys
status = json.load(open(sys.argv[1]))
secs = float(sys.argv[2])
rates = {w: c["done"] / secs for w, c in sorted(status["workspaces"].items())}
print(" ".join(f"{w}={r:.2f}/s" for w, r in rates.items()))
print("PASS" if len(rates) == 3 and min(rates.values()) >= 9.7 else "FAIL")
PY
)
per_ws_ok=$(echo "$per_ws" | tail -1)
three_ok=$(awk -v r="$three_rate" -v w="$per_ws_ok" 'BEGIN { print (r >= 29 && w == "PASS") ? "PASS" : "FAIL" }')
echo "three workspaces (pacing 100 ms each, latency 150 ms): $erased erasures in $seconds s" \
    "= $three_rate erasures/s (target >= 29), $(echo "$per_ws" | head -1) (target >= 9.7 each);" \
    "lethe CPU $cpu s = $three_cpu_per µs per erasure  $three_ok"
fi

if wants verified; then
# Verified: one workspace with its App API key; the sandbox holds the people, so each erasure
# finds a profile, erases it by cio_id and reads it back.
workspaces=1
workspaces_list="1"
with_app=1
export "LETHE_BENCH_TRACK_KEY_1=$LETHE_SANDBOX_API_KEY-1" "LETHE_BENCH_APP_KEY_1=app-$LETHE_SANDBOX_API_KEY-1"
python3 - "$work/verified.json" <<'PY'
import json, os, sys
spaces = [{"name": "ws-1", "region": "us", "site_id": "bench-site-1",
           "track_api_key": os.environ["LETHE_SANDBOX_API_KEY"] + "-1",
           "app_api_key": "app-" + os.environ["LETHE_SANDBOX_API_KEY"] + "-1",
           "environment_id": 101, "identify_by": "email_or_id"}]
json.dump({"workspaces": spaces, "app_rate_limit": 10}, open(sys.argv[1], "w"))
PY
start_sandbox --workspaces "$work/verified.json" --latency-ms 150
install_lethe "$work/verified" 100 "$paced"
# One profile for each request, so every erasure finds someone to erase and read back.
python3 - "$work/verified/requests.csv" <<'PY' | curl -sf -o /dev/null -H 'Content-Type: application/json' --data-binary @- "$url/_sandbox/people"
import csv, json, sys
people, seen = [], set()
for k, row in enumerate(csv.DictReader(open(sys.argv[1]))):
    ident, kind = row["identifier"].strip(), (row.get("id_type") or "").strip()
    if ident.lower() in seen:
        continue  # a duplicate request for the same person
    seen.add(ident.lower())
    if kind == "cio_id" or ident.startswith("cio_"):
        people.append({"id": f"bench-{k}", "cio_id": ident[4:]})
    elif kind == "email" or "@" in ident:
        people.append({"id": f"bench-{k}", "email": ident})
    else:
        people.append({"id": ident})
print(json.dumps({"workspace": "ws-1", "people": people}))
PY
drain "$work/verified" "$paced"
verified_rate=$(awk -v n="$erased" -v s="$seconds" 'BEGIN { printf "%.2f", n / s }')
app_stats=$(curl -s "$url/_sandbox/state?people=0" | python3 -c '
import json, sys
s = json.load(sys.stdin)
app = [e for e in s["log"] if e.get("api") == "app"]
limited = sum(1 for e in app if e.get("status") == 429)
secs = {}
for e in app:
    secs[e["time"][:19]] = secs.get(e["time"][:19], 0) + 1
print(len(app), limited, max(secs.values()) if secs else 0)')
read -r app_calls app_429 app_peak <<<"$app_stats"
verified_ok=$(awk -v r="$verified_rate" -v p="$app_peak" 'BEGIN { print (r >= 9.7 && p <= 10) ? "PASS" : "FAIL" }')
echo "verified (App API on, pacing 100 ms, latency 150 ms):   $erased erasures in $seconds s" \
    "= $verified_rate verified erasures/s (target >= 9.7); App API $app_calls calls," \
    "at most $app_peak in any second, $app_429 answered 429  $verified_ok"
fi

for ok in "$paced_ok" "$three_ok" "$verified_ok"; do
    [ "$ok" = FAIL ] && exit 1
done
exit 0
