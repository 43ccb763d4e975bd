# bgsync — the two commands a new user needs are `make demo` and `make test`.
GO      ?= go
BIN     := bin/bgsync
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X github.com/bgsync/bgsync/internal/buildinfo.Version=$(VERSION)
TEST_TIMEOUT ?= 30m

.PHONY: all build test unit vet demo bench env-up env-down env-destroy fmt clean

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/bgsync

env-up:
	bash scripts/env.sh up

env-down:
	bash scripts/env.sh down

env-destroy:
	bash scripts/env.sh destroy

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { echo "gofmt needed:"; gofmt -l $$(git ls-files '*.go'); exit 1; }
	$(GO) vet ./...

# Every test: unit, fuzz seeds, and integration against the real databases
# and the embedded broker. Packages with goroutines run under -race.
test: env-up vet
	$(GO) test -count=1 -timeout $(TEST_TIMEOUT) -race ./...

# Unit tests only (no databases needed).
unit:
	$(GO) test -count=1 -short ./...

demo: env-up build
	bash scripts/demo.sh

bench: env-up build
	bash scripts/bench.sh

clean:
	rm -rf bin .bgsync
