#!/usr/bin/env bash
# Builds git-train out of tree: scripts/build.sh <build-dir> [configure args...].
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$1
shift
cd "$root"
[ -x configure ] && [ configure -nt configure.ac ] || autoreconf -fi >/dev/null
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$root/configure" --enable-werror "$@" >configure.out || { cat configure.out >&2; exit 1; }
make -j"$(nproc)" >make.out 2>&1 || { cat make.out >&2; exit 1; }
