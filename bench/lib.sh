# bench/lib.sh: what the benchmarks share. Sourced after $bench_dir is set;
# best_of needs $runs and $out.

# GIT_TRAIN: the binary under test, from $GIT_TRAIN, the current (build)
# directory, or the source tree; made absolute.
GIT_TRAIN=${GIT_TRAIN:-$(pwd)/git-train}
test -x "$GIT_TRAIN" || GIT_TRAIN=$bench_dir/../git-train
test -x "$GIT_TRAIN" || { echo "bench: git-train not built (set GIT_TRAIN)" >&2; exit 2; }
GIT_TRAIN=$(cd "$(dirname "$GIT_TRAIN")" && pwd)/$(basename "$GIT_TRAIN")

# bench_before_run: a benchmark may redefine it to reset state before each run.
bench_before_run() { :; }

# best_of <name> <command...>: prints "<best wall seconds> <peak RSS KiB of
# that run>" over $runs runs; stops the bench when the command fails.
best_of() {
	name=$1
	shift
	best=
	rss=
	i=0
	while test $i -lt "$runs"; do
		bench_before_run
		/usr/bin/time -f "%e %M" -o "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" ||
			{ echo "bench: $name failed:" >&2; cat "$out/$name.stderr" >&2; exit 2; }
		read -r t m <"$out/$name.time"
		if test -z "$best" || awk "BEGIN { exit !($t < $best) }"; then
			best=$t
			rss=$m
		fi
		i=$((i + 1))
	done
	echo "$best $rss"
}
