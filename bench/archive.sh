#!/bin/sh
# bench/archive.sh: `git train archive` against `git archive --format=tar.gz`
# on the same commit, in the same run, on
#
# - a large real tree in a one-commit repository: real text files from
#   /usr/include and /usr/share/doc, >= 100 MiB, thousands of files;
# - a real repository with its history, libgit2 (15.6k files at HEAD, 16k
#   commits), from ../shared/bench-repos/libgit2.bundle beside the checkout
#   (BENCH_BUNDLE overrides; skipped with a message when it is absent), in
#   three copies: a clone (the pack a real clone has), the same objects
#   unpacked into loose objects, and a copy repacked by `git gc --aggressive`.
#
# The two tools take turns, BENCH_RUNS times each (default 5), and each one's
# best wall time counts, so that a burst of load elsewhere hits both alike.
# Targets (exit 1 when one is missed), for every repository: our best wall
# time at most 0.5x git's; our peak RSS under 64 MiB in every run; our tar
# (gunzipped) byte for byte git's; our .tar.gz byte for byte what a run with
# one thread (GIT_TRAIN_ARCHIVE_THREADS=1) writes. One line per repository.
#
# Then the conversions a checkout applies, on the libgit2 clone (whose test
# fixtures carry eol, crlf and text attributes): with core.autocrlf=true every
# text file is converted, and our tar must still be byte for byte git's; the
# times are shown, with no target (the default settings convert nothing there).
#
# Repositories are built once and cached in $BENCH_CACHE (default:
# ${TMPDIR:-/tmp}/git-train-bench-archive; delete it to rebuild). Run from a
# build directory, or set GIT_TRAIN to the binary.
bench_dir=$(cd "$(dirname "$0")" && pwd)
set -eu

. "$bench_dir/lib.sh"
cache=${BENCH_CACHE:-${TMPDIR:-/tmp}/git-train-bench-archive}
out=$cache/out
runs=${BENCH_RUNS:-5}
bundle=${BENCH_BUNDLE:-$bench_dir/../../shared/bench-repos/libgit2.bundle}
status=0

build_tree() {
	repo=$1
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

# The three copies of the bundle's repository, each made in a temporary
# directory and renamed, so that an interrupted build is never taken for one.
build_clone() {
	echo "bench: cloning $bundle into $1 (once)" >&2
	rm -rf "$1.tmp"
	git clone -q "$bundle" "$1.tmp" && mv "$1.tmp" "$1"
}

build_loose() {
	echo "bench: unpacking $2 into loose objects in $1 (once, about a minute)" >&2
	rm -rf "$1.tmp"
	git init -q "$1.tmp"
	for pack in "$2"/.git/objects/pack/*.pack; do
		git -C "$1.tmp" unpack-objects -q <"$pack"
	done
	ref=$(git -C "$2" symbolic-ref HEAD)
	git -C "$1.tmp" update-ref "$ref" "$(git -C "$2" rev-parse HEAD)"
	git -C "$1.tmp" symbolic-ref HEAD "$ref"
	test -z "$(find "$1.tmp/.git/objects/pack" -name '*.pack')"
	mv "$1.tmp" "$1"
}

build_repacked() {
	echo "bench: repacking a copy of $2 with git gc --aggressive in $1 (once, a few minutes)" >&2
	rm -rf "$1.tmp"
	git clone -q --no-local --no-checkout "$2" "$1.tmp"
	git -C "$1.tmp" gc -q --aggressive
	mv "$1.tmp" "$1"
}

# measure <label> <repository>: both tools on HEAD, taking turns; one line.
measure() {
	label=$1
	cd "$2"
	files=$(git ls-tree -r HEAD | wc -l)
	rm -f "$out"/git.times "$out"/train.times
	load_before=$(load_average)
	i=0
	while test $i -lt "$runs"; do
		time_once git git archive --format=tar.gz HEAD
		time_once train "$GIT_TRAIN" archive -o "$out/train.tgz" HEAD
		i=$((i + 1))
	done
	load_after=$(load_average)
	set -- $(best_time git)
	git_t=$1 git_rss=$2
	set -- $(best_time train)
	train_t=$1 train_rss=$3

	GIT_TRAIN_ARCHIVE_THREADS=1 "$GIT_TRAIN" archive -o "$out/one.tgz" HEAD
	gunzip -c "$out/git.stdout" >"$out/git.tar"
	gunzip -c "$out/train.tgz" >"$out/train.tar"
	ratio=$(awk "BEGIN { printf \"%.2f\", $train_t / $git_t }")
	verdict=PASS
	if ! cmp -s "$out/git.tar" "$out/train.tar"; then
		echo "FAIL: $label: our tar differs from git's (cmp $out/git.tar $out/train.tar)"
		verdict=FAIL
	fi
	if ! cmp -s "$out/one.tgz" "$out/train.tgz"; then
		echo "FAIL: $label: the archive differs from a one-thread run (cmp $out/one.tgz $out/train.tgz)"
		verdict=FAIL
	fi
	if awk "BEGIN { exit !($ratio > 0.5) }"; then
		echo "FAIL: $label: time ratio $ratio is above 0.5"
		verdict=FAIL
	fi
	if test "$train_rss" -ge 65536; then
		echo "FAIL: $label: peak RSS $((train_rss / 1024)) MiB is not under 64 MiB"
		verdict=FAIL
	fi
	test $verdict = PASS || status=1
	rm -f "$out/git.tar" "$out/train.tar"
	printf '%-20s %5d files  git %5.2fs %3d MiB  ours %5.2fs %3d MiB  ratio %s  %s (load %s..%s)\n' \
		"$label:" "$files" "$git_t" $((git_rss / 1024)) "$train_t" $((train_rss / 1024)) \
		"$ratio" "$verdict" "$load_before" "$load_after"
	cd - >/dev/null
}

# convert <label> <repository>: core.autocrlf=true, one run each; one line.
convert() {
	cd "$2"
	t0=$(date +%s.%N)
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.autocrlf GIT_CONFIG_VALUE_0=true \
		git archive HEAD >"$out/git.tar"
	t1=$(date +%s.%N)
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=core.autocrlf GIT_CONFIG_VALUE_0=true \
		"$GIT_TRAIN" archive -o "$out/train.tgz" HEAD
	t2=$(date +%s.%N)
	gunzip -c "$out/train.tgz" >"$out/train.tar"
	verdict=PASS
	if ! cmp -s "$out/git.tar" "$out/train.tar"; then
		echo "FAIL: $1: our tar differs from git's (cmp $out/git.tar $out/train.tar)"
		verdict=FAIL
		status=1
	fi
	rm -f "$out/git.tar" "$out/train.tar"
	awk "BEGIN { printf \"%-20s core.autocrlf=true  git %5.2fs  ours %5.2fs  identical tar: %s\\n\", \
		\"$1:\", $t1 - $t0, $t2 - $t1, \"$verdict\" }"
	cd - >/dev/null
}

# (if-then, not ||: a function called on the right of || runs without set -e)
mkdir -p "$out"
if ! test -d "$cache/repo/.git"; then build_tree "$cache/repo"; fi
files=$(git -C "$cache/repo" ls-tree -r HEAD | wc -l)
bytes=$(git -C "$cache/repo" ls-tree -r -l HEAD | awk '$4 != "-" { s += $4 } END { print s }')
if test "$files" -lt 2000 || test "$bytes" -lt 104857600; then
	echo "bench: the tree is too small to measure (need 2000 files, 100 MiB)" >&2
	exit 2
fi

echo "bench: $(nproc) CPUs, $runs runs each, taking turns; ours with ${GIT_TRAIN_ARCHIVE_THREADS:-the default} threads; RSS: ours the highest of all runs"
measure "tree ($((bytes / 1048576)) MiB)" "$cache/repo"

if test -f "$bundle"; then
	if ! test -d "$cache/libgit2/.git"; then build_clone "$cache/libgit2"; fi
	if ! test -d "$cache/libgit2-loose/.git"; then
		build_loose "$cache/libgit2-loose" "$cache/libgit2"
	fi
	if ! test -d "$cache/libgit2-repacked/.git"; then
		build_repacked "$cache/libgit2-repacked" "$cache/libgit2"
	fi
	measure "libgit2 clone" "$cache/libgit2"
	measure "libgit2 loose" "$cache/libgit2-loose"
	measure "libgit2 repacked" "$cache/libgit2-repacked"
	convert "libgit2 clone" "$cache/libgit2"
else
	echo "bench: no $bundle: the real repositories are skipped (set BENCH_BUNDLE to a clone-able bundle)"
fi
test $status = 0 && echo "PASS"
exit $status
