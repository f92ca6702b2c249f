#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz with clang (plus ASan and UBSan)
# and runs each for SECONDS (default 60) from its committed seed corpus.
# New inputs go to a scratch directory; a crash fails the script and leaves
# its reproducer (crash-*) in build-fuzz/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DMPSHARE_FUZZ=ON -DMPSHARE_BUILD_TESTS=OFF -DMPSHARE_BUILD_EXAMPLES=OFF \
  -DMPSHARE_BUILD_BENCH=OFF >/dev/null
targets=()
for seeds in tests/fuzz/*/; do targets+=("fuzz_$(basename "$seeds")"); done
cmake --build build-fuzz -j2 --target "${targets[@]}"
for seeds in tests/fuzz/*/; do
  name=$(basename "$seeds")
  scratch=$(mktemp -d)
  echo "fuzz_$name: ${seconds}s"
  (cd build-fuzz && UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    "./tests/fuzz/fuzz_$name" -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 \
      "$scratch" "../$seeds" 2>"$scratch.log") ||
    { tail -n 80 "$scratch.log"; rm -rf "$scratch" "$scratch.log"; exit 1; }
  # The server logs every bad frame it is fed; print only the run's summary.
  grep -aE "^Done|number_of_executed_units|peak_rss" "$scratch.log" || true
  rm -rf "$scratch" "$scratch.log"
done
