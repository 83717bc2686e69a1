# mailkeep: the two commands a newcomer needs are `make demo` and `make test`.

GO       ?= go
BIN      := bin/mailkeep
FUZZTIME ?= 2m
PKGS     := ./...

.PHONY: all build demo test deps vet fmt-check unit fuzz bench clean

all: build

build:
	$(GO) build -o $(BIN) ./cmd/mailkeep

## demo: validate the quickstart policy and show its effective configuration.
demo: build
	@internal/demo/run.sh $(BIN)

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

## bench: performance suites (none yet: the backup engine comes with issue 3).
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(PKGS)

clean:
	rm -rf bin
