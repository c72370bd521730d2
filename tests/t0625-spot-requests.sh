#!/bin/sh
# Spot runs that can resume (issue 13), from the client's side: the launch
# makes a persistent spot request that stops its instance on an interruption,
# valid until the max runtime and tagged with the run; run.json names it;
# `git train stop` cancels it before it terminates the instance, also when
# the instance is stopped (interrupted, no capacity to restart); gc cancels
# the request of a run that has ended; --resume-from names another run's
# checkpoints, and an unknown run is refused before anything is launched.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

# instance_of FILE: the instance in the text summary
instance_of() {
	sed -n "s/.* instance \(i-[0-9a-f]*\) in .*/\1/p" "$1"
}

# sir_of <instance>: the id of the (newest) spot request that launched it
sir_of() {
	test_fake_query /__fake/spot-requests '
found = sorted((r["created"], i) for i, r in d.items() if r["instance"] == sys.argv[1])
print(found[-1][1] if found else "")' "$1"
}

# runs_key: the S3 key prefix of the runs of HEAD
runs_key() {
	echo "git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs"
}

test_expect_success EC2 'setup: a bucket, an instance profile, a script that runs a while' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	test_make_train_repo &&
	cat >slow.py <<-\PY &&
	import sys, time
	for i in range(int(sys.argv[1])):
	    print(f"step {i}", flush=True)
	    time.sleep(0.2)
	PY
	git add slow.py &&
	git commit -q -m slow
'

test_expect_success EC2 'a spot run that can resume: a persistent request that stops, valid until the max runtime, tagged; run.json names it' '
	before=$(date +%s) &&
	git config train.retryOnExit "75, 76" &&
	git config --add train.retryOnExit 3 &&
	git config train.checkpointInterval 2m &&
	test_train t3.micro --max-runtime 1h --script slow.py -- 3000 &&
	git config --unset-all train.retryOnExit &&
	git config --unset train.checkpointInterval &&
	id=$(test_run_id_of out) && echo "$id" >run1 &&
	iid=$(instance_of out) && echo "$iid" >iid1 &&
	test -n "$id" && test -n "$iid" &&
	test "$(test_fake_spot_request $iid type)" = persistent &&
	test "$(test_fake_spot_request $iid behaviour)" = stop &&
	test "$(test_fake_spot_request $iid state)" = active &&
	sir=$(sir_of $iid) && test -n "$sir" && echo "$sir" >sir1 &&
	test_fake_spot_request $iid tags >tags.json &&
	test_json "d[\"git-train:run-id\"]" <tags.json >got &&
	echo "$id" >expect &&
	test_cmp expect got &&
	test_fake_spot_request $iid valid_until >until &&
	$TEST_PYTHON -c "
import datetime
s = open(\"until\").read().strip()[:19]
t = datetime.datetime.strptime(s, \"%Y-%m-%dT%H:%M:%S\").replace(tzinfo=datetime.timezone.utc)
assert $before + 3600 - 5 <= t.timestamp() <= $before + 3600 + 120, (s, $before)
" &&
	test_aws_call s3 --path "/train-bucket/$(runs_key)/$id/run.json" -o run.json &&
	test_json "d[\"spot_request\"]" <run.json >got &&
	echo "$sir" >expect &&
	test_cmp expect got &&
	test_json "\";\".join(\" \".join((i[\"instance_id\"], i[\"market\"], i[\"spot_request\"])) for i in d[\"instances\"])" \
		<run.json >got &&
	echo "$iid spot $sir" >expect &&
	test_cmp expect got &&
	# what the runner was told (start.sh on the instance)
	find "$(test_instance_dir $iid)" -name start.sh >start &&
	test_line_count = 1 start &&
	grep "^\(SPOT_REQUEST\|MAX_INTERRUPTIONS\|CHECKPOINT_INTERVAL\|RETRY_ON_EXIT\|ATTEMPT\|RESUME_FROM_KEY\)=" \
		"$(cat start)" | tr -d "\047" | sort >got &&
	cat >expect <<-EOF &&
	ATTEMPT=1
	CHECKPOINT_INTERVAL=120
	MAX_INTERRUPTIONS=5
	RESUME_FROM_KEY=
	RETRY_ON_EXIT=75 76 3
	SPOT_REQUEST=$sir
	EOF
	test_cmp expect got &&

	test_train stop "$id" &&
	# the runner may write its result as the instance goes: either will do
	test_grep "^\(stopped $id\|$id had already finished (interrupted)\): instance $iid terminated$" out &&
	test "$(test_fake_spot_request $sir state)" = cancelled &&
	test_nothing_left
'

# launch <run-id>: an instance of a run of this repository as `git train`
# launches one, persistent, without its runner (none is needed here)
launch() {
	"$TEST_TOOL" launch --persistent --run-id="$1" --spot-price=0.0031 \
		--tag=git-train:repo="$(test_repo_id)" --tag=git-train:commit="$(git rev-parse HEAD)" \
		t3.micro >launch.out 2>launch.err &&
	sed -n "s/^instance //p" launch.out
}

# Interrupted with no capacity to come back: the instance waits, stopped, and
# its request would restart it. stop ends both, the request first.
test_expect_success EC2 'stop of an interrupted run whose instance is stopped: request cancelled, instance terminated, nothing left' '
	id=20261206-000100-abc1234-0001 &&
	iid=$(launch $id) &&
	sir=$(sir_of $iid) &&
	test -n "$sir" &&
	test_fake_interrupt $iid null &&
	test_fake_wait_instance $iid stopped 60 &&
	test "$(test_fake_spot_request $sir state)" = disabled &&
	test_train stop "$id" &&
	test_grep "^stopped $id: instance $iid terminated$" out &&
	test "$(test_fake_spot_request $sir state)" = cancelled &&
	test_nothing_left &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*status=stopped" note
'

# The request of a run whose instance is gone (terminated without the
# request cancelled, as a crash between the two would leave it) would start
# an instance nobody follows: gc cancels it, and --dry-run only says so.
test_expect_success EC2 'gc cancels the spot request of a run that has ended; --dry-run only says so' '
	id=20261206-000200-abc1234-0002 &&
	iid=$(launch $id) &&
	sir=$(sir_of $iid) &&
	test -n "$sir" &&
	MOTO_URL=$FAKE_URL test_moto ec2 TerminateInstances InstanceId.1=$iid >/dev/null &&
	test_fake_wait_instance $iid terminated 30 &&
	test "$(test_fake_spot_request $sir state)" = open &&
	test_train gc --dry-run &&
	test_grep "^would cancel spot request $sir: run $id has no instance left ($iid)$" out &&
	test "$(test_fake_spot_request $sir state)" = open &&
	test_train gc &&
	test_grep "^cancelled spot request $sir: run $id has no instance left ($iid)$" out &&
	test "$(test_fake_spot_request $sir state)" = cancelled &&
	test_nothing_left &&
	test_train gc &&
	test_grep ! "spot request" out
'

# A stopped instance waits for capacity only until its max runtime: then gc
# ends it as it ends a running one, its request cancelled first.
test_expect_success EC2 'gc: a stopped instance past its max runtime is terminated, its request cancelled first' '
	id=20261206-000300-abc1234-0003 &&
	iid=$("$TEST_TOOL" launch --persistent --run-id=$id --max-runtime=1 --spot-price=0.0031 \
		--tag=git-train:repo="$(test_repo_id)" --tag=git-train:commit="$(git rev-parse HEAD)" \
		t3.micro 2>launch.err | sed -n "s/^instance //p") &&
	sir=$(sir_of $iid) &&
	test -n "$sir" &&
	test_fake_interrupt $iid null &&
	test_fake_wait_instance $iid stopped 60 &&
	test_train gc &&
	test_grep "^removed instance $iid: run $id has run for [0-9]*s, past its max runtime of 1s$" out &&
	test_grep ! "spot request $sir" out &&
	test "$(test_fake_spot_request $sir state)" = cancelled &&
	test_nothing_left
'

test_expect_success EC2 '--resume-from an unknown run: refused before anything is launched' '
	test_fake_ctl reset &&
	test_expect_code 1 git train t3.micro --resume-from 20990101-000000-nope -- --epochs 1 \
		>out 2>err &&
	test_grep "^error: cannot resume from run .20990101-000000-nope.: no run .20990101-000000-nope. in this repository" err &&
	test_grep "^hint: nothing was launched" err &&
	test "$(test_fake_count "ec2 RunInstances")" = 0 &&
	test_nothing_left
'

# --resume-from an EC2 run: found by this clone's bucket and the run id
# (its checkpoints/ key), recorded in run.json and the note.
test_expect_success EC2 '--resume-from an EC2 run: said, in run.json, resumed_from= in the note' '
	from=$(cat run1) &&
	test_train t3.micro --wait --resume-from "$from" -- --epochs 1 &&
	test_grep "resuming from the checkpoints of run $from" err &&
	id=$(test_run_id_of out) &&
	find "$(test_instance_dir $(instance_of out))" -name start.sh >start &&
	grep "^RESUME_FROM_KEY=" "$(cat start)" | tr -d "\047" >got &&
	echo "RESUME_FROM_KEY=$(runs_key)/$from/checkpoints/" >expect &&
	test_cmp expect got &&
	test_aws_call s3 --path "/train-bucket/$(runs_key)/$id/run.json" -o run.json &&
	test_json "d[\"resumed_from\"]" <run.json >got &&
	echo "$from" >expect &&
	test_cmp expect got &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*status=succeeded.* resumed_from=$from" note &&
	# the runner cancels the request and shuts the instance down after its result
	test_fake_wait_instance "$(instance_of out)" terminated 30 &&
	test "$(test_fake_spot_request "$(instance_of out)" state)" = cancelled &&
	test_nothing_left
'

# A local run's checkpoints go to this run's own checkpoints/ in S3, which
# the runner restores from; names the script chose that could climb out of
# the directory are left behind.
test_expect_success EC2 '--resume-from a local run: its checkpoints uploaded to the run, nothing else' '
	from=20261206-001000-abc1234-0a0a &&
	dir=.git/train/runs/$from/checkpoints &&
	mkdir -p "$dir/sub" &&
	echo weights >"$dir/step-5.pt" &&
	echo more >"$dir/sub/opt.pt" &&
	ln -s /etc/passwd "$dir/link.pt" &&
	test_train t3.micro --resume-from $from --script slow.py -- 3000 &&
	test_grep "resuming from the checkpoints of local run $from (2 files)" err &&
	id=$(test_run_id_of out) &&
	test_aws_call s3 --path /train-bucket --query "list-type=2&prefix=$(runs_key)/$id/checkpoints/" \
		>list.xml &&
	test_xml Contents Key <list.xml | sed "s|.*/checkpoints/||" | sort >got &&
	printf "step-5.pt\nsub/opt.pt\n" >expect &&
	test_cmp expect got &&
	test_aws_call s3 --path "/train-bucket/$(runs_key)/$id/checkpoints/step-5.pt" -o got &&
	echo weights >expect &&
	test_cmp expect got &&
	test_aws_call s3 --path "/train-bucket/$(runs_key)/$id/run.json" -o run.json &&
	test_json "d[\"resumed_from\"]" <run.json >got &&
	echo "$from" >expect &&
	test_cmp expect got &&
	test_train stop "$id" &&
	test_nothing_left
'

# The launch runs doctor's checks: a role that could not cancel the run's
# request at its end is refused before anything is launched.
test_expect_success EC2 'a role that cannot cancel spot requests: refused before the launch, with the fix' '
	test_fake_ctl reset &&
	trust="{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": \"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}" &&
	{
		test_aws_call iam CreateRole RoleName=nospot-role AssumeRolePolicyDocument="$trust" &&
		test_aws_call iam CreateInstanceProfile InstanceProfileName=nospot-profile &&
		test_aws_call iam AddRoleToInstanceProfile InstanceProfileName=nospot-profile \
			RoleName=nospot-role &&
		test_aws_call iam PutRolePolicy RoleName=nospot-role PolicyName=git-train-agent \
			PolicyDocument="{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": [\"ssm:UpdateInstanceInformation\", \"ec2messages:*\"], \"Resource\": \"*\"}]}" &&
		test_aws_call iam PutRolePolicy RoleName=nospot-role PolicyName=git-train-bucket \
			PolicyDocument="$(test_bucket_policy train-bucket)"
	} >>setup.out &&
	test_expect_code 1 git -c train.instanceProfile=nospot-profile train t3.micro -- --epochs 1 \
		>out 2>err &&
	test_grep "^error: role spot requests: role nospot-role cannot end a run that resumes: ec2:CancelSpotInstanceRequests on " err &&
	test_grep "^hint: fix: aws iam put-role-policy --role-name nospot-role --policy-name git-train-spot " err &&
	test_grep "^hint: nothing was launched" err &&
	test "$(test_fake_count "ec2 RunInstances")" = 0
'

test_expect_success EC2 'the test secret is in no output' '
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" "$TRASH_DIRECTORY/all-output"
'

test_done
