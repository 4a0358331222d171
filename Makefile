# wlns developer commands. `make test` is what CI runs (.ci/run).
GO          ?= go
STATICCHECK ?= honnef.co/go/tools/cmd/staticcheck@v0.8.2
TEST_TIMEOUT ?= 25m
FUZZTIME    ?= 10s
# Benchmark knobs (see docs/performance.md): QUICK=1 for ~100k entries and 5 s runs.
QUICK       ?=
BENCH_FLAGS ?=
BENCH_CLUSTER_FLAGS ?=
# Scale figures: SCALE=1M|10M|100M pairs (default 1M), BENCH_SCALE_FLAGS for
# the rest (go run ./bench/scale -h).
SCALE       ?=
BENCH_SCALE_FLAGS ?=

# Soak (docs/performance.md, "Soak"): minutes of chaos on five nodes in
# network namespaces; the CI suite runs the same test for 75 s.
SOAK        ?= 30m
SOAK_TIMEOUT ?= 60m

.PHONY: all build run test test-deps vet lint fuzz soak bench bench-cluster bench-scale bench-xfr clean

all: build

build:
	$(GO) build -o bin/wlns ./cmd/wlns

run:
	$(GO) run ./cmd/wlns serve

test-deps:
	scripts/test-deps.sh

vet:
	$(GO) vet ./...

test: test-deps vet
	$(GO) test -race -count=1 -timeout $(TEST_TIMEOUT) ./...

lint: vet
	@out=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) run $(STATICCHECK) ./...

fuzz:
	FUZZTIME=$(FUZZTIME) scripts/fuzz.sh

soak: test-deps
	WLNS_SOAK=$(SOAK) $(GO) test -count=1 -v -run '^TestSoak_' -timeout $(SOAK_TIMEOUT) ./systest/

# bench-xfr writes out a relay zone of XFR_RELAYS lone relays and
# transfers it by AXFR, into miekg's client and into a real NSD
# (docs/operations.md, Secondaries).
XFR_RELAYS ?= 1000000
bench-xfr:
	flock /tmp/wlns-big.lock env WLNS_XFR_RELAYS=$(XFR_RELAYS) $(GO) test -count=1 -v -run '^TestXFR_LargeRelayZoneTransfers$$' -timeout 30m ./zone/
	flock /tmp/wlns-big.lock env WLNS_XFR_RELAYS=$(XFR_RELAYS) $(GO) test -count=1 -v -run '^TestXFR_LargeRelayZoneToNSD$$' -timeout 60m ./systest/

bench: test-deps
	$(GO) run ./bench $(if $(QUICK),-quick) $(BENCH_FLAGS)

# Cluster figures: committed writes/s through 3 and 7 in-process TLS voters,
# then a fresh mirror's catch-up on 1M pairs and follower DNS while writes stream,
# then writes timed before, while and after a third node joins from the snapshot.
bench-cluster: test-deps
	$(GO) test -run '^$$' -bench BenchmarkCluster_Writes -benchtime 2s -timeout 20m ./raftstore/
	$(GO) run ./bench/cluster $(if $(QUICK),-n 100000 -duration 5s) $(BENCH_CLUSTER_FLAGS)
	$(GO) run ./bench/cluster -mode snapshot $(if $(QUICK),-n 100000 -baseline 5s -after 5s) $(BENCH_CLUSTER_FLAGS)

# How wlns grows with the whitelist: load, memory, restart, queries against
# rbldnsd, latency under an import, optionally catch-up and expiry sweeps;
# JSON results in bench/out for a curve over 1M, 10M and 100M pairs.
bench-scale: test-deps
	$(GO) run ./bench/scale $(if $(SCALE),-scale $(SCALE)) $(BENCH_SCALE_FLAGS)

clean:
	rm -rf bin bench/out
