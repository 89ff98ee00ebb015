#!/usr/bin/env bash
# The README demo: a throw-away installation in ./demo that erases the sample requests from the
# bundled Customer.io sandbox (no account needed).
set -euo pipefail

build_dir="${1:-build}"
root="$(cd "$(dirname "$0")/.." && pwd)"
lethe="$root/$build_dir/src/lethe"
demo="$root/demo"

rm -rf "$demo"
mkdir -p "$demo"
cat >"$demo/lethe.toml" <<TOML
[database]
path = "state/lethe.db"

[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
export LETHE_CONFIG="$demo/lethe.toml"

step() { printf '\n$ %s\n' "$*"; "$@"; }
step "$lethe" init
step "$lethe" import "$root/config/sample-requests.csv"
step "$lethe" status
