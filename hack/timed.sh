#!/usr/bin/env bash
# timed.sh NAME CMD... runs CMD, printing what it does and how long it took.
set -uo pipefail
name=$1
shift
start=$(date +%s.%N)
echo "==> $name"
"$@"
rc=$?
took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1f", e-s}')
if ((rc == 0)); then
	echo "<== $name ok (${took}s)"
else
	echo "<== $name FAILED (exit $rc, ${took}s)" >&2
fi
exit $rc
