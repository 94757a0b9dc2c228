#!/usr/bin/env bash
# build.sh builds the offline images that are missing and skips the rest.
#
#   images/build.sh              build everything that is missing
#   images/build.sh node         only the kind node image
#   images/build.sh toxiproxy    only the Toxiproxy sidecar image
#   images/build.sh chaos-mesh   only the Chaos Mesh images
#   images/build.sh argo-rollouts  only the Argo Rollouts controller image
#   images/build.sh prometheus   only the Prometheus server image
#   images/build.sh go-feature-flag  only the GO Feature Flag relay proxy image
#   images/build.sh flagger      only the Flagger controller image (with the drill's webhook receiver)
#   images/build.sh apps         every image but the node image (sample app, Toxiproxy, Chaos Mesh,
#                                Argo Rollouts, Prometheus, GO Feature Flag, Flagger)
#   images/build.sh --print-node-image
#                                print the node image tag for this checkout
#   images/build.sh --print-sampleapp-image
#                                print the sample app (v1) image tag
#   images/build.sh --print-sampleapp-v2-image
#                                print the sample app v2 image tag (same binary, other digest)
#   images/build.sh --print-toxiproxy-image
#                                print the Toxiproxy sidecar image tag
#   images/build.sh --print-chaos-mesh-tag
#                                print the Chaos Mesh image tag (the chart's images.tag)
#   images/build.sh --print-argo-rollouts-image
#   images/build.sh --print-argo-rollouts-manifest
#                                print the controller image tag, and its install manifest
#   images/build.sh --print-prometheus-image
#                                print the Prometheus server image tag
#   images/build.sh --print-go-feature-flag-image
#                                print the GO Feature Flag relay proxy image tag
#   images/build.sh --print-flagger-image
#   images/build.sh --print-flagger-module-dir
#                                print the Flagger image tag, and the module holding its CRDs and RBAC
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
# shellcheck source=/dev/null
source "$IMAGES_DIR/toxiproxy/build.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/chaos-mesh/build.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/argo-rollouts/build.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/prometheus/build.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/go-feature-flag/build.sh"
# shellcheck source=/dev/null
source "$IMAGES_DIR/flagger/build.sh"

main() {
	case "${1:-all}" in
	--print-node-image) node_image ;;
	--print-sampleapp-image) sampleapp_image ;;
	--print-sampleapp-v2-image) sampleapp_v2_image ;;
	--print-toxiproxy-image) toxiproxy_image ;;
	--print-chaos-mesh-tag) chaos_mesh_tag ;;
	--print-chaos-mesh-chart) chaos_mesh_chart ;;
	--print-argo-rollouts-image) argo_rollouts_image ;;
	--print-argo-rollouts-manifest) argo_rollouts_manifest ;;
	--print-prometheus-image) prometheus_image ;;
	--print-go-feature-flag-image) go_feature_flag_image ;;
	--print-flagger-image) flagger_image ;;
	--print-flagger-module-dir) flagger_module_dir ;;
	node) timed node node_steps ;;
	sampleapp) timed sampleapp sampleapp_steps ;;
	toxiproxy) timed toxiproxy toxiproxy_steps ;;
	chaos-mesh) timed chaos-mesh chaos_mesh_steps ;;
	argo-rollouts) timed argo-rollouts argo_rollouts_steps ;;
	prometheus) timed prometheus prometheus_steps ;;
	go-feature-flag) timed go-feature-flag go_feature_flag_steps ;;
	flagger) timed flagger flagger_steps ;;
	apps) app_steps ;;
	all)
		timed node node_steps
		app_steps
		;;
	*) echo "images: unknown target ${1}: want node, sampleapp, toxiproxy, chaos-mesh, argo-rollouts, prometheus, go-feature-flag, flagger, apps or all" >&2; exit 2 ;;
	esac
}

# app_steps builds every image the drills run, as opposed to the node image
# (a laptop uses kind's upstream node image but still needs these).
app_steps() {
	timed sampleapp sampleapp_steps
	timed toxiproxy toxiproxy_steps
	timed chaos-mesh chaos_mesh_steps
	timed argo-rollouts argo_rollouts_steps
	timed prometheus prometheus_steps
	timed go-feature-flag go_feature_flag_steps
	timed flagger flagger_steps
}

# chaos_mesh_chart prints the Helm chart directory inside the pinned
# chaos-mesh module (downloaded from the module proxy when missing).
chaos_mesh_chart() {
	echo "$(cd "$CHAOS_MESH_DIR/build" && module_dir "$CHAOS_MESH_MODULE@$CHAOS_MESH_VERSION")/helm/chaos-mesh"
}

timed() {
	local name=$1 start=$SECONDS
	shift
	echo "images: $name"
	"$@"
	echo "images: $name done in $((SECONDS - start))s"
}

main "$@"
