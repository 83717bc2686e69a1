# mailkeep: the two commands a newcomer needs are `make demo` and `make test`.

GO       ?= go
BIN      := bin/mailkeep
FUZZTIME ?= 2m
PKGS     := ./...

.PHONY: all build demo test deps vet fmt-check unit fuzz campaign bench clean

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
	$(GO) test -count=1 -timeout 25m $(PKGS)

## fuzz: run each fuzz target for FUZZTIME, and the kill tests for many more rounds (not part of make test).
fuzz:
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzLoad$$' -fuzztime $(FUZZTIME)
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzDecodeDocument$$' -fuzztime $(FUZZTIME)
	$(GO) test ./schema -run '^$$' -fuzz '^FuzzNesting$$' -fuzztime $(FUZZTIME)
	for t in FuzzParseUIDList FuzzParseKeywords FuzzUTF7 FuzzFolderNames FuzzParseInfo FuzzParseSubscriptions; do \
		$(GO) test ./runtime/maildir -run '^$$' -fuzz "^$$t\$$" -fuzztime $(FUZZTIME) || exit 1; done
	$(GO) test ./runtime/pack -run '^$$' -fuzz '^FuzzCheck$$' -fuzztime $(FUZZTIME)
	$(GO) test ./runtime/agent -run '^$$' -fuzz '^FuzzAPI$$' -fuzztime $(FUZZTIME)
	$(GO) test ./reconcile -run '^$$' -fuzz '^FuzzReadPlanFile$$' -fuzztime $(FUZZTIME)
	MAILKEEP_KILL_ROUNDS=20 $(GO) test -count=1 ./cmd/mailkeep -run '^TestAgentKilledDuringSmartScan$$'
	MAILKEEP_KILL_ROUNDS=40 $(GO) test -count=1 ./runtime/purge -run '^TestCrashSafety$$'

## campaign: SIGKILLs over SmartScan, realtime, purge and restore until CAMPAIGN_KILLS (default 1000) landed,
##   each followed by verify -deep and restores compared with the live store; resumes from .campaign/state.
campaign:
	@internal/campaign/run.sh

## bench: every benchmark suite, each measured side by side with its peer where it has one:
##   mailkeep vs restic, kopia and borg (BENCH_MESSAGES, default 100000; writes BENCHMARKS.md),
##   the realtime scanner (200 deliveries/s over 1,000 folders for a minute, then lost events),
##   purge vs restic forget --prune (BENCH_PURGE_ITEMS, default 200000; the fixture is cached),
##   plan and apply over 1,000 agents, loading a policy of 60,000 servers,
##   the backup queries (search, history, diff) over a 100,000-message account.
bench:
	internal/bench/peers.sh
	$(GO) run ./internal/bench/cmd/mailbench -messages $${BENCH_MESSAGES:-100000} -runs 3 -write
	$(GO) run ./internal/bench/realtime -rate 200 -folders 1000 -seconds 60
	$(GO) run ./internal/bench/purge -messages $${BENCH_PURGE_ITEMS:-200000} -runs 3
	$(GO) test ./cmd/mailkeep -run '^$$' -bench Plan1000 -benchtime 5x
	$(GO) test ./schema -run '^$$' -bench FleetPolicy60000 -benchtime 1x
	$(GO) run ./internal/bench/search -messages 100000
	$(GO) test ./runtime/history -run '^$$' -bench History100k -benchtime 3x

clean:
	rm -rf bin
