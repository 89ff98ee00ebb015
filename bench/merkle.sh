#!/usr/bin/env bash
# Merkle tree benchmark (issue 17, "The log").
#
# In one run, on the same machine and the same generated input:
#   1. import: `lethe import` of ROWS generated requests (one audit entry, and so one Merkle
#      leaf, per row) by this revision and by a BASE binary built without the tree (the parent
#      revision, in another build directory), alternating, RUNS times each; the fastest counts.
#      Target: the tree costs the import less than 10% of its rate.
#   2. worker: bench/worker.sh's unpaced run (pacing 0, no latency, WORKER requests against
#      lethe-sandbox) with each binary, RUNS times each alternating. Target: less than 10%.
#   3. proofs: on this revision's log of ROWS entries, `lethe audit inclusion SEQ --json` for
#      the first, middle, last and PROOFS random entries, each timed as a whole process (start,
#      config, database open, proof from the stored subtrees, its check, JSON). Target: every
#      proof under 50 ms. Also `lethe audit consistency` between a checkpoint at ROWS/3 and the
#      head.
#   4. upgrade: the BASE binary's log of ROWS entries opened by this revision (migration 0007
#      computes the tree of every entry once), timed with `lethe status`.
# Prints the figures and exits 1 if a target is missed.
#
# Usage: bench/merkle.sh --base BASE_LETHE [--rows N] [--worker N] [--runs N] [--proofs N]
#                        [--build DIR]
#   --base FILE  lethe binary without the Merkle tree, e.g. built from the parent revision:
#                git worktree add ../base COMMIT && (cd ../base && meson setup build &&
#                ninja -C build src/lethe)
#   --build DIR  meson build directory of this revision (default build); its sandbox serves
#                both binaries
#   LETHE_BIN overrides this revision's binary; TMPDIR chooses where the temporary files go.
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
rows=1000000
worker=5000
runs=1
proofs=20
build="build"
base=""
while [ $# -gt 0 ]; do
    case "$1" in
    --base) base="$2"; shift 2 ;;
    --rows) rows="$2"; shift 2 ;;
    --worker) worker="$2"; shift 2 ;;
    --runs) runs="$2"; shift 2 ;;
    --proofs) proofs="$2"; shift 2 ;;
    --build) build="$2"; shift 2 ;;
    -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "merkle.sh: unknown argument $1" >&2; exit 2 ;;
    esac
done
lethe="${LETHE_BIN:-$root/$build/src/lethe}"
sandbox="$root/$build/src/sandbox/lethe-sandbox"
for bin in "$lethe" "$base" "$sandbox"; do
    [ -n "$bin" ] && [ -x "$bin" ] || { echo "merkle.sh: no binary at '$bin' (see --help)" >&2; exit 2; }
done

work="$(mktemp -d "${TMPDIR:-/tmp}/lethe-merkle-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT
now_ns() { date +%s%N; }
ms() { awk -v ns="$1" 'BEGIN { printf "%.1f", ns / 1e6 }'; }

csv="$work/requests.csv"
python3 "$root/bench/gen_requests.py" "$rows" "$csv" >/dev/null

install() { # $1: folder; sets LETHE_CONFIG
    mkdir -p "$1"
    cat >"$1/lethe.toml" <<TOML
[database]
path = "state/lethe.db"
[audit]
subject_key_file = "state/subject.key"
checkpoint_key_file = "state/checkpoint.key"
checkpoint_dir = "state/checkpoints"
TOML
    export LETHE_CONFIG="$1/lethe.toml"
}

import_rate() { # $1: binary, $2: folder; prints rows/s
    rm -rf "$2"
    install "$2"
    "$1" init >/dev/null
    local t0 t1
    t0=$(now_ns)
    "$1" import "$csv" >/dev/null 2>"$2/import.err" || { cat "$2/import.err" >&2; exit 1; }
    t1=$(now_ns)
    awk -v n="$rows" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }'
}

worker_rate() { # $1: binary; prints erasures/s
    LETHE_BIN="$1" LETHE_SANDBOX_BIN="$sandbox" "$root/bench/worker.sh" --runs unpaced \
        --unpaced "$worker" | sed -n 's/.*= \([0-9]*\) erasures\/s.*/\1/p'
}

best() { sort -n | tail -1; }

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load $(cut -d' ' -f1 /proc/loadavg)"
echo "lethe:   $("$lethe" --version | head -1)"
echo "base:    $("$base" --version | head -1)"
echo "input:   $rows rows; worker $worker requests; $runs run(s) each, alternating"
echo

# --- 1. import ---------------------------------------------------------------------------------
: >"$work/import.base"
: >"$work/import.tree"
for run in $(seq "$runs"); do
    r=$(import_rate "$base" "$work/base"); echo "$r" >>"$work/import.base"
    echo "import run $run, base: $r rows/s"
    r=$(import_rate "$lethe" "$work/tree"); echo "$r" >>"$work/import.tree"
    echo "import run $run, tree: $r rows/s"
done
import_base=$(best <"$work/import.base")
import_tree=$(best <"$work/import.tree")
leaves=$(sqlite3 "$work/tree/state/lethe.db" 'SELECT count(*) FROM audit_log')
subtrees=$(sqlite3 "$work/tree/state/lethe.db" 'SELECT count(*) FROM audit_tree')

# --- 2. worker ---------------------------------------------------------------------------------
: >"$work/worker.base"
: >"$work/worker.tree"
for run in $(seq "$runs"); do
    r=$(worker_rate "$base"); echo "$r" >>"$work/worker.base"
    echo "worker run $run, base: $r erasures/s"
    r=$(worker_rate "$lethe"); echo "$r" >>"$work/worker.tree"
    echo "worker run $run, tree: $r erasures/s"
done
worker_base=$(best <"$work/worker.base")
worker_tree=$(best <"$work/worker.tree")

# --- 3. proofs on the log of ROWS entries --------------------------------------------------------
export LETHE_CONFIG="$work/tree/lethe.toml"
"$lethe" audit checkpoint >/dev/null
size=$("$lethe" status --json >/dev/null; sqlite3 "$work/tree/state/lethe.db" 'SELECT max(seq) FROM audit_log')
seqs="1 $((size / 2)) $size $(python3 -c "import random; r=random.Random(17); print(' '.join(str(r.randint(1, $size)) for _ in range($proofs)))")"
worst=0
total=0
count=0
for seq in $seqs; do
    t0=$(now_ns)
    "$lethe" audit inclusion "$seq" --json >"$work/proof.json"
    t1=$(now_ns)
    ns=$((t1 - t0))
    total=$((total + ns)); count=$((count + 1))
    [ "$ns" -gt "$worst" ] && worst=$ns
done
hashes=$(python3 -c "import json; print(len(json.load(open('$work/proof.json'))['proof']))")
cp "$work/tree/state/checkpoints/latest.note" "$work/old.note"
"$lethe" enqueue one-more@example.com --request-id BENCH-ONE-MORE >/dev/null
"$lethe" audit checkpoint >/dev/null
cp "$work/tree/state/checkpoints/latest.note" "$work/new.note"
t0=$(now_ns)
"$lethe" audit consistency "$work/old.note" "$work/new.note" >/dev/null
t1=$(now_ns)

# --- 4. upgrade of the base log ------------------------------------------------------------------
export LETHE_CONFIG="$work/base/lethe.toml"
t2=$(now_ns)
"$lethe" status >/dev/null
t3=$(now_ns)
"$lethe" audit verify >/dev/null || { echo "merkle.sh: the upgraded log does not verify" >&2; exit 1; }

# --- verdict -------------------------------------------------------------------------------------
drop() { awk -v b="$1" -v t="$2" 'BEGIN { printf "%.1f", (b - t) / b * 100 }'; }
verdict() { awk -v d="$1" 'BEGIN { print (d < 10) ? "PASS" : "FAIL" }'; }
import_drop=$(drop "$import_base" "$import_tree")
worker_drop=$(drop "$worker_base" "$worker_tree")
proof_ok=$(awk -v w="$worst" 'BEGIN { print (w < 50e6) ? "PASS" : "FAIL" }')
echo
echo "import:  base $import_base rows/s, tree $import_tree rows/s: drop $import_drop% (target < 10%)  $(verdict "$import_drop")"
echo "         $leaves leaves, $subtrees stored subtrees"
echo "worker:  base $worker_base erasures/s, tree $worker_tree erasures/s: drop $worker_drop% (target < 10%)  $(verdict "$worker_drop")"
echo "proofs:  $count inclusion proofs in a log of $size entries ($hashes hashes each): mean $(ms $((total / count))) ms, worst $(ms "$worst") ms per process (target < 50 ms)  $proof_ok"
echo "         consistency command (both signatures, proof, check): $(ms $((t1 - t0))) ms"
echo "upgrade: the base log of $rows entries opened by this revision (tree backfill): $(ms $((t3 - t2))) ms"
[ "$proof_ok" = PASS ] && [ "$(verdict "$import_drop")" = PASS ] && [ "$(verdict "$worker_drop")" = PASS ]
