#!/bin/sh
test_description='the pre-push hook smoke-trains what is pushed, once per tree'
. "$(dirname "$0")/test-lib.sh"

zeros=0000000000000000000000000000000000000000

# All the smoke lines in the notes, however many commits they are on.
smoke_note_lines() {
	git notes --ref=train list | while read -r blob commit; do
		git cat-file blob "$blob"
	done | grep "smoke=1" | wc -l
}

# A train.py that fails (exit 3) after saying why.
break_training() {
	printf 'print("about to fail", flush=True)\nraise SystemExit(3)\n' >broken.py &&
	cat broken.py train.py >new.py && mv new.py train.py && rm broken.py &&
	git add train.py && test_tick && git commit -q -m "$1"
}

test_expect_success PYTHON 'setup: a training repository, a bare remote, the hook' '
	test_make_train_repo &&
	git init -q --bare remote.git &&
	git remote add origin remote.git &&
	git config train.smoke.args "--epochs 2" &&
	git train hooks install >out &&
	test_grep "installed the pre-push hook: .*/.git/hooks/pre-push" out &&
	test -x .git/hooks/pre-push &&
	test_cmp "$SRCDIR/contrib/hooks/pre-push" .git/hooks/pre-push
'

test_expect_success PYTHON 'a commit whose smoke run fails is not pushed; the log tail and rerun command are shown' '
	break_training "break training" &&
	test_must_fail git push origin main 2>err &&
	short=$(git rev-parse --short HEAD) &&
	test_grep "smoke $short: running on local" err &&
	test_grep "^smoke $short failed (exit 3) in " err &&
	test_grep "^error: the smoke run of $short failed; the end of its log" err &&
	test_grep "^    about to fail$" err &&
	test_grep "^hint: rerun it: git train local --smoke --rev $(git rev-parse HEAD) -- --epochs 2$" err &&
	test_grep "git push --no-verify" err &&
	test_must_fail git --git-dir=remote.git rev-parse -q --verify refs/heads/main &&
	test "$(smoke_note_lines)" = 1
'

test_expect_success PYTHON 'the rerun command shown reruns it' '
	test_expect_code 3 git train local --smoke --rev "$(git rev-parse HEAD)" -- --epochs 2 >out 2>&1 &&
	test_grep "about to fail" out &&
	test "$(smoke_note_lines)" = 2
'

test_expect_success PYTHON 'fixing the script and pushing again succeeds; the script saw train.smoke.args' '
	git show HEAD~1:train.py >train.py &&
	git add train.py && test_tick && git commit -q -m "fix training" &&
	git push origin main 2>err &&
	short=$(git rev-parse --short HEAD) &&
	test_grep "^smoke $short passed in " err &&
	test "$(git --git-dir=remote.git rev-parse refs/heads/main)" = "$(git rev-parse HEAD)" &&
	test "$(smoke_note_lines)" = 3 &&
	git notes --ref=train show HEAD >note &&
	test_grep "status=succeeded .*args=--epochs%202 smoke=1" note &&
	test_grep "^epoch 2/2 " .git/train/smoke/$(git rev-parse HEAD).log
'

test_expect_success PYTHON 'the same tree again (amended message, another branch) runs nothing' '
	tree=$(git rev-parse --short HEAD^{tree}) &&
	run=$(git notes --ref=train show HEAD | cut -d" " -f1) &&
	test_tick && git commit -q --amend -m "fix training (better message)" &&
	git push -f origin main 2>err &&
	short=$(git rev-parse --short HEAD) &&
	test_grep "^smoke $short already passed (tree $tree, run $run): skipped$" err &&
	test_grep ! "running on" err &&
	test "$(git --git-dir=remote.git rev-parse refs/heads/main)" = "$(git rev-parse HEAD)" &&
	git push origin HEAD:refs/heads/copy 2>err &&
	test_grep "^smoke $short already passed (tree $tree, run $run): skipped$" err &&
	test_grep ! "running on" err &&
	test "$(smoke_note_lines)" = 3
'

test_expect_success PYTHON 'git train smoke by hand: the same check; --force runs it anyway' '
	git train smoke >out 2>err &&
	test_grep "already passed" out &&
	git train smoke --force HEAD >out 2>err &&
	test_grep "^smoke $(git rev-parse --short HEAD) passed in " out &&
	test "$(smoke_note_lines)" = 4
'

test_expect_success PYTHON 'other smoke args are another smoke run' '
	git -c train.smoke.args="--epochs 1" train smoke >out 2>err &&
	test_grep "passed in" out &&
	test "$(smoke_note_lines)" = 5
'

test_expect_success PYTHON 'a push with nothing new passes at once' '
	git push origin main 2>err &&
	test_grep "nothing new to smoke-train" err &&
	test_grep ! "running on" err &&
	echo "refs/heads/main $(git rev-parse HEAD) refs/heads/main $(git rev-parse HEAD)" |
		.git/hooks/pre-push origin remote.git 2>err &&
	test_grep "nothing new to smoke-train" err &&
	test "$(smoke_note_lines)" = 5
'

test_expect_success PYTHON 'git train notes push goes through the hook without smoke-training the notes' '
	before=$(smoke_note_lines) &&
	git train notes push origin >out 2>err || { cat out err; false; } &&
	test_grep "^pushed .* to origin" out &&
	! test_grep "smoke" err &&
	test "$(smoke_note_lines)" = "$before" &&
	test "$(git --git-dir=remote.git rev-parse refs/notes/train)" = "$(git rev-parse refs/notes/train)"
'

test_expect_success PYTHON 'git push --no-verify skips the smoke run' '
	break_training "break it again" &&
	git push --no-verify origin HEAD:refs/heads/unverified 2>err &&
	test_grep ! "smoke" err &&
	test "$(git --git-dir=remote.git rev-parse refs/heads/unverified)" = "$(git rev-parse HEAD)"
'

# Notes travel (git train notes push/pull): a clone that pulls them must not
# take another clone's smoke passes, or a collaborator's forged ones, for its
# own. Its own passes carry its seal (clone=), made lazily with its secret
# train.cloneId the first time it records one.
test_expect_success PYTHON 'the hook trusts only its own clone'"'"'s smoke passes, not pulled ones' '
	git config train.cloneId >id &&
	grep -q "^[0-9a-f]\{64\}$" id &&
	git notes --ref=train show $(git --git-dir=remote.git rev-parse main) >note &&
	test_grep "status=succeeded .*args=--epochs%202 smoke=1 clone=[0-9a-f]\{32\}$" note &&
	git clone -q remote.git pulled &&
	(
		cd pulled &&
		git config train.smoke.args "--epochs 2" &&
		git train hooks install >/dev/null &&
		git train notes pull >/dev/null &&
		test_must_fail git config train.cloneId &&
		git notes --ref=train show main >note &&
		test_grep "status=succeeded .*smoke=1 clone=" note &&
		test_tick && git commit -q --amend -m "same tree, pulled pass" &&
		short=$(git rev-parse --short HEAD) &&
		git push origin HEAD:refs/heads/pulled 2>err &&
		test_grep "^smoke $short passed in " err &&
		test_grep ! "already passed" err &&
		git config train.cloneId >id &&
		! test_cmp ../id id &&
		test_tick && git commit -q --amend -m "same tree, own pass" &&
		git push origin HEAD:refs/heads/pulled-again 2>err &&
		test_grep "^smoke $(git rev-parse --short HEAD) already passed" err &&
		pass=$(git notes --ref=train show main | grep "status=succeeded .*smoke=1 clone=" | head -n 1) &&
		break_training "broken, with forged passes" &&
		short=$(git rev-parse --short HEAD) &&
		git notes --ref=train add -m "$pass" HEAD &&
		git notes --ref=train append -m "$(date -u +%Y%m%d-%H%M%S)-$short-beef backend=local status=succeeded exit=0 args=--epochs%202 smoke=1 clone=0123456789abcdef0123456789abcdef" HEAD &&
		test_must_fail git push origin HEAD:refs/heads/forged 2>err &&
		test_grep "^smoke $short failed (exit 3) in " err &&
		test_must_fail git --git-dir=../remote.git rev-parse -q --verify refs/heads/forged
	)
'

test_expect_success PYTHON 'deleting a remote branch passes at once' '
	git push origin :refs/heads/unverified 2>err &&
	test_grep "nothing new to smoke-train" err &&
	test_must_fail git --git-dir=remote.git rev-parse -q --verify refs/heads/unverified &&
	printf "(delete) $zeros refs/heads/copy $(git rev-parse HEAD)\n" |
		.git/hooks/pre-push origin remote.git 2>err &&
	test_grep "nothing new to smoke-train" err &&
	printf "(delete) 0000000000000000000000000000000000000000000000000000000000000000 refs/heads/copy $(git rev-parse HEAD)\n" |
		.git/hooks/pre-push origin remote.git 2>err &&
	test_grep "nothing new to smoke-train" err
'

test_expect_success PYTHON 'a tag of a tree has nothing to train: it passes' '
	git tag tree-tag HEAD^{tree} &&
	git push origin refs/tags/tree-tag 2>err &&
	test_grep "^smoke $(git rev-parse tree-tag) skipped (not a commit)$" err &&
	test_grep ! "running on" err
'

test_expect_success PYTHON 'train.smoke.skip=true lets it through, and says so' '
	git -c train.smoke.skip=true push origin HEAD:refs/heads/skipped 2>err &&
	test_grep "smoke run skipped: train.smoke.skip is true" err &&
	test_grep ! "running on" err &&
	git config train.smoke.skip yes &&
	git push origin HEAD:refs/heads/skipped2 2>err &&
	test_grep "smoke run skipped" err &&
	git config train.smoke.skip false &&
	test_must_fail git push origin HEAD:refs/heads/not-skipped 2>err &&
	test_grep "failed (exit 3)" err
'

test_expect_success PYTHON 'a timeout stops a hanging script and blocks the push' '
	git reset -q --hard origin/main &&
	printf "echo hanging\nsleep 4321\n" >hang.sh &&
	git add hang.sh && test_tick && git commit -q -m "hang" &&
	start=$(date +%s) &&
	test_must_fail git -c train.script=hang.sh -c train.smoke.timeout=2s \
		push origin HEAD:refs/heads/hang 2>err &&
	test $(($(date +%s) - start)) -lt 30 &&
	test_grep "^smoke $(git rev-parse --short HEAD) timed out after 2.0s$" err &&
	test_grep "^    hanging$" err &&
	! ps -eo args | grep -q "^sleep 4321" &&
	test_must_fail git --git-dir=remote.git rev-parse -q --verify refs/heads/hang &&
	git notes --ref=train show HEAD >note &&
	test_grep ! "status=succeeded" note
'

test_expect_success 'not set up: no training script fails the push, saying how to configure it' '
	git init -q bare-project &&
	git init -q --bare bare-project-remote.git &&
	(
		cd bare-project &&
		git remote add origin ../bare-project-remote.git &&
		test_commit readme README.md &&
		git train hooks install >/dev/null &&
		test_must_fail git push origin main 2>err &&
		test_grep "^error: cannot smoke-train .*: the training script .train.py. is not in commit" err &&
		test_grep "^hint: .*git config train.script <path>" err &&
		test_grep "^hint: .*git config train.smoke.skip true" err &&
		test_grep "^hint: .*git config train.smoke.required false" err &&
		git config train.smoke.required false &&
		git push origin main 2>err &&
		test_grep "^warning: not smoke-training" err &&
		test_grep "skipped (not set up)" err
	)
'

test_expect_success 'hooks install refuses someone else'\''s pre-push hook, saying the ways out' '
	git init -q foreign &&
	printf "#!/bin/sh\necho foreign\n" >foreign/.git/hooks/pre-push &&
	chmod +x foreign/.git/hooks/pre-push &&
	cp foreign/.git/hooks/pre-push expect &&
	(cd foreign && test_expect_code 1 git train hooks install >../out 2>../err) &&
	test_grep "is another pre-push hook, not git-train.s: not replacing it" err &&
	test_grep "git train hooks install --chain" err &&
	test_grep "rm .*pre-push" err &&
	test_cmp expect foreign/.git/hooks/pre-push &&
	test_path_is_missing foreign/.git/hooks/pre-push.chained &&
	(cd foreign && test_expect_code 1 git train hooks uninstall 2>../err) &&
	test_cmp expect foreign/.git/hooks/pre-push
'

test_expect_success PYTHON 'hooks install --chain: the other hook runs first, with the same input, and can stop the push' '
	cat >.git/hooks/pre-push <<-\EOF &&
	#!/bin/sh
	echo "other hook: $1 $2" >&2
	cat >other-hook.stdin
	exit $(cat other-hook.exit)
	EOF
	chmod +x .git/hooks/pre-push &&
	cp .git/hooks/pre-push other-hook &&
	git train hooks install --chain >out &&
	test_grep "kept the existing pre-push hook as .*/pre-push.chained" out &&
	test_cmp other-hook .git/hooks/pre-push.chained &&
	test_cmp "$SRCDIR/contrib/hooks/pre-push" .git/hooks/pre-push &&
	git reset -q --hard origin/main &&
	echo 1 >other-hook.exit &&
	test_must_fail git push origin HEAD:refs/heads/chained 2>err &&
	test_grep "other hook: origin remote.git" err &&
	test_grep "the chained pre-push hook .* failed (exit 1)" err &&
	test_grep ! "smoke" err &&
	echo "HEAD $(git rev-parse HEAD) refs/heads/chained $zeros" >expect &&
	test_cmp expect other-hook.stdin &&
	echo 0 >other-hook.exit &&
	git push origin HEAD:refs/heads/chained 2>err &&
	test_grep "other hook: origin" err &&
	test_grep "already passed" err &&
	test_cmp expect other-hook.stdin
'

test_expect_success 'hooks install again: up to date; uninstall puts the other hook back' '
	git train hooks install >out &&
	test_grep "already up to date" out &&
	git train hooks install --chain >out &&
	test_grep "already up to date" out &&
	git train hooks uninstall >out &&
	test_grep "the one it ran first is back" out &&
	test_cmp other-hook .git/hooks/pre-push &&
	test_path_is_missing .git/hooks/pre-push.chained &&
	rm .git/hooks/pre-push &&
	git train hooks uninstall >out &&
	test_grep "no pre-push hook in" out
'

test_expect_success 'hooks install --chain refuses when pre-push.chained is taken' '
	cp other-hook .git/hooks/pre-push &&
	cp other-hook .git/hooks/pre-push.chained &&
	test_expect_code 1 git train hooks install --chain 2>err &&
	test_grep "cannot chain .*pre-push.chained. already exists" err &&
	test_cmp other-hook .git/hooks/pre-push &&
	rm .git/hooks/pre-push .git/hooks/pre-push.chained
'

test_expect_success PYTHON 'hooks install honours core.hooksPath, relative to the top of the work tree' '
	git config core.hooksPath my-hooks &&
	mkdir -p sub &&
	(cd sub && git train hooks install >../out) &&
	test_grep "installed the pre-push hook: .*/my-hooks/pre-push" out &&
	test -x my-hooks/pre-push &&
	test_path_is_missing sub/my-hooks &&
	test_path_is_missing .git/hooks/pre-push &&
	break_training "broken under hooksPath" &&
	test_must_fail git push origin HEAD:refs/heads/hookspath 2>err &&
	test_grep "failed (exit 3)" err
'

test_expect_success 'hooks install expands ~ in core.hooksPath' '
	git -c core.hooksPath="~/home-hooks" train hooks install >out &&
	test_grep "installed the pre-push hook: $HOME/home-hooks/pre-push" out &&
	test -x "$HOME/home-hooks/pre-push"
'

test_expect_success 'hooks: usage errors' '
	test_expect_code 129 git train hooks >out 2>err &&
	test_grep "install or uninstall" err &&
	test_expect_code 129 git train hooks instal 2>err &&
	test_grep "unknown hooks command .instal." err &&
	test_expect_code 129 git train hooks uninstall --chain 2>err
'

test_expect_success PYTHON,TTY 'on a terminal, a smoke run shows it is alive: time so far and its latest output' '
	cat >slow.py <<-\EOF &&
	import time
	for i in range(3):
	    print(f"step {i} of a slow smoke run", flush=True)
	    time.sleep(1)
	EOF
	git add slow.py && test_tick && git commit -q -m "slow smoke" &&
	script -qec "git -c train.script=slow.py train smoke" /dev/null </dev/null >tty.out &&
	test_grep "smoke $(git rev-parse --short HEAD): [12]\.[0-9]*s  step [0-2] of a slow smoke run" tty.out &&
	test_grep "passed in " tty.out &&
	git -c train.script=slow.py train smoke >plain.out 2>plain.err &&
	test_grep ! "step" plain.err
'

# The smoke run on EC2: moto and the fake, which runs the runner in a sandbox
# standing in for the instance (see t0610-train-ec2.sh).
test_start_ec2

test_expect_success EC2 'train.smoke.backend=t3.micro: the smoke run goes to EC2, and counts once' '
	test_setup_train_account train-bucket train-role train-profile &&
	git init -q ec2 &&
	git init -q --bare ec2-remote.git &&
	(
		cd ec2 &&
		test_make_train_repo &&
		git remote add origin ../ec2-remote.git &&
		git config train.bucket train-bucket &&
		git config train.instanceProfile train-profile &&
		git config train.smoke.backend t3.micro &&
		git config train.smoke.args "--epochs 2" &&
		git train hooks install >/dev/null &&
		git push origin main 2>err &&
		short=$(git rev-parse --short HEAD) &&
		test_grep "^smoke $short: running on t3.micro" err &&
		test_grep "^smoke $short passed in " err &&
		git notes --ref=train show HEAD >note &&
		test_grep " backend=t3.micro status=succeeded .*smoke=1" note &&
		test_grep "args=--epochs%202" note &&
		test_grep "^epoch 2/2 " .git/train/smoke/$(git rev-parse HEAD).log &&
		git push origin HEAD:refs/heads/again 2>err &&
		test_grep "^smoke $short already passed" err &&
		test_line_count = 1 note
	)
'

test_done
