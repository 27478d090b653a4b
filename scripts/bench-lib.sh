# Shared by scripts/bench.sh and scripts/bench-peers.sh (sourced, not run).
# GO, BIN come from make, the toolchain from the Makefile's exports. The wasm builds name the
# SIMD experiment themselves, so that a run from a shell without it measures what it says.
GO=${GO:-go}
BIN=${BIN:-bin}
BENCH_DIR=${BENCH_DIR:-/tmp/attnscope-bench}
BUILD=.build/bench
WASM_EXEC="$($GO env GOROOT)/lib/wasm"

# model PRESET TYPE: the synthetic model's path, written by attnscope synth when missing.
model() {
	local f="$BENCH_DIR/$1-$2.gguf"
	if [ ! -f "$f" ]; then
		mkdir -p "$BENCH_DIR"
		"$BIN/attnscope" synth --preset "$1" --type "$2" -o "$f" >/dev/null
	fi
	echo "$f"
}

# tools: the ratio table, the browser driver and bench/wasm built with and without the SIMD
# experiment, into .build/bench.
tools() {
	mkdir -p "$BUILD"
	$GO build -o "$BUILD/ratios" ./bench/ratios
	$GO build -o "$BUILD/web" ./bench/web
	GOOS=js GOARCH=wasm GOEXPERIMENT=simd $GO build -trimpath -o "$BUILD/simd.wasm" ./bench/wasm
	GOOS=js GOARCH=wasm GOEXPERIMENT= $GO build -trimpath -o "$BUILD/plain.wasm" ./bench/wasm
}
