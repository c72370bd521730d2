#!/bin/sh
test_description='git train local: runs the committed code, streams it, records it'
. "$(dirname "$0")/test-lib.sh"

# The run id git-train announced on stderr ("run <id>: <sha> <subject> (local)").
run_id_of() {
	sed -n 's/^run \([^ :]*\): .*/\1/p' "$1"
}

# The note line of one run, from the notes as git shows them.
note_line_of() {
	git notes --ref=train show "${2:-HEAD}" | grep "^$1 "
}

# Waits (up to 20 s) until file $1 contains $2.
wait_for_line() {
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		test $i -le 200 || { echo >&2 "timed out waiting for '$2' in $1"; return 1; }
		sleep 0.1
	done
}

# Starts git-train in its own process group with SIGINT at its default (a
# shell without job control starts background commands with SIGINT ignored).
# Only for use with "&": it replaces the background subshell, so that $! is
# the pid of git (or git-train) itself.
start_own_group() {
	exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

test_expect_success PYTHON 'setup: a training repository' '
	test_make_train_repo &&
	git rev-parse HEAD >train-commit
'

test_expect_success PYTHON 'the epochs go to stdout in order, and it exits 0' '
	git train local -- --epochs 3 >out 2>err &&
	cat >expect <<-\EOF &&
	epoch 1/3 loss=0.5000
	epoch 2/3 loss=0.2500
	epoch 3/3 loss=0.1250
	EOF
	test_cmp expect out &&
	id=$(run_id_of err) &&
	test -n "$id" &&
	echo "$id" >first-run &&
	test_grep "^run $id: $(git rev-parse --short HEAD) training script (local)$" err &&
	test_grep "^run $id succeeded in .*: loss=0.125 epochs=3$" err
'

test_expect_success PYTHON 'the note on the commit records the run and its metrics' '
	id=$(cat first-run) &&
	git log --notes=train -1 >log &&
	test_grep "^    $id backend=local status=succeeded exit=0 " log &&
	test_grep "metric.loss=0.125" log &&
	note_line_of "$id" >line &&
	test_grep " log=.git/train/runs/$id/log\( \|$\)" line
'

test_expect_success PYTHON 'the run directory keeps the log, result, outputs and archive' '
	id=$(cat first-run) &&
	dir=.git/train/runs/$id &&
	test_grep "^epoch 3/3 loss=0.1250$" $dir/log &&
	test_line_count = 3 $dir/log &&
	echo "weights after 3 epochs" >expect &&
	test_cmp expect $dir/outputs/model.txt &&
	tar tzf $dir/code.tar.gz >listing &&
	test_grep "^train.py$" listing &&
	test_path_is_missing $dir/work &&
	python3 - "$dir/result.json" "$id" "$(cat train-commit)" <<-\EOF
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["id"] == sys.argv[2], r
	assert r["commit"] == sys.argv[3], r
	assert r["parent"] is None, r
	assert r["backend"] == "local" and r["status"] == "succeeded", r
	assert r["exit_code"] == 0, r
	assert r["metrics"] == {"loss": 0.125, "epochs": 3}, r
	assert r["args"] == ["--epochs", "3"], r
	assert r["start"] <= r["end"] and r["duration_seconds"] >= 0, r
	EOF
'

test_expect_success PYTHON 'a failing script: its exit code, and the note says failed' '
	test_expect_code 3 git train local -- --fail 3 >out 2>err &&
	id=$(run_id_of err) &&
	note_line_of "$id" >line &&
	test_grep " status=failed exit=3 " line &&
	test_grep "^run $id failed (exit 3)" err &&
	test $(git notes --ref=train show HEAD | wc -l) = 2
'

test_expect_success PYTHON 'setup: helper scripts' '
	cat >args.py <<-\EOF &&
	import json, sys
	print(json.dumps(sys.argv[1:]))
	EOF
	cat >streams.sh <<-\EOF &&
	echo to-out
	echo to-err >&2
	EOF
	cat >live.py <<-\EOF &&
	import os, sys, time
	print("first line")
	deadline = time.time() + 20
	while not os.path.exists(os.environ["GATE"]):
	    if time.time() > deadline:
	        sys.exit("timed out waiting for the gate")
	    time.sleep(0.05)
	print("second line")
	EOF
	cat >stubborn.sh <<-\EOF &&
	trap "" INT
	echo sleeping
	exec sleep 30
	EOF
	cat >sleeper.py <<-\EOF &&
	import sys, time
	try:
	    print("sleeping")
	    time.sleep(30)
	    print("woke up")
	except KeyboardInterrupt:
	    if sys.argv[1:] != ["--checkpoint"]:
	        raise
	    print("saving a checkpoint")
	    time.sleep(1)
	    print("checkpoint saved")
	    sys.exit(1)
	EOF
	echo "echo this is other.sh" >other.sh &&
	echo "echo this is third.sh" >third.sh &&
	cat >hello.sh <<-\EOF &&
	echo "sh says $1"
	EOF
	cat >run.txt <<-\EOF &&
	echo "ran $1"
	EOF
	printf "#!/bin/sh\necho \"shebang says \$1\"\n" >tool &&
	cat >env.sh <<-\EOF &&
	echo "id=$GIT_TRAIN_RUN_ID"
	echo "commit=$GIT_TRAIN_COMMIT"
	echo "outputs=$GIT_TRAIN_OUTPUTS"
	echo "unbuffered=$PYTHONUNBUFFERED"
	echo "git_dir=${GIT_DIR-unset}"
	echo "pwd=$(pwd)"
	test -d "$GIT_TRAIN_OUTPUTS" && echo "outputs exists"
	if git rev-parse --git-dir >/dev/null 2>&1; then echo "git sees a repo"; else echo "git sees no repo"; fi
	EOF
	echo v1 >version.txt &&
	echo "echo version \$(cat version.txt)" >version.sh &&
	git add args.py streams.sh live.py stubborn.sh sleeper.py other.sh third.sh hello.sh \
		run.txt tool env.sh version.txt version.sh &&
	test_tick &&
	git commit -q -m "helpers, version 1" &&
	echo v2 >version.txt &&
	git add version.txt &&
	test_tick &&
	git commit -q -m "version 2" &&
	git status --porcelain --untracked-files=no >status &&
	test_must_fail test -s status
'

test_expect_success PYTHON 'script arguments reach the script byte for byte' '
	git train local --script args.py -- "two words" "it'\''s" "say \"hi\"" \
		"\$(touch pwned)" "*" "line1
line2" "" "-x" "--" "back\\slash" "	tab" >out 2>err &&
	python3 - out <<-\EOF &&
	import json, sys
	got = json.loads(open(sys.argv[1]).read())
	want = ["two words", "it\x27s", "say \"hi\"", "$(touch pwned)", "*",
	        "line1\nline2", "", "-x", "--", "back\\slash", "\ttab"]
	assert got == want, (got, want)
	EOF
	id=$(run_id_of err) &&
	python3 -c "import json, sys; assert json.load(open(sys.argv[1]))[\"args\"][5] == \"line1\nline2\"" \
		.git/train/runs/$id/result.json &&
	find . -name pwned >found &&
	test_must_fail test -s found
'

test_expect_success PYTHON 'the script sees its run id, commit, outputs dir, and no GIT_DIR' '
	GIT_DIR=.git git train local --script env.sh --keep-workdir >out 2>err &&
	id=$(run_id_of err) &&
	dir=$(cd .git/train/runs/$id && pwd) &&
	test_grep "^id=$id$" out &&
	test_grep "^commit=$(git rev-parse HEAD)$" out &&
	test_grep "^outputs=$dir/work/outputs$" out &&
	test_grep "^pwd=$dir/work$" out &&
	test_grep "^outputs exists$" out &&
	test_grep "^unbuffered=1$" out &&
	test_grep "^git_dir=unset$" out &&
	test_grep "^git sees no repo$" out &&
	test_path_is_file $dir/work/env.sh
'

test_expect_success PYTHON 'stdout goes to stdout, stderr to stderr, both to the log' '
	git train local --script streams.sh >out 2>err &&
	echo to-out >expect &&
	test_cmp expect out &&
	test_grep "^to-err$" err &&
	id=$(run_id_of err) &&
	test_grep "^to-out$" .git/train/runs/$id/log &&
	test_grep "^to-err$" .git/train/runs/$id/log
'

test_expect_success PYTHON 'train.setup runs first, in the work directory, output on stderr' '
	test_config_setup="echo preparing; pwd >outputs/setup-pwd; echo ready >data.txt" &&
	git -c train.setup="$test_config_setup" train local --script version.sh >out 2>err &&
	id=$(run_id_of err) &&
	dir=$(cd .git/train/runs/$id && pwd) &&
	echo "version v2" >expect &&
	test_cmp expect out &&
	test_grep "^preparing$" err &&
	echo "$dir/work" >expect &&
	test_cmp expect $dir/outputs/setup-pwd &&
	printf "preparing\nversion v2\n" >expect &&
	test_cmp expect $dir/log
'

test_expect_success PYTHON '--setup overrides train.setup' '
	git -c train.setup="echo from-config" train local --setup "echo from-flag" \
		--script version.sh >out 2>err &&
	test_grep "^from-flag$" err &&
	test_grep ! "from-config" err
'

test_expect_success PYTHON 'train.script, git -c train.script and --script, in that order' '
	git config train.script other.sh &&
	git train local >out 2>err &&
	echo "this is other.sh" >expect &&
	test_cmp expect out &&
	git -c train.script=third.sh train local >out 2>err &&
	echo "this is third.sh" >expect &&
	test_cmp expect out &&
	git -c train.script=third.sh train local --script ./version.sh >out 2>err &&
	echo "version v2" >expect &&
	test_cmp expect out &&
	git config --unset train.script
'

test_expect_success 'train.interpreter is split on white space' '
	git -c train.interpreter="sh -x" train local --script run.txt -- arg >out 2>err &&
	echo "ran arg" >expect &&
	test_cmp expect out &&
	test_grep "^+ echo ran arg$" err
'

test_expect_success 'a .sh script runs with sh' '
	git train local --script hello.sh -- "a b" >out 2>err &&
	echo "sh says a b" >expect &&
	test_cmp expect out
'

test_expect_success 'a script with a #! line and no extension runs by itself' '
	test "$(git ls-tree HEAD tool | cut -c1-6)" = 100644 &&
	git train local --script tool -- x >out 2>err &&
	echo "shebang says x" >expect &&
	test_cmp expect out
'

test_expect_success PYTHON '--rev runs the old code, and the note goes on that commit' '
	git train local --rev HEAD~1 --script version.sh >out 2>err &&
	echo "version v1" >expect &&
	test_cmp expect out &&
	id=$(run_id_of err) &&
	note_line_of "$id" HEAD~1 &&
	test_must_fail note_line_of "$id" HEAD
'

test_expect_success PYTHON 'uncommitted changes: a warning, and they are not in the run' '
	echo dirty >version.txt &&
	echo "# edited" >>other.sh &&
	git train local --script version.sh >out 2>err &&
	git checkout -- version.txt other.sh &&
	echo "version v2" >expect &&
	test_cmp expect out &&
	test_grep "^warning: 2 changed files are not part of this run (it uses commit $(git rev-parse --short HEAD))$" err &&
	test_grep "^hint: commit them, or run the working tree with --stash" err
'

test_expect_success PYTHON '--stash runs the working tree and records the parent' '
	echo dirty >version.txt &&
	git status --porcelain --untracked-files=no >status.before &&
	git train local --stash --script version.sh >out 2>err &&
	git status --porcelain --untracked-files=no >status.after &&
	git checkout -- version.txt &&
	test_cmp status.before status.after &&
	echo "version dirty" >expect &&
	test_cmp expect out &&
	test_grep ! "^warning" err &&
	id=$(run_id_of err) &&
	snapshot=$(python3 -c "import json, sys; print(json.load(open(sys.argv[1]))[\"commit\"])" \
		.git/train/runs/$id/result.json) &&
	python3 -c "import json, sys; assert json.load(open(sys.argv[1]))[\"parent\"] == sys.argv[2]" \
		.git/train/runs/$id/result.json "$(git rev-parse HEAD)" &&
	test "$(git rev-parse $snapshot^)" = "$(git rev-parse HEAD)" &&
	note_line_of "$id" $snapshot >line &&
	test_grep " parent=$(git rev-parse HEAD)" line
'

test_expect_success PYTHON 'a clean working tree: no warning' '
	git train local --script version.sh >out 2>err &&
	test_grep ! "^warning" err
'

test_expect_success PYTHON 'output is streamed live, not kept until the script ends' '
	rm -f gate &&
	GATE="$PWD/gate" git train local --script live.py >live.out 2>live.err &
	pid=$! &&
	wait_for_line live.out "^first line$" &&
	touch gate &&
	wait $pid &&
	printf "first line\nsecond line\n" >expect &&
	test_cmp expect live.out
'

test_expect_success PYTHON 'Ctrl-C (SIGINT to the process group): exit 130, interrupted, log kept' '
	start_own_group git train local --script sleeper.py >int.out 2>int.err &
	pid=$! &&
	wait_for_line int.out "^sleeping$" &&
	start=$(date +%s) &&
	kill -INT -$pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 130 &&
	test $(($(date +%s) - start)) -lt 10 &&
	test_grep ! "woke up" int.out &&
	id=$(run_id_of int.err) &&
	note_line_of "$id" >line &&
	test_grep " status=interrupted " line &&
	test_grep "^sleeping$" .git/train/runs/$id/log &&
	test_grep "^run $id interrupted after" int.err
'

# (each test its own output files: a line left by the one before would be
# waited for before the background command has truncated the file)
test_expect_success PYTHON 'SIGINT sent to git-train alone is passed on to the script' '
	start_own_group git-train local --script sleeper.py >sigint.out 2>sigint.err &
	pid=$! &&
	wait_for_line sigint.out "^sleeping$" &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 130 &&
	id=$(run_id_of sigint.err) &&
	note_line_of "$id" >line &&
	test_grep " status=interrupted " line
'

test_expect_success PYTHON 'a script that ignores Ctrl-C is terminated after a grace period' '
	start_own_group git train local --script stubborn.sh >stubborn.out 2>stubborn.err &
	pid=$! &&
	wait_for_line stubborn.out "^sleeping$" &&
	start=$(date +%s) &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 130 &&
	test $(($(date +%s) - start)) -lt 20 &&
	test_grep ! "woke up" stubborn.out &&
	id=$(run_id_of stubborn.err) &&
	note_line_of "$id" >line &&
	test_grep " status=interrupted " line &&
	test_grep " exit=143 " line
'

# A real terminal: Ctrl-C reaches the whole foreground process group (git,
# git-train and the script) from the terminal, and git passes it on to
# git-train as well. The script must get it once, be left to save its
# checkpoint, and the run be recorded as interrupted.
test_expect_success PYTHON 'setup: a terminal that types Ctrl-C' '
	cat >ctrl-c-in-pty.py <<-\EOF
	import os, pty, select, sys, time
	pid, fd = pty.fork()
	if pid == 0:
	    os.execvp(sys.argv[1], sys.argv[1:])
	out, sent, deadline = b"", False, time.time() + 30
	while time.time() < deadline:
	    if select.select([fd], [], [], 0.1)[0]:
	        try:
	            data = os.read(fd, 4096)
	        except OSError:
	            break
	        if not data:
	            break
	        out += data
	    if not sent and b"sleeping" in out:
	        os.write(fd, b"\x03")
	        sent = True
	_, status = os.waitpid(pid, 0)
	code = os.waitstatus_to_exitcode(status)
	sys.stdout.write(out.decode(errors="replace").replace("\r\n", "\n"))
	print("exit=%d" % (code if code >= 0 else 128 - code))
	EOF
'

test_expect_success PYTHON 'Ctrl-C in a terminal: the script gets it once and may clean up' '
	python3 ctrl-c-in-pty.py git-train local --script sleeper.py -- --checkpoint >tty.out &&
	test_grep "^checkpoint saved$" tty.out &&
	test_grep "^exit=130$" tty.out &&
	id=$(run_id_of tty.out) &&
	note_line_of "$id" >line &&
	test_grep " status=interrupted exit=1 " line &&
	test_grep "^checkpoint saved$" .git/train/runs/$id/log
'

test_expect_success PYTHON 'Ctrl-C in a terminal under git train: the same' '
	python3 ctrl-c-in-pty.py git train local --script sleeper.py -- --checkpoint >tty-git.out &&
	test_grep "^checkpoint saved$" tty-git.out &&
	id=$(run_id_of tty-git.out) &&
	note_line_of "$id" >line &&
	test_grep " status=interrupted " line
'

test_done
