# mailkeep: the two commands a newcomer needs are `make demo` and `make test`.

GO       ?= go
BIN      := bin/mailkeep
FUZZTIME ?= 2m
PKGS     := ./...

.PHONY: all build demo test deps vet fmt-check unit fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/mailkeep

## demo: a throwaway Dovecot (a generated Maildir without it) and agent: apply examples/quickstart, delete an account, restore it.
demo: build
	$(GO) build -o bin/mailkeep-demo ./internal/demo/cmd/demo
	@internal/demo/run.sh $(BIN) bin/mailkeep-demo

## test: install what the tests need, then run every check and test.
test: deps fmt-check vet unit

deps:
	@.ci/deps

fmt-check:
	@out="$$(gofmt -l cmd schema reconcile runtime internal)"; \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet $(PKGS)

unit:
	$(GO) test -count=1 $(PKGS)

## fuzz: run each fuzz target for FUZZTIME (not part of make test).
fuzz:
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzDecodeDocument$$' -fuzztime $(FUZZTIME)

## bench: mailkeep vs restic, kopia and borg on BENCH_MESSAGES (default 100000) generated messages; writes BENCHMARKS.md.
bench:
	internal/bench/peers.sh
	$(GO) run ./internal/bench/cmd/mailbench -messages $${BENCH_MESSAGES:-100000} -runs 3 -write

clean:
	rm -rf bin
