#!/bin/sh
# Preemption as the client follows it (issue 13): a run whose spot instance
# is stopped by an interruption waits for capacity, and `status` says so;
# `--wait` follows it across the restart to its end; when no capacity comes
# back within train.resumeTimeout, the attached client moves the run to
# another zone with the same run id, its old request cancelled and its old
# instance terminated; the note counts the attempts, the time lost and the
# cost of them all.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

# instance_state <id>: the instance's state, as moto and the fake say it
instance_state() {
	test_aws_call ec2 DescribeInstances InstanceId.1="$1" >di.xml &&
	test_xml ".//instanceState/name" <di.xml | head -n 1
}

# instance_of FILE: the first instance the summary names
instance_of() {
	sed -n "s/.* instance \(i-[0-9a-f]*\) in .*/\1/p" "$1" | head -n 1
}

s3_get() {
	test_aws_call s3 --path "/train-bucket/$1" -o "$2"
}

runs_key() {
	echo "git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs"
}

# ckpt.py N: N steps, a checkpoint at each. Its first attempt stops at step
# 4 and waits to be interrupted: the tests interrupt it once they see step 3,
# and a client's copy of the log lags the instance by seconds on a loaded
# machine, so a first attempt that went on could end the run within the
# interruption's grace (the runner then ends it as succeeded, or is stopped
# while it uploads the result) and there would be nothing to follow across.
test_expect_success EC2 'setup: an account, a script that checkpoints every step' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	git config train.checkpointInterval 1s &&
	cat >ckpt.py <<-\PY &&
	import os, sys, time
	d = os.environ["GIT_TRAIN_CHECKPOINT_DIR"]
	path = os.path.join(d, "step")
	step = int(open(path).read()) if os.path.exists(path) else 0
	att = os.environ["GIT_TRAIN_ATTEMPT"]
	print(f"attempt {att} from step {step}", flush=True)
	while step < int(sys.argv[1]):
	    if att == "1" and step == 4:
	        time.sleep(3600)
	    step += 1
	    print(f"step {step}", flush=True)
	    with open(path + ".tmp", "w") as f:
	        f.write(str(step))
	    os.rename(path + ".tmp", path)
	    time.sleep(0.4)
	print(f"done at step {step}", flush=True)
	PY
	git add ckpt.py &&
	git commit -q -m "a script that checkpoints"
'

test_expect_success EC2 '--wait across a restart in place: status says preempted and waiting, the log goes on, the note counts both attempts' '
	test_fake_settings "{\"interrupt_grace\": 8}" || exit 1
	rm -f out err
	git-train t3.micro --wait --script ckpt.py -- 10 >out 2>err &
	pid=$! &&
	test_wait_for_text out "^step 3$" 60 &&
	iid=$(instance_of out) &&
	id=$(test_run_id_of out) &&
	test_fake_interrupt "$iid" null || exit 1
	git train logs -f "$id" >logs.out 2>logs.err &
	logs=$! &&
	test_wait_for_text err "preempted (attempt 1), waiting for capacity since [0-9][0-9]:[0-9][0-9]" 60 &&
	test_wait_for_text logs.err "^run $id preempted (attempt 1), waiting for capacity since " 60 &&
	git train status >status &&
	test_grep "$id .*preempted (attempt 1, waiting for capacity since [0-9][0-9]:[0-9][0-9])" status &&
	test_fake_restart "$iid" &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 0 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "capacity came back: $iid runs again (attempt 2)" err &&
	test_grep ! "moving run" err &&
	test_grep "^git-train: --- attempt 2" out &&
	test_grep "^attempt 2 from step [1-9]" out &&
	test_grep "^done at step 10$" out &&
	{ wait $logs; rc=$?; } &&
	{ test $rc = 0 || { echo "logs -f: exit $rc"; cat logs.err; false; }; } &&
	test_grep "^run $id preempted (attempt 1), waiting for capacity since [0-9:]* (moving elsewhere in " logs.err &&
	test_grep "^capacity came back: $iid runs again (attempt 2)" logs.err &&
	test_grep "^git-train: --- attempt 2" logs.out &&
	test_grep "^done at step 10$" logs.out &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*status=succeeded" note &&
	test_grep "^$id .* attempts=2\( \|$\)" note &&
	test_grep "^$id .* lost=[0-9][0-9]*s\( \|$\)" note &&
	test_grep "^$id .* cost=[0-9.][0-9.]* " note &&
	test_nothing_left
'

test_expect_success EC2 '--wait, no capacity within train.resumeTimeout: moved to another zone, same run id, old request cancelled, old instance terminated' '
	git config train.resumeTimeout 3s &&
	rm -f out err
	git-train t3.micro --wait --script ckpt.py -- 12 >out 2>err &
	pid=$! &&
	test_wait_for_text out "^step 3$" 60 &&
	iid=$(instance_of out) &&
	id=$(test_run_id_of out) &&
	az=$(sed -n "s/.* instance $iid in \([a-z0-9-]*\).*/\1/p" out | head -n 1) &&
	test_fake_interrupt "$iid" null &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 0 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "no capacity came back in $az for .*: moving run $id to another zone" err &&
	test_grep "terminated $iid (moved elsewhere)" err &&
	new=$(sed -n "s/^.*instance \(i-[0-9a-f]*\) is ready: .* in \([a-z0-9-]*\); run $id continues there/\1 \2/p" err) &&
	test -n "$new" &&
	test "${new% *}" != "$iid" &&
	test "${new#* }" != "$az" &&
	test_grep "^attempt 2 from step [1-9]" out &&
	test_grep "^done at step 12$" out &&
	test "$(instance_state "$iid")" = terminated &&
	test "$(test_fake_spot_request "$iid" state)" = cancelled &&
	s3_get "$(runs_key)/$id/run.json" run.json &&
	test_json "len(d[\"instances\"])" <run.json >n &&
	echo 2 >expect &&
	test_cmp expect n &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*status=succeeded" note &&
	test_grep "^$id .* attempts=2\( \|$\)" note &&
	test_nothing_left
'

test_expect_success EC2 'git train resume of a run waiting for capacity: moved elsewhere past train.resumeTimeout, its log from the start, the run'"'"'s exit status' '
	test_train t3.micro --script ckpt.py -- 10 &&
	id=$(test_run_id_of out) &&
	iid=$(instance_of out) &&
	until s3_get "$(runs_key)/$id/log" log 2>/dev/null && grep -q "^step 3$" log; do
		sleep 0.2
	done &&
	test_fake_interrupt "$iid" null &&
	git -c train.script=ckpt.py train resume "$id" >out 2>err &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	test_grep "attached to run $id on $iid" err &&
	test_grep "no capacity came back in .*: moving run $id to another zone" err &&
	test_grep "^step 1$" out &&
	test_grep "^git-train: --- attempt 2" out &&
	test_grep "^done at step 10$" out &&
	test_grep "run $id succeeded" err &&
	test "$(instance_state "$iid")" = terminated &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*status=succeeded" note &&
	test_grep "^$id .* attempts=2\( \|$\)" note &&
	test_must_fail git train resume "$id" 2>err &&
	test_grep "run $id has ended (succeeded): there is nothing to resume" err &&
	test_grep "git train t3.micro --resume-from $id" err &&
	test_nothing_left
'

test_done
