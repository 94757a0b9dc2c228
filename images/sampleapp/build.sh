# sampleapp/build.sh: builds the sample app image FROM scratch. Sourced by
# images/build.sh after versions.env and lib.sh.

REPO_DIR=$(cd "$IMAGES_DIR/.." && pwd)

sampleapp_image() { echo "firedrill/sampleapp:$(hash_of "$REPO_DIR/sampleapp" "$REPO_DIR/go.mod" "$IMAGES_DIR/sampleapp")"; }

build_sampleapp() {
	local ctx
	ctx=$(mktemp -d "$FIREDRILL_CACHE/sampleapp-ctx.XXXXXX")
	trap 'rm -rf "$ctx"' RETURN
	(cd "$REPO_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/sampleapp" ./sampleapp)
	cp "$IMAGES_DIR/sampleapp/Dockerfile" "$ctx/"
	docker build -q -t "$(sampleapp_image)" "$ctx"
	docker tag "$(sampleapp_image)" firedrill/sampleapp:latest
	echo "built $(sampleapp_image)"
}

sampleapp_steps() {
	image_exists "$(sampleapp_image)" && { echo "  sample app image $(sampleapp_image) exists: nothing to do"; return 0; }
	step sampleapp build_sampleapp
}
