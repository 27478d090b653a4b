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
DEPS_TEST := fonts-nanum chromium
DEPS_RUN := fonts-nanum

.PHONY: all build test test-nosimd run wasm bench fuzz clean deps-test deps-run vet

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

bench:
	$(GO) test -run='^$$' -bench=. -benchmem -benchtime=$(BENCHTIME) ./engine/...

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
