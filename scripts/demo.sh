#!/usr/bin/env bash
# The README demo: a throw-away installation in ./demo that erases the sample requests from the
# bundled Customer.io sandbox (lethe-sandbox on 127.0.0.1; no account needed), then proves it
# from the audit log.
set -euo pipefail

build_dir="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
lethe="${LETHE_BIN:-$root/$build_dir/src/lethe}"
sandbox="${LETHE_SANDBOX_BIN:-$root/$build_dir/src/sandbox/lethe-sandbox}"
demo="${LETHE_DEMO_DIR:-$root/demo}" # the end-to-end test runs the demo in a temporary folder

rm -rf "$demo"
mkdir -p "$demo"

# The sandbox checks HTTP Basic auth like Customer.io does; these are its demo credentials.
site_id="demo-site"
export LETHE_SANDBOX_API_KEY="sk_demo_$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LETHE_DEMO_TRACK_KEY="$LETHE_SANDBOX_API_KEY"
"$sandbox" --listen 127.0.0.1:0 --site-id "$site_id" --environment-id 101 --latency-ms 40 >"$demo/sandbox.out" \
    2>"$demo/sandbox.log" &
sandbox_pid=$!
trap 'kill "$sandbox_pid" 2>/dev/null || true; wait "$sandbox_pid" 2>/dev/null || true' EXIT

url=""
for _ in $(seq 1 200); do
    url="$(sed -n 's/^lethe-sandbox listening on \(http[^ ]*\).*/\1/p' "$demo/sandbox.out")"
    [[ -n "$url" ]] && break
    sleep 0.05
done
if [[ -z "$url" ]]; then
    echo "demo: lethe-sandbox did not start:" >&2
    cat "$demo/sandbox.log" >&2
    exit 1
fi

cat >"$demo/lethe.toml" <<TOML
[database]
path = "state/lethe.db"

[[workspace]]
name = "demo"
region = "us"
environment_id = 101         # as \`lethe check\` prints it: the key must belong to this workspace
track_url = "$url"           # the sandbox; production uses https://track.customer.io
allow_insecure_loopback = true  # plain http is accepted only for 127.0.0.1 / ::1
site_id = "$site_id"
api_key_env = "LETHE_DEMO_TRACK_KEY"

[worker]
pacing_ms = 100

[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
export LETHE_CONFIG="$demo/lethe.toml"

step() { printf '\n$ %s\n' "$*"; "$@"; }
echo "lethe-sandbox (a local Customer.io Track API emulator) is listening on $url"
step "$lethe" init
step "$lethe" import "$root/config/sample-requests.csv"
step "$lethe" check
step "$lethe" run --once
step "$lethe" status
step "$lethe" audit verify
step "$lethe" report
step "$lethe" report --format html -o "$demo/report.html"
printf '\nThe demo installation is in %s (config, database, keys, checkpoints);\n' "$demo"
printf 'the DPO report is %s/report.html.\n' "$demo"
