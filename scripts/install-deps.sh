#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages git-train needs to build and test, when
# any is missing. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(build-essential autoconf automake pkg-config git python3 man-db
	libgit2-dev libcurl4-openssl-dev libssl-dev libcjson-dev libarchive-dev
	libxml2-dev libcmocka-dev)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
sudo=
[ "$(id -u)" -eq 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
