#!/usr/bin/env bash
# setup-browser.sh makes sure a headless Chromium is available for the report
# rendering check. It installs Debian's chromium as root when missing, and
# otherwise says what to install.
set -euo pipefail
if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
	echo "setup-browser: chromium is installed"
	exit 0
fi
if [[ $(id -u) != 0 || ! -r /etc/debian_version ]]; then
	echo "setup-browser: chromium not found: install Chromium to run the HTML report check" >&2
	exit 1
fi
echo "setup-browser: installing chromium from Debian"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null || true
apt-get install -y -qq chromium >/dev/null
