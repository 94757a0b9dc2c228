# argo-rollouts/build.sh: builds the Argo Rollouts controller FROM scratch
# from its Go module at ARGO_ROLLOUTS_VERSION. Sourced by images/build.sh
# after versions.env and lib.sh.
#
# The module's go.mod carries replace directives, so `go install pkg@version`
# refuses it: the controller is built inside the downloaded module, whose
# go.sum verifies every dependency. The CRDs and the install manifest
# (manifests/install.yaml) come from the same module directory; the suite
# swaps this image into the manifest (--print-argo-rollouts-manifest).

ARGO_ROLLOUTS_DIR=$IMAGES_DIR/argo-rollouts
ARGO_ROLLOUTS_MODULE=github.com/argoproj/argo-rollouts

argo_rollouts_image() { echo "firedrill/argo-rollouts:$ARGO_ROLLOUTS_VERSION-$(hash_of "$ARGO_ROLLOUTS_DIR")"; }
argo_rollouts_module_dir() { module_dir "$ARGO_ROLLOUTS_MODULE@$ARGO_ROLLOUTS_VERSION"; }
argo_rollouts_manifest() { echo "$(argo_rollouts_module_dir)/manifests/install.yaml"; }
argo_rollouts_bin_dir() { echo "$BIN_DIR/argo-rollouts-$ARGO_ROLLOUTS_VERSION"; }

build_argo_rollouts_controller() {
	local out v="-X $ARGO_ROLLOUTS_MODULE/utils/version"
	out=$(argo_rollouts_bin_dir)
	mkdir -p "$out"
	cd "$(argo_rollouts_module_dir)"
	CGO_ENABLED=0 go build -trimpath -o "$out/" \
		-ldflags "-s -w $v.version=${ARGO_ROLLOUTS_VERSION#v} $v.gitTreeState=clean" ./cmd/rollouts-controller
	echo "binaries in $out"
}

build_argo_rollouts_image() {
	build_scratch_image "$(argo_rollouts_image)" "$ARGO_ROLLOUTS_DIR" "$(argo_rollouts_bin_dir)/rollouts-controller"
}

# check_argo_rollouts_image runs the binary, which proves the entrypoint and
# the static build.
check_argo_rollouts_image() { docker run --rm "$(argo_rollouts_image)" --version; }

argo_rollouts_steps() {
	image_exists "$(argo_rollouts_image)" && { echo "  argo rollouts image $(argo_rollouts_image) exists: nothing to do"; return 0; }
	[[ -x $(argo_rollouts_bin_dir)/rollouts-controller ]] || step argo-rollouts-controller build_argo_rollouts_controller
	step argo-rollouts-image build_argo_rollouts_image
	step argo-rollouts-check check_argo_rollouts_image
}
