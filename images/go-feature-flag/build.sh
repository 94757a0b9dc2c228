# go-feature-flag/build.sh: builds the GO Feature Flag relay proxy, the flag
# server of the feature-flag machinery, FROM scratch from its Go module at
# GO_FEATURE_FLAG_VERSION. Sourced by images/build.sh after versions.env and
# lib.sh.
#
# The relay proxy is a package of the module's root, not a module of its
# own, so it is built inside the downloaded module, whose go.sum verifies
# every dependency (it links every retriever and exporter: a big graph).

GO_FEATURE_FLAG_DIR=$IMAGES_DIR/go-feature-flag
GO_FEATURE_FLAG_MODULE=github.com/thomaspoignant/go-feature-flag

go_feature_flag_image() { echo "firedrill/go-feature-flag:$GO_FEATURE_FLAG_VERSION-$(hash_of "$GO_FEATURE_FLAG_DIR")"; }
go_feature_flag_bin_dir() { echo "$BIN_DIR/go-feature-flag-$GO_FEATURE_FLAG_VERSION"; }

build_go_feature_flag_relayproxy() {
	local out
	out=$(go_feature_flag_bin_dir)
	mkdir -p "$out"
	cd "$(module_dir "$GO_FEATURE_FLAG_MODULE@$GO_FEATURE_FLAG_VERSION")"
	CGO_ENABLED=0 go build -trimpath -o "$out/" -ldflags "-s -w -X main.version=${GO_FEATURE_FLAG_VERSION#v}" ./cmd/relayproxy
	echo "binaries in $out"
}

build_go_feature_flag_image() {
	build_scratch_image "$(go_feature_flag_image)" "$GO_FEATURE_FLAG_DIR" "$(go_feature_flag_bin_dir)/relayproxy"
}

# check_go_feature_flag_image runs the binary without a configuration: it
# must start, which proves the entrypoint and the static build, and refuse
# in its own words.
check_go_feature_flag_image() {
	local out
	out=$(docker run --rm "$(go_feature_flag_image)" 2>&1 || true)
	grep -q "configuration" <<<"$out" || { echo "relay proxy did not start: $out"; return 1; }
	echo "relay proxy starts and asks for its configuration"
}

go_feature_flag_steps() {
	image_exists "$(go_feature_flag_image)" && { echo "  go-feature-flag image $(go_feature_flag_image) exists: nothing to do"; return 0; }
	[[ -x $(go_feature_flag_bin_dir)/relayproxy ]] || step go-feature-flag-relayproxy build_go_feature_flag_relayproxy
	step go-feature-flag-image build_go_feature_flag_image
	step go-feature-flag-check check_go_feature_flag_image
}
