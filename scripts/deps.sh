#!/bin/sh
# Install the Debian packages missive needs to build, test and run its demo.
# Idempotent: installs only what is missing, and does nothing when all is there.
# Needs root (or sudo) only when something is actually missing.
set -eu

PACKAGES="build-essential pkg-config
libssl-dev openssl
libmariadb-dev mariadb-server mariadb-client
libconfig-dev libargon2-dev libcmocka-dev
clang libclang-rt-14-dev
tshark tcpdump iproute2 procps
cppcheck clang-tidy valgrind
libjansson-dev libncurses-dev tmux
libgtk-4-dev xvfb xdotool imagemagick
redis-server mosquitto"

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done

if [ -z "$missing" ]; then
	echo "deps: all Debian packages present"
	exit 0
fi

echo "deps: missing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "deps: installing packages needs root; run 'sudo scripts/deps.sh' (or install:$missing)" >&2
		exit 1
	fi
else
	SUDO=
fi

export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
# Debian's package starts the system MariaDB; missive never uses it, but we
# leave the system service alone rather than touching config outside the tree.
echo "deps: installed:$missing"
