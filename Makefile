# podguard — see README.md. Targets that touch the kernel or install
# packages need root.
GO      ?= go
# A pipeline fails when any of its commands fails (test output is filtered).
SHELL   := /bin/bash
.SHELLFLAGS := -o pipefail -c
export PATH := /usr/local/go/bin:$(PATH)
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)

# Debian packages the tests and the demo need (a real node: containerd,
# runc, CNI plugins, busybox for images), and clang/bpftool to check the
# generated eBPF objects against their sources.
DEB_PACKAGES := containerd runc containernetworking-plugins busybox-static iproute2 \
	clang llvm libbpf-dev bpftool rpm \
	qemu-system-x86 xz-utils zstd cpio debian-archive-keyring

.PHONY: all build deps test check generate generate-check fuzz fuzz-ci kernels demo bench clean package

all: build

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o podguard .

deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" != 0 ]; then echo "missing Debian packages:$$missing (run as root to install them)"; exit 1; fi; \
		echo "installing:$$missing"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi
	$(GO) mod download

# check: formatting, vet, and generated eBPF objects that match their sources.
check: generate-check
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

generate:
	$(GO) generate ./...

generate-check: generate
	@git diff --exit-code --stat -- probes isolate daemon/catalog || { echo "generated eBPF files differ from their sources: run 'make generate' and commit"; exit 1; }

# test: the whole suite, privileged tiers included when run as root, then
# every fuzz target for a bounded time.
test: deps check
	CGO_ENABLED=0 $(GO) build -o /dev/null .
	$(GO) test -p 1 -count=1 -timeout 25m ./...
	$(MAKE) kernels
	$(MAKE) fuzz-ci

# kernels: the probe self-test on Debian's kernels under qemu (TCG), fetched
# with a private apt config into /var/cache/podguard-kernels (~550 MB).
# sid runs with the tracepoint hook (kernels.md).
KERNELS ?= bullseye,bookworm,trixie,sid
kernels: deps
	@log=$$(mktemp); PODGUARD_KERNELS=$(KERNELS) $(GO) test -count=1 -timeout 15m -run '^TestKernels$$' -v ./test/kernels/ >$$log 2>&1; rc=$$?; \
	grep -E '^(=== RUN|--- |\s+--- |ok|FAIL|PASS)|PODGUARD-SELFTEST' $$log; \
	if [ $$rc -ne 0 ]; then echo "--- make kernels failed; the test's output:"; cat $$log; fi; rm -f $$log; exit $$rc

# fuzz-ci: each fuzz target for a fixed number of executions (about 15 s
# each on this 2-core VM when idle), so the outcome never depends on a
# wall-clock deadline (test/fuzzstep/fuzz.sh says why). The seed corpora
# (testdata/fuzz, f.Add) are already replayed by plain `go test` above.
FUZZ_CI_TARGETS := ./daemon/rulesets:FuzzParse:300000x ./daemon/config:FuzzParse:400000x ./probes:FuzzDecode:250000x
fuzz-ci:
	GO=$(GO) bash test/fuzzstep/fuzz.sh $(FUZZ_CI_TARGETS)

# fuzz: longer local runs of the same targets, by duration (make fuzz
# FUZZTIME=10m); a duration can fail spuriously at its deadline before Go 1.27.
FUZZTIME ?= 2m
fuzz:
	GO=$(GO) bash test/fuzzstep/fuzz.sh $(foreach t,$(FUZZ_CI_TARGETS),$(word 1,$(subst :, ,$t)):$(word 2,$(subst :, ,$t)):$(FUZZTIME))

# demo: a local node, podguard, pods and real attacks (root, about a minute).
demo: deps
	@PODGUARD_DEMO=1 $(GO) test -count=1 -run '^TestDemo$$' -v ./test/ | grep -v -e '^=== RUN' -e '^--- PASS' -e '^PASS$$' -e '^ok ' -e 'demo_test.go'

# bench: podguard side by side with no agent, an empty raw tracepoint,
# auditd and bpftrace; writes BENCHMARKS.md (root; long; not part of test).
bench: deps
	@command -v auditctl >/dev/null && command -v bpftrace >/dev/null || \
		{ apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends auditd bpftrace >/dev/null; }
	$(GO) test -tags bench -count=1 -timeout 90m -v -run TestBenchmarks ./test/bench/

# package: dist/podguard_*.deb, *.rpm, *.tar.gz (see packaging/README.md)
package: build
	rm -rf dist
	$(GO) run ./packaging/cmd/pgpkg -binary podguard -version $(VERSION) -out dist

clean:
	rm -f podguard
	rm -rf dist
