#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the build and the tests
# need, builds with -Werror, runs `make check` (cmocka unit tests and shell
# tests), runs it again under AddressSanitizer + UndefinedBehaviorSanitizer,
# runs `make distcheck`, and ends with one line: "N passed, N failed".
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
"$root/scripts/install-deps.sh" || exit 1

passed=0 failed=0 skipped=0

# The official SigV4 suites live beside the checkout (never copied into it);
# name them explicitly so that the distcheck build, which runs from an
# unpacked tarball elsewhere, finds them too.
if [ -d "$root/../shared/sigv4-vectors" ]; then
	GIT_TRAIN_SIGV4_VECTORS=$(cd "$root/../shared/sigv4-vectors" && pwd)
	export GIT_TRAIN_SIGV4_VECTORS
else
	echo "note: ../shared/sigv4-vectors is absent: the SigV4 suite checks will be skipped" >&2
fi

# count <name> <test-suite.log>: adds the TAP results of one `make check`.
count() {
	local log=$2 p f e s
	if [ ! -f "$log" ]; then
		echo "$1: no test-suite.log" >&2
		failed=$((failed + 1))
		return
	fi
	p=$(sed -n 's/^# PASS: *//p' "$log")
	f=$(sed -n 's/^# FAIL: *//p' "$log")
	e=$(sed -n 's/^# ERROR: *//p' "$log")
	s=$(sed -n 's/^# SKIP: *//p' "$log")
	echo "$1: ${p:-0} passed, $((${f:-0} + ${e:-0})) failed, ${s:-0} skipped"
	passed=$((passed + ${p:-0}))
	failed=$((failed + ${f:-0} + ${e:-0}))
	skipped=$((skipped + ${s:-0}))
	if [ $((${f:-0} + ${e:-0})) -ne 0 ]; then
		grep -E '^(FAIL|ERROR):' "$log" | head -50
		echo "--- details: $log" >&2
		awk '/^(FAIL|ERROR): /,0' "$log" | head -200 >&2
	fi
}

# suite <name> <build-dir> [configure args...]
suite() {
	local name=$1 dir=$2
	shift 2
	echo "== $name: build"
	rm -rf "$dir"
	if ! "$root/scripts/build.sh" "$dir" "$@"; then
		echo "$name: build failed"
		failed=$((failed + 1))
		return
	fi
	echo "== $name: make check"
	(cd "$dir" && make -j2 check >check.out 2>&1)
	grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$dir/check.out" | sed 's/^/  /'
	count "$name" "$dir/test-suite.log"
}

suite default "$root/build-ci"
suite sanitizers "$root/build-asan" \
	CFLAGS="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	LDFLAGS="-fsanitize=address,undefined"

if [ "${GIT_TRAIN_SKIP_DISTCHECK:-}" != 1 ]; then
	echo "== distcheck"
	if (cd "$root/build-ci" && make -j2 distcheck >distcheck.out 2>&1); then
		echo "ok - make distcheck"
		passed=$((passed + 1))
	else
		echo "not ok - make distcheck"
		tail -40 "$root/build-ci/distcheck.out"
		failed=$((failed + 1))
	fi
fi

echo
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
