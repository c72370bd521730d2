#!/usr/bin/env bash
# The whole test suite, as CI runs it: installs what the build and the tests
# need, builds with -Werror, runs `make check` (cmocka unit tests and shell
# tests), runs it again under AddressSanitizer + UndefinedBehaviorSanitizer,
# runs `make distcheck` (which leaves out the tests on moto: the two builds ran
# them), runs each libFuzzer harness for a few seconds in a clang build of its
# own (`make fuzz-smoke`, one result like distcheck), and ends with one line:
# "N passed, N failed". Each phase says how long
# it took, and each suite lists the time of each test script, slowest first.
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

# build <name> <build-dir> [configure args...]: a fresh build; its time in
# <build-dir>/build.time, its failure in <build-dir>/build.failed
build() {
	local name=$1 dir=$2 t0=$SECONDS
	shift 2
	rm -rf "$dir"
	"$root/scripts/build.sh" "$dir" "$@" || { mkdir -p "$dir" && : >"$dir/build.failed"; }
	echo $((SECONDS - t0)) >"$dir/build.time"
}

# check <name> <build-dir>: make check in a build, its results and times
check() {
	local name=$1 dir=$2 t0=$SECONDS
	if test -e "$dir/build.failed"; then
		echo "$name: build failed"
		failed=$((failed + 1))
		return
	fi
	echo "== $name: built in $(cat "$dir/build.time") s; make check"
	(cd "$dir" && make -j2 check >check.out 2>&1)
	grep -E '^(PASS|FAIL|ERROR|SKIP|XFAIL|XPASS):' "$dir/check.out" | sed 's/^/  /'
	echo "== $name: make check took $((SECONDS - t0)) s; each script:"
	sh "$root/tests/test-times.sh" "$dir"/tests/*.log | sed 's/^/  /'
	count "$name" "$dir/test-suite.log"
}

SANITIZE="-fsanitize=address,undefined"
echo "== default: build"
build default "$root/build-ci"
# the sanitizer build compiles while the default tests mostly wait
build sanitizers "$root/build-asan" \
	CFLAGS="-g -O1 $SANITIZE -fno-sanitize-recover=undefined -fno-omit-frame-pointer" \
	LDFLAGS="$SANITIZE" >"$root/build-asan.out" 2>&1 &
asan_build=$!
check default "$root/build-ci"
wait $asan_build
cat "$root/build-asan.out"
rm -f "$root/build-asan.out"
# the fuzzing build (clang, libFuzzer) compiles while the sanitizer tests mostly wait
build fuzzing "$root/build-fuzz" CC=clang --enable-fuzzing >"$root/build-fuzz.out" 2>&1 &
fuzz_build=$!
check sanitizers "$root/build-asan"
wait $fuzz_build
cat "$root/build-fuzz.out"
rm -f "$root/build-fuzz.out"

if [ "${GIT_TRAIN_SKIP_DISTCHECK:-}" != 1 ]; then
	echo "== distcheck"
	t0=$SECONDS
	if (cd "$root/build-ci" && make -j2 distcheck >distcheck.out 2>&1); then
		echo "ok - make distcheck ($((SECONDS - t0)) s)"
		passed=$((passed + 1))
	else
		echo "not ok - make distcheck"
		tail -40 "$root/build-ci/distcheck.out"
		failed=$((failed + 1))
	fi
fi

if [ "${GIT_TRAIN_SKIP_FUZZ:-}" != 1 ]; then
	echo "== fuzz-smoke"
	t0=$SECONDS
	if test -e "$root/build-fuzz/build.failed"; then
		echo "not ok - make fuzz-smoke: the fuzzing build failed"
		failed=$((failed + 1))
	elif (cd "$root/build-fuzz" && make fuzz-smoke FUZZ_SECONDS=12 >fuzz-smoke.out 2>&1); then
		sed -n 's/^ok - /  ok - /p' "$root/build-fuzz/fuzz-smoke.out"
		echo "ok - make fuzz-smoke ($((SECONDS - t0)) s; built in $(cat "$root/build-fuzz/build.time") s)"
		passed=$((passed + 1))
	else
		echo "not ok - make fuzz-smoke"
		tail -40 "$root/build-fuzz/fuzz-smoke.out"
		failed=$((failed + 1))
	fi
fi

echo
echo "== all in $SECONDS s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
