#!/usr/bin/env bash
# make bench: the engine's speed, natively and compiled to WebAssembly.
#  1. Go benchmarks of the engine (kernels SIMD vs plain side by side, models) and the SIMD/plain
#     ratio of every kernel.
#  2. attnscope bench on synthetic models: BENCH_PRESETS (s15m s110m) × BENCH_TYPES
#     (f32 q8_0 q4_0) × compute (f32; ggml too for quantized types) × 1 and 2 threads, pp128/tg64
#     tok/s.
#     Then s110m's generation against the read bandwidth (attnscope bench --bandwidth).
#  3. The kernel benchmarks compiled to wasm, in Node, with their SIMD/plain ratios (the target:
#     3× for the F32 and Q8_0 matrix-vector kernels: MatVecLanes, and MatVecQLanes/Q8_0 (the
#     default f32 compute) and VecDotRows/Q8_0 (--compute ggml) for Q8_0).
#  4. bench/wasm on the same model files (BENCH_WASM_PRESETS, default s15m) in Node and in
#     headless Chromium (BENCH_WASM="node chromium"; empty skips 3 and 4), built with and without
#     GOEXPERIMENT=simd, BENCH_WASM_RUNS runs each (default 1, no warm-up: wasm is slow).
# Files: models in BENCH_DIR (/tmp/attnscope-bench), builds in .build/bench.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

BENCHTIME=${BENCHTIME:-1s}
BENCHTIME_WASM=${BENCHTIME_WASM:-0.2s}
PRESETS=${BENCH_PRESETS:-s15m s110m}
TYPES=${BENCH_TYPES:-f32 q8_0 q4_0}
WASM=${BENCH_WASM-node chromium}
WASM_PRESETS=${BENCH_WASM_PRESETS:-s15m}
WASM_RUNS=${BENCH_WASM_RUNS:-1}

tools

echo "== Go benchmarks of the engine (native, $($GO env GOARCH))"
$GO test -run='^$' -bench=. -benchmem -benchtime="$BENCHTIME" ./engine/... 2>&1 |
	"$BUILD/ratios" --title "native kernels, SIMD vs plain Go"

echo
echo "== attnscope bench (native; other work on this machine shares its cores)"
echo "   compute f32: weights dequantized, float32 activations; ggml: activations quantized as"
echo "   llama.cpp's CPU backend does, integer products (quantized types only). The default, auto,"
echo "   is ggml for Q8_0 and Q4_0 and f32 for the rest."
printf '%-6s %-5s %-7s %-7s %11s %11s %13s %s\n' model type compute threads pp128_tok_s tg64_tok_s peak_rss_MiB simd
for p in $PRESETS; do
	for t in $TYPES; do
		f=$(model "$p" "$t")
		modes="f32"
		[ "$t" = f32 ] || modes="f32 ggml"
		for c in $modes; do
			for th in 1 2; do
				j=$("$BIN/attnscope" bench --backend cpu --compute "$c" --model "$f" --prompt-tokens 128 --gen-tokens 64 --threads "$th" --json)
				field() { echo "$j" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
				pp=$(field pp_tok_s) tg=$(field tg_tok_s) rss=$(field peak_rss_bytes) simd=$(field simd)
				if [ -z "$pp" ] || [ -z "$tg" ] || [ -z "$rss" ]; then
					echo "attnscope bench gave no numbers for $f: $j" >&2
					exit 1
				fi
				printf '%-6s %-5s %-7s %-7s %11.1f %11.1f %13.1f %s\n' "$p" "$t" "$c" "$th" "$pp" "$tg" \
					"$(awk "BEGIN{print $rss/1048576}")" "$simd"
			done
		done
	done
done

echo
echo "== generation against the read bandwidth (attnscope bench --bandwidth: the faster of a 128 MiB F32"
echo "   and a 128 MiB Q8_0 product after each run measures how fast the same threads read memory;"
echo "   a token reads the weights once, and its attention the KV cache: float32, or binary16 with"
echo "   --kv-type f16 as llama.cpp's default cache)"
printf '%-6s %-5s %-7s %-4s %11s %13s %13s %11s\n' model type threads kv tg64_tok_s stream_GB_s bound_tok_s of_bound
for p in $PRESETS; do
	[ "$p" = s110m ] || continue # s15m's 16–60 MB of weights partly stay in the caches
	for t in $TYPES; do
		for th in 1 2; do
			for kv in f32 f16; do
				j=$("$BIN/attnscope" bench --backend cpu --model "$(model "$p" "$t")" --prompt-tokens 128 --gen-tokens 64 --threads "$th" --kv-type "$kv" --bandwidth --json)
				field() { echo "$j" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }
				printf '%-6s %-5s %-7s %-4s %11.1f %13.2f %13.1f %10.0f%%\n' "$p" "$t" "$th" "$kv" "$(field tg_tok_s)" "$(field stream_gb_s)" \
					"$(field tg_bound_tok_s)" "$(awk "BEGIN{print 100*$(field tg_of_bound)}")"
			done
		done
	done
done

[ -n "$WASM" ] || exit 0

echo
echo "== kernel benchmarks compiled to wasm, in Node ($(node --version))"
GOOS=js GOARCH=wasm $GO test -exec="$WASM_EXEC/go_js_wasm_exec" -run='^$' \
	-bench="${BENCH_WASM_KERNELS:-MatVec|MatMul|VecDot|DotLanes|DotBlocked|Dequantize|SoftmaxChunked|AttentionRow}" \
	-benchtime="$BENCHTIME_WASM" ./engine/kernels 2>&1 |
	"$BUILD/ratios" --title "wasm kernels, SIMD vs plain Go (one binary, kernels.UseSIMD)" \
		--want MatVecLanes=3 --want MatVecQLanes/Q8_0=3 --want VecDotRows/Q8_0=3

args=()
for r in $WASM; do
	case $r in
	node) args+=(--node) ;;
	chromium) scripts/deps.sh chromium; args+=(--chromium) ;;
	*) echo "BENCH_WASM: unknown runtime $r (node, chromium)" >&2; exit 1 ;;
	esac
done
files=()
for p in $WASM_PRESETS; do for t in $TYPES; do files+=("$(model "$p" "$t")"); done; done
echo
echo "== bench/wasm: the engine compiled to wasm, 1 thread, $WASM_RUNS run(s) each (simd: GOEXPERIMENT=simd, plain: without)"
"$BUILD/web" "${args[@]}" --wasm simd="$BUILD/simd.wasm" --wasm plain="$BUILD/plain.wasm" --wasm-exec "$WASM_EXEC" \
	--runs "$WASM_RUNS" --no-warmup --json "$BUILD/wasm.json" "${files[@]}"
