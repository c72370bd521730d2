#!/bin/sh
# bench/deps-cache.sh: the setup time of `git train local` for a commit with a
# requirements.txt, the first run (installed) and the second (restored from
# the cache), against what users do today in train.setup: a fresh
# `python3 -m venv` and `pip install -r requirements.txt`, measured in the
# same run, twice as well (the second time with pip's own cache warm).
#
# The dependency set: BENCH_PACKAGES (default 40) pure-Python wheels, each
# with a few thousand lines of code for pip to unpack and compile, served
# by `python3 -m http.server` from a PEP 503 index on a free 127.0.0.1 port
# (no network). Setup time is what the user waits before the script starts:
# from the command's start to the first line the script prints (ours: the
# archive, the dependencies and the script's interpreter; the peer's: venv,
# pip and the interpreter).
#
# Each measure is taken BENCH_RUNS times (default 2), each time with empty
# caches (ours and pip's) for the first run, and the best counts. Target
# (exit 1 when missed): our second run's setup time at most a fifth of our
# first's. The wheels are built once and cached in $BENCH_CACHE (default:
# ${TMPDIR:-/tmp}/git-train-bench-deps). Run from a build directory, or set
# GIT_TRAIN to the binary. BENCH_PYTHON (default /usr/bin/python3, else
# python3) is the interpreter both use; it needs venv and pip.
bench_dir=$(cd "$(dirname "$0")" && pwd)
set -eu

. "$bench_dir/lib.sh"
python=${BENCH_PYTHON:-/usr/bin/python3}
test -x "$python" || python=$(command -v python3)
"$python" -c 'import venv, pip' 2>/dev/null ||
	{ echo "bench: $python has no venv or pip" >&2; exit 2; }
command -v curl >/dev/null 2>&1 || { echo "bench: curl is needed" >&2; exit 2; }
cache=${BENCH_CACHE:-${TMPDIR:-/tmp}/git-train-bench-deps}
packages=${BENCH_PACKAGES:-40}
runs=${BENCH_RUNS:-2}
index=$cache/index-$packages
out=$cache/out

build_index() {
	echo "bench: building $packages wheels in $index (once)" >&2
	rm -rf "$index" "$index.tmp"
	"$python" - "$index.tmp/simple" "$packages" <<-\PY
	import base64, hashlib, os, sys, zipfile
	root, n = sys.argv[1], int(sys.argv[2])
	for i in range(n):
	    name, version = f"benchpkg{i:03d}", "1.0"
	    info = f"{name}-{version}.dist-info"
	    files = {f"{name}/__init__.py": f"VERSION = {version!r}\n"}
	    for m in range(4):
	        files[f"{name}/mod{m}.py"] = "".join(
	            f"def f{k}(x):\n    y = x * {k} + {m}\n    return [y + j for j in range({k % 7})]\n\n"
	            for k in range(800))
	    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
	    files[f"{info}/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: git-train-bench\n"
	                              "Root-Is-Purelib: true\nTag: py3-none-any\n")
	    record = ""
	    for path, text in files.items():
	        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())
	        record += f"{path},sha256={digest.rstrip(b'=').decode()},{len(text.encode())}\n"
	    files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
	    os.makedirs(f"{root}/{name}")
	    with zipfile.ZipFile(f"{root}/{name}/{name}-{version}-py3-none-any.whl", "w",
	                         zipfile.ZIP_DEFLATED) as z:
	        for path, text in files.items():
	            z.writestr(path, text)
	PY
	mv "$index.tmp" "$index"
}

test -d "$index" || build_index
rm -rf "$out"
mkdir -p "$out"

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$python" -m http.server --bind 127.0.0.1 --directory "$index" "$port" \
	</dev/null >"$out/index.log" 2>&1 &
index_pid=$!
trap 'kill $index_pid 2>/dev/null' EXIT
i=0
until curl -sf -o /dev/null "http://127.0.0.1:$port/simple/"; do
	i=$((i + 1))
	test $i -lt 100 || { echo "bench: the index did not start" >&2; cat "$out/index.log" >&2; exit 2; }
	sleep 0.1
done

# The repository: requirements.txt naming every package, a script that
# imports them all and says when it started.
repo=$out/repo
mkdir -p "$repo"
{
	echo "--index-url http://127.0.0.1:$port/simple/"
	j=0
	while test $j -lt "$packages"; do
		printf 'benchpkg%03d==1.0\n' $j
		j=$((j + 1))
	done
} >"$repo/requirements.txt"
cat >"$repo/train.py" <<-PY
import time
print("script started", time.time(), flush=True)
import importlib
for i in range($packages):
    importlib.import_module("benchpkg%03d" % i)
print("imported", $packages, "packages")
PY
(cd "$repo" &&
 git init -q &&
 git add -A &&
 git -c user.name=bench -c user.email=bench@example.com commit -q -m "bench deps" &&
 git config train.interpreter "$python")

now() {
	"$python" -c 'import time; print(time.time())'
}

# setup_time <name> <command...>: runs the command in the repository; the
# seconds from its start to the script's first line, appended to $out/<name>.times
setup_time() {
	name=$1
	shift
	t0=$(now)
	(cd "$repo" && "$@") >"$out/$name.stdout" 2>"$out/$name.stderr" ||
		{ echo "bench: $name failed:" >&2; cat "$out/$name.stderr" "$out/$name.stdout" >&2; exit 2; }
	started=$(sed -n 's/^script started //p' "$out/$name.stdout" "$out/$name.stderr" | head -n 1)
	grep -q "^imported $packages packages" "$out/$name.stdout" ||
		{ echo "bench: $name did not import the packages" >&2; exit 2; }
	awk -v a="$t0" -v b="$started" 'BEGIN { printf "%.3f\n", b - a }' >>"$out/$name.times"
}

# The peer, as in a train.setup of today: a new venv and pip install, then the script.
peer() {
	rm -rf venv &&
	"$python" -m venv venv &&
	venv/bin/pip install -q -r requirements.txt &&
	venv/bin/python train.py
}

best() {
	sort -n "$out/$1.times" | head -n 1
}

load_before=$(load_average)
r=0
while test $r -lt "$runs"; do
	rm -rf "$out/xdg" "$out/pip-ours" "$out/pip-peer"
	XDG_CACHE_HOME=$out/xdg PIP_CACHE_DIR=$out/pip-ours \
		setup_time ours-first "$GIT_TRAIN" local
	grep -q "^git-train: dependencies from requirements.txt installed in" "$out/ours-first.stderr" ||
		{ echo "bench: the first run did not install" >&2; exit 2; }
	requests=$(wc -l <"$out/index.log")
	XDG_CACHE_HOME=$out/xdg PIP_CACHE_DIR=$out/pip-ours \
		setup_time ours-second "$GIT_TRAIN" local
	grep -q "^git-train: dependencies from requirements.txt restored from cache in" \
		"$out/ours-second.stderr" ||
		{ echo "bench: the second run did not restore" >&2; exit 2; }
	test "$(wc -l <"$out/index.log")" = "$requests" ||
		{ echo "bench: the second run asked the index" >&2; exit 2; }
	PIP_CACHE_DIR=$out/pip-peer setup_time peer-first peer
	PIP_CACHE_DIR=$out/pip-peer setup_time peer-second peer
	r=$((r + 1))
done
load_after=$(load_average)

first=$(best ours-first) second=$(best ours-second)
peer_first=$(best peer-first) peer_second=$(best peer-second)
ratio=$(awk -v a="$second" -v b="$first" 'BEGIN { printf "%.3f", a / b }')
echo "deps-cache: $packages packages from a local index, $("$python" --version 2>&1), best of $runs (load $load_before..$load_after)"
printf '  first run (install):   git train local %6.2f s   venv + pip install %6.2f s   ratio %.2f\n' \
	"$first" "$peer_first" "$(awk -v a="$first" -v b="$peer_first" 'BEGIN { print a / b }')"
printf '  second run (restore):  git train local %6.2f s   venv + pip install %6.2f s   ratio %.2f\n' \
	"$second" "$peer_second" "$(awk -v a="$second" -v b="$peer_second" 'BEGIN { print a / b }')"
printf '  %s\n' "$(grep '^git-train: dependencies' "$out/ours-first.stderr")" \
	"$(grep '^git-train: dependencies' "$out/ours-second.stderr")"
if awk -v r="$ratio" 'BEGIN { exit !(r <= 0.2) }'; then
	echo "  second/first setup time: $ratio (target <= 0.20)  PASS"
else
	echo "  second/first setup time: $ratio (target <= 0.20)  FAIL"
	exit 1
fi
