#!/usr/bin/env bash
# The CUDA checks, for a machine with an NVIDIA GPU and no Go: `make device-build` builds the
# binaries and gathers the test models into .build/device; this script runs, from the repository
# root, the conformance suite, the models end to end against the CPU, the kernel benchmarks
# beside PyTorch's scaled_dot_product_attention (when PyTorch is installed), tokens/s of
# synthetic models and the memory plan checked on the GPU. Results go to $OUT (default
# .build/device/out), one file per step, and a summary to stdout.
set -uo pipefail
D=.build/device
OUT=${OUT:-$D/out}
mkdir -p "$OUT"
export ATTNSCOPE_TESTDATA=$PWD/$D/shared ATTNSCOPE_REQUIRE_TESTDATA=1 ATTNSCOPE_REQUIRE_CUDA=1
A=$PWD/$D/attnscope
T=$PWD/$D/cuda.test
L=$PWD/$D/llama.test
M=${MODELS:-/tmp/attnscope-device}
mkdir -p "$M"
step() { echo "== $1 ($(date +%T))"; }

step gpu
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.max.sm --format=csv 2>&1 | tee "$OUT/gpu.txt"

step "conformance and models against the CPU"
(cd engine/backend/cuda && timeout 110 "$T" -test.v -test.count=1 -test.run 'Conformance|Models|Synth|Open|PTX|HalfKernels') >"$OUT/tests.txt" 2>&1
echo "tests rc=$?"
grep -E '^(--- |ok|FAIL|PASS)|largest|prompt tokens|compute capability|_test.go:[0-9]+: .*(want|differ|bound)' "$OUT/tests.txt" | grep -v '^    --- PASS' | head -60
(cd engine/model/llama && timeout 60 "$L" -test.v -test.count=1 -test.run 'DeviceCapture') >"$OUT/capture.txt" 2>&1
echo "capture rc=$?"
grep -E '^(--- |    --- |ok|FAIL|PASS)|differ' "$OUT/capture.txt" | head

step "kernel benchmarks"
(cd engine/backend/cuda && timeout 150 "$T" -test.run '^$' -test.bench 'Launch|MatVec|Attention|Decode' -test.benchtime 5x) >"$OUT/bench-kernels.txt" 2>&1
echo "bench rc=$?"
grep -E 'Benchmark|decode_test|FAIL|panic' "$OUT/bench-kernels.txt"

step "PyTorch scaled_dot_product_attention"
timeout 45 python3 scripts/sdpa_bench.py >"$OUT/sdpa.txt" 2>&1 || echo "sdpa rc=$?"
cat "$OUT/sdpa.txt" | tail -20
python3 scripts/attn_ratios.py "$OUT/bench-kernels.txt" "$OUT/sdpa.txt" 2>&1 | tee "$OUT/attn-ratios.txt"

step "models: tokens/s"
"$A" synth --preset s110m --type q8_0 -o "$M/s110m-q8_0.gguf" >/dev/null
"$A" synth --preset s110m --type f32 -o "$M/s110m-f32.gguf" >/dev/null
"$A" synth --preset s110m --type q4_0 -o "$M/s110m-q4_0.gguf" >/dev/null
for f in s110m-q8_0 s110m-f32 s110m-q4_0; do
  echo "$f cuda $(timeout 120 "$A" bench --model "$M/$f.gguf" --backend cuda --prompt-tokens 128 --gen-tokens 128 --runs 3 --json 2>&1 | tail -1)"
done | tee "$OUT/bench-models.txt"
echo "s110m-q8_0 cpu $(timeout 120 "$A" bench --model "$M/s110m-q8_0.gguf" --backend cpu --prompt-tokens 128 --gen-tokens 64 --runs 1 --json 2>&1 | tail -1)" | tee -a "$OUT/bench-models.txt"
"$A" synth --arch llama --dim 2048 --layers 22 --heads 32 --kv-heads 4 --ffn 5632 --vocab 32000 --ctx 2048 --type q8_0 --seed 1 \
  -o "$M/1b-q8_0.gguf" | tee -a "$OUT/bench-models.txt"
echo "1b-q8_0 cuda $(timeout 120 "$A" bench --model "$M/1b-q8_0.gguf" --backend cuda --prompt-tokens 128 --gen-tokens 128 --runs 3 --json 2>&1 | tail -1)" | tee -a "$OUT/bench-models.txt"

step "long prompts: float32 and tensor-core attention"
"$A" synth --preset s110m --ctx 8192 --type q8_0 -o "$M/s110m-8k.gguf" >/dev/null
for att in f32 f16; do
  echo "s110m-8k q8_0 --gpu-attention $att $(timeout 120 "$A" bench --model "$M/s110m-8k.gguf" --backend cuda --gpu-attention $att --prompt-tokens 4096 --gen-tokens 32 --runs 2 --json 2>&1 | tail -1)"
done | tee -a "$OUT/bench-models.txt"

step "memory plan checked on the GPU"
"$A" plan --model "$M/s110m-q8_0.gguf" --seq 1024 --gpu h200-141gb --kv-type f32 --verify 2>&1 | tail -8 | tee "$OUT/plan.txt"
"$A" plan --model "$M/1b-q8_0.gguf" --seq 2048 --gpu h200-141gb --kv-type f32 --verify 2>&1 | tail -8 | tee -a "$OUT/plan.txt"
"$A" synth --preset s15m --ctx 16384 --type f32 -o "$M/s15m-16k.gguf" >/dev/null
"$A" plan --model "$M/s15m-16k.gguf" --seq 10000 --gpu h200-141gb --kv-type f32 --verify 2>&1 | tail -8 | tee -a "$OUT/plan.txt"
step done
