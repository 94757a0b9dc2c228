#!/usr/bin/env bash
# setup-docker.sh makes sure a working Docker engine is available.
#
# - If `docker info` already works (a laptop, a CI runner with Docker), it
#   does nothing: a working Docker is never reconfigured.
# - Otherwise, as root on Debian, it installs Debian's docker.io and jq,
#   installs the runtime shim when the capability bounding set lacks
#   CAP_SYS_RESOURCE, starts dockerd in the background and waits for it.
# - Otherwise it prints one line saying what to install, and fails.
set -euo pipefail

SHIM_DIR=/usr/local/libexec/firedrill
SHIM=$SHIM_DIR/docker-runc-shim
DAEMON_JSON=/etc/docker/daemon.json
DOCKERD_LOG=/var/log/firedrill-dockerd.log
here=$(cd "$(dirname "$0")" && pwd)

say() { echo "setup-docker: $*"; }
die() { echo "setup-docker: $*" >&2; exit 1; }

docker_ready() { docker info >/dev/null 2>&1; }

lacks_sys_resource() {
	local capbnd
	capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
	(( (16#$capbnd & (1 << 24)) == 0 ))
}

install_packages() {
	command -v dockerd >/dev/null && command -v jq >/dev/null && command -v runc >/dev/null && return 0
	[[ -r /etc/debian_version ]] || die "no Docker engine: install Docker (and jq), then rerun"
	say "installing docker.io and jq from Debian"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq >/dev/null || true
	apt-get install -y -qq docker.io jq >/dev/null
}

install_shim() {
	lacks_sys_resource || return 0
	install -D -m 0755 "$here/docker-runc-shim" "$SHIM"
	mkdir -p "$(dirname "$DAEMON_JSON")"
	local want
	want=$(jq -n --arg shim "$SHIM" '{"default-runtime":"firedrill-runc","runtimes":{"firedrill-runc":{"path":$shim}}}')
	if [[ -s $DAEMON_JSON ]]; then
		want=$(jq -s '.[0] * .[1]' "$DAEMON_JSON" <(echo "$want"))
	fi
	echo "$want" >"$DAEMON_JSON"
	say "CAP_SYS_RESOURCE is not in the bounding set: registered runtime shim $SHIM"
}

start_dockerd() {
	pgrep -x dockerd >/dev/null && pkill -x dockerd && sleep 1
	pgrep -x containerd >/dev/null || true
	say "starting dockerd (log: $DOCKERD_LOG)"
	nohup dockerd >"$DOCKERD_LOG" 2>&1 &
	local i
	for i in $(seq 1 60); do
		docker_ready && return 0
		sleep 1
	done
	tail -20 "$DOCKERD_LOG" >&2
	die "dockerd did not become ready in 60s; see $DOCKERD_LOG"
}

main() {
	if docker_ready; then
		say "Docker engine is ready"
		return 0
	fi
	[[ $(id -u) == 0 ]] || die "no running Docker engine and not root: install and start Docker, then rerun"
	install_packages
	install_shim
	start_dockerd
	say "Docker engine is ready ($(docker version --format '{{.Server.Version}}'))"
}

main "$@"
