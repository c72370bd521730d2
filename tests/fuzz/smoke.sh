#!/bin/sh
# make fuzz-smoke: runs each libFuzzer harness for a bounded time.
#   smoke.sh <corpus-dir> <work-dir> <seconds> <jobs> <name>...
# Harness tests/fuzz/fuzz-<name> (in the build directory) starts from the
# seeds of <corpus-dir>/<name>, which it only reads (so it first replays
# every seed, regression reproducers included); what it finds goes to
# <work-dir>/<name>, a crash's input to <work-dir>/<name>/crash-*. Runs <jobs>
# harnesses at a time; prints one ok/not ok line each, and the end of the
# log of each that failed; fails when any failed.
set -u
corpus=$1 work=$2 seconds=$3 jobs=$4
shift 4

rm -rf "$work"
mkdir -p "$work" || exit 1

# one harness: its log in $work/<name>.log, its status in $work/<name>.rc
run_one() {
	name=$1
	mkdir -p "$work/$name/new"
	# -max_len: AWS answers of a few instances fit; -timeout: one input in a second
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	ASAN_OPTIONS=abort_on_error=0:detect_leaks=1 \
		"tests/fuzz/fuzz-$name" -max_total_time="$seconds" -max_len=8192 \
		-timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
		-artifact_prefix="$work/$name/" "$work/$name/new" "$corpus/$name" \
		>"$work/$name.log" 2>&1
	echo $? >"$work/$name.rc"
}

failed=0
set -- "$@"
while [ $# -gt 0 ]; do
	pids=
	i=0
	batch=
	while [ $# -gt 0 ] && [ $i -lt "$jobs" ]; do
		run_one "$1" &
		pids="$pids $!"
		batch="$batch $1"
		i=$((i + 1))
		shift
	done
	# shellcheck disable=SC2086
	wait $pids
	for name in $batch; do
		runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$name.log")
		if [ "$(cat "$work/$name.rc")" = 0 ]; then
			echo "ok - fuzz-$name (${runs:-?} inputs in ${seconds} s)"
		else
			echo "not ok - fuzz-$name: see $work/$name.log"
			grep -E 'ERROR|check failed|SUMMARY|runtime error|Test unit written' \
				"$work/$name.log" | head -20 | sed 's/^/  /'
			failed=$((failed + 1))
		fi
	done
done
[ "$failed" -eq 0 ] || { echo "fuzz-smoke: $failed harness(es) failed" >&2; exit 1; }
