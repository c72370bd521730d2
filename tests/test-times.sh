#!/bin/sh
# test-times.sh <log>...: the time of each test script, slowest first, from
# the last line test-lib.sh writes into its log ("# t0600-runner: 13 tests,
# 0 failed, 0 skipped in 12.3 s"), so that a slow test is seen the day it
# appears. `make check` prints it at the end; so does scripts/test.sh.
for log in "$@"; do
	test -f "$log" && sed -n 's/^# \([^ :]*\): \([0-9]*\) tests, .* in \([0-9.]*\) s$/\3 \1 \2/p' "$log"
done | sort -k1,1 -rn | awk '
	{ total += $1; printf "%8.1f s  %s (%d tests)\n", $1, $2, $3 }
	END { if (NR) printf "%8.1f s  in all, %d scripts one after the other\n", total, NR }'
