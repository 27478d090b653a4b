#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages a make target needs, only those that are missing.
# Usage: scripts/deps.sh PACKAGE...
# As root it runs apt-get; otherwise it prints the one command to run and fails.
set -euo pipefail

if ! command -v go >/dev/null 2>&1; then
	echo "Go is not installed: install any Go >= 1.21 (it fetches go1.27.3 itself through GOTOOLCHAIN)," >&2
	echo "e.g. as root: apt-get install golang-go" >&2
	exit 1
fi

missing=()
for p in "$@"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

cmd="apt-get -o DPkg::Lock::Timeout=600 install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
	echo "missing packages: ${missing[*]}" >&2
	echo "run as root:  apt-get update && $cmd" >&2
	exit 1
fi
echo "installing missing packages: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq
$cmd
