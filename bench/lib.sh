# bench/lib.sh: what the benchmarks share. Sourced after $bench_dir is set;
# best_of and time_once need $out (best_of also $runs).

# GIT_TRAIN: the binary under test, from $GIT_TRAIN, the current (build)
# directory, or the source tree; made absolute.
GIT_TRAIN=${GIT_TRAIN:-$(pwd)/git-train}
test -x "$GIT_TRAIN" || GIT_TRAIN=$bench_dir/../git-train
test -x "$GIT_TRAIN" || { echo "bench: git-train not built (set GIT_TRAIN)" >&2; exit 2; }
GIT_TRAIN=$(cd "$(dirname "$GIT_TRAIN")" && pwd)/$(basename "$GIT_TRAIN")

# bench_before_run: a benchmark may redefine it to reset state before each run.
bench_before_run() { :; }

# time_once <name> <command...>: runs the command once (stdout to
# $out/<name>.stdout) and appends "<wall seconds> <peak RSS KiB>" to
# $out/<name>.times; stops the bench when the command fails.
time_once() {
	name=$1
	shift
	bench_before_run
	/usr/bin/time -f "%e %M" -o "$out/$name.time" "$@" >"$out/$name.stdout" 2>"$out/$name.stderr" ||
		{ echo "bench: $name failed:" >&2; cat "$out/$name.stderr" >&2; exit 2; }
	cat "$out/$name.time" >>"$out/$name.times"
}

# best_time <name>: "<best wall seconds> <peak RSS KiB of that run> <highest
# peak RSS KiB of all runs>" from $out/<name>.times.
best_time() {
	sort -n "$out/$1.times" | awk '
		NR == 1 { t = $1; m = $2 }
		$2 > max { max = $2 }
		END { print t, m, max }'
}

# best_of <name> <command...>: prints "<best wall seconds> <peak RSS KiB of
# that run>" over $runs runs of the command on its own.
best_of() {
	rm -f "$out/$1.times"
	i=0
	while test $i -lt "$runs"; do
		time_once "$@"
		i=$((i + 1))
	done
	set -- $(best_time "$1")
	echo "$1 $2"
}

# load_average: the 1-minute load average, to say how busy the machine was.
load_average() {
	cut -d' ' -f1 /proc/loadavg 2>/dev/null || echo "?"
}
