#!/usr/bin/env bash
# Install the Debian packages ppconform needs, only those missing.
# Usage: scripts/deps.sh [build|test|ci]   (each level includes the previous one)
# Runs as root, or through sudo when available. Never starts services (policy-rc.d guard).
set -euo pipefail
level=${1:-build}

build_pkgs=(build-essential cmake pkg-config libssl-dev libpcap-dev liblua5.4-dev libcmocka-dev openssl)
test_pkgs=(mosquitto mosquitto-clients haproxy nginx libnginx-mod-stream tcpdump tshark python3 python3-jsonschema
           libxml2-utils curl rabbitmq-server python3-paho-mqtt chromium)
ci_pkgs=(clang libclang-rt-14-dev valgrind)

pkgs=("${build_pkgs[@]}")
case "$level" in
  build) ;;
  test) pkgs+=("${test_pkgs[@]}") ;;
  ci) pkgs+=("${test_pkgs[@]}" "${ci_pkgs[@]}") ;;
  *) echo "deps.sh: unknown level '$level' (build|test|ci)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# Node.js for the Aedes and MQTT.js interop peers: any node with npm will do (the machine
# image may ship its own build); Debian's packages only when there is none.
if [ "$level" != build ] && ! { command -v node && command -v npm; } >/dev/null; then
  missing+=(nodejs npm)
fi
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "deps.sh: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
echo "deps.sh: installing ${missing[*]}" >&2
# Packaged daemons (mosquitto, haproxy) must not start on install: tests start their own.
guard_added=0
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d; guard_added=1
fi
trap '[ $guard_added = 1 ] && $SUDO rm -f /usr/sbin/policy-rc.d' EXIT
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
