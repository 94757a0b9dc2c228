# node/build.sh: steps that build the offline kind node image. Sourced by
# images/build.sh after versions.env and lib.sh.

NODE_DIR=$IMAGES_DIR/node
ROOTFS_PACKAGES=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,fuse-overlayfs,bash,ca-certificates,curl,jq,procps,e2fsprogs

# node_variant is "restricted" on hosts without CAP_SYS_RESOURCE (the
# in-node runc shim is baked in) and "standard" elsewhere.
node_variant() {
	if [[ -n ${FIREDRILL_NODE_VARIANT:-} ]]; then
		echo "$FIREDRILL_NODE_VARIANT"
	elif restricted_host; then
		echo restricted
	else
		echo standard
	fi
}

rootfs_image() { echo "firedrill/node-rootfs:$DEBIAN_SUITE-$(echo "$ROOTFS_PACKAGES" | sha256sum | cut -c1-12)"; }
base_image() { echo "firedrill/kind-base:$K8S_VERSION-$(node_stamp)"; }
node_image() { echo "firedrill/kind-node:$K8S_VERSION-$(node_stamp)"; }
# node_stamp hashes what goes into the node image: the node directory, the
# versions it pins (not other images' pins) and the variant.
node_stamp() {
	{
		hash_of "$NODE_DIR"
		grep -E '^(KIND|K8S|DEBIAN|CONTAINERD|RUNC|CRICTL|CNI_PLUGINS|ETCD|COREDNS|PAUSE|KIND_PAUSE)[A-Z_]*=' "$IMAGES_DIR/versions.env"
		node_variant
	} | sha256sum | cut -c1-12
}

# debian_mirror reuses the host's Debian mirror so debootstrap fetches from
# the same place apt does.
debian_mirror() {
	grep -hoE '^(URIs:|deb) *[^ ]+/debian/?( |$)' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null |
		awk '{print $2}' | head -n 1
}

build_rootfs() {
	local dir
	dir=$(mktemp -d "$FIREDRILL_CACHE/rootfs.XXXXXX")
	trap 'rm -rf "$dir"' RETURN
	command -v debootstrap >/dev/null || apt-get install -y -qq debootstrap
	debootstrap --variant=minbase --include="$ROOTFS_PACKAGES" "$DEBIAN_SUITE" "$dir" $(debian_mirror)
	rm -rf "$dir"/var/lib/apt/lists/* "$dir"/var/cache/apt/archives/*.deb
	tar -C "$dir" -c . | docker import - "$(rootfs_image)"
	echo "imported $(rootfs_image)"
}

# go_install_to NAME VERSION CGO TAGS PKG... installs PKG@VERSION into
# $BIN_DIR/NAME-VERSION unless every binary is already there.
go_install_to() {
	local name=$1 version=$2 cgo=$3 tags=$4
	shift 4
	local out=$BIN_DIR/$name-$version pkg
	mkdir -p "$out"
	for pkg in "$@"; do
		[[ -x $out/$(basename "${pkg%@*}") ]] && continue
		GOBIN=$out CGO_ENABLED=$cgo go install -trimpath -tags "$tags" -ldflags "-s -w" "$pkg@$version"
	done
	echo "binaries in $out"
}

build_containerd() {
	local m=github.com/containerd/containerd/v2/cmd
	go_install_to containerd "$CONTAINERD_VERSION" 1 "no_aufs no_zfs no_btrfs no_devmapper" "$m/containerd"
	go_install_to containerd "$CONTAINERD_VERSION" 0 "" "$m/ctr" "$m/containerd-shim-runc-v2"
}

build_runc() {
	dpkg -s libseccomp-dev pkg-config gcc >/dev/null 2>&1 || apt-get install -y -qq libseccomp-dev pkg-config gcc
	go_install_to runc "$RUNC_VERSION" 1 seccomp github.com/opencontainers/runc
}

build_crictl() { go_install_to crictl "$CRICTL_VERSION" 0 "" sigs.k8s.io/cri-tools/cmd/crictl; }

build_cni() {
	local m=github.com/containernetworking/plugins/plugins
	go_install_to cni "$CNI_PLUGINS_VERSION" 0 "" "$m/main/bridge" "$m/main/ptp" "$m/main/loopback" "$m/ipam/host-local" "$m/meta/portmap"
}

build_coredns() { go_install_to coredns "$COREDNS_VERSION" 0 "" github.com/coredns/coredns; }

# build_in_module DIR OUT PKG... builds from one of our own build modules.
build_in_module() {
	local dir=$1 out=$2 ldflags=${LDFLAGS:-"-s -w"}
	shift 2
	mkdir -p "$out"
	(cd "$dir" && CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$out/" "$@")
	echo "binaries in $out"
}

build_etcd() { build_in_module "$NODE_DIR/etcd" "$BIN_DIR/etcd-$ETCD_VERSION" .; }
build_pause() { build_in_module "$NODE_DIR/pause" "$BIN_DIR/pause-$(hash_of "$NODE_DIR/pause")" .; }

K8S_TOOLS="kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy"

build_kubernetes() {
	local minor=${K8S_VERSION#v1.}
	minor=${minor%%.*}
	local v="-X k8s.io/component-base/version"
	local pkgs=() t
	for t in $K8S_TOOLS; do pkgs+=("k8s.io/kubernetes/cmd/$t"); done
	LDFLAGS="-s -w $v.gitVersion=$K8S_VERSION $v.gitMajor=1 $v.gitMinor=$minor $v.gitTreeState=clean" \
		build_in_module "$NODE_DIR/k8s" "$BIN_DIR/kubernetes-$K8S_VERSION" "${pkgs[@]}"
}

have_bins() { # DIR NAME... succeeds when every binary exists
	local dir=$1 n
	shift
	for n in "$@"; do [[ -x $dir/$n ]] || return 1; done
}

build_base() {
	local ctx kind_dir
	ctx=$(mktemp -d "$FIREDRILL_CACHE/base-ctx.XXXXXX")
	trap 'rm -rf "$ctx"' RETURN
	kind_dir=$(module_dir "sigs.k8s.io/kind@$KIND_VERSION")
	mkdir -p "$ctx/bin" "$ctx/sbin" "$ctx/cni"
	cp -r "$kind_dir/images/base/files" "$ctx/kind-files"
	chmod -R u+w "$ctx/kind-files"
	cp "$BIN_DIR/containerd-$CONTAINERD_VERSION"/* "$BIN_DIR/crictl-$CRICTL_VERSION/crictl" "$ctx/bin/"
	cp "$BIN_DIR/cni-$CNI_PLUGINS_VERSION"/* "$ctx/cni/"
	if [[ $(node_variant) == restricted ]]; then
		cp "$BIN_DIR/runc-$RUNC_VERSION/runc" "$ctx/sbin/runc.real"
		cp "$NODE_DIR/node-runc-shim" "$ctx/sbin/runc"
	else
		cp "$BIN_DIR/runc-$RUNC_VERSION/runc" "$ctx/sbin/runc"
	fi
	cp "$NODE_DIR/Dockerfile.base" "$NODE_DIR/10-bridge.conflist" "$ctx/"
	docker build -q --build-arg "ROOTFS=$(rootfs_image)" -f "$ctx/Dockerfile.base" -t "$(base_image)" "$ctx"
	echo "built $(base_image)"
}

# component_image NAME TAG BINARY [BASE] builds a one-binary image whose
# binary sits at /usr/local/bin/NAME (FROM scratch unless BASE is given).
component_image() {
	local name=$1 tag=$2 bin=$3 base=${4:-scratch} ctx
	image_exists "$tag" && return 0
	ctx=$(mktemp -d "$FIREDRILL_CACHE/img-ctx.XXXXXX")
	cp "$bin" "$ctx/$name"
	printf 'FROM %s\nCOPY %s /usr/local/bin/%s\nENV PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nENTRYPOINT ["/usr/local/bin/%s"]\n' \
		"$base" "$name" "$name" "$name" >"$ctx/Dockerfile"
	docker build -q -t "$tag" "$ctx"
	rm -rf "$ctx"
}

K8S_REGISTRY=registry.k8s.io

component_images() {
	local k=$BIN_DIR/kubernetes-$K8S_VERSION t
	for t in kube-apiserver kube-controller-manager kube-scheduler; do
		component_image "$t" "$K8S_REGISTRY/$t:$K8S_VERSION" "$k/$t"
	done
	component_image kube-proxy "$K8S_REGISTRY/kube-proxy:$K8S_VERSION" "$k/kube-proxy" "$(rootfs_image)"
	component_image etcd "$K8S_REGISTRY/etcd:$ETCD_IMAGE_TAG" "$BIN_DIR/etcd-$ETCD_VERSION/etcd"
	component_image pause "$K8S_REGISTRY/pause:$PAUSE_IMAGE_TAG" "$BIN_DIR"/pause-*/pause
	docker tag "$K8S_REGISTRY/pause:$PAUSE_IMAGE_TAG" "$K8S_REGISTRY/pause:$KIND_PAUSE_IMAGE_TAG"
	coredns_image
	echo "component images ready"
}

# coredns_image: the upstream coredns image's entrypoint is /coredns.
coredns_image() {
	local tag=$K8S_REGISTRY/coredns/coredns:$COREDNS_IMAGE_TAG ctx
	image_exists "$tag" && return 0
	ctx=$(mktemp -d "$FIREDRILL_CACHE/img-ctx.XXXXXX")
	cp "$BIN_DIR/coredns-$COREDNS_VERSION/coredns" "$ctx/coredns"
	printf 'FROM scratch\nCOPY coredns /coredns\nEXPOSE 53 53/udp\nENTRYPOINT ["/coredns"]\n' >"$ctx/Dockerfile"
	docker build -q -t "$tag" "$ctx"
	rm -rf "$ctx"
}

component_tags() {
	local t
	for t in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do echo "$K8S_REGISTRY/$t:$K8S_VERSION"; done
	echo "$K8S_REGISTRY/etcd:$ETCD_IMAGE_TAG"
	echo "$K8S_REGISTRY/coredns/coredns:$COREDNS_IMAGE_TAG"
	echo "$K8S_REGISTRY/pause:$PAUSE_IMAGE_TAG"
	echo "$K8S_REGISTRY/pause:$KIND_PAUSE_IMAGE_TAG"
}

# assemble_node follows kind's buildcontext: run the base image, add the
# node binaries, import the component images into containerd, commit.
assemble_node() {
	local id k=$BIN_DIR/kubernetes-$K8S_VERSION t
	id=$(docker run -d --entrypoint=sleep --security-opt seccomp=unconfined "$(base_image)" infinity)
	trap 'docker rm -f "$id" >/dev/null 2>&1' RETURN
	for t in kubeadm kubelet kubectl; do docker cp "$k/$t" "$id:/usr/bin/$t"; done
	docker exec "$id" sh -c "echo $K8S_VERSION > /kind/version"
	docker exec -d "$id" containerd
	for _ in $(seq 1 30); do docker exec "$id" ctr version >/dev/null 2>&1 && break; sleep 1; done
	for t in $(component_tags); do
		docker save "$t" | docker exec -i "$id" ctr --namespace=k8s.io images import \
			--label=io.cri-containerd.pinned=pinned --all-platforms --no-unpack --digests -
	done
	docker exec "$id" ctr --namespace=k8s.io images ls -q
	docker exec "$id" pkill containerd || true
	sleep 1
	local staged
	staged=$(docker commit --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' "$id")
	# docker commit cannot set STOPSIGNAL; a one-line build on top can.
	printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\n' "$staged" | docker build -q -t "$(node_image)" -
	docker rmi "$staged" >/dev/null || true
	echo "built $(node_image)"
}

node_steps() {
	image_exists "$(node_image)" && { echo "  node image $(node_image) exists: nothing to do"; return 0; }
	image_exists "$(rootfs_image)" || step rootfs build_rootfs
	have_bins "$BIN_DIR/containerd-$CONTAINERD_VERSION" containerd ctr containerd-shim-runc-v2 || step containerd build_containerd
	have_bins "$BIN_DIR/runc-$RUNC_VERSION" runc || step runc build_runc
	have_bins "$BIN_DIR/crictl-$CRICTL_VERSION" crictl || step crictl build_crictl
	have_bins "$BIN_DIR/cni-$CNI_PLUGINS_VERSION" bridge ptp loopback host-local portmap || step cni-plugins build_cni
	have_bins "$BIN_DIR/kubernetes-$K8S_VERSION" $K8S_TOOLS || step kubernetes build_kubernetes
	have_bins "$BIN_DIR/etcd-$ETCD_VERSION" etcd || step etcd build_etcd
	have_bins "$BIN_DIR/coredns-$COREDNS_VERSION" coredns || step coredns build_coredns
	have_bins "$BIN_DIR/pause-$(hash_of "$NODE_DIR/pause")" pause || step pause build_pause
	image_exists "$(base_image)" || step kind-base build_base
	step component-images component_images
	step kind-node assemble_node
}
