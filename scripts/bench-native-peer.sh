#!/usr/bin/env bash
# make bench-native-peer: the engine natively (attnscope bench, --compute f32 and --compute ggml)
# beside native llama.cpp on the same GGUF files on this machine. llama.cpp is the CPU build that
# npm's node-llama-cpp ships prebuilt (fetched once into the ignored .build/node-llama-cpp; ggml
# picks the libggml-cpu-*.so that suits this CPU), driven by bench/native/peer.mjs.
#   Models: BENCH_PRESETS (s15m s110m) × BENCH_TYPES (f32 q8_0 q4_0), files in BENCH_DIR.
#   Threads: BENCH_THREADS ("1 2"). Runs: BENCH_RUNS (3) after one warm-up, medians; BENCH_ROUNDS
#   (1) rounds of the three measurements in turn, the best median of each reported (a noisy
#   machine slows one round or another; the best is the closest to an undisturbed one).
#   KV cache: BENCH_KV (f16, as llama.cpp's here; f32 for ours with the float32 cache).
#   pp128/tg64 tok/s, and the ratios ours/llama.cpp.
# For each model and thread count the three measurements run back to back (ours f32, ours ggml,
# llama.cpp), so that each row saw the same machine state. The llama.cpp figures are its own
# decode timings (see bench/native/peer.mjs); tg_wall adds node-llama-cpp's per-token overhead.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/bench-lib.sh

PRESETS=${BENCH_PRESETS:-s15m s110m}
TYPES=${BENCH_TYPES:-f32 q8_0 q4_0}
RUNS=${BENCH_RUNS:-3}
ROUNDS=${BENCH_ROUNDS:-1}
THREADS=${BENCH_THREADS:-1 2}
KV=${BENCH_KV:-f16}
NLC_VERSION=${NODE_LLAMA_CPP_VERSION:-3.22.1}
NLC=.build/node-llama-cpp/$NLC_VERSION
OUT=$BUILD/native-peer.jsonl

for tool in node npm; do
	if ! command -v "$tool" >/dev/null; then
		echo "bench-native-peer: $tool is missing; it needs Node.js 20 or newer with npm (Debian: apt-get install nodejs npm)" >&2
		exit 1
	fi
done
if [ "$(node -p 'parseInt(process.versions.node)')" -lt 20 ]; then
	echo "bench-native-peer: node $(node --version) is too old; node-llama-cpp $NLC_VERSION needs Node.js 20 or newer" >&2
	exit 1
fi
if [ ! -x "$BIN/attnscope" ]; then
	echo "bench-native-peer: $BIN/attnscope is missing (make build)" >&2
	exit 1
fi

# node-llama-cpp with only this platform's prebuilt CPU binaries (its other platforms' and GPU
# packages are optional dependencies, ~600 MiB, left out on Linux). Its postinstall script is not
# needed: peer.mjs asks for the prebuilt binary and never builds.
if [ ! -f "$NLC/.installed" ]; then
	echo "== fetching node-llama-cpp $NLC_VERSION into $NLC"
	rm -rf "$NLC"
	mkdir -p "$NLC"
	echo '{"name": "attnscope-bench-native-peer", "private": true}' >"$NLC/package.json"
	pkgs=("node-llama-cpp@$NLC_VERSION")
	omit=()
	if [ "$(node -p process.platform)" = linux ]; then
		pkgs+=("@node-llama-cpp/linux-$(node -p process.arch)@$NLC_VERSION")
		omit=(--omit=optional)
	fi
	(cd "$NLC" && npm install --silent --no-audit --no-fund --ignore-scripts --no-save "${omit[@]}" "${pkgs[@]}")
	touch "$NLC/.installed"
fi

mkdir -p "$BUILD"
: >"$OUT"

# field NAME JSON: a scalar of a one-line JSON object (numbers and plain strings).
field() { echo "$2" | sed -n "s/.*\"$1\":\"\{0,1\}\([^,\"}]*\).*/\1/p"; }

max() { awk "BEGIN{print ($1 > $2) ? $1 : $2}"; }

ours() { # ours FILE THREADS COMPUTE: pp and tg tok/s
	local j pp tg
	j=$("$BIN/attnscope" bench --backend cpu --model "$1" --prompt-tokens 128 --gen-tokens 64 \
		--threads "$2" --compute "$3" --kv-type "$KV" --runs "$RUNS" --json)
	echo "$j" >>"$OUT"
	pp=$(field pp_tok_s "$j") tg=$(field tg_tok_s "$j")
	if [ -z "$pp" ] || [ -z "$tg" ]; then
		echo "bench-native-peer: attnscope bench gave no numbers for $1: $j" >&2
		exit 1
	fi
	echo "$pp $tg"
}

echo "== attnscope bench (native, --backend cpu) beside llama.cpp (node-llama-cpp $NLC_VERSION, CPU), pp128/tg64 tok/s,"
echo "   $RUNS run(s) after a warm-up, medians, the best of $ROUNDS round(s) of the three in turn; other work on this"
echo "   machine shares its $(nproc) cores: compare within a row"
head=1
for p in $PRESETS; do
	for t in $TYPES; do
		f=$(model "$p" "$t")
		for th in $THREADS; do
			fpp=0 ftg=0 gpp=0 gtg=0 lpp=0 ltg=0 lwall=0
			for ((round = 0; round < ROUNDS; round++)); do
				r=$(ours "$f" "$th" f32)
				read -r a b <<<"$r"
				fpp=$(max "$fpp" "$a") ftg=$(max "$ftg" "$b")
				r=$(ours "$f" "$th" ggml)
				read -r a b <<<"$r"
				gpp=$(max "$gpp" "$a") gtg=$(max "$gtg" "$b")
				j=$(node bench/native/peer.mjs --modules "$NLC" --threads "$th" --runs "$RUNS" \
					--prompt 128 --gen 64 "$f")
				echo "$j" >>"$OUT"
				a=$(field pp_tok_s "$j") b=$(field tg_tok_s "$j") c=$(field tg_wall_tok_s "$j")
				if [ -z "$a" ] || [ -z "$b" ]; then
					echo "bench-native-peer: peer.mjs gave no numbers for $f: $j" >&2
					exit 1
				fi
				lpp=$(max "$lpp" "$a") ltg=$(max "$ltg" "$b") lwall=$(max "$lwall" "${c:-0}")
			done
			if [ "$head" = 1 ]; then
				echo "   llama.cpp $(field version "$j"), CPU library: libggml-cpu-$(field cpu_variant "$j").so," \
					"timing: $(field timing "$j"),"
				echo "   flash attention: $(field flash_attention "$j"), KV cache: $(field kv_cache "$j") (ours: $KV)"
				echo
				printf '%-6s %-5s %3s | %9s %7s | %9s %7s | %9s %7s %7s | %13s | %13s\n' \
					"" "" "" "ours f32" "" "ours ggml" "" "llama.cpp" "" "" "f32/llama.cpp" "ggml/llama.cpp"
				printf '%-6s %-5s %3s | %9s %7s | %9s %7s | %9s %7s %7s | %6s %6s | %6s %6s\n' \
					model type thr pp tg pp tg pp tg tg_wall pp tg pp tg
				head=0
			fi
			printf '%-6s %-5s %3s | %9.1f %7.1f | %9.1f %7.1f | %9.1f %7.1f %7.1f | %6.2f %6.2f | %6.2f %6.2f\n' \
				"$p" "$t" "$th" "$fpp" "$ftg" "$gpp" "$gtg" "$lpp" "$ltg" "$lwall" \
				"$(awk "BEGIN{print $fpp/$lpp}")" "$(awk "BEGIN{print $ftg/$ltg}")" \
				"$(awk "BEGIN{print $gpp/$lpp}")" "$(awk "BEGIN{print $gtg/$ltg}")"
		done
	done
done
echo
echo "   every measurement as JSON: $OUT"
