#!/usr/bin/env bash
# bench.sh prints firedrill's benchmark table, every row measured side by
# side in this run: cluster create→Ready against plain `kind create cluster
# --wait`, the time to the first verdict, the suite sequential against
# concurrent, the observer against the vegeta CLI, and the harness overhead
# per drill; the calibration tables at 20, 50 and 100 Hz; then the Argo
# Rollouts controller's install time and each Argo drill's phases.
#
# Needs the images and the image environment (run it through `make bench`).
# BENCH_SUITE=0 leaves out the two full suite runs (about 15 minutes).
set -euo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
say() { echo "bench: $*"; }

# bench_go PKG NAME runs one Go benchmark once and keeps its output.
bench_go() {
	say "running $2 in $1 (log: $logs/$2.log)"
	FIREDRILL_E2E=1 go test -count=1 -run '^$' -bench "^$2\$" -benchtime 1x -timeout 30m "$1" >"$logs/$2.log" 2>&1 || {
		tail -20 "$logs/$2.log" >&2
		exit 1
	}
}

# field LOG KEY reads KEY=value from the BENCH lines of a log.
field() { grep -ho "$2=[^ ]*" "$1" | tail -1 | cut -d= -f2; }

# timed_make LOG ARGS... runs make and prints its wall seconds.
timed_make() {
	local log=$1 start=$SECONDS
	shift
	make "$@" >"$log" 2>&1 || { tail -20 "$log" >&2; exit 1; }
	echo $((SECONDS - start))
}

bench_go ./cluster BenchmarkClusterCreateToReady
ready=$(field "$logs/BenchmarkClusterCreateToReady.log" create_to_ready)
plain=$(field "$logs/BenchmarkClusterCreateToReady.log" plain_kind)
ratio=$(field "$logs/BenchmarkClusterCreateToReady.log" ratio)

say "time to the first verdict: make drill focused on canary-bad-version"
make drill GINKGO_FLAGS="--focus=canary-bad-version" >"$logs/warm.log" 2>&1 || true # warms the cluster and the build
# The verdict is known when the drill report is written (its "finished"),
# before the namespace is deleted and the suite reports are rendered.
first_dir=$logs/first-run
start_ms=$(date +%s%3N)
whole=$(timed_make "$logs/first.log" drill DRILL_PROCS=1 RUN_DIR="$first_dir" GINKGO_FLAGS="--focus=canary-bad-version")
finished=$(jq -r .finished "$first_dir"/canary-bad-version-*.json | head -1)
first=$(awk -v s="$start_ms" -v f="$(date -d "$finished" +%s%3N)" 'BEGIN{printf "%.1f", (f-s)/1000}')

if [[ ${BENCH_SUITE:-1} == 1 ]]; then
	say "suite wall time, sequential then concurrent (logs: $logs/suite-*.log)"
	seq=$(timed_make "$logs/suite-seq.log" drill DRILL_PROCS=1 GINKGO_FLAGS="--label-filter=!interrupt")
	par=$(timed_make "$logs/suite-par.log" drill GINKGO_FLAGS="--label-filter=!interrupt")
	suite_row="| suite wall time, concurrent ($(($(nproc) + 1)) processes) vs sequential | ${par} s | ${seq} s | $(awk -v a="$par" -v b="$seq" 'BEGIN{printf "%.2f", a/b}') (goal ≤ 0.50) |"
else
	suite_row="| suite wall time | not measured (BENCH_SUITE=0) | | |"
fi

bench_go ./drills BenchmarkObserverVsVegeta
bench_go ./drills BenchmarkObserverRate
sustained=$(grep -o 'highest sustained so far: [0-9]* rps' "$logs/BenchmarkObserverRate.log" | tail -1 | grep -o '[0-9]* rps')
bench_go ./drills BenchmarkDrillToVerdict
overhead=$(field "$logs/BenchmarkDrillToVerdict.log" harness_overhead)

echo
echo "| measurement | firedrill | anchor | ratio or goal |"
echo "|---|---:|---:|---|"
echo "| cluster create→Ready, vs plain \`kind create cluster --wait\` | ${ready} s | ${plain} s | ${ratio} (goal ≤ 20 s) |"
echo "| time to the first verdict (\`make drill\` focused on canary-bad-version, warm; the whole command: ${whole} s) | ${first} s | | goal ≤ 45 s |"
echo "$suite_row"
grep -h '^BENCH observer_vs_vegeta' "$logs/BenchmarkObserverVsVegeta.log" | while read -r _ _ rate ors ocpu vrs vcpu; do
	echo "| observer at ${rate#rate=} rps vs \`vegeta attack\`: achieved rps, client CPU s/s | ${ors#*=} rps, ${ocpu#*=} | ${vrs#*=} rps, ${vcpu#*=} | |"
done
echo "| observer's highest sustained rate (no failure, ≥ 95 % achieved) | ${sustained} | | |"
echo "| harness overhead per drill beyond its intrinsic waits | ${overhead} s | | goal ≤ 3 s |"
echo

bench_go ./drills BenchmarkCalibration
grep -v '^\(goos\|goarch\|pkg\|cpu\|PASS\|ok\|Benchmark\)' "$logs/BenchmarkCalibration.log"

# The Argo drills last: removing the controller and Prometheus after them
# loads the host while their namespaces terminate.
say "argo-rollouts drills: install, then each drill's phases (log: $logs/argo.log)"
argo_dir=$logs/argo-run
timed_make "$logs/argo.log" drill RUN_DIR="$argo_dir" GINKGO_FLAGS="--label-filter=machinery:argo-rollouts" >/dev/null
echo "| Argo Rollouts install: CRDs established and the controller available ($(cut -d' ' -f3- "$argo_dir/argo-install.txt")) | $(cut -d' ' -f1 "$argo_dir/argo-install.txt") s | | |"
echo
echo "| Argo drill | verdict | MTTR | detect | decide | actuate | recover |"
echo "|---|---|---:|---:|---:|---:|---:|"
for f in "$argo_dir"/argo-*.json; do
	jq -r '"| \(.scenario) | \(.verdict)\(if (.labels // [] | index("expect:caught")) then " (expect:caught)" else "" end) | " + (if .mttr then "\(.mttr.total) s | \(.mttr.phases.detect) s | \(.mttr.phases.decide) s | \(.mttr.phases.actuate) s | \(.mttr.phases.recover) s |" else "none | | | | |" end)' "$f"
done
echo
