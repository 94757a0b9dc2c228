# lib.sh: shared helpers for the image builds. Source it; do not run it.

FIREDRILL_CACHE=${FIREDRILL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/firedrill}
LOG_DIR=$FIREDRILL_CACHE/logs
BIN_DIR=$FIREDRILL_CACHE/bin
mkdir -p "$LOG_DIR" "$BIN_DIR"

# step NAME CMD... runs CMD with its output in $LOG_DIR/NAME.log and prints
# one line with the duration. A long step prints a progress line every
# $STEP_HEARTBEAT seconds (default 30) with its elapsed time and the last
# line of its log, so a build never looks like a hang. On failure it names
# the step and its log.
step() {
	local name=$1 start rc pid beat=${STEP_HEARTBEAT:-30} n=0
	shift
	start=$(date +%s.%N)
	(set -e; "$@") >"$LOG_DIR/$name.log" 2>&1 &
	pid=$!
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		if ((++n % beat == 0)) && kill -0 "$pid" 2>/dev/null; then
			printf '  %-28s … %ds so far: %s\n' "$name" "$n" "$(tail -n 1 "$LOG_DIR/$name.log" | cut -c1-70)"
		fi
	done
	set +e
	wait "$pid"
	rc=$?
	set -e
	local took
	took=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN{printf "%.1fs", e-s}')
	printf '  %-28s ' "$name"
	if ((rc != 0)); then
		echo "FAILED after $took"
		echo "images: step $name failed (exit $rc); log: $LOG_DIR/$name.log" >&2
		tail -n 25 "$LOG_DIR/$name.log" >&2
		exit 1
	fi
	echo "$(tail -n 1 "$LOG_DIR/$name.log" | cut -c1-60) ($took)"
}

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

# hash_of FILE|DIR... prints a short content hash of the given paths.
hash_of() {
	find "$@" -type f -print0 | sort -z | xargs -0 sha256sum | awk '{print $1}' | sha256sum | cut -c1-12
}

# restricted_host reports whether the capability bounding set lacks
# CAP_SYS_RESOURCE (bit 24), which decides whether the in-node runc shim is baked in.
restricted_host() {
	local capbnd
	capbnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
	(((16#$capbnd & (1 << 24)) == 0))
}

module_dir() { go mod download -json "$1" | jq -r .Dir; }

# build_scratch_image TAG DIR FILE... builds the image TAG from DIR's
# Dockerfile with FILE... beside it, in a throwaway build context. (No
# RETURN trap: it would fire again when the caller returns.)
build_scratch_image() {
	local tag=$1 dir=$2 ctx rc=0
	shift 2
	ctx=$(mktemp -d "$FIREDRILL_CACHE/image-ctx.XXXXXX")
	{ cp "$@" "$dir/Dockerfile" "$ctx/" && docker build -q -t "$tag" "$ctx"; } || rc=$?
	rm -rf "$ctx"
	((rc == 0)) || return "$rc"
	echo "built $tag"
}
