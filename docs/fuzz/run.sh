#!/usr/bin/env bash
# Builds the libFuzzer target and runs it. Usage: docs/fuzz/run.sh [SECONDS] [extra libFuzzer flags]
# The corpus grows in .build-fuzz/corpus; crashes land in .build-fuzz/crashes. See docs/FUZZING.md.
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds="${1:-60}"
shift || true
swift build -c debug --scratch-path .build-fuzz --product orderdesk-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -use-ld=lld
mkdir -p .build-fuzz/corpus .build-fuzz/crashes
export SWIFT_BACKTRACE=enable=no
exec .build-fuzz/debug/orderdesk-fuzz .build-fuzz/corpus docs/fuzz/seeds \
    -max_total_time="$seconds" -max_len=4096 -artifact_prefix=.build-fuzz/crashes/ -print_final_stats=1 "$@"
