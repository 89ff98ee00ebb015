#!/usr/bin/env bash
# One-command set-up for a fresh Debian 12 machine (run as root or with sudo).
#   scripts/setup.sh demo   install what is missing, build, run the demo against the sandbox
#   scripts/setup.sh test   install what is missing, build, run every test
set -euo pipefail

cd "$(dirname "$0")/.."
mode="${1:-}"
case "$mode" in
demo | test) ;;
*)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac

packages=(
    g++ meson ninja-build pkg-config cmake git python3 openssl sqlite3
    libsqlite3-dev libsqlitecpp-dev libcurl4-openssl-dev libssl-dev
    libspdlog-dev libfmt-dev libtomlplusplus-dev catch2 libcli11-dev
    nlohmann-json3-dev libcpp-httplib-dev libmicrohttpd-dev libutf8proc-dev
    golang-go golang-golang-x-mod-dev
)
# The alert rules are checked and unit-tested with promtool, which Debian ships only in the
# prometheus package (on a host with systemd that also starts a Prometheus server, which the tests
# do not use); the rule and dashboard checks read YAML with python3-yaml.
if [[ "$mode" == "test" ]]; then
    packages+=(prometheus python3-yaml)
fi
# golang-go and golang-golang-x-mod-dev build tests/interop/tlogcheck, which the e2e test
# [interop] runs: Go's reference sumdb note and tlog code checks lethe's checkpoints and proofs.

missing=()
for p in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then
        sudo="sudo"
    fi
    echo "installing: ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build_dir="${LETHE_BUILD_DIR:-build}"
if [[ ! -f "$build_dir/build.ninja" ]]; then
    meson setup "$build_dir" --buildtype=debugoptimized >/dev/null
fi
ninja -C "$build_dir"

if [[ "$mode" == "demo" ]]; then
    exec scripts/demo.sh "$build_dir"
fi
exec scripts/run-tests.sh "$build_dir"
