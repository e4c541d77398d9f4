#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 600 = the full 10 minutes), two at a
# time, growing the committed corpora; a crash reproducer lands in artifacts/<target>/
# and fails the run. Usage: crates/keypair-fuzz/run.sh [SECONDS]
#
# Only the stable toolchain exists on the build machines: RUSTC_BOOTSTRAP=1 lets it take
# the -Z flags cargo-fuzz passes, and the address sanitizer is off (safe Rust; libFuzzer's
# coverage guidance is what matters here).
set -euo pipefail
seconds="${1:-600}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
export RUSTC_BOOTSTRAP=1
targets=(openssh json_request form_request authorization)
cargo fuzz build --fuzz-dir "$here" --sanitizer none
run() {
    local t="$1"
    cargo fuzz run --fuzz-dir "$here" --sanitizer none "$t" "$here/corpus/$t" -- \
        -max_total_time="$seconds" -artifact_prefix="$here/artifacts/$t/" -print_final_stats=1 \
        > "$here/target/$t.log" 2>&1 && echo "$t: ok, $(grep -h 'stat::number_of_executed_units' "$here/target/$t.log" | awk '{print $2}') runs in ${seconds}s" \
        || { echo "$t: FAILED"; tail -40 "$here/target/$t.log"; return 1; }
}
mkdir -p "$here/target"
status=0
for ((i = 0; i < ${#targets[@]}; i += 2)); do
    run "${targets[i]}" & a=$!
    run "${targets[i+1]}" & b=$!
    wait $a || status=1
    wait $b || status=1
done
exit $status
