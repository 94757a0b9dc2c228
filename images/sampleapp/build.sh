# sampleapp/build.sh: builds the sample app images FROM scratch: v1 and v2,
# one binary with two digests. Sourced by images/build.sh after versions.env
# and lib.sh.

REPO_DIR=$(cd "$IMAGES_DIR/.." && pwd)

# sampleapp_hash covers everything compiled into the binary or the image:
# the app, the contract package it imports, the module file and the Dockerfile.
sampleapp_hash() {
	hash_of "$REPO_DIR/sampleapp" "$REPO_DIR/internal/appcontract" "$REPO_DIR/go.mod" "$IMAGES_DIR/sampleapp"
}

sampleapp_image() { echo "firedrill/sampleapp:$(sampleapp_hash)"; }

# sampleapp_v2_image is the same binary labelled v2, so its digest differs
# from sampleapp_image's.
sampleapp_v2_image() { echo "firedrill/sampleapp:$(sampleapp_hash)-v2"; }

build_sampleapp() {
	local ctx v1 v2
	v1=$(sampleapp_image)
	v2=$(sampleapp_v2_image)
	ctx=$(mktemp -d "$FIREDRILL_CACHE/sampleapp-ctx.XXXXXX")
	trap 'rm -rf "$ctx"' RETURN
	(cd "$REPO_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$ctx/sampleapp" ./sampleapp)
	cp "$IMAGES_DIR/sampleapp/Dockerfile" "$ctx/"
	docker build -q --build-arg VERSION=v1 -t "$v1" "$ctx"
	docker tag "$v1" firedrill/sampleapp:latest
	docker build -q --build-arg VERSION=v2 -t "$v2" "$ctx"
	echo "built $v1 and $v2"
}

sampleapp_steps() {
	local v1 v2
	v1=$(sampleapp_image)
	v2=$(sampleapp_v2_image)
	if image_exists "$v1" && image_exists "$v2"; then
		echo "  sample app images $v1 and $v2 exist: nothing to do"
		return 0
	fi
	step sampleapp build_sampleapp
}
