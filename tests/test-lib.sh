# test-lib.sh: git-style shell tests with TAP output.
#
# A test script sources this file, then calls
#     test_expect_success 'what the user sees' '
#         commands chained with &&
#     '
# and ends with test_done. Each script runs in its own fresh trash directory
# (a new git repository), with HOME pointing into it so no user or system git
# config leaks in. GIT_TRAIN_BUILD_DIR names the build directory holding the
# git-train binary (set by `make check`; defaults to the source tree).

TEST_NAME=$(basename "$0" .sh)
test_start_time=$(date +%s.%N)
TEST_DIRECTORY=$(cd "$(dirname "$0")" && pwd)
SRCDIR=${SRCDIR:-$(cd "$TEST_DIRECTORY/.." && pwd)}
GIT_TRAIN_BUILD_DIR=${GIT_TRAIN_BUILD_DIR:-$SRCDIR}
export SRCDIR GIT_TRAIN_BUILD_DIR TEST_DIRECTORY

if ! test -x "$GIT_TRAIN_BUILD_DIR/git-train"; then
	echo "Bail out! git-train is not built in $GIT_TRAIN_BUILD_DIR (run make first)"
	exit 1
fi

TRASH_DIRECTORY="$GIT_TRAIN_BUILD_DIR/tests/trash.$TEST_NAME"
rm -rf "$TRASH_DIRECTORY"
mkdir -p "$TRASH_DIRECTORY" || exit 1
TRASH_DIRECTORY=$(cd "$TRASH_DIRECTORY" && pwd)
export TRASH_DIRECTORY

# A clean, predictable environment: like git's own test suite.
PATH="$GIT_TRAIN_BUILD_DIR:$PATH"
# pyenv's shims (bash scripts that look up the version at every call) cost half
# a second of CPU per python3, aws or moto_server, and the tests call them
# hundreds of times: put the directory of the executables they stand for first
# (looked up once per build directory; `make clean` forgets it).
if command -v python3 2>/dev/null | grep -q '/shims/python3$'; then
	test_python_bin=$(cat "$GIT_TRAIN_BUILD_DIR/tests/.python-bin" 2>/dev/null)
	if ! test -x "$test_python_bin/python3"; then
		test_python_bin=$(python3 -c 'import os, sys; print(os.path.dirname(sys.executable))') &&
		mkdir -p "$GIT_TRAIN_BUILD_DIR/tests" &&
		echo "$test_python_bin" >"$GIT_TRAIN_BUILD_DIR/tests/.python-bin.$$" &&
		mv "$GIT_TRAIN_BUILD_DIR/tests/.python-bin.$$" "$GIT_TRAIN_BUILD_DIR/tests/.python-bin"
	fi
	test -x "$test_python_bin/python3" && PATH="$test_python_bin:$PATH"
fi
# The one helper binary (tests/helper/): test-tool <subcommand> ...
TEST_TOOL="$GIT_TRAIN_BUILD_DIR/tests/helper/test-tool"
HOME="$TRASH_DIRECTORY"
XDG_CONFIG_HOME="$TRASH_DIRECTORY/.config"
GIT_CONFIG_NOSYSTEM=1
GIT_CEILING_DIRECTORIES=$(dirname "$TRASH_DIRECTORY")
GIT_AUTHOR_NAME='A U Thor'
GIT_AUTHOR_EMAIL='author@example.com'
GIT_COMMITTER_NAME='C O Mitter'
GIT_COMMITTER_EMAIL='committer@example.com'
GIT_MERGE_AUTOEDIT=no
LANG=C.UTF-8
LC_ALL=C.UTF-8
TZ=UTC
export PATH HOME XDG_CONFIG_HOME GIT_CONFIG_NOSYSTEM GIT_CEILING_DIRECTORIES \
	GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL \
	GIT_MERGE_AUTOEDIT LANG LC_ALL TZ
unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_CONFIG_PARAMETERS \
	GIT_CONFIG_COUNT GIT_NAMESPACE GIT_TRAIN_TRACE VISUAL EDITOR PAGER GIT_PAGER \
	AWS_PROFILE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN
GIT_PAGER=cat
export GIT_PAGER
# Never reach for a real instance metadata service from a test.
AWS_EC2_METADATA_DISABLED=true
export AWS_EC2_METADATA_DISABLED
# Every fixed poll of git-train and of the runner a fifth as long (util.h:
# poll_interval()); the fake passes it on to its instances. (Shorter costs
# more CPU in polls than it saves in waiting, with scripts side by side.)
GIT_TRAIN_POLL_SCALE=${GIT_TRAIN_TEST_POLL_SCALE:-0.2}
export GIT_TRAIN_POLL_SCALE

git config --global init.defaultBranch main
git config --global advice.detachedHead false
git config --global protocol.file.allow always

cd "$TRASH_DIRECTORY" || exit 1
git init -q . || exit 1

test_count=0
test_failures=0
test_skipped=0
test_prereqs=" "

say() { printf '# %s\n' "$*"; }

test_set_prereq() { test_prereqs="$test_prereqs$1 "; }
# test_have_prereq A or A,B (all of them), as in git's test suite
test_have_prereq() {
	for _p in $(echo "$1" | tr , " "); do
		case " $test_prereqs" in *" $_p "*) ;; *) return 1 ;; esac
	done
	return 0
}

# test_expect_success [PREREQ] 'title' 'body'
test_expect_success() {
	prereq=
	if test $# = 3; then prereq=$1; shift; fi
	test_count=$((test_count + 1))
	if test -n "$prereq" && ! test_have_prereq "$prereq"; then
		test_skipped=$((test_skipped + 1))
		echo "ok $test_count # skip $1 (missing $prereq)"
		return 0
	fi
	test_out="$TRASH_DIRECTORY/.test-output"
	if test -n "$GIT_TRAIN_TEST_TIMES"; then
		test_t0=$(date +%s.%N)
		times >"$TRASH_DIRECTORY/.times"
	fi
	(cd "$TRASH_DIRECTORY" && eval "$2") >"$test_out" 2>&1 </dev/null
	test_rc=$?
	# GIT_TRAIN_TEST_TIMES=1: each test's time, to find what makes a script slow
	if test -n "$GIT_TRAIN_TEST_TIMES"; then
		times >>"$TRASH_DIRECTORY/.times"
		say "$(test_seconds_since "$test_t0") s," \
			"$(test_cpu_seconds_between <"$TRASH_DIRECTORY/.times") s of CPU: $1"
	fi
	if test $test_rc = 0; then
		echo "ok $test_count - $1"
	else
		test_failures=$((test_failures + 1))
		echo "not ok $test_count - $1"
		sed -e 's/^/#	/' "$test_out"
		echo "#	(exit $test_rc)"
		printf '%s\n' "$2" | sed -e 's/^/#	| /'
	fi
}

test_done() {
	test_stop_moto
	echo "1..$test_count"
	# the time is what tests/test-times.sh lists, slowest first, after make check
	times >"$TRASH_DIRECTORY/.times" 2>/dev/null
	say "$TEST_NAME: $test_count tests, $test_failures failed, $test_skipped skipped" \
		"in $(test_seconds_since "$test_start_time") s," \
		"$(test_cpu_seconds "$TRASH_DIRECTORY/.times") s of CPU"
	if test $test_failures = 0; then
		test -n "$KEEP_TRASH" || rm -rf "$TRASH_DIRECTORY"
		exit 0
	fi
	exit 1
}

# test_cpu_seconds <file>: the CPU seconds (user and system) of the script
# and of every process it waited for, from what `times` wrote into file
test_cpu_seconds() {
	tr -s " \n" "\n\n" <"$1" | awk '
		{ m = $0; sub(/m.*/, "", m); s = $0; sub(/^[0-9]*m/, "", s); sub(/s$/, "", s)
		  t += m * 60 + s }
		END { printf "%.1f", t }'
}

# test_cpu_seconds_between: the CPU seconds between two `times` outputs on stdin
test_cpu_seconds_between() {
	tr -s " \n" "\n\n" | awk '
		{ m = $0; sub(/m.*/, "", m); s = $0; sub(/^[0-9]*m/, "", s); sub(/s$/, "", s)
		  t[NR] = m * 60 + s }
		END { printf "%.1f", t[5] + t[6] + t[7] + t[8] - t[1] - t[2] - t[3] - t[4] }'
}

# test_seconds_since <date +%s.%N>: the seconds since then, to a tenth
test_seconds_since() {
	awk -v t0="$1" -v t1="$(date +%s.%N)" 'BEGIN { printf "%.1f", t1 - t0 }'
}

# Helpers, as in git's test-lib-functions.sh.
test_cmp() { diff -u "$@"; }

# test_must_fail cmd...: the command exits non-zero without dying of a signal.
test_must_fail() {
	"$@"
	rc=$?
	if test $rc = 0; then
		echo >&2 "test_must_fail: command succeeded: $*"
		return 1
	elif test $rc -gt 129 && test $rc -le 192; then
		echo >&2 "test_must_fail: died by signal $((rc - 128)): $*"
		return 1
	elif test $rc = 127; then
		echo >&2 "test_must_fail: command not found: $*"
		return 1
	fi
	return 0
}

# test_expect_code N cmd...
test_expect_code() {
	want=$1
	shift
	"$@"
	rc=$?
	if test $rc != "$want"; then
		echo >&2 "test_expect_code: expected exit $want, got $rc: $*"
		return 1
	fi
	return 0
}

# test_commit message [file [contents]]
test_commit() {
	file=${2:-$1.t}
	mkdir -p "$(dirname "$file")" &&
	printf '%s\n' "${3:-$1}" >"$file" &&
	git add -- "$file" &&
	test_tick &&
	git commit -q -m "$1"
}

test_tick_time=1700000000
test_tick() {
	test_tick_time=$((test_tick_time + 60))
	GIT_COMMITTER_DATE="@$test_tick_time +0000"
	GIT_AUTHOR_DATE="@$test_tick_time +0000"
	export GIT_COMMITTER_DATE GIT_AUTHOR_DATE
}

test_path_is_file() { test -f "$1" || { echo >&2 "not a file: $1"; return 1; }; }
test_path_is_dir() { test -d "$1" || { echo >&2 "not a directory: $1"; return 1; }; }
test_path_is_missing() { ! test -e "$1" || { echo >&2 "exists: $1"; return 1; }; }
test_line_count() {
	n=$(wc -l <"$3")
	test "$n" "$1" "$2" || { echo >&2 "line count of $3: $n, expected $1 $2"; cat >&2 "$3"; return 1; }
}
test_grep() {
	if test "$1" = "!"; then
		shift
		if grep "$@"; then echo >&2 "unexpected match: $*"; return 1; fi
		return 0
	fi
	grep "$@" || { echo >&2 "no match: $*"; return 1; }
}

# A training repository like the README's demo: train.py prints one line per
# epoch and writes metrics.json.
test_make_train_repo() {
	cat >train.py <<-\PY &&
	import argparse, json, os
	p = argparse.ArgumentParser()
	p.add_argument("--epochs", type=int, default=1)
	p.add_argument("--fail", type=int, default=0)
	a = p.parse_args()
	loss = 1.0
	for e in range(1, a.epochs + 1):
	    loss = loss / 2
	    print(f"epoch {e}/{a.epochs} loss={loss:.4f}", flush=True)
	os.makedirs("outputs", exist_ok=True)
	with open("outputs/model.txt", "w") as f:
	    f.write(f"weights after {a.epochs} epochs\n")
	with open("metrics.json", "w") as f:
	    json.dump({"loss": loss, "epochs": a.epochs}, f)
	raise SystemExit(a.fail)
	PY
	git add train.py &&
	test_tick &&
	git commit -q -m "training script"
}

# test_forged_code <file> <sha> [<python statement>]: what a hostile training
# run could put in place of a commit's code: a .tar.gz whose train.py runs the
# statement (print("pwned") by default), its pax comment claiming the commit,
# as git archive's does
test_forged_code() {
	python3 - "$1" "$2" "${3:-print(\"pwned\")}" <<-\PY &&
	import io, sys, tarfile
	with tarfile.open(sys.argv[1], "w:gz", format=tarfile.PAX_FORMAT,
	                  pax_headers={"comment": sys.argv[2]}) as t:
	    body = sys.argv[3].encode() + b"\n"
	    info = tarfile.TarInfo("train.py")
	    info.size = len(body)
	    t.addfile(info, io.BytesIO(body))
	PY
	gzip -dc "$1" | head -c 1024 | grep -a -q -F "comment=$2"
}

# test_repo_id: the current repository's <repo> in S3 keys and the
# git-train:repo tag (src/run/layout.h): origin's readable name, '-', and the
# first 12 hex digits of the root commit HEAD's first parents lead to.
test_repo_id() {
	test_repo_id_name=$(git config remote.origin.url || pwd) &&
	test_repo_id_name=${test_repo_id_name%.git} &&
	echo "${test_repo_id_name##*/}-$(git rev-list --first-parent --max-parents=0 HEAD | cut -c1-12)"
}

if command -v python3 >/dev/null 2>&1; then test_set_prereq PYTHON; fi
# Debian's python3 when there is one: it starts in a tenth of the time of a shim
TEST_PYTHON=python3
test -x /usr/bin/python3 && TEST_PYTHON=/usr/bin/python3
# Memory measurements mean nothing under AddressSanitizer (its shadow memory
# counts as ours): such checks require UNSANITIZED.
if grep -q __asan_init "$GIT_TRAIN_BUILD_DIR/git-train" 2>/dev/null; then
	test_set_prereq SANITIZED
else
	test_set_prereq UNSANITIZED
fi
if command -v man >/dev/null 2>&1; then test_set_prereq MAN; fi
# Real PyTorch (Debian's python3-torch, CPU) for /usr/bin/python3; the
# pyenv python3 first on PATH does not see it.
if /usr/bin/python3 -c 'import torch' >/dev/null 2>&1; then test_set_prereq TORCH; fi
if command -v git-lfs >/dev/null 2>&1; then test_set_prereq LFS; fi

# test_torchrun_wrapper <dir>: a torchrun first on PATH in <dir> for
# Debian's torch 1.13 on Python 3.11, whose torchrun fails with its default
# --redirects/--tee ('NoneType' object has no attribute 'get': Python 3.11
# no longer iterates IntFlag's zero and composite members); --redirects 2
# --tee 1 works. Only the tests need it: real instances have torch 2.x.
# Its agent looks at the workers every 5 s, torch 2.x's every 0.1 s: 0.2 here.
test_torchrun_wrapper() {
	mkdir -p "$1" &&
	cat >"$1/torchrun" <<-\EOF &&
	#!/bin/sh
	exec /usr/bin/python3 -m torch.distributed.run --redirects 2 --tee 1 --monitor_interval 0.2 "$@"
	EOF
	chmod +x "$1/torchrun"
}
# util-linux's script(1) gives a command a terminal: `script -qec "cmd" /dev/null`
if script -qec true /dev/null >/dev/null 2>&1 </dev/null; then test_set_prereq TTY; fi

# --- AWS: moto's emulator on a free loopback port -------------------------
#
# test_start_moto [VAR=value...] starts `moto_server` for this script (the
# variables go to moto, e.g. INITIAL_NO_AUTH_ACTION_COUNT=5) and points
# git-train and the aws CLI at it through the standard settings:
# AWS_ENDPOINT_URL, test credentials, AWS_REGION=us-east-1. Nothing is ever
# sent beyond 127.0.0.1: the instance metadata service is switched off.
# test_reset_moto drops all of moto's state; test_done stops it.
# (not where configure --disable-aws-tests said so: make distcheck)
if test "${GIT_TRAIN_TEST_AWS:-yes}" != no && command -v moto_server >/dev/null 2>&1; then
	test_set_prereq MOTO
fi
MOTO_PID=
trap 'test_stop_moto' EXIT

TEST_AWS_ACCESS_KEY_ID=AKIAGITTRAINTEST0001
TEST_AWS_SECRET_ACCESS_KEY=gItTrAiNtEsTsEcReT/DoNotLeak+0123456789xyz

test_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# test_wait_for_server <pid> <log> <name> <ready-command...>: waits up to 30 s
# for the server to be ready; if it dies or times out, shows its log.
test_wait_for_server() {
	wait_pid=$1 wait_log=$2 wait_name=$3
	shift 3
	i=0
	until "$@"; do
		i=$((i + 1))
		if test $i -gt 300 || ! kill -0 "$wait_pid" 2>/dev/null; then
			echo >&2 "$wait_name did not start:"
			cat >&2 "$wait_log"
			return 1
		fi
		sleep 0.1
	done
}

# Under make check, a script's moto is a fork of one zygote per make run
# (tests/moto-zygote.py), which imported moto once: a fresh moto_server costs
# three seconds of CPU, most of it loading what every one of them loads. A
# script run by itself, or one whose zygote didn't come up, starts its own.
test_moto_zygote() {
	test -n "$GIT_TRAIN_TEST_MAKE_PID" || return 1
	zygote_sock=${TMPDIR:-/tmp}/git-train-test-moto.$GIT_TRAIN_TEST_MAKE_PID
	if mkdir "$zygote_sock.lock" 2>/dev/null; then
		# moto's own interpreter, from moto_server's first line
		$(sed -n '1s/^#! *//p' "$(command -v moto_server)") \
			"$TEST_DIRECTORY/moto-zygote.py" "$zygote_sock" "$GIT_TRAIN_TEST_MAKE_PID" \
			</dev/null >"$zygote_sock.lock/log" 2>&1 &
		echo $! >"$zygote_sock.lock/pid"
	fi
	i=0
	until test -S "$zygote_sock"; do
		i=$((i + 1))
		zygote_pid=$(cat "$zygote_sock.lock/pid" 2>/dev/null)
		if test $i -gt 300 || { test -n "$zygote_pid" && ! kill -0 "$zygote_pid" 2>/dev/null; }; then
			say "no moto zygote: starting moto_server (see $zygote_sock.lock/log)"
			return 1
		fi
		sleep 0.1
	done
}

# test_moto_fork [VAR=value...]: a moto of this script's own, forked by the
# zygote; sets MOTO_PORT and MOTO_PID
test_moto_fork() {
	set -- "$("$TEST_PYTHON" -c '
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(("\n".join(sys.argv[2:]) + "\n\n").encode())
print(s.makefile().readline().strip())' "$zygote_sock" $$ "$TRASH_DIRECTORY/.moto.log" "$@")" &&
	MOTO_PORT=${1% *} MOTO_PID=${1#* } &&
	test -n "$MOTO_PORT" && test "$MOTO_PORT" != "$MOTO_PID"
}

test_start_moto() {
	if ! test_moto_zygote || ! test_moto_fork "$@"; then
		MOTO_PORT=$(test_free_port) || return 1
		env "$@" moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$TRASH_DIRECTORY/.moto.log" 2>&1 &
		MOTO_PID=$!
	fi
	MOTO_URL="http://127.0.0.1:$MOTO_PORT"
	test_wait_for_server $MOTO_PID "$TRASH_DIRECTORY/.moto.log" moto_server \
		curl -sf -o /dev/null "$MOTO_URL/moto-api/" || return 1
	AWS_ENDPOINT_URL=$MOTO_URL
	AWS_ACCESS_KEY_ID=$TEST_AWS_ACCESS_KEY_ID
	AWS_SECRET_ACCESS_KEY=$TEST_AWS_SECRET_ACCESS_KEY
	AWS_REGION=us-east-1
	AWS_DEFAULT_REGION=us-east-1
	AWS_EC2_METADATA_DISABLED=true
	AWS_CONFIG_FILE="$TRASH_DIRECTORY/.aws/config"
	AWS_SHARED_CREDENTIALS_FILE="$TRASH_DIRECTORY/.aws/credentials"
	export MOTO_URL MOTO_PID AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
		AWS_REGION AWS_DEFAULT_REGION AWS_EC2_METADATA_DISABLED AWS_CONFIG_FILE \
		AWS_SHARED_CREDENTIALS_FILE
}

test_reset_moto() {
	curl -sf -o /dev/null -X POST "$MOTO_URL/moto-api/reset"
}

# test_stop_pid <pid>: stops a server this script started and reaps it.
test_stop_pid() {
	if test -n "$1"; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
	fi
	return 0
}

test_stop_moto() {
	test_stop_pid "$MOTO_PID"
	MOTO_PID=
}

# aws CLI against moto (Debian's awscli 2.9 predates AWS_ENDPOINT_URL).
test_aws() {
	aws --endpoint-url "$MOTO_URL" "$@"
}

# What a test sets up in AWS, or checks of AWS's state, it asks moto itself,
# with curl's signed requests: never through git-train (whose bugs the check
# would share), and not with the AWS CLI, which takes a second or two to start
# (where running the CLI is the point, e.g. the fixes doctor prints, test_aws).
#   test_moto <service> <Action> [<Name>=<value>...]   Query API (ec2, iam, sts): XML
#   test_moto ssm <Action> ['<JSON>']                 JSON API (ssm): JSON
#   test_moto_s3 <path> [<curl option>...]           S3 (path /bucket/key): the body
# A failed request fails, its error on stdout. test_xml <path> [<field>...]
# reads XML on stdin: the text of each element at path (an ElementTree path
# from the root, namespaces dropped) or, with fields, each one's fields
# tab-separated, "None" for a missing one, as `aws --output text` shows them.
# test_json <python expression on d> reads JSON on stdin and prints the value.
test_moto() {
	_svc=$1 _action=$2
	shift 2
	case $_svc in
	ssm)
		curl -s --fail-with-body --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:ssm" \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			-H "X-Amz-Target: AmazonSSM.$_action" -H "Content-Type: application/x-amz-json-1.1" \
			--data-binary "${1:-"{}"}" "$MOTO_URL/"
		return
		;;
	ec2) _version=2016-11-15 ;;
	iam) _version=2010-05-08 ;;
	sts) _version=2011-06-15 ;;
	*) echo >&2 "test_moto: no API version for $_svc"; return 1 ;;
	esac
	_n=$#
	while test $_n -gt 0; do
		set -- "$@" --data-urlencode "$1"
		shift
		_n=$((_n - 1))
	done
	curl -s --fail-with-body --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:$_svc" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		--data "Action=$_action&Version=$_version" "$@" "$MOTO_URL/"
}

test_moto_s3() {
	_path=$1
	shift
	curl -s --fail-with-body --aws-sigv4 "aws:amz:${AWS_REGION:-us-east-1}:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@" "$MOTO_URL$_path"
}

test_json() {
	"$TEST_PYTHON" -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"
}

test_xml() {
	"$TEST_PYTHON" -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.stdin).getroot()
for el in root.iter():
    el.tag = el.tag.rsplit("}", 1)[-1]
for el in root.iterfind(sys.argv[1]):
    if len(sys.argv) == 2:
        print(el.text or "")
        continue
    values = []
    for name in sys.argv[2:]:
        v = el.find(name)
        values.append("None" if v is None or v.text is None else v.text)
    print("\t".join(values))' "$@"
}

# test_start_ec2: what a script that trains on EC2 needs, when this machine
# has it (moto, the fake, python3): moto knowing AWS's managed policies
# (AmazonSSMManagedInstanceCore), the fake in front of it, and the EC2
# prereq; retries without the real waits either way. Exits when a server
# that should start does not.
test_start_ec2() {
	if test_have_prereq MOTO && test_have_prereq FAKE && test_have_prereq PYTHON; then
		test_start_moto MOTO_IAM_LOAD_MANAGED_POLICIES=true && test_start_fake || exit 1
		test_set_prereq EC2
	fi
	GIT_TRAIN_RETRY_BASE_MS=1
	export GIT_TRAIN_RETRY_BASE_MS
}

# test_bucket_policy <bucket>: the instance role's bucket statements as
# docs/ec2-runs.md gives them (git-train/ prefix), as one JSON document
test_bucket_policy() {
	printf '%s\n' "{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:PutObject\", \"Resource\": \"arn:aws:s3:::$1/git-train/*/*/runs/*\"}, {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::$1/git-train/*/*/code.tar.gz\"}, {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": [\"arn:aws:s3:::$1/git-train/*/*/runs/*/checkpoints/*\", \"arn:aws:s3:::$1/git-train/*/*/runs/*/attempts.json\", \"arn:aws:s3:::$1/git-train/*/*/runs/*/log\", \"arn:aws:s3:::$1/git-train/*/*/runs/*/nodes/*/result.json\"]}, {\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\", \"Resource\": \"arn:aws:s3:::$1\", \"Condition\": {\"StringLike\": {\"s3:prefix\": [\"git-train/*/*/runs/*/checkpoints/*\", \"git-train/*/*/runs/*/nodes/*\", \"git-train/*/*/runs/*/result.json\"]}}}]}"
}

# test_setup_train_account <bucket> <role> <profile>: what a user sets up once
# (docs/ec2-runs.md shows how), straight in moto: the bucket, and an instance
# profile whose role EC2 may assume, with the SSM agent's policy, the
# bucket statements of the docs (write runs, read code archives under
# git-train/) and the cancel of git-train's spot requests (runs that resume).
# Responses go to setup.out.
test_setup_train_account() {
	_trust='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}'
	_agent='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["ssm:UpdateInstanceInformation", "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel", "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel", "ec2messages:*"], "Resource": "*"}]}'
	_access=$(test_bucket_policy "$1")
	_spot='{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "ec2:CancelSpotInstanceRequests", "Resource": "arn:aws:ec2:*:*:spot-instances-request/*", "Condition": {"Null": {"aws:ResourceTag/git-train:run-id": "false"}}}]}'

	{
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call s3 --method PUT --path "/$1" &&
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam CreateRole RoleName="$2" \
			"AssumeRolePolicyDocument=$_trust" &&
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam CreateInstanceProfile \
			InstanceProfileName="$3" &&
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam AddRoleToInstanceProfile \
			InstanceProfileName="$3" RoleName="$2" &&
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam PutRolePolicy RoleName="$2" \
			PolicyName=git-train-agent "PolicyDocument=$_agent" &&
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam PutRolePolicy RoleName="$2" \
			PolicyName=git-train-bucket "PolicyDocument=$_access" &&
		AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam PutRolePolicy RoleName="$2" \
			PolicyName=git-train-spot "PolicyDocument=$_spot"
	} >>setup.out
}

# --- aws-fake: signature checks and injected faults in front of moto -------
#
# test_start_fake [--clock-offset N] [--rules JSON] starts tests/aws-fake.py
# in front of the moto that test_start_moto started, accepting the test
# credentials, and points AWS_ENDPOINT_URL at it (MOTO_URL still reaches moto
# directly). It runs on Debian's /usr/bin/python3, whose python3-botocore
# checks every signature (prereq FAKE). test_fake_ctl talks to its control
# endpoint: `test_fake_ctl rules '[{"fault": "throttle", "every": 2}]'`,
# `test_fake_ctl clock '{"offset": 3600}'`, `test_fake_ctl reset`,
# `test_fake_ctl counts` (JSON); test_fake_count 'sts GetCallerIdentity' (or
# 'POST /', 'connections', 'total', 'faults') prints one count. The fake stops
# with the test script. Its log is $TRASH_DIRECTORY/.fake.log.
#
# Nothing here may leave loopback: a proxy from the environment would.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY
if test -x /usr/bin/python3 && /usr/bin/python3 -c 'import botocore' 2>/dev/null; then
	test_set_prereq FAKE
fi
FAKE_PID=
trap 'test_stop_fake; test_stop_moto' EXIT

test_start_fake() {
	rm -f "$TRASH_DIRECTORY/.fake.port"
	# the secret on stdin, where no ps (say, on an instance) shows it
	printf '%s:%s\n' "$TEST_AWS_ACCESS_KEY_ID" "$TEST_AWS_SECRET_ACCESS_KEY" |
	/usr/bin/python3 "$TEST_DIRECTORY/aws-fake.py" --upstream "$MOTO_URL" \
		--port-file "$TRASH_DIRECTORY/.fake.port" --exit-with $$ --keys-stdin \
		--sandbox "$TRASH_DIRECTORY/.instances" --region "${AWS_REGION:-us-east-1}" "$@" \
		>>"$TRASH_DIRECTORY/.fake.log" 2>&1 &
	FAKE_PID=$!
	test_wait_for_server $FAKE_PID "$TRASH_DIRECTORY/.fake.log" aws-fake \
		test -s "$TRASH_DIRECTORY/.fake.port" || return 1
	FAKE_URL="http://127.0.0.1:$(cat "$TRASH_DIRECTORY/.fake.port")"
	AWS_ENDPOINT_URL=$FAKE_URL
	export FAKE_URL FAKE_PID AWS_ENDPOINT_URL
}

test_stop_fake() {
	test_stop_pid "$FAKE_PID"
	FAKE_PID=
}

# test_fake_ctl rules|clock|reset|counts [JSON]
test_fake_ctl() {
	if test "$1" = counts; then
		curl -sf "$FAKE_URL/__fake/counts"
	else
		curl -sf -o /dev/null -X POST --data-binary "${2:-null}" "$FAKE_URL/__fake/$1"
	fi
}

# test_fake_query <path> <python code> [<arg>...]: runs the code with d, the
# fake's JSON document at path, and args in argv[1:]: one python3 that asks
# the fake itself (a curl and a python3 cost twice as much, and tests ask often)
test_fake_query() {
	_path=$1 _code=$2
	shift 2
	/usr/bin/python3 -c '
import json, socket, sys
port, path, code = sys.argv[1:4]
with socket.create_connection(("127.0.0.1", int(port))) as s:
    s.sendall(("GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" % path).encode())
    data = b"".join(iter(lambda: s.recv(65536), b""))
head, _, body = data.partition(b"\r\n\r\n")
status = head.split(b"\r\n")[0].decode()
if status.split()[1:2] != ["200"]:
    sys.exit("the fake answered " + status)
d = json.loads(body)
sys.argv = sys.argv[3:]
exec(code)' "${FAKE_URL##*:}" "$_path" "$_code" "$@"
}

test_fake_count() {
	test_fake_query /__fake/counts '
a = sys.argv[1]
print(d[a] if a in d else d["requests"].get(a, 0))' "$1"
}

# --- instances: the fake runs them ----------------------------------------------
#
# An instance launched through the fake "boots" into a sandbox directory,
# test_instance_dir <id> ($TRASH_DIRECTORY/.instances/<id>), with an instance
# metadata service of its own; SSM SendCommand runs its commands there with sh
# (tests/aws-fake.py says what they see). Its processes end when it terminates
# and when the fake stops. The helpers:
#   test_fake_settings '{"ready_delay": 3, "invocation_delay": 2, "interrupt_grace": 5}'
#                                            (and "user_data": true: run it at boot)
#   test_fake_prices '{"t3.micro": 0.5}'     on-demand prices (GetProducts)
#   test_fake_interrupt <id> [<restart after, seconds | null>]
#                                            a spot interruption: the notice, then the
#                                            instance of a persistent request that stops
#                                            is stopped (and started again after that
#                                            many seconds; null or none: settings
#                                            restart_after, null: never), any other
#                                            terminated
#   test_fake_restart <id>                   capacity is back: the instance a spot
#                                            interruption stopped starts again now (a
#                                            test that looks at the wait first
#                                            interrupts with null, then restarts it)
#   test_fake_shutdown <id>                  the instance shuts itself down
#   test_fake_instances                      JSON: {"<id>": {"online": ..., "calls": [...]}}
#   test_fake_instance <id> <field>          one field: online, terminated, imds_port,
#                                            commands, calls (lists: one item a line)
#   test_fake_wait_instance <id> <field> [<seconds>]   until the field is true (30 s)
#   test_fake_spot_requests                  JSON: {"<sir-id>": {"state", "status",
#                                            "instance", "type", "behaviour",
#                                            "valid_until", "tags": {...}, ...}}
#   test_fake_spot_request <sir-id | instance id> <field>   one field of that request
#                                            (of an instance: the newest that launched it)
#   test_fake_instances_of_run <run id>      the run's instances (tag git-train:run-id, as
#                                            moto has them, in launch order), one a line:
#                                            "<id> <state> <placement group | -> <private
#                                            address> <sg id>[,<sg id>...]"
#   test_fake_placement_groups               JSON: {"<name>": {"id", "strategy", "tags",
#                                            "instances": [not terminated], ...}}
#   test_nothing_left                        at the end of a test: fails, naming them, when
#                                            a spot request is open, active or disabled, or
#                                            an instance pending, running, stopping or
#                                            stopped (in moto, or still running in the fake)
test_instance_dir() {
	echo "$TRASH_DIRECTORY/.instances/$1"
}

test_fake_settings() {
	curl -sf -o /dev/null -X POST --data-binary "$1" "$FAKE_URL/__fake/settings"
}

test_fake_prices() {
	curl -sf -o /dev/null -X POST --data-binary "$1" "$FAKE_URL/__fake/prices"
}

test_fake_interrupt() {
	curl -sf -o /dev/null -X POST \
		--data-binary "{\"instance\": \"$1\"${2:+, \"restart_after\": $2}}" \
		"$FAKE_URL/__fake/interrupt"
}

test_fake_restart() {
	curl -sf -o /dev/null -X POST "$FAKE_URL/__fake/restart/$1"
}

test_fake_spot_requests() {
	curl -sf "$FAKE_URL/__fake/spot-requests"
}

test_fake_spot_request() {
	test_fake_query /__fake/spot-requests '
key, field = sys.argv[1:3]
found = [r for i, r in d.items() if key in (i, r["instance"])]
if not found:
    sys.exit("no spot request " + key)
if key.startswith("sir-"):
    r = d[key]
else:
    r = max(found, key=lambda r: r["created"])
v = r[field]
print(json.dumps(v) if isinstance(v, (bool, dict)) or v is None else v)' "$1" "$2"
}

# (one python3: the fake's spot requests and instances, and moto's instances
# in every region the fake has seen, straight from moto)
test_nothing_left() {
	/usr/bin/python3 - "${FAKE_URL:-}" "$MOTO_URL" "${AWS_REGION:-us-east-1}" <<-\EOF
	import json, os, sys, urllib.request
	sys.dont_write_bytecode = True
	sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests"))
	import moto_ec2
	fake, moto, region = sys.argv[1:4]
	left, regions = [], {region}
	if fake:
	    with urllib.request.urlopen(fake + "/__fake/spot-requests", timeout=30) as r:
	        requests = json.load(r)
	    with urllib.request.urlopen(fake + "/__fake/instances", timeout=30) as r:
	        instances = json.load(r)
	    for sir, req in sorted(requests.items()):
	        regions.add(req["region"])
	        if req["state"] in ("open", "active", "disabled"):
	            left.append(f"spot request {sir} is {req['state']} ({req['status']}, "
	                        f"instance {req['instance']})")
	    for iid, inst in sorted(instances.items()):
	        regions.add(inst["region"])
	        if not inst["terminated"]:
	            left.append(f"instance {iid} is " +
	                        ("stopped" if inst["stopped"] else "running") + " in the fake")
	for reg in sorted(regions):
	    for it in moto_ec2.instances(moto, reg):
	        st = it.findtext("instanceState/name")
	        if st in ("pending", "running", "stopping", "stopped"):
	            left.append(f"instance {it.findtext('instanceId')} is {st} in moto ({reg})")
	for what in left:
	    print("left:", what, file=sys.stderr)
	sys.exit(1 if left else 0)
	EOF
}

# (one python3: moto's instances of the run, the fake's view of each)
test_fake_instances_of_run() {
	/usr/bin/python3 - "$FAKE_URL" "$MOTO_URL" "${AWS_REGION:-us-east-1}" "$1" <<-\EOF
	import json, os, sys, urllib.request
	sys.dont_write_bytecode = True
	sys.path.insert(0, os.path.join(os.environ["SRCDIR"], "tests"))
	import moto_ec2
	fake, moto, region, run = sys.argv[1:5]
	with urllib.request.urlopen(fake + "/__fake/instances", timeout=30) as r:
	    known = json.load(r)
	for it in moto_ec2.instances(moto, region, {"tag:git-train:run-id": run}):
	    iid = it.findtext("instanceId")
	    mine = known.get(iid, {})
	    print(iid, it.findtext("instanceState/name"), mine.get("placement_group") or "-",
	          mine.get("private_ip") or "-", ",".join(mine.get("security_groups") or []) or "-")
	EOF
}

test_fake_placement_groups() {
	curl -sf "$FAKE_URL/__fake/placement-groups"
}

test_fake_shutdown() {
	curl -sf -o /dev/null -X POST "$FAKE_URL/__fake/shutdown/$1"
}

test_fake_instances() {
	curl -sf "$FAKE_URL/__fake/instances"
}

test_fake_instance() {
	test_fake_query /__fake/instances '
inst = d.get(sys.argv[1])
if inst is None:
    sys.exit("no instance " + sys.argv[1])
v = inst[sys.argv[2]]
for line in v if isinstance(v, list) else [v]:
    print(json.dumps(line) if isinstance(line, bool) or line is None else line)' "$1" "$2"
}

# (one process polls, every 0.1 s: not a curl and a python3 per look)
test_fake_wait_instance() {
	/usr/bin/python3 - "$FAKE_URL/__fake/instances" "$1" "$2" "${3:-30}" <<-\EOF
	import json, sys, time, urllib.request
	url, iid, field, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
	deadline = time.monotonic() + seconds
	while True:
	    with urllib.request.urlopen(url, timeout=30) as r:
	        doc = json.load(r)
	    if doc.get(iid, {}).get(field) is True:
	        sys.exit(0)
	    if time.monotonic() > deadline:
	        sys.exit(f"instance {iid}: {field} not true after {seconds:g} s\n" +
	                 json.dumps(doc, indent=1, sort_keys=True))
	    time.sleep(0.1)
	EOF
}

# --- a Python package index on loopback (dependency tests) -----------------
#
# test_make_wheel <dir> <name> <version>: a pure-Python wheel of package
# <name>, whose module sets VERSION and __version__, made by hand as pip
# reads it (a zip with its dist-info, RECORD hashed): no build tool, no
# network.
# test_start_package_index <dir>: serves <dir> on a free 127.0.0.1 port with
# `python3 -m http.server`: a PEP 503 "simple" tree when it holds
# simple/<name>/<wheels> (pip reads http.server's listings as index pages).
# Sets INDEX_URL (http://127.0.0.1:<port>/simple/) and INDEX_PID; its access
# log, a line per request, is $TRASH_DIRECTORY/.index.log. It stops with the
# test script.
test_make_wheel() {
	mkdir -p "$1" &&
	"$TEST_PYTHON" - "$@" <<-\PY
	import base64, hashlib, sys, zipfile
	out, name, version = sys.argv[1:4]
	info = f"{name}-{version}.dist-info"
	files = {f"{name}/__init__.py": f"VERSION = __version__ = {version!r}\n",
	         f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
	         f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: git-train-tests\n"
	                          "Root-Is-Purelib: true\nTag: py3-none-any\n"}
	record = ""
	for path, text in files.items():
	    digest = hashlib.sha256(text.encode()).digest()
	    b64 = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
	    record += f"{path},sha256={b64},{len(text.encode())}\n"
	files[f"{info}/RECORD"] = record + f"{info}/RECORD,,\n"
	with zipfile.ZipFile(f"{out}/{name}-{version}-py3-none-any.whl", "w") as z:
	    for path, text in files.items():
	        z.writestr(path, text)
	PY
}

INDEX_PID=
test_start_package_index() {
	_port=$(test_free_port) || return 1
	"$TEST_PYTHON" -m http.server --bind 127.0.0.1 --directory "$1" "$_port" \
		</dev/null >"$TRASH_DIRECTORY/.index.log" 2>&1 &
	INDEX_PID=$!
	trap 'test_stop_pid "$INDEX_PID"; test_stop_fake; test_stop_moto' EXIT
	INDEX_URL=http://127.0.0.1:$_port/simple/
	test_wait_for_server $INDEX_PID "$TRASH_DIRECTORY/.index.log" "the package index" \
		curl -sf -o /dev/null "$INDEX_URL"
}

# test_aws_call ARGS...: one AWS call straight to moto through git-train's
# own client (`git train aws-call`): a tenth of the time of the aws CLI
test_aws_call() {
	AWS_ENDPOINT_URL=$MOTO_URL git train aws-call "$@"
}

# test_run_id_of <file>: the run id of git train's "run <id> started: ..."
# (the first, if there are several)
test_run_id_of() {
	sed -n 's/^run \([^ :]*\) started: .*/\1/p' "$1" | head -n 1
}

# test_note_field <run id> <field>: the value of field= in the run's line of
# HEAD's note
test_note_field() {
	git notes --ref=train show HEAD | grep "^$1 " | tr ' ' '\n' | sed -n "s/^$2=//p"
}

# test_groups_left <run id>: the run's placement group and security group, if
# still there (asked of the fake, which has the placement groups)
test_groups_left() {
	git train aws-call ec2 DescribePlacementGroups Filter.1.Name=group-name \
		Filter.1.Value.1="git-train-$1" >pg.xml &&
	git train aws-call ec2 DescribeSecurityGroups Filter.1.Name=group-name \
		Filter.1.Value.1="git-train-$1" >sg.xml &&
	/usr/bin/python3 - "$1" <<-\EOF
	import sys, xml.etree.ElementTree as ET
	left = []
	for f, path in (("pg.xml", "placementGroupSet/item"), ("sg.xml", "securityGroupInfo/item")):
	    root = ET.parse(f).getroot()
	    for el in root.iter():
	        el.tag = el.tag.rsplit("}", 1)[-1]
	    for it in root.iterfind(path):
	        if it.findtext("state") in (None, "available", "pending"):
	            left.append(f + ": " + (it.findtext("groupName") or "?"))
	for what in left:
	    print(what)
	EOF
}

# test_train ARGS...: git train ARGS with its output in out and err, both
# kept in all-output too (for the checks that a secret appears nowhere)
test_train() {
	git train "$@" >out 2>err
	test_train_rc=$?
	cat out err >>"$TRASH_DIRECTORY/all-output"
	return $test_train_rc
}

# test_wait_for_text <file> <regex> [<seconds>]: until the file has a line
# matching regex (30 s at most, then it says what the file has and fails)
test_wait_for_text() {
	test_wait_i=0
	until grep -q "$2" "$1" 2>/dev/null; do
		test_wait_i=$((test_wait_i + 1))
		if test $test_wait_i -gt $((${3:-30} * 10)); then
			echo >&2 "no '$2' in $1:"
			cat >&2 "$1"
			return 1
		fi
		sleep 0.1
	done
}
