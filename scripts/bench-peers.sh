#!/usr/bin/env bash
# make bench-peers: the engine compiled to wasm (GOEXPERIMENT=simd) beside llama.cpp compiled to
# wasm (npm's @wllama/wllama, fetched once into the ignored .build/wllama) in the same headless
# Chromium, single-threaded, on the synthetic models BENCH_PRESETS × BENCH_TYPES (default s15m
# and s110m, q8_0 and q4_0): pp128/tg64 tok/s and the ratio ours/wllama (the target: ≥ 2).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

PRESETS=${BENCH_PRESETS:-s15m s110m}
TYPES=${BENCH_TYPES:-q8_0 q4_0}
RUNS=${BENCH_RUNS:-3}
WLLAMA_VERSION=${WLLAMA_VERSION:-3.13.0}
WLLAMA=.build/wllama/$WLLAMA_VERSION/package

scripts/deps.sh chromium
if [ ! -f "$WLLAMA/esm/wasm/wllama.wasm" ]; then
	mkdir -p ".build/wllama/$WLLAMA_VERSION"
	(cd ".build/wllama/$WLLAMA_VERSION" && npm pack --silent "@wllama/wllama@$WLLAMA_VERSION" >/dev/null &&
		tar xzf "wllama-wllama-$WLLAMA_VERSION.tgz")
fi
tools
files=()
for p in $PRESETS; do for t in $TYPES; do files+=("$(model "$p" "$t")"); done; done
echo "== attnscope (wasm, GOEXPERIMENT=simd) and wllama $WLLAMA_VERSION in headless Chromium, 1 thread, $RUNS run(s) each"
echo "   (wllama on the issue's reference machine, pp128/tg64: s15m Q8_0 388/94, Q4_0 215/60; s110m Q8_0 27.5/15.4, Q4_0 17.1/10.3)"
"$BUILD/web" --chromium --wasm simd="$BUILD/simd.wasm" --wasm-exec "$WASM_EXEC" --wllama "$WLLAMA" \
	--runs "$RUNS" ${BENCH_NO_WARMUP:+--no-warmup} --json "$BUILD/peers.json" "${files[@]}"
