# firedrill: every target prints what it does and how long each step took.
SHELL := /bin/bash
.DEFAULT_GOAL := help

TIMED := hack/timed.sh
GO ?= go
# FIREDRILL_AIRGAP=1 uses only the offline-built node image (CI always does).
FIREDRILL_AIRGAP ?= $(shell hack/airgap.sh 2>/dev/null || echo 1)
export FIREDRILL_AIRGAP
RUN_DIR ?= $(CURDIR)/_runs/$(shell date +%Y%m%d-%H%M%S)
export FIREDRILL_RUN_DIR := $(RUN_DIR)
GINKGO_FLAGS ?= -v --timeout=45m
# Harness flags for the drill suite, e.g. FIREDRILL_FLAGS=-firedrill.repeat=5.
FIREDRILL_FLAGS ?=
# Drills run this many at once (Ginkgo processes): cores + 1, since a drill
# mostly waits. Drills labelled serial run alone, after the others.
DRILL_PROCS ?= $(shell echo $$(( $$(nproc) + 1 )))
# The images the cluster and the drills need, as built for this checkout.
image_env = FIREDRILL_SAMPLEAPP_IMAGE=$$(images/build.sh --print-sampleapp-image) \
	FIREDRILL_SAMPLEAPP_V2_IMAGE=$$(images/build.sh --print-sampleapp-v2-image) \
	FIREDRILL_TOXIPROXY_IMAGE=$$(images/build.sh --print-toxiproxy-image) \
	FIREDRILL_CHAOS_MESH_TAG=$$(images/build.sh --print-chaos-mesh-tag) \
	FIREDRILL_CHAOS_MESH_CHART=$$(images/build.sh --print-chaos-mesh-chart) \
	FIREDRILL_ARGO_ROLLOUTS_IMAGE=$$(images/build.sh --print-argo-rollouts-image) \
	FIREDRILL_ARGO_ROLLOUTS_MANIFEST=$$(images/build.sh --print-argo-rollouts-manifest) \
	FIREDRILL_PROMETHEUS_IMAGE=$$(images/build.sh --print-prometheus-image) \
	FIREDRILL_FLAG_SERVER_IMAGE=$$(images/build.sh --print-go-feature-flag-image) \
	FIREDRILL_FLAGGER_IMAGE=$$(images/build.sh --print-flagger-image) \
	FIREDRILL_FLAGGER_MODULE_DIR=$$(images/build.sh --print-flagger-module-dir) \
	$$( [[ $$FIREDRILL_AIRGAP == 1 ]] && echo FIREDRILL_NODE_IMAGE=$$(images/build.sh --print-node-image) )

.PHONY: help docker browser images cluster cluster-down drill compare test unit e2e drills bench lint fuzz

help:
	@echo "make drill         cluster up if needed, images if needed, run the drill suite, write reports"
	@echo "make test          unit tests, the cluster end-to-end test and the drill suite (what CI runs)"
	@echo "make images        build missing images (offline node image when air-gapped, sample app)"
	@echo "make cluster       create or reuse the kind drill cluster;  make cluster-down  deletes it"
	@echo "make compare       the rollback strategies compared: one bad version under each machinery, COMPARE_N (5) times"
	@echo "make bench         benchmarks with figures;  make lint  gofmt, go vet, staticcheck"
	@echo "make fuzz          every fuzz target of outside input, FUZZTIME each (default 60s)"

docker:
	@$(TIMED) docker hack/setup-docker.sh

browser:
	@$(TIMED) browser hack/setup-browser.sh

images: docker
	@if [[ $$FIREDRILL_AIRGAP == 1 ]]; then $(TIMED) images images/build.sh all; \
	else $(TIMED) images images/build.sh apps; fi

cluster: images
	@$(TIMED) cluster env $(image_env) $(GO) run ./cmd/firedrill up

cluster-down: docker
	@$(TIMED) cluster-down $(GO) run ./cmd/firedrill down

drill: cluster
	@$(TIMED) drill env $(image_env) $(GO) tool ginkgo --procs=$(DRILL_PROCS) $(GINKGO_FLAGS) ./scenarios -- $(FIREDRILL_FLAGS)
	@echo "reports: $(FIREDRILL_RUN_DIR)/index.html and $(FIREDRILL_RUN_DIR)/summary.md"

# The strategy comparison: the drills labelled comparison (one bad version
# under each machinery), COMPARE_N times each.
COMPARE_N ?= 5
compare: cluster
	@$(TIMED) compare env $(image_env) $(GO) tool ginkgo --procs=$(DRILL_PROCS) --label-filter=comparison $(GINKGO_FLAGS) ./scenarios -- -firedrill.compare-repeat=$(COMPARE_N) $(FIREDRILL_FLAGS)
	@echo "comparison: $(FIREDRILL_RUN_DIR)/strategies.html and $(FIREDRILL_RUN_DIR)/strategies.md"

# The drill suite (./scenarios) needs a cluster: it runs under `drills`, not `unit`.
unit: browser
	@$(TIMED) unit $(GO) test $$($(GO) list ./... | grep -v /scenarios)
	@$(TIMED) catalogue $(GO) test -run 'TestCatalogue|TestPortShare' ./scenarios

e2e: images
	@$(TIMED) e2e env $(image_env) FIREDRILL_E2E=1 $(GO) test -count=1 -v -run E2E -timeout 20m ./cluster

# The fault packages' own end-to-end checks run on the drill cluster once the
# suite has loaded the images into it.
# In CI the comparison drills run TEST_COMPARE_N times within the suite.
TEST_COMPARE_N ?= 3
drills: cluster
	@$(TIMED) drills env $(image_env) $(GO) tool ginkgo --procs=$(DRILL_PROCS) $(GINKGO_FLAGS) ./scenarios -- -firedrill.compare-repeat=$(TEST_COMPARE_N) $(FIREDRILL_FLAGS)
	@$(TIMED) faults-e2e env $(image_env) FIREDRILL_E2E=1 $(GO) test -count=1 -v -run E2E -timeout 10m ./faults/...
	@$(TIMED) safety-e2e env $(image_env) FIREDRILL_E2E=1 $(GO) test -count=1 -v -run E2E -timeout 10m ./scenarios

test: unit e2e drills

bench: images
	@$(TIMED) bench env $(image_env) hack/bench.sh

lint:
	@$(TIMED) gofmt bash -c 'out=$$(gofmt -l $$(git ls-files "*.go")); [[ -z $$out ]] || { echo "not gofmt-ed: $$out"; exit 1; }'
	@$(TIMED) vet $(GO) vet ./...
	@$(TIMED) staticcheck $(GO) tool staticcheck ./...

# Every parser of outside input has a fuzz target; found crashers stay in
# its testdata/fuzz corpus and run with the unit tests.
FUZZTIME ?= 60s
FUZZ_TARGETS = ./reports:FuzzReadAndRender ./reports:FuzzReadBaseline ./rollback:FuzzParseArgoConfig ./cluster:FuzzParseAllowlist
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		$(TIMED) "fuzz $${t#*:}" $(GO) test -run '^$$' -fuzz "^$${t#*:}\$$" -fuzztime $(FUZZTIME) "$${t%%:*}" || exit 1; \
	done
