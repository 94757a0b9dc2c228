# prometheus/build.sh: builds the Prometheus server FROM scratch from the
# github.com/prometheus/prometheus module at PROMETHEUS_VERSION, without the
# web UI's assets (the query API is all the analysis needs), and with only
# the Kubernetes service discovery compiled in: the module's build tags
# remove_all_sd,enable_kubernetes_sd leave out the cloud SDKs, which are most
# of a cold build. Sourced by
# images/build.sh after versions.env, lib.sh and node/build.sh, whose
# go_install_to it reuses.

PROMETHEUS_DIR=$IMAGES_DIR/prometheus

prometheus_image() { echo "firedrill/prometheus:$PROMETHEUS_VERSION-$(hash_of "$PROMETHEUS_DIR")"; }

PROMETHEUS_TAGS="remove_all_sd enable_kubernetes_sd"

build_prometheus_server() {
	go_install_to "prometheus-k8s-sd" "$PROMETHEUS_VERSION" 0 "$PROMETHEUS_TAGS" github.com/prometheus/prometheus/cmd/prometheus
}

build_prometheus_image() {
	build_scratch_image "$(prometheus_image)" "$PROMETHEUS_DIR" "$BIN_DIR/prometheus-k8s-sd-$PROMETHEUS_VERSION/prometheus"
}

check_prometheus_image() { docker run --rm "$(prometheus_image)" --version; }

prometheus_steps() {
	image_exists "$(prometheus_image)" && { echo "  prometheus image $(prometheus_image) exists: nothing to do"; return 0; }
	step prometheus-server build_prometheus_server
	step prometheus-image build_prometheus_image
	step prometheus-check check_prometheus_image
}
