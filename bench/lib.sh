# bench/lib.sh: what the benchmarks share. Sourced; needs $runs and $out.

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
