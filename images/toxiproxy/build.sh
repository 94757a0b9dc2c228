# toxiproxy/build.sh: builds the Toxiproxy sidecar image FROM scratch with the
# upstream server binary (cmd/server) and nothing else. Sourced by
# images/build.sh after versions.env, lib.sh and node/build.sh, whose
# go_install_to it reuses.
#
# The tag's stamp hashes only this directory: the version is in the tag, so
# unrelated pins in versions.env do not retag the image.

TOXIPROXY_DIR=$IMAGES_DIR/toxiproxy
TOXIPROXY_MODULE=github.com/Shopify/toxiproxy/v2

toxiproxy_image() { echo "firedrill/toxiproxy:$TOXIPROXY_VERSION-$(hash_of "$TOXIPROXY_DIR")"; }

build_toxiproxy_server() { go_install_to toxiproxy "$TOXIPROXY_VERSION" 0 "" "$TOXIPROXY_MODULE/cmd/server"; }

build_toxiproxy_image() {
	local ctx
	ctx=$(mktemp -d "$FIREDRILL_CACHE/toxiproxy-ctx.XXXXXX")
	trap 'rm -rf "$ctx"' RETURN
	cp "$BIN_DIR/toxiproxy-$TOXIPROXY_VERSION/server" "$ctx/toxiproxy-server"
	cp "$TOXIPROXY_DIR/Dockerfile" "$ctx/"
	docker build -q -t "$(toxiproxy_image)" "$ctx"
	echo "built $(toxiproxy_image)"
}

# check_toxiproxy_image runs the image's binary, which proves the entrypoint
# and the static build (a scratch image has no libc to fall back on).
check_toxiproxy_image() { docker run --rm "$(toxiproxy_image)" -version; }

toxiproxy_steps() {
	image_exists "$(toxiproxy_image)" && { echo "  toxiproxy image $(toxiproxy_image) exists: nothing to do"; return 0; }
	step toxiproxy-server build_toxiproxy_server
	step toxiproxy-image build_toxiproxy_image
	step toxiproxy-check check_toxiproxy_image
}
