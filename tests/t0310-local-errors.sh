#!/bin/sh
test_description='git train local: bad input gets a clear message, a non-zero exit, and changes nothing'
. "$(dirname "$0")/test-lib.sh"

run_id_of() {
	sed -n 's/^run \([^ :]*\): .*/\1/p' "$1"
}

# Nothing was run or recorded: no run directory, no note.
test_nothing_recorded() {
	if test -d .git/train/runs; then
		ls .git/train/runs >runs &&
		test_must_fail test -s runs || return 1
	fi
	git notes --ref=train list >notes 2>/dev/null
	test_must_fail test -s notes
}

test_expect_success 'not inside a repository' '
	mkdir outside &&
	(
		cd outside &&
		GIT_CEILING_DIRECTORIES="$TRASH_DIRECTORY" &&
		export GIT_CEILING_DIRECTORIES &&
		test_expect_code 128 git train local -- --epochs 1 2>err &&
		test_grep "^error: not a git repository" err &&
		test_grep "^hint: " err
	) &&
	test_path_is_missing outside/train &&
	test_path_is_missing .git/train
'

test_expect_success 'an unborn HEAD: nothing to train' '
	git init -q unborn &&
	(
		cd unborn &&
		test_expect_code 128 git train local 2>err &&
		test_grep "^error: HEAD has no commit yet" err &&
		test_grep "^hint: commit your training code first" err &&
		test_path_is_missing .git/train
	)
'

test_expect_success 'setup: a training repository with a few files' '
	test_make_train_repo &&
	echo "read me" >README &&
	mkdir src &&
	echo "x = 1" >src/model.py &&
	echo "just data" >data.txt &&
	cat >crash.sh <<-\EOF &&
	echo "about to crash"
	kill -9 $$
	EOF
	cat >bad-metrics.py <<-\EOF &&
	import json
	json.dump({"loss": "high", "acc": 0.5}, open("metrics.json", "w"))
	EOF
	git add README src data.txt crash.sh bad-metrics.py &&
	test_tick &&
	git commit -q -m "more files"
'

test_expect_success 'an unknown revision' '
	test_expect_code 128 git train local --rev no-such-rev 2>err &&
	test_grep "^error: bad revision .no-such-rev." err &&
	test_nothing_recorded
'

test_expect_success 'the script is not in the commit: named commit, root listing, the fix' '
	test_expect_code 128 git train local --script missing.py -- --epochs 1 >out 2>err &&
	test_grep "^error: the training script .missing.py. is not in commit $(git rev-parse --short HEAD) (more files)$" err &&
	test_grep "^hint: .*: README, bad-metrics.py, crash.sh, data.txt, src/, train.py$" err &&
	test_grep "^hint: .*git config train.script <path>" err &&
	test_must_fail test -s out &&
	test_nothing_recorded
'

test_expect_success 'train.script naming a directory is the same error' '
	test_expect_code 128 git -c train.script=src train local 2>err &&
	test_grep "^error: the training script .src. is not in commit" err &&
	test_nothing_recorded
'

test_expect_success 'the script exists in the working tree but not in the commit' '
	echo "print(1)" >new.py &&
	test_expect_code 128 git train local --script new.py 2>err &&
	rm new.py &&
	test_grep "^error: the training script .new.py. is not in commit" err &&
	test_nothing_recorded
'

test_expect_success 'words before -- are a usage error, with the fix' '
	test_expect_code 129 git train local epochs 3 2>err &&
	test_grep "^error: unexpected argument .epochs. before .--." err &&
	test_grep "^hint: arguments for the training script go after .--.: git train local -- epochs 3$" err &&
	test_nothing_recorded
'

test_expect_success '--rev with --stash, and --include-untracked alone, are usage errors' '
	test_expect_code 129 git train local --rev HEAD --stash 2>err &&
	test_grep "cannot be used together" err &&
	test_expect_code 129 git train local --include-untracked 2>err &&
	test_grep "needs --stash" err &&
	test_nothing_recorded
'

test_expect_success 'a script of an unknown kind (no extension known, no #!)' '
	test_expect_code 128 git train local --script data.txt 2>err &&
	test_grep "^error: cannot tell how to run .data.txt." err &&
	test_grep "^hint: .*git config train.interpreter" err &&
	test_nothing_recorded
'

test_expect_success 'an interpreter that does not exist' '
	test_expect_code 128 git -c train.interpreter=no-such-interpreter train local 2>err &&
	test_grep "^error: cannot run .no-such-interpreter.: No such file or directory" err &&
	test_grep "^hint: .*git config train.interpreter" err &&
	test_nothing_recorded
'

test_expect_success 'train.outputsDir outside the work directory is refused' '
	test_expect_code 128 git -c train.outputsDir=../up train local 2>err &&
	test_grep "^error: train.outputsDir must be a relative path" err &&
	test_nothing_recorded
'

# Decision: a failing train.setup fails the run. The script does not run; the
# run is recorded (note, result.json, log) as failed with the setup's exit
# status and stage=setup, and git-train exits with that status.
test_expect_success PYTHON 'a failing train.setup: recorded as failed, the script does not run' '
	test_expect_code 4 git -c train.setup="echo setting up; exit 4" train local -- --epochs 1 >out 2>err &&
	test_must_fail test -s out &&
	test_grep "^setting up$" err &&
	id=$(run_id_of err) &&
	test_grep "^run $id failed (setup exit 4)" err &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .* status=failed exit=4 " note &&
	test_grep "stage=setup" note &&
	dir=.git/train/runs/$id &&
	echo "setting up" >expect &&
	test_cmp expect $dir/log &&
	test_path_is_missing $dir/outputs/model.txt &&
	python3 -c "import json, sys; r = json.load(open(sys.argv[1])); assert r[\"status\"] == \"failed\" and r[\"exit_code\"] == 4, r" $dir/result.json
'

test_expect_success 'a script killed by a signal: 128+N, recorded as failed' '
	test_expect_code 137 git train local --script crash.sh >out 2>err &&
	test_grep "^about to crash$" out &&
	id=$(run_id_of err) &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .* status=failed exit=137 " note
'

test_expect_success PYTHON 'metrics.json values that are not numbers: a warning, the rest kept' '
	git train local --script bad-metrics.py >out 2>err &&
	test_grep "^warning: .*loss" err &&
	id=$(run_id_of err) &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*metric.acc=0.5" note &&
	test_grep ! "^$id .*metric.loss" note
'

# Decision: a bare repository has no working tree to warn about but has
# commits to run; the run lives under <bare>/train/runs/ and the note's log
# path is absolute. --stash needs a working tree and is refused.
test_expect_success PYTHON 'a bare repository: the run works, under <bare>/train/runs' '
	git clone -q --bare . bare.git &&
	(
		cd bare.git &&
		git train local -- --epochs 2 >out 2>err &&
		test_grep "^epoch 2/2 loss=0.2500$" out &&
		test_grep ! "^warning" err &&
		id=$(run_id_of err) &&
		test_path_is_file train/runs/$id/log &&
		test_path_is_file train/runs/$id/outputs/model.txt &&
		git notes --ref=train show HEAD >note &&
		test_grep "^$id .*status=succeeded" note &&
		test_grep " log=$(pwd)/train/runs/$id/log" note
	)
'

test_expect_success 'a bare repository: --stash is refused' '
	(
		cd bare.git &&
		test_expect_code 128 git train local --stash 2>err &&
		test_grep "^error: " err
	)
'

test_done
