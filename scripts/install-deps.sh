#!/usr/bin/env bash
# Installs the Debian/Ubuntu packages git-train needs to build and test, when
# any is missing. Runs apt-get as root, or through sudo.
set -euo pipefail

packages=(build-essential autoconf automake pkg-config git python3 man-db
	libgit2-dev libcurl4-openssl-dev libssl-dev libcjson-dev libarchive-dev
	zlib1g-dev libxml2-dev libcmocka-dev curl awscli python3-botocore
	bash-completion clang-format clang libclang-rt-dev
	python3-torch python3-venv python3-pip git-lfs)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -ne 0 ]; then
	echo "installing: ${missing[*]}" >&2
	sudo=
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# moto's AWS emulator for the cloud tests: preinstalled on the project's
# machines; elsewhere from PyPI.
if ! command -v moto_server >/dev/null 2>&1; then
	python3 -m pip install --quiet "moto[server]" >&2 ||
		echo "warning: moto_server is not installed: the AWS tests will be skipped" >&2
fi
