#!/usr/bin/env bash
# airgap.sh prints 1 when drills must use the offline node image, else 0.
# FIREDRILL_AIRGAP wins when set. Otherwise the answer is 0 when kind's
# upstream node image is present or can be pulled, and 1 when the pull fails
# (no registry). A failed pull is remembered in the cache so later runs do
# not retry it; delete $FIREDRILL_CACHE/airgap to ask again.
set -uo pipefail
if [[ -n ${FIREDRILL_AIRGAP:-} ]]; then
	echo "$FIREDRILL_AIRGAP"
	exit 0
fi
cache=${FIREDRILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/firedrill}
if [[ -f $cache/airgap ]]; then
	cat "$cache/airgap"
	exit 0
fi
kind_dir=$(go mod download -json sigs.k8s.io/kind | jq -r .Dir)
image=$(sed -n 's/^const Image = "\(.*\)"$/\1/p' "$kind_dir/pkg/apis/config/defaults/image.go")
if docker image inspect "$image" >/dev/null 2>&1 || timeout 300 docker pull "$image" >/dev/null 2>&1; then
	echo 0
elif docker info >/dev/null 2>&1; then
	# Docker answers but cannot pull: no registry here. Remember it.
	mkdir -p "$cache" && echo 1 | tee "$cache/airgap"
else
	# No Docker engine yet (make starts one): assume air-gapped, ask again next time.
	echo 1
fi
