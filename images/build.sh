#!/usr/bin/env bash
# build.sh builds the offline images that are missing and skips the rest.
#
#   images/build.sh              build everything that is missing
#   images/build.sh node         only the kind node image
#   images/build.sh --print-node-image
#                                print the node image tag for this checkout
#
# Build outputs live in $FIREDRILL_CACHE (default ~/.cache/firedrill), logs in
# $FIREDRILL_CACHE/logs. Every step prints one line with its duration.
set -euo pipefail
IMAGES_DIR=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=/dev/null
source "$IMAGES_DIR/versions.env"
# shellcheck source=/dev/null
source "$IMAGES_DIR/lib.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/node/build.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/sampleapp/build.sh"

main() {
	case "${1:-all}" in
	--print-node-image) node_image ;;
	--print-sampleapp-image) sampleapp_image ;;
	node) timed node node_steps ;;
	sampleapp) timed sampleapp sampleapp_steps ;;
	all)
		timed node node_steps
		timed sampleapp sampleapp_steps
		;;
	*) echo "images: unknown target ${1}: want node, sampleapp or all" >&2; exit 2 ;;
	esac
}

timed() {
	local name=$1 start=$SECONDS
	shift
	echo "images: $name"
	"$@"
	echo "images: $name done in $((SECONDS - start))s"
}

main "$@"
