#!/bin/sh
# bench/archive.sh: `git train archive` against `git archive --format=tar.gz`
# on the same commit of a large real tree, in the same run.
#
# Targets (exit 1 when one is missed): our wall time at most 0.5x git's,
# our peak RSS under 64 MiB. Both archives must list the same entries.
#
# The tree (real text files from /usr/include and /usr/share/doc, >= 100 MiB,
# thousands of files) is built once and cached in $BENCH_CACHE
# (default: ${TMPDIR:-/tmp}/git-train-bench-archive). Run from a build
# directory, or set GIT_TRAIN to the binary.
bench_dir=$(cd "$(dirname "$0")" && pwd)
set -eu

. "$bench_dir/lib.sh"
cache=${BENCH_CACHE:-${TMPDIR:-/tmp}/git-train-bench-archive}
repo=$cache/repo
out=$cache/out
runs=${BENCH_RUNS:-3}

build_tree() {
	echo "bench: building the tree in $repo (once)" >&2
	rm -rf "$repo"
	mkdir -p "$repo"
	for src in /usr/include /usr/share/doc; do
		test -d "$src" && cp -a "$src" "$repo/"
	done
	(cd "$repo" &&
	 git init -q &&
	 git add -A &&
	 git -c gc.auto=0 -c user.name=bench -c user.email=bench@example.com commit -q -m "bench tree" &&
	 git gc -q) || { rm -rf "$repo"; exit 2; }
}

test -d "$repo/.git" || build_tree
cd "$repo"
files=$(git ls-tree -r HEAD | wc -l)
bytes=$(git ls-tree -r -l HEAD | awk '$4 != "-" { s += $4 } END { print s }')
echo "tree: $files files, $((bytes / 1048576)) MiB, commit $(git rev-parse --short HEAD)"
if test "$files" -lt 2000 || test "$bytes" -lt 104857600; then
	echo "bench: the tree is too small to measure (need 2000 files, 100 MiB)" >&2
	exit 2
fi
mkdir -p "$out"


set -- $(best_of git git archive --format=tar.gz HEAD)
git_t=$1 git_rss=$2
set -- $(best_of train "$GIT_TRAIN" archive -o "$out/train.tgz" HEAD)
train_t=$1 train_rss=$2

# the same entries, in the same order, with the same modes, owners and times
tar tvzf "$out/git.stdout" >"$out/git.list"
tar tvzf "$out/train.tgz" >"$out/train.list"
if ! cmp -s "$out/git.list" "$out/train.list"; then
	echo "FAIL: the archives list different entries (diff $out/git.list $out/train.list)"
	exit 1
fi

ratio=$(awk "BEGIN { printf \"%.2f\", $train_t / $git_t }")
echo "git archive --format=tar.gz: ${git_t}s, peak RSS $((git_rss / 1024)) MiB, $(($(wc -c <"$out/git.stdout") / 1048576)) MiB"
echo "git train archive:           ${train_t}s, peak RSS $((train_rss / 1024)) MiB, $(($(wc -c <"$out/train.tgz") / 1048576)) MiB"
echo "time ratio: $ratio (target <= 0.50)"
status=0
if awk "BEGIN { exit !($ratio > 0.5) }"; then
	echo "FAIL: time ratio $ratio is above 0.5"
	status=1
fi
if test "$train_rss" -ge 65536; then
	echo "FAIL: peak RSS $((train_rss / 1024)) MiB is not under 64 MiB"
	status=1
fi
test $status = 0 && echo "PASS"
exit $status
