# chaos-mesh/build.sh: steps that build the offline Chaos Mesh images
# (chaos-controller-manager and chaos-daemon). Sourced by images/build.sh after
# versions.env, lib.sh and node/build.sh (for the rootfs image).
#
# The repositories are the chart's own (controllerManager.image.repository
# chaos-mesh/chaos-mesh, chaosDaemon.image.repository chaos-mesh/chaos-daemon)
# under the registry "firedrill", so the chart in the module's helm/chaos-mesh
# picks them up with:
#
#   --set images.registry=firedrill
#   --set images.tag=$(images/build.sh --print-chaos-mesh-tag)
#   --set chaosDaemon.runtime=containerd
#   --set chaosDaemon.socketPath=/run/containerd/containerd.sock
#   --set dashboard.create=false --set dnsServer.create=false
#
# The dashboard and DNS server images are not built.

CHAOS_MESH_DIR=$IMAGES_DIR/chaos-mesh
CHAOS_MESH_MODULE=github.com/chaos-mesh/chaos-mesh
CHAOS_MESH_REGISTRY=firedrill
# The commit in the pseudo-version, e.g. 47411975a8cb.
CHAOS_MESH_COMMIT=${CHAOS_MESH_VERSION##*-}

# The tag and the binaries depend on the CHAOS_MESH_* pins, not on the whole
# of versions.env, so unrelated version bumps do not rebuild them.
chaos_mesh_pins() { grep '^CHAOS_MESH_' "$IMAGES_DIR/versions.env"; }
chaos_mesh_tag() { echo "$CHAOS_MESH_COMMIT-$(chaos_mesh_stamp)"; }
chaos_mesh_stamp() {
	{ chaos_mesh_pins; hash_of "$CHAOS_MESH_DIR"; rootfs_image; } | sha256sum | cut -c1-12
}
chaos_controller_image() { echo "$CHAOS_MESH_REGISTRY/chaos-mesh/chaos-mesh:$(chaos_mesh_tag)"; }
chaos_daemon_image() { echo "$CHAOS_MESH_REGISTRY/chaos-mesh/chaos-daemon:$(chaos_mesh_tag)"; }
chaos_mesh_bin_dir() {
	local stamp
	stamp=$({ chaos_mesh_pins; hash_of "$CHAOS_MESH_DIR/build.sh" "$CHAOS_MESH_DIR/build" "$CHAOS_MESH_DIR/nsexec"; } | sha256sum | cut -c1-12)
	echo "$BIN_DIR/chaos-mesh-$CHAOS_MESH_COMMIT-$stamp"
}

CHAOS_MESH_BINS="chaos-controller-manager chaos-daemon cdh nsexec pause"

# chaos_mesh_source prints a writable copy of the chaos-mesh module with the
# TimeChaos objects compiled in. pkg/time embeds fakeclock/*.o, which the
# module zip does not carry (it builds, but TimeChaos then fails at run time),
# and the go command refuses overlays inside the module cache.
chaos_mesh_source() {
	local src=$FIREDRILL_CACHE/src/chaos-mesh-$CHAOS_MESH_VERSION tmp f
	if [[ ! -f $src/pkg/time/fakeclock/fake_gettimeofday.o ]]; then
		tmp=$(mktemp -d "$FIREDRILL_CACHE/chaos-mesh-src.XXXXXX")
		cp -r "$(cd "$CHAOS_MESH_DIR/build" && module_dir "$CHAOS_MESH_MODULE@$CHAOS_MESH_VERSION")/." "$tmp/"
		chmod -R u+w "$tmp"
		for f in fake_clock_gettime fake_gettimeofday; do
			cc -c "$tmp/pkg/time/fakeclock/$f.c" -fPIE -O2 -o "$tmp/pkg/time/fakeclock/$f.o"
		done
		mkdir -p "$(dirname "$src")"
		rm -rf "$src"
		mv "$tmp" "$src"
	fi
	echo "$src"
}

# chaos_mesh_ldflags sets pkg/version as upstream's hack/version.sh does, with
# the build date taken from the pseudo-version so builds are reproducible.
chaos_mesh_ldflags() {
	local ts=${CHAOS_MESH_VERSION%-*}
	ts=${ts##*.}
	local v="-X $CHAOS_MESH_MODULE/pkg/version"
	echo "-s -w $v.gitVersion=$CHAOS_MESH_VERSION $v.gitCommit=$CHAOS_MESH_COMMIT" \
		"$v.buildDate=${ts:0:4}-${ts:4:2}-${ts:6:2}T${ts:8:2}:${ts:10:2}:${ts:12:2}Z"
}

# timed_build NAME CMD... runs one build and logs how long it took.
timed_build() {
	local name=$1 start=$SECONDS
	shift
	"$@"
	echo "built $name in $((SECONDS - start))s"
}

# chaos_mesh_check_pins fails when build/go.mod and versions.env disagree.
chaos_mesh_check_pins() {
	local mod=$CHAOS_MESH_DIR/build/go.mod
	grep -Eq "^(require)?[[:space:]]*$CHAOS_MESH_MODULE $CHAOS_MESH_VERSION( // indirect)?\$" "$mod" &&
		grep -q "$CHAOS_MESH_MODULE/api => $CHAOS_MESH_MODULE/api $CHAOS_MESH_API_VERSION\$" "$mod" || {
		echo "images: $mod does not pin CHAOS_MESH_VERSION and CHAOS_MESH_API_VERSION from versions.env" >&2
		return 1
	}
}

build_chaos_mesh_binaries() {
	chaos_mesh_check_pins
	dpkg -s gcc libc6-dev >/dev/null 2>&1 || apt-get install -y -qq gcc libc6-dev
	local out src work ldflags
	out=$(chaos_mesh_bin_dir)
	src=$(chaos_mesh_source)
	ldflags=$(chaos_mesh_ldflags)
	work=$(mktemp -d "$FIREDRILL_CACHE/chaos-mesh-mod.XXXXXX")
	trap 'rm -rf "$work"' RETURN
	# The build module's go.mod and go.sum with chaos-mesh pointed at the
	# prepared source; every other module still verifies through go.sum.
	cp "$CHAOS_MESH_DIR/build/go.mod" "$CHAOS_MESH_DIR/build/go.sum" "$work/"
	printf '\nreplace %s => %s\n' "$CHAOS_MESH_MODULE" "$src" >>"$work/go.mod"
	mkdir -p "$out"
	local m=$CHAOS_MESH_MODULE/cmd gobuild=(go build -modfile="$work/go.mod" -trimpath)
	cd "$CHAOS_MESH_DIR/build"
	timed_build chaos-controller-manager env CGO_ENABLED=0 "${gobuild[@]}" -tags timetzdata -ldflags "$ldflags" \
		-o "$out/chaos-controller-manager" "$m/chaos-controller-manager"
	timed_build chaos-daemon env CGO_ENABLED=1 "${gobuild[@]}" -ldflags "$ldflags" -o "$out/chaos-daemon" "$m/chaos-daemon"
	timed_build cdh env CGO_ENABLED=0 "${gobuild[@]}" -ldflags "$ldflags" -o "$out/cdh" "$m/chaos-daemon-helper"
	cd "$CHAOS_MESH_DIR/nsexec"
	timed_build nsexec env CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$out/nsexec" .
	timed_build pause cc -O2 -static "$src/hack/pause.c" -o "$out/pause"
	echo "binaries in $out"
}

build_chaos_mesh_images() {
	local ctx bins
	bins=$(chaos_mesh_bin_dir)
	ctx=$(mktemp -d "$FIREDRILL_CACHE/chaos-mesh-ctx.XXXXXX")
	trap 'rm -rf "$ctx"' RETURN
	if ! image_exists "$(chaos_controller_image)"; then
		mkdir "$ctx/controller"
		cp "$bins/chaos-controller-manager" "$CHAOS_MESH_DIR/Dockerfile.controller-manager" "$ctx/controller/"
		docker build -q --build-arg "ROOTFS=$(rootfs_image)" -f "$ctx/controller/Dockerfile.controller-manager" \
			-t "$(chaos_controller_image)" "$ctx/controller"
	fi
	if ! image_exists "$(chaos_daemon_image)"; then
		mkdir "$ctx/daemon"
		cp "$bins/chaos-daemon" "$bins/cdh" "$bins/nsexec" "$bins/pause" "$CHAOS_MESH_DIR/Dockerfile.chaos-daemon" "$ctx/daemon/"
		docker build -q --build-arg "ROOTFS=$(rootfs_image)" -f "$ctx/daemon/Dockerfile.chaos-daemon" \
			-t "$(chaos_daemon_image)" "$ctx/daemon"
	fi
	echo "built tag $(chaos_mesh_tag)"
}

chaos_mesh_steps() {
	if image_exists "$(chaos_controller_image)" && image_exists "$(chaos_daemon_image)"; then
		echo "  chaos mesh images $CHAOS_MESH_REGISTRY/chaos-mesh/{chaos-mesh,chaos-daemon}:$(chaos_mesh_tag) exist: nothing to do"
		return 0
	fi
	image_exists "$(rootfs_image)" || step rootfs build_rootfs
	have_bins "$(chaos_mesh_bin_dir)" $CHAOS_MESH_BINS || step chaos-mesh-binaries build_chaos_mesh_binaries
	step chaos-mesh-images build_chaos_mesh_images
}
