# flagger/build.sh: builds Flagger's controller FROM scratch from its Go
# module at FLAGGER_VERSION, with the drill's webhook receiver beside it.
# Sourced by images/build.sh after versions.env and lib.sh.
#
# The controller is built inside the downloaded module, whose go.sum
# verifies every dependency. `go mod download` of the whole graph fails
# (the proxy refuses knative.dev/caching), but ./cmd/flagger never imports
# it, so the build needs only what it links. The CRDs and RBAC come from the
# same module directory (--print-flagger-module-dir); the suite builds the
# controller's Deployment itself.

FLAGGER_DIR=$IMAGES_DIR/flagger
FLAGGER_MODULE=github.com/fluxcd/flagger

# flagger_hash covers the Dockerfile and the receiver's source, which are
# rebuilt on every image build; the controller binary is stamped by version.
flagger_hash() { hash_of "$FLAGGER_DIR" "$REPO_DIR/cmd/flagger-hook" "$REPO_DIR/internal/flaggerhook" "$REPO_DIR/go.mod"; }
flagger_image() { echo "firedrill/flagger:$FLAGGER_VERSION-$(flagger_hash)"; }
flagger_module_dir() { module_dir "$FLAGGER_MODULE@$FLAGGER_VERSION"; }
flagger_bin_dir() { echo "$BIN_DIR/flagger-$FLAGGER_VERSION"; }

build_flagger_controller() {
	local out
	out=$(flagger_bin_dir)
	mkdir -p "$out"
	cd "$(flagger_module_dir)"
	CGO_ENABLED=0 go build -trimpath -o "$out/" -ldflags "-s -w" ./cmd/flagger
	echo "binaries in $out"
}

build_flagger_image() {
	local hook
	hook=$(mktemp -d "$FIREDRILL_CACHE/flagger-hook.XXXXXX")
	(cd "$REPO_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$hook/flagger-hook" ./cmd/flagger-hook) &&
		build_scratch_image "$(flagger_image)" "$FLAGGER_DIR" "$(flagger_bin_dir)/flagger" "$hook/flagger-hook"
	local rc=$?
	rm -rf "$hook"
	return "$rc"
}

# check_flagger_image runs the controller, which proves the entrypoint and
# the static build (the receiver is proven by the drill).
check_flagger_image() { docker run --rm "$(flagger_image)" -version; }

flagger_steps() {
	image_exists "$(flagger_image)" && { echo "  flagger image $(flagger_image) exists: nothing to do"; return 0; }
	[[ -x $(flagger_bin_dir)/flagger ]] || step flagger-controller build_flagger_controller
	step flagger-image build_flagger_image
	step flagger-check check_flagger_image
}
