#!/usr/bin/env bash
# The README demo: a throw-away installation in ./demo that erases the sample requests from the
# bundled Customer.io sandbox (lethe-sandbox on 127.0.0.1; no account needed), reads each erasure
# back through the App API, proves it from the audit log, and checks the sandbox's own state.
set -euo pipefail

build_dir="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
lethe="${LETHE_BIN:-$root/$build_dir/src/lethe}"
sandbox="${LETHE_SANDBOX_BIN:-$root/$build_dir/src/sandbox/lethe-sandbox}"
demo="${LETHE_DEMO_DIR:-$root/demo}" # the end-to-end test runs the demo in a temporary folder

rm -rf "$demo"
mkdir -p "$demo"

# The sandbox checks HTTP Basic auth (Track API) and a bearer key (App API) like Customer.io
# does; these are its demo credentials. It holds the sample's people and one bystander, Erin,
# who must still be there at the end.
site_id="demo-site"
random_key() { printf '%s_%s' "$1" "$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"; }
export LETHE_DEMO_TRACK_KEY="$(random_key sk_demo)"
export LETHE_DEMO_APP_KEY="$(random_key ak_demo)"
# The file holds the sandbox's keys: readable by this user only, as a real key file would be.
(umask 077 && cat >"$demo/sandbox-workspaces.json") <<JSON
{"workspaces": [{"name": "demo", "region": "us", "site_id": "$site_id",
  "track_api_key": "$LETHE_DEMO_TRACK_KEY", "app_api_key": "$LETHE_DEMO_APP_KEY",
  "environment_id": 101, "identify_by": "email_or_id",
  "people": [{"id": "u-alice", "email": "alice@example.com"},
             {"id": "cust_48213", "email": "carol@example.net"},
             {"id": "u-dave", "cio_id": "a1b2c3d4e5"},
             {"id": "u-bob", "email": "bob+news@example.org"},
             {"id": "u-erin", "email": "erin@example.com"}]}]}
JSON
"$sandbox" --listen 127.0.0.1:0 --workspaces "$demo/sandbox-workspaces.json" --latency-ms 40 \
    >"$demo/sandbox.out" 2>"$demo/sandbox.log" &
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
app_url = "$url"             # the App API, which reads each erasure back; https://api.customer.io
app_api_key_env = "LETHE_DEMO_APP_KEY"

[worker]
pacing_ms = 100

[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
export LETHE_CONFIG="$demo/lethe.toml"

step() { printf '\n$ %s\n' "$*"; "$@"; }
echo "lethe-sandbox (a local Customer.io Track and App API emulator) is listening on $url"
step "$lethe" init
step "$lethe" import "$root/config/sample-requests.csv"
step "$lethe" check
step "$lethe" run --once
step "$lethe" status
step "$lethe" audit verify
step "$lethe" report
step "$lethe" report --format html -o "$demo/report.html"

# Ground truth from the sandbox itself, not from lethe: the four people of the sample are gone and
# the bystander is untouched. The demo fails if not.
printf '\n$ sandbox: which profiles are left?\n'
python3 - "$url" <<'PY'
import json, sys, urllib.request

state = json.load(urllib.request.urlopen(sys.argv[1] + "/_sandbox/state?log=0", timeout=10))
demo = state["workspaces"]["demo"]
left = sorted(p["id"] for p in demo["profiles"])
print(f"deleted: {demo['deleted_count']} profiles; left: {', '.join(left) or 'none'}")
if demo["deleted_count"] != 4 or left != ["u-erin"]:
    sys.exit("demo: the sandbox does not hold what the erasures should have left")
PY
printf '\nThe demo installation is in %s (config, database, keys, checkpoints);\n' "$demo"
printf 'the DPO report is %s/report.html.\n' "$demo"
