#!/bin/sh
# bench/upload.sh: `git train upload` against `aws s3 cp` of the same archive,
# both to moto's S3 on a free loopback port, in the same run.
#
# Targets (exit 1 when one is missed): our throughput at least 1.5x the AWS
# CLI's, our peak RSS under 64 MiB, and a re-run of the same commit uploading
# nothing (no PUT or POST reaches moto).
#
# The repository (~200 MiB of random, incompressible data, so the archive is
# ~200 MiB too) is built once and cached in $BENCH_CACHE (default:
# ${TMPDIR:-/tmp}/git-train-bench-upload). Run from a build directory, or set
# GIT_TRAIN to the binary. Needs moto_server, aws (the AWS CLI), curl, python3.
#
# It also times a client that does nothing but send the same parts
# (upload-ceiling.sh, bare curl): what is left is moto's own cost.
#
# Both tools are measured twice, each time against the same moto:
#  - "moto as installed": every object it assembles (200 MiB, several times
#    over in CompleteMultipartUpload) lands in memory fresh from the kernel,
#    because its request threads allocate from their own glibc arenas and
#    blocks that large are mmap'd and unmapped each time. On this kind of VM
#    a page fault costs ~10 us, so that alone is 3-4 s per upload, which
#    every client pays and which no client can change. Reported, not judged.
#  - "moto reusing its memory": the same moto with glibc's standard tunables
#    (MALLOC_ARENA_MAX=1, mmap and trim thresholds raised) so that freed
#    memory is reused instead of returned; nothing else changes. What is
#    left of the time is receiving and storing the bytes, which is what the
#    clients differ in. The targets are judged here.
bench_dir=$(cd "$(dirname "$0")" && pwd)
set -eu

. "$bench_dir/lib.sh"
for tool in moto_server aws curl python3; do
	command -v $tool >/dev/null 2>&1 || { echo "bench: $tool is needed" >&2; exit 2; }
done
cache=${BENCH_CACHE:-${TMPDIR:-/tmp}/git-train-bench-upload}
repo=$cache/repo
out=$cache/out
runs=${BENCH_RUNS:-3}
mib=${BENCH_MIB:-200}

build_repo() {
	echo "bench: building a repository with $mib MiB of random data in $repo (once)" >&2
	rm -rf "$repo"
	mkdir -p "$repo/data"
	i=0
	while test $i -lt $((mib / 8)); do
		head -c 8388608 /dev/urandom >"$repo/data/shard-$i.bin"
		i=$((i + 1))
	done
	(cd "$repo" &&
	 git init -q &&
	 git add -A &&
	 git -c gc.auto=0 -c user.name=bench -c user.email=bench@example.com commit -q -m "bench data") ||
		{ rm -rf "$repo"; exit 2; }
}

test -d "$repo/.git" || build_repo
mkdir -p "$out"

# start_moto [VAR=value...]: moto on a free loopback port, as
# tests/test-lib.sh starts it, with the variables in its environment
moto_pid=
trap 'test -z "$moto_pid" || kill $moto_pid 2>/dev/null' EXIT
start_moto() {
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	env "$@" moto_server -H 127.0.0.1 -p "$port" >"$out/moto.log" 2>&1 &
	moto_pid=$!
	url=http://127.0.0.1:$port
	AWS_ENDPOINT_URL=$url
	export AWS_ENDPOINT_URL
	i=0
	until curl -sf -o /dev/null "$url/moto-api/"; do
		i=$((i + 1))
		test $i -lt 300 || { echo "bench: moto_server did not start" >&2; cat "$out/moto.log" >&2; exit 2; }
		sleep 0.1
	done
}
stop_moto() {
	kill $moto_pid 2>/dev/null
	wait $moto_pid 2>/dev/null
	moto_pid=
}

AWS_ACCESS_KEY_ID=AKIAGITTRAINBENCH001
AWS_SECRET_ACCESS_KEY=bench-secret-not-a-real-one
AWS_REGION=us-east-1
AWS_DEFAULT_REGION=us-east-1
AWS_EC2_METADATA_DISABLED=true
AWS_CONFIG_FILE=$out/no-aws-config
AWS_SHARED_CREDENTIALS_FILE=$out/no-aws-credentials
export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION AWS_DEFAULT_REGION \
	AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE
unset AWS_PROFILE AWS_SESSION_TOKEN GIT_TRAIN_TRACE

cd "$repo"
git config train.bucket bench
"$GIT_TRAIN" archive -o "$out/code.tar.gz"
bytes=$(wc -c <"$out/code.tar.gz")
echo "archive: $((bytes / 1048576)) MiB, commit $(git rev-parse --short HEAD)"

# the yardstick's parts: the archive split as the CLI splits it
rm -rf "$out/parts" && mkdir "$out/parts"
(cd "$out/parts" && split -b 8388608 -d -a 4 "$out/code.tar.gz" p- &&
 i=0 && for f in p-*; do i=$((i + 1)); mv "$f" "$i"; done)
nparts=$(ls "$out/parts" | wc -l)

# moto keeps every object in memory: start each run from nothing
bench_before_run() {
	curl -sf -o /dev/null -X POST "$url/moto-api/reset"
	aws --endpoint-url "$url" s3 mb s3://bench >/dev/null
}

mibs() { awk "BEGIN { printf \"%.1f\", $bytes / 1048576 / $1 }"; }

# measure <title>: both tools and the yardstick against the moto running now
measure() {
	set -- $(best_of cli aws --endpoint-url "$url" s3 cp --only-show-errors "$out/code.tar.gz" s3://bench/cli/code.tar.gz)
	cli_t=$1 cli_rss=$2
	set -- $(best_of train "$GIT_TRAIN" upload)
	train_t=$1 train_rss=$2
	set -- $(best_of ceiling sh "$bench_dir/upload-ceiling.sh" "$url" bench ceiling/code.tar.gz \
		"$out/parts" "$nparts")
	ceiling_t=$1
	ratio=$(awk "BEGIN { printf \"%.2f\", $cli_t / $train_t }")
	echo "  aws s3 cp:        ${cli_t}s, $(mibs "$cli_t") MiB/s, peak RSS $((cli_rss / 1024)) MiB"
	echo "  git train upload: ${train_t}s, $(mibs "$train_t") MiB/s, peak RSS $((train_rss / 1024)) MiB (archiving included)"
	echo "  bare curl, same parts: ${ceiling_t}s ($(awk "BEGIN { printf \"%.2f\", $cli_t / $ceiling_t }")x aws s3 cp): the emulator's own cost, which every client pays"
}

echo "moto as installed (objects in fresh memory every time; reported, not judged):"
start_moto
measure
echo "  throughput ratio: $ratio"
stop_moto

echo "moto reusing its memory (MALLOC_ARENA_MAX=1, glibc thresholds raised; judged):"
start_moto MALLOC_ARENA_MAX=1 MALLOC_MMAP_THRESHOLD_=1073741824 \
	MALLOC_TRIM_THRESHOLD_=4294967296 MALLOC_TOP_PAD_=536870912
measure
echo "  throughput ratio: $ratio (target >= 1.50)"

# the uploaded object is the archive, byte for byte
bench_before_run
"$GIT_TRAIN" upload >"$out/train.stdout" 2>"$out/train.stderr"
key=$(sed 's|^s3://bench/||' "$out/train.stdout")
curl -sf -o "$out/got.tar.gz" "$url/bench/$key"
if ! cmp -s "$out/code.tar.gz" "$out/got.tar.gz"; then
	echo "FAIL: the uploaded object differs from the archive"
	exit 1
fi

# a re-run of the same commit: one HEAD, no PUT or POST
writes_before=$(grep -cE '"(PUT|POST) ' "$out/moto.log" || true)
"$GIT_TRAIN" upload >/dev/null 2>"$out/rerun.stderr"
writes_after=$(grep -cE '"(PUT|POST) ' "$out/moto.log" || true)
echo "re-run: $(cat "$out/rerun.stderr"), $((writes_after - writes_before)) uploads"

status=0
if awk "BEGIN { exit !($ratio < 1.5) }"; then
	echo "FAIL: throughput ratio $ratio is below 1.5"
	status=1
fi
if test "$train_rss" -ge 65536; then
	echo "FAIL: peak RSS $((train_rss / 1024)) MiB is not under 64 MiB"
	status=1
fi
if test "$writes_after" != "$writes_before" || ! grep -q "is already in" "$out/rerun.stderr"; then
	echo "FAIL: the re-run uploaded again"
	status=1
fi
test $status = 0 && echo "PASS"
exit $status
