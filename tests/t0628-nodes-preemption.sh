#!/bin/sh
# A run on several instances that can resume (issue 14), from the client's
# side: a spot --nodes 2 launch with train.maxInterruptions > 0 makes a
# persistent request per node, each in run.json, each node's runner told its
# own (node 0 the others' too) and train.resumeTimeout; a node stopped by an
# interruption with its request open makes the run wait for capacity
# (status says so); stop cancels every request before it terminates every
# instance; an attached client (--wait) moves the whole run elsewhere once
# it has waited train.resumeTimeout: every request cancelled, every instance
# terminated, two launched in another zone, two runners started at the next
# attempt. The script runs without torchrun (train.launcher none): a node
# gone does not fail the other's, so the client's part is what is seen.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

runs_key() {
	echo "git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs"
}

# run_json <run-id>: its run.json into run.json
run_json() {
	test_aws_call s3 --path "/train-bucket/$(runs_key)/$1/run.json" -o run.json
}

# command_of <instance>: the text of the SSM commands it ran (the runner's start)
command_of() {
	cat "$(test_instance_dir "$1")"/var/lib/amazon/ssm/*/document/orchestration/*/awsrunShellScript/0.awsrunShellScript/_script.sh
}

# started <instance>: what its runner was told of the run's requests and attempts
started() {
	command_of "$1" |
		grep "^\(SPOT_REQUEST\|NODE_SPOT_REQUESTS\|RESUME_TIMEOUT\|ATTEMPT\|NODE_RANK\)=" |
		tr -d "\047" | sort
}

# state_status <sir>: "<state> <status>" of a spot request
state_status() {
	echo "$(test_fake_spot_request "$1" state) $(test_fake_spot_request "$1" status)"
}

# keep_request <sir>: the runner of today ends a node's run when the node
# stops (SIGTERM: its request cancelled, its result uploaded, a shutdown);
# the runner of a run that resumes keeps the request and writes no result
# (runner.h). What the client must see is the latter: a node stopped with
# its request open and no result. So a CancelSpotInstanceRequests of that
# request alone (the node's runner's; the client cancels a run's requests in
# one call, node 0's first) hangs until the instance's processes are killed,
# a second after the stop: the runner gets no further.
keep_request() {
	test_fake_ctl rules "[{\"fault\": \"slow\", \"delay\": 300,
		\"service\": \"ec2\", \"action\": \"CancelSpotInstanceRequests\",
		\"params\": {\"SpotInstanceRequestId.1\": \"$1\",
			\"SpotInstanceRequestId.2\": null}}]"
}

# steps.py N: N steps; attempt 1 stops at step 4 and waits there (to be
# interrupted), a later attempt goes to the end
test_expect_success EC2 'setup: an account, a script that runs on every node without torchrun' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	git config train.launcher none &&
	cat >steps.py <<-\PY &&
	import os, sys, time
	att = os.environ.get("GIT_TRAIN_ATTEMPT", "?")
	rank = os.environ.get("RANK")
	print(f"rank {rank} attempt {att}", flush=True)
	for step in range(1, int(sys.argv[1]) + 1):
	    if att == "1" and step == 4:
	        time.sleep(3600)
	    print(f"step {step}", flush=True)
	    time.sleep(0.2)
	print(f"done at step {step}", flush=True)
	PY
	git add steps.py &&
	git commit -q -m "a script for every node" &&
	# a node stopped at once: its runner has no time to end the run, its request stays
	test_fake_settings "{\"interrupt_grace\": 0}"
'

test_expect_success EC2 '--nodes 2, spot, maxInterruptions > 0: a persistent request per node, in run.json, each runner told its own' '
	git config train.resumeTimeout 7m &&
	test_train t3.micro --nodes 2 --script steps.py -- 10 &&
	id=$(test_run_id_of out) && echo "$id" >run1 &&
	test -n "$id" &&
	run_json "$id" &&
	test_json "\" \".join(d[\"node_instances\"])" <run.json >iids &&
	read -r i0 i1 <iids &&
	test_json "\" \".join(d[\"node_spot_requests\"])" <run.json >sirs &&
	read -r s0 s1 <sirs &&
	test_json "d[\"spot_request\"]" <run.json >got &&
	echo "$s0" >expect &&
	test_cmp expect got &&
	# each the request that launched its node: persistent, stops, tagged with the run
	for n in 0 1; do
		eval "iid=\$i$n sir=\$s$n" &&
		test "$(test_fake_spot_request $sir instance)" = "$iid" &&
		test "$(test_fake_spot_request $sir type)" = persistent &&
		test "$(test_fake_spot_request $sir behaviour)" = stop &&
		test "$(test_fake_spot_request $sir state)" = active &&
		test_fake_spot_request $sir tags >tags.json &&
		test "$(test_json "d[\"git-train:run-id\"]" <tags.json)" = "$id" || return 1
	done &&
	test "$s0" != "$s1" &&
	started $i0 >got &&
	cat >expect <<-EOF &&
	ATTEMPT=1
	NODE_RANK=0
	NODE_SPOT_REQUESTS=$s1
	RESUME_TIMEOUT=420
	SPOT_REQUEST=$s0
	EOF
	test_cmp expect got &&
	started $i1 >got &&
	cat >expect <<-EOF &&
	ATTEMPT=1
	NODE_RANK=1
	NODE_SPOT_REQUESTS=
	RESUME_TIMEOUT=420
	SPOT_REQUEST=$s1
	EOF
	test_cmp expect got
'

test_expect_success EC2 'node 1 stopped by an interruption, its request open: status says the run waits for capacity' '
	id=$(cat run1) &&
	read -r i0 i1 <iids &&
	read -r s0 s1 <sirs &&
	until test_aws_call s3 --path "/train-bucket/$(runs_key)/$id/log" -o log 2>/dev/null &&
		grep -q "^step 3$" log; do
		sleep 0.2
	done &&
	keep_request $s1 &&
	test_fake_interrupt $i1 null &&
	test_fake_wait_instance $i1 stopped 60 &&
	# the runner'"'"'s last second, cut short
	sleep 2 &&
	test_fake_ctl rules "[]" &&
	test "$(test_fake_spot_request $s1 state)" = disabled &&
	git train status >status &&
	# since: the end of the attempt node 0 recorded; its runner may not have yet
	test_grep "$id .*preempted (attempt 1, waiting for capacity\( since [0-9][0-9]:[0-9][0-9]\)\{0,1\})" status &&
	# logs -f says it too (and would move the run after train.resumeTimeout)
	{ git train logs -f "$id" >logs.out 2>logs.err & echo $! >logs.pid; } &&
	test_wait_for_text logs.err "^run $id preempted (attempt 1), waiting for capacity since [0-9][0-9]:[0-9][0-9] (moving elsewhere in [0-9]" 60
'

test_expect_success EC2 'stop of that run: every request cancelled while its instance is there, every instance terminated, the groups gone' '
	id=$(cat run1) &&
	read -r i0 i1 <iids &&
	read -r s0 s1 <sirs &&
	test_train stop "$id" &&
	# node 0'"'"'s runner may write its result as the instance goes: either will do
	test_grep "^\(stopped $id\|$id had already finished (interrupted)\): instances $i0, $i1 terminated$" out &&
	test "$(state_status $s0)" = "cancelled request-canceled-and-instance-running" &&
	test "$(state_status $s1)" = "cancelled request-canceled-and-instance-running" &&
	test_fake_wait_instance $i0 terminated 30 &&
	test_fake_wait_instance $i1 terminated 30 &&
	test_fake_placement_groups >pgs.json &&
	test "$(test_json "sum(1 for n in d if n == \"git-train-$id\")" <pgs.json)" = 0 &&
	test_nothing_left &&
	# logs -f ends with the run
	n=0 &&
	while kill -0 "$(cat logs.pid)" 2>/dev/null; do
		n=$((n + 1)) && test $n -lt 600 && sleep 0.1 || return 1
	done &&
	test_grep "^step 3$" logs.out
'

# gc ends a run on 2 nodes past its max runtime whole, one node stopped
# (waiting for capacity) or not: every request cancelled while its instance
# is there, then every instance terminated. Launched as `git train` does,
# without runners (none is needed here).
test_expect_success EC2 'gc: a run on 2 nodes past its max runtime, node 1 stopped: both requests cancelled first, both instances terminated' '
	id=20261206-000300-abc1234-0003 &&
	"$TEST_TOOL" launch --persistent --count=2 --run-id=$id --max-runtime=1 \
		--spot-price=0.0031 --tag=git-train:repo="$(test_repo_id)" \
		--tag=git-train:commit="$(git rev-parse HEAD)" t3.micro >launch.out 2>launch.err &&
	sed -n "s/^node [01] \([^ ]*\) [^ ]* [^ ]* \(sir-[a-z0-9]*\)$/\1 \2/p" launch.out >nodes &&
	test_line_count = 2 nodes &&
	{ read -r i0 s0 && read -r i1 s1; } <nodes &&
	test_fake_interrupt $i1 null &&
	test_fake_wait_instance $i1 stopped 60 &&
	test "$(test_fake_spot_request $s1 state)" = disabled &&
	# past the max runtime of 1s: launch times are whole seconds
	sleep 2 &&
	test_train gc &&
	test_grep "^removed instance $i0: run $id has run for [0-9]*s, past its max runtime of 1s$" out &&
	test_grep "^removed instance $i1: run $id has run for [0-9]*s, past its max runtime of 1s$" out &&
	test "$(state_status $s0)" = "cancelled request-canceled-and-instance-running" &&
	test "$(state_status $s1)" = "cancelled request-canceled-and-instance-running" &&
	test_nothing_left
'

# The relaunch as the attached client does it; the run's end after that is
# the runners' (the other nodes wait for the moved ones: runner.h).
test_expect_success EC2 '--wait, node 1 gone past train.resumeTimeout: both moved to another zone at attempt 2' '
	git config train.resumeTimeout 2s &&
	rm -f out err &&
	git-train t3.micro --nodes 2 --wait --script steps.py -- 8 >out 2>err &
	pid=$! &&
	test_wait_for_text out "^step 3$" 90 &&
	id=$(test_run_id_of out) &&
	run_json "$id" &&
	test_json "\" \".join(d[\"node_instances\"])" <run.json >iids &&
	read -r i0 i1 <iids &&
	test_json "\" \".join(d[\"node_spot_requests\"])" <run.json >sirs &&
	read -r s0 s1 <sirs &&
	az=$(test_json "d[\"az\"]" <run.json) &&
	test_fake_placement_groups >pgs.json &&
	pg_before=$(test_json "d[\"git-train-$id\"][\"id\"]" <pgs.json) &&
	keep_request $s1 &&
	test_fake_interrupt $i1 null &&
	test_wait_for_text err "instances .* are ready: 2 t3.micro .*; run $id continues there" 120 &&
	test_fake_ctl rules "[]" &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	echo "exit $rc" >rc &&
	test_grep "preempted (attempt 1), waiting for capacity since" err &&
	test_grep "no capacity came back in $az for .*: moving run $id to another zone" err &&
	test_grep "terminated $i0 $i1 (moved elsewhere)" err &&
	# the requests first, while their instances were there
	test "$(state_status $s0)" = "cancelled request-canceled-and-instance-running" &&
	test "$(state_status $s1)" = "cancelled request-canceled-and-instance-running" &&
	test_fake_wait_instance $i0 terminated 30 &&
	test_fake_wait_instance $i1 terminated 30 &&
	# two new ones, in another zone, in run.json with their own requests
	run_json "$id" &&
	test_json "\" \".join(d[\"node_instances\"])" <run.json >new &&
	read -r n0 n1 <new &&
	test -n "$n1" && test "$n0" != "$i0" && test "$n1" != "$i1" &&
	test "$(test_json "d[\"az\"]" <run.json)" != "$az" &&
	test_json "\" \".join(d[\"node_spot_requests\"])" <run.json >newsirs &&
	read -r t0 t1 <newsirs &&
	test -n "$t1" && test "$t0" != "$s0" && test "$t1" != "$s1" &&
	test_grep "instances $n0, $n1 are ready: 2 t3.micro spot in [a-z0-9-]*; run $id continues there" err &&
	# the group made again for the new zone
	test_fake_placement_groups >pgs.json &&
	test "$(test_json "d[\"git-train-$id\"][\"id\"]" <pgs.json)" != "$pg_before" &&
	# each new runner at attempt 2, with its own request
	started $n0 >got &&
	cat >expect <<-EOF &&
	ATTEMPT=2
	NODE_RANK=0
	NODE_SPOT_REQUESTS=$t1
	RESUME_TIMEOUT=2
	SPOT_REQUEST=$t0
	EOF
	test_cmp expect got &&
	started $n1 >got &&
	cat >expect <<-EOF &&
	ATTEMPT=2
	NODE_RANK=1
	NODE_SPOT_REQUESTS=
	RESUME_TIMEOUT=2
	SPOT_REQUEST=$t1
	EOF
	test_cmp expect got
'

# The old nodes, terminated while node 0 ran, ended it as interrupted: those
# results are not the run's, and the new nodes run attempt 2 to its end.
test_expect_success EC2 'the moved run goes on at attempt 2 to its end, and leaves nothing' '
	id=$(test_run_id_of out) &&
	test_grep "^rank 0 attempt 2$" out &&
	test_grep "^done at step 8$" out &&
	test_grep "run $id succeeded" err &&
	echo "exit 0" >expect &&
	test_cmp expect rc &&
	git notes --ref=train show HEAD | grep "^$id " >note &&
	test_grep "status=succeeded" note &&
	test_nothing_left
'

test_expect_success EC2 'git train resume of a run on 2 nodes waiting for capacity: both moved, the run goes on to its end' '
	git config train.resumeTimeout 2s &&
	test_train t3.micro --nodes 2 --script steps.py -- 8 &&
	id=$(test_run_id_of out) &&
	run_json "$id" &&
	test_json "\" \".join(d[\"node_instances\"])" <run.json >iids &&
	read -r i0 i1 <iids &&
	test_json "\" \".join(d[\"node_spot_requests\"])" <run.json >sirs &&
	read -r s0 s1 <sirs &&
	until test_aws_call s3 --path "/train-bucket/$(runs_key)/$id/log" -o log 2>/dev/null &&
		grep -q "^step 3$" log; do
		sleep 0.2
	done &&
	keep_request $s1 &&
	test_fake_interrupt $i1 null &&
	test_fake_wait_instance $i1 stopped 60 &&
	git -c train.script=steps.py train resume "$id" >out 2>err &&
	test_fake_ctl rules "[]" &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	test_grep "attached to run $id on $i0" err &&
	test_grep "no capacity came back in .*: moving run $id to another zone" err &&
	test_grep "terminated $i0 $i1 (moved elsewhere)" err &&
	test "$(state_status $s1)" = "cancelled request-canceled-and-instance-running" &&
	run_json "$id" &&
	test_json "\" \".join(d[\"node_instances\"])" <run.json >new &&
	read -r n0 n1 <new &&
	test_grep "instances $n0, $n1 are ready: 2 t3.micro spot in [a-z0-9-]*; run $id continues there" err &&
	started $n1 >got &&
	test_grep "^ATTEMPT=2$" got &&
	test_grep "^NODE_RANK=1$" got &&
	test_grep "^step 1$" out &&
	test_grep "^done at step 8$" out &&
	test_grep "run $id succeeded" err &&
	test_nothing_left
'

test_expect_success EC2 'the test secret is in no output' '
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" "$TRASH_DIRECTORY/all-output"
'

test_done
