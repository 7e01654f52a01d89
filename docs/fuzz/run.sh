#!/usr/bin/env bash
# Builds the libFuzzer target and runs it. See docs/FUZZING.md.
# Usage: docs/fuzz/run.sh [parser|desk] [SECONDS] [extra libFuzzer flags]
#   parser (the default): framer, tokenizer, parser; corpus .build-fuzz/corpus, seeds docs/fuzz/seeds
#   desk: command scripts against a Desk; corpus .build-fuzz/corpus-desk, seeds docs/fuzz/desk-seeds
# Crashes land in .build-fuzz/crashes (parser) or .build-fuzz/crashes-desk (desk).
# It runs under `nice -n 10` so that it does not starve builds on a shared machine.
# CONFIG=debug builds without optimization (slower, about a fifth of the executions); the default,
# release, keeps preconditions and overflow checks, which are what the fuzzer looks for.
set -euo pipefail
cd "$(dirname "$0")/../.."
mode=parser
case "${1:-}" in parser|desk) mode="$1"; shift ;; esac
seconds="${1:-60}"
shift || true
config="${CONFIG:-release}"
nice -n 10 swift build -c "$config" --scratch-path .build-fuzz --product orderdesk-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
if [ "$mode" = desk ]; then
    # Scripts need room for many steps from the start, and the dictionary's words to make lines.
    corpus=.build-fuzz/corpus-desk seeds=docs/fuzz/desk-seeds crashes=.build-fuzz/crashes-desk
    flags=(-max_len=2048 -len_control=0 -dict=docs/fuzz/desk.dict)
else
    corpus=.build-fuzz/corpus seeds=docs/fuzz/seeds crashes=.build-fuzz/crashes
    flags=(-max_len=4096)
fi
mkdir -p "$corpus" "$crashes"
export SWIFT_BACKTRACE=enable=no
exec nice -n 10 ".build-fuzz/$config/orderdesk-fuzz" "$corpus" "$seeds" \
    -max_total_time="$seconds" "${flags[@]}" -artifact_prefix="$crashes/" -print_final_stats=1 "$@"
