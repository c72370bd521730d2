#!/bin/sh
# test-times.sh <log>...: the time of each test script, slowest first, and
# the CPU it took, from the last line test-lib.sh writes into its log ("#
# t0600-runner: 13 tests, 0 failed, 0 skipped in 12.3 s, 20.5 s of CPU"), so
# that a slow test is seen the day it appears: with scripts side by side on
# two cores, the CPU they take is what bounds `make check`. `make check`
# prints it at the end; so does scripts/test.sh.
for log in "$@"; do
	test -f "$log" &&
		sed -n 's/^# \([^ :]*\): \([0-9]*\) tests, .* in \([0-9.]*\) s, \([0-9.]*\) s of CPU$/\3 \1 \2 \4/p' "$log"
done | sort -k1,1 -rn | awk '
	{ total += $1; cpu += $4; printf "%8.1f s  %7.1f s CPU  %s (%d tests)\n", $1, $4, $2, $3 }
	END { if (NR) printf "%8.1f s  %7.1f s CPU  in all, %d scripts one after the other\n", total, cpu, NR }'
