#!/bin/sh
# git train <instance-type>: a run on EC2 end to end, through moto and the
# fake, which really runs the runner in a sandbox standing in for the
# instance. Spot first, the fallback only when allowed, the script's exit
# status and arguments passed through, the note, and nothing left running or
# half-uploaded after a failure or a Ctrl-C at any stage; an instance whose
# client was killed before its runner started shuts itself down, and gc
# terminates one that did not.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

capacity_everywhere='[{"fault": "error", "status": 500, "code": "InsufficientInstanceCapacity",
	"message": "We currently do not have sufficient t3.micro capacity.", "service": "ec2",
	"action": "RunInstances", "params": {"InstanceMarketOptions.MarketType": "spot"}}]'

# instance_ids [STATES]: the ids of the instances (in those states, comma-separated)
instance_ids() {
	if test -n "$1"; then
		set -- Filter.1.Name=instance-state-name $(echo "$1" | tr , "\n" |
			awk "{ printf \"Filter.1.Value.%d=%s \", NR, \$0 }")
	fi
	test_aws_call ec2 DescribeInstances "$@" >instances.xml &&
	sed -n "s|.*<instanceId>\(i-[0-9a-f]*\)</instanceId>.*|\1|p" instances.xml
}

# instances [STATES]: how many instances exist (in those states)
instances() {
	instance_ids "$@" >ids &&
	wc -l <ids | tr -d " "
}

# run_ended: the instance of the run in out and err has terminated (30 s): a
# --wait returns at the result, which the runner uploads before it cancels
# its spot request and shuts the instance down
run_ended() {
	_iid=$(sed -n "s/.*instance \(i-[0-9a-f]*\) is ready.*/\1/p" out err | head -n 1) &&
	test -n "$_iid" &&
	test_fake_wait_instance "$_iid" terminated 30
}

# none_running: no instance pending or running
none_running() {
	instance_ids pending,running >running &&
	! test -s running
}

# no_multipart_uploads: nothing half-uploaded left in the bucket
no_multipart_uploads() {
	test_aws_call s3 --path /train-bucket --query uploads >uploads.xml &&
	test_grep ! "<Upload>" uploads.xml
}

# fresh [RULES]: no instance left running, the fake's rules, settings and prices reset
fresh() {
	test_fake_ctl reset &&
	test_fake_ctl rules "${1:-[]}" &&
	instance_ids pending,running >running &&
	n=0 &&
	set -- &&
	for id in $(cat running); do
		n=$((n + 1)) &&
		set -- "$@" "InstanceId.$n=$id"
	done &&
	if test $n -gt 0; then
		test_aws_call ec2 TerminateInstances "$@" >/dev/null
	fi
}

# signal_when <signal> <text> [<seconds>] -- <git-train args>: git-train in the
# background (its output in out and err), sent the signal once err says text
# (within seconds, 30 by default); its pid in $pid
signal_when() {
	sig=$1 text=$2 within=30
	shift 2
	test "$1" = -- || { within=$1 && shift; }
	shift
	rm -f out err
	git-train "$@" >out 2>err &
	pid=$!
	test_wait_for_text err "$text" $within &&
	kill -$sig $pid
}

# runs_key [REV]: the S3 key prefix of the runs of REV (HEAD)
runs_key() {
	echo "git-train/$(test_repo_id)/$(git rev-parse ${1:-HEAD})/runs"
}

# s3_get <key> <file>: an object of the bucket
s3_get() {
	test_aws_call s3 --path "/train-bucket/$1" -o "$2"
}

# wait_for_result <run-id>: until the run of HEAD has its result.json (30 s)
wait_for_result() {
	i=0
	until test_aws_call s3 --method HEAD --path "/train-bucket/$(runs_key)/$1/result.json" \
		>/dev/null 2>&1; do
		i=$((i + 1))
		test $i -lt 60 || { echo >&2 "run $1 has no result"; return 1; }
		sleep 0.5
	done
}

test_expect_success EC2 'setup: a bucket, an instance profile with SSM and bucket access' '
	test_setup_train_account train-bucket train-role train-profile &&
	test_aws_call iam CreateRole RoleName=core-role AssumeRolePolicyDocument="{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Principal\": {\"Service\": \"ec2.amazonaws.com\"}, \"Action\": \"sts:AssumeRole\"}]}" \
		>>setup.out &&
	test_aws_call iam CreateInstanceProfile InstanceProfileName=core-profile >>setup.out &&
	test_aws_call iam AddRoleToInstanceProfile InstanceProfileName=core-profile \
		RoleName=core-role >>setup.out &&
	test_aws_call iam AttachRolePolicy RoleName=core-role \
		PolicyArn=arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore >>setup.out &&
	test_aws_call iam PutRolePolicy RoleName=core-role PolicyName=git-train-bucket \
		PolicyDocument="$(test_bucket_policy train-bucket)" \
		>>setup.out &&
	test_aws_call iam PutRolePolicy RoleName=core-role PolicyName=git-train-spot \
		PolicyDocument="{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"ec2:CancelSpotInstanceRequests\", \"Resource\": \"arn:aws:ec2:*:*:spot-instances-request/*\"}]}" \
		>>setup.out &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	test_make_train_repo &&
	cat >slow.py <<-\PY &&
	import sys, time
	for i in range(int(sys.argv[1])):
	    print(f"step {i}", flush=True)
	    time.sleep(0.5)
	PY
	cat >argv.py <<-\PY &&
	import json, os, sys
	os.makedirs("outputs", exist_ok=True)
	with open("outputs/argv.json", "w") as f:
	    json.dump(sys.argv[1:], f)
	PY
	git add slow.py argv.py &&
	git commit -q -m "slow and argv scripts" &&
	head -c 12582912 /dev/urandom >big.bin &&
	git add big.bin &&
	git commit -q -m "12 MiB of noise" &&
	git tag big &&
	git reset -q --hard HEAD^
'

test_expect_success EC2 'git train t3.micro --wait: the epochs live, exit 0, the note, its spot request cancelled, nothing left' '
	fresh &&
	test_train t3.micro --wait --spot-timeout=5s -- --epochs 3 &&
	id=$(test_run_id_of out) &&
	test -n "$id" &&
	test_grep "^epoch 1/3 loss=0.5000$" out &&
	test_grep "^epoch 3/3 loss=0.1250$" out &&
	test_grep "est\. \$0\.[0-9]*/h" err &&
	test_grep "run $id succeeded in" err &&
	git log --notes=train -1 >log &&
	test_grep "^    $id backend=t3.micro status=succeeded exit=0 " log &&
	note=$(git notes --ref=train show HEAD) &&
	for field in market=spot "az=us-east-1[a-f]" "price=0\.[0-9]" "duration=[0-9.]*s" \
		"cost=" metric.loss=0.125 metric.epochs=3 \
		"log=s3://train-bucket/git-train/[^ ]*/runs/$id/log" \
		"outputs=s3://train-bucket/git-train/[^ ]*/runs/$id/outputs/"; do
		echo "$note" | grep -q " $field" || { echo "no $field in: $note"; return 1; }
	done &&
	run_ended &&
	none_running &&
	s3_get "$(runs_key)/$id/outputs/model.txt" model &&
	echo "weights after 3 epochs" >expect &&
	test_cmp expect model &&
	iid=$(sed -n "s/.*instance \(i-[0-9a-f]*\) is ready.*/\1/p" out err) &&
	printf "%s\n" "shutdown --no-wall -h +15" "shutdown -h now" >expect &&
	test_fake_instance "$iid" calls >calls &&
	grep "^shutdown " calls >shutdowns &&
	test_cmp expect shutdowns &&
	test "$(test_fake_instance "$iid" ended_by)" = shutdown &&
	# a run that could resume: its persistent request, cancelled by the
	# runner before the shutdown, so that EC2 starts no other instance
	test "$(test_fake_spot_request "$iid" type)" = persistent &&
	test "$(test_fake_spot_request "$iid" state)" = cancelled &&
	test_nothing_left
'

# What a training run with write access to the bucket could leave for the
# next run of a commit: other code, claiming the commit in its metadata and
# its pax comment, with a checksum of its own bytes as the AWS CLI sends it.
forge_code() {
	sha=$(git rev-parse HEAD) &&
	test_forged_code forged.tgz "$sha" &&
	test_moto_s3 "/train-bucket/git-train/$(test_repo_id)/$sha/code.tar.gz" \
		-T forged.tgz -H "x-amz-meta-git-train-commit: $sha" \
		-H "x-amz-meta-git-train-umask: 0002" -H "x-amz-meta-git-train-format: 3" \
		-H "x-amz-sdk-checksum-algorithm: SHA256" \
		-H "x-amz-checksum-sha256: $(python3 -c "import base64, hashlib, sys
print(base64.b64encode(hashlib.sha256(open(sys.argv[1], \"rb\").read()).digest()).decode())" forged.tgz)"
}

# (with a role that has AmazonSSMManagedInstanceCore: it works, and the
# launch warns about its Parameter Store access)
test_expect_success EC2 'a script that exits 3, its code forged in S3: uploaded again, exit 3, noted; its spot request cancelled, nothing left' '
	fresh &&
	forge_code &&
	test_expect_code 3 git -c train.instanceProfile=core-profile train t3.micro --wait \
		-- --epochs 1 --fail 3 >out 2>err &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	id=$(test_run_id_of out) &&
	test_grep "uploaded code for .* (replacing s3://train-bucket/.*/code.tar.gz, whose checksum was not the archive.s)" err &&
	test_grep "^epoch 1/1 loss=0.5000$" out &&
	test_grep ! pwned out &&
	test_grep "run $id failed (exit 3)" err &&
	test_grep "^warning: role ssm access: role core-role has AmazonSSMManagedInstanceCore, whose ssm:GetParameter on \* lets every training script read every Parameter Store value of the account$" err &&
	test_grep "^hint: .git train doctor. shows how to narrow it$" err &&
	test_grep ! "^warning: role bucket access" err &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id backend=t3.micro status=failed exit=3 " note &&
	run_ended &&
	# a failed run leaves no spot request open either (the runner cancels it)
	test "$(test_fake_spot_request "$_iid" state)" = cancelled &&
	test_nothing_left
'

test_expect_success EC2 '--output run-id: stdout is the run id alone; it returns once the training started' '
	fresh &&
	test_train t3.micro --output run-id --script slow.py -- 6 &&
	test_line_count = 1 out &&
	id=$(cat out) &&
	echo "$id" | grep -q "^[0-9]\{8\}-[0-9]\{6\}-$(git rev-parse --short HEAD)-[0-9a-f]\{4\}$" &&
	test_grep "training started on i-" err &&
	test_grep ! "^step 5" err &&
	instances running >count &&
	test "$(cat count)" -ge 1 &&
	wait_for_result "$id" &&
	git train logs "$id" >log &&
	test_grep "^step 0$" log &&
	test_grep "^step 5$" log
'

test_expect_success EC2 '--output json and instance-id: only that on stdout' '
	fresh &&
	test_train t3.micro --output json --wait -- --epochs 2 &&
	/usr/bin/python3 -c "
import json, sys
d = json.load(open(\"out\"))
assert d[\"status\"] == \"succeeded\" and d[\"exit_code\"] == 0, d
assert d[\"market\"] == \"spot\" and d[\"instance_type\"] == \"t3.micro\", d
assert d[\"metrics\"] == {\"loss\": 0.25, \"epochs\": 2}, d
assert d[\"log\"].endswith(\"/runs/\" + d[\"run_id\"] + \"/log\"), d
" &&
	test_grep "^epoch 2/2" err &&
	fresh &&
	test_train t3.micro --output instance-id -- --epochs 1 &&
	test_line_count = 1 out &&
	test_grep "^i-[0-9a-f]*$" out
'

test_expect_success EC2 'script arguments arrive byte for byte' '
	fresh &&
	set -- "a b" "it'"'"'s" "\"dq\"" "\$(touch pwned)" "\`touch pwned\`" "a;b" "*" \
		"$(printf "line1\nline2")" "héllo ☃" "" "--epochs" "-" "\$HOME" "$(printf "\377x")" &&
	/usr/bin/python3 -c "import json, sys; print(json.dumps(sys.argv[1:]))" "$@" >expect &&
	test_train t3.micro --wait --script argv.py -- "$@" &&
	id=$(test_run_id_of out) &&
	s3_get "$(runs_key)/$id/outputs/argv.json" got.json &&
	/usr/bin/python3 -c "import json; print(json.dumps(json.load(open(\"got.json\"))))" >got &&
	test_cmp expect got &&
	! find "$TRASH_DIRECTORY/.instances" -name pwned | grep .
'

test_expect_success EC2 'no spot capacity anywhere, no terminal, no --yes: exit 75, both prices, nothing launched' '
	fresh "$capacity_everywhere" &&
	instances >before &&
	test_expect_code 75 test_train t3.micro --spot-timeout=2s -- --epochs 1 &&
	test_grep "^error: spot capacity unavailable: on-demand t3.micro is [$]0.0104/h, spot was [$]0.0000" err &&
	test_grep "^hint: .*--yes" err &&
	instances >after &&
	test_cmp before after &&
	! test -s out
'

test_expect_success EC2 '--yes: on-demand, said in the output and in the note' '
	fresh "$capacity_everywhere" &&
	test_train t3.micro --yes --wait --spot-timeout=2s -- --epochs 1 &&
	id=$(test_run_id_of out) &&
	test_grep "ON-DEMAND" err &&
	test_grep "^run $id started: t3.micro on-demand instance" out &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .* market=on-demand .*price=0.0104" note &&
	run_ended &&
	none_running &&
	# the fallback makes no spot request, persistent or other
	iid=$(sed -n "s/.*instance \(i-[0-9a-f]*\) is ready.*/\1/p" err) &&
	test -n "$iid" &&
	test_fake_spot_requests >requests.json &&
	test_json "[i for i, r in d.items() if r[\"instance\"] == \"$iid\"]" <requests.json >got &&
	echo "[]" >expect &&
	test_cmp expect got
'

test_expect_success EC2 'a quota error fails within seconds, naming the quota' '
	fresh "[{\"fault\": \"error\", \"status\": 400, \"code\": \"MaxSpotInstanceCountExceeded\",
		\"message\": \"Max spot instance count exceeded\", \"service\": \"ec2\",
		\"action\": \"RunInstances\"}]" &&
	instances >before &&
	start=$(date +%s) &&
	test_expect_code 1 test_train t3.micro --spot-timeout=1m -- --epochs 1 &&
	test $(($(date +%s) - start)) -le 5 &&
	test_grep "MaxSpotInstanceCountExceeded" err &&
	test_grep "All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests" err &&
	instances >after &&
	test_cmp before after
'

test_expect_success EC2 'a 500 after the first RunInstances went through: exactly one instance' '
	fresh "[{\"fault\": \"error500-after\", \"service\": \"ec2\", \"action\": \"RunInstances\",
		\"times\": 1}]" &&
	test_train t3.micro --output run-id -- --epochs 1 &&
	id=$(cat out) &&
	test_aws_call ec2 DescribeInstances Filter.1.Name=tag:git-train:run-id \
		"Filter.1.Value.1=$id" >tagged.xml &&
	grep -c "<instanceId>" tagged.xml >count &&
	echo 1 >expect &&
	test_cmp expect count
'

test_expect_success EC2 'a failing prerequisite: its fix, nothing launched, exit 1' '
	fresh &&
	instances >before &&
	test_expect_code 1 git -c train.instanceProfile=no-such-profile train t3.micro \
		-- --epochs 1 >out 2>err &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	test_grep "^error: instance profile: " err &&
	test_grep "^hint: fix: " err &&
	instances >after &&
	test_cmp before after
'

test_expect_success EC2 'bad options: usage errors (129); bad train.* values: fatal (128); no request' '
	fresh &&
	test_expect_code 129 git train t3.micro --output=xml 2>err &&
	test_grep "^error: --output takes text, run-id, instance-id or json, not .xml." err &&
	test_expect_code 129 git train t3.micro --spot-timeout=soon 2>err &&
	test_grep "^error: --spot-timeout: invalid duration .soon." err &&
	test_expect_code 129 git train t3.micro --max-runtime=30s 2>err &&
	test_grep "^error: --max-runtime must be at least 60 seconds" err &&
	test_expect_code 129 git train t3.micro --idle-timeout=0 2>err &&
	test_grep "^error: --idle-timeout must be at least 1 seconds" err &&
	test_expect_code 129 git train t3.micro --spot --on-demand 2>err &&
	test_expect_code 129 git train t3.micro --volume-size=0 2>err &&
	test_expect_code 129 git train t3.micro --epochs 3 2>err &&
	test_expect_code 129 git train t3.micro epochs 2>err &&
	test_grep "^hint: arguments for the training script go after .--." err &&
	test_expect_code 128 git -c train.spotTimeout=soon train t3.micro 2>err &&
	test_grep "^error: bad config value .soon. for .train.spotTimeout.: invalid duration" err &&
	test_expect_code 128 git -c train.output=xml train t3.micro 2>err &&
	test_grep "^error: bad config value .xml. for .train.output." err &&
	test_expect_code 128 git -c train.wait=maybe train t3.micro 2>err &&
	test_expect_code 128 git -c train.idleTimeout=soon train t3.micro 2>err &&
	test_grep "^error: bad config value .soon. for .train.idleTimeout.: invalid duration" err &&
	test_expect_code 128 git -c train.retryOnExit="75, 3x" train t3.micro 2>err &&
	test_grep "^error: bad config value for .train.retryOnExit.: .3x. is not an exit code from 1 to 255$" err &&
	test_expect_code 128 git -c train.retryOnExit=75 -c train.retryOnExit=256 train t3.micro 2>err &&
	test_grep "^error: bad config value for .train.retryOnExit.: .256. is not an exit code" err &&
	test_expect_code 128 git -c train.maxInterruptions=-1 train t3.micro 2>err &&
	test_grep "^error: bad config value .-1. for .train.maxInterruptions." err &&
	test_expect_code 128 git -c train.checkpointInterval=often train t3.micro 2>err &&
	test_grep "^error: bad config value .often. for .train.checkpointInterval.: invalid duration" err &&
	test $(test_fake_count total) = 0
'

test_expect_success EC2 'train.* settings stand in for the flags: train.output, train.spot' '
	fresh "$capacity_everywhere" &&
	git -c train.output=run-id -c train.spot=false train t3.micro -- --epochs 1 >out 2>err &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	test_line_count = 1 out &&
	test_grep "^\[.*\] on-demand t3.micro in us-east-1: est. [$]0.0104/h" err
'

test_expect_success EC2 '--stash: the snapshot runs, and is kept for its note' '
	fresh &&
	echo "# tried on EC2" >>train.py &&
	test_train t3.micro --stash -- --epochs 1 &&
	git checkout -- train.py &&
	test_grep "^running snapshot [0-9a-f]* of the working tree" err &&
	snap=$(sed -n "s/^running snapshot \([0-9a-f]*\) .*/\1/p" err) &&
	git rev-parse --verify -q "refs/train/snapshots/$(git rev-parse $snap)" &&
	id=$(test_run_id_of out) &&
	s3_get "$(runs_key $snap)/$id/run.json" run.json &&
	test_grep "\"parent\": *\"$(git rev-parse HEAD)\"" run.json
'

test_expect_success EC2 'a script not in the commit: fatal before anything, no AWS request' '
	fresh &&
	test_expect_code 128 test_train t3.micro --script nope.py &&
	test_grep "the training script .nope.py. is not in commit" err &&
	test $(test_fake_count total) = 0
'

# A commit whose Git LFS object is not here (a pointer committed as is) must
# fail before anything is launched or uploaded: the archive is made while the
# instance boots, and a smudge failing then would come too late.
test_expect_success EC2,LFS 'a Git LFS object that is not here: fatal before anything, no AWS request' '
	fresh &&
	git checkout -q -b lfs-missing &&
	echo "*.pt filter=lfs -text" >>.gitattributes &&
	printf "version https://git-lfs.github.com/spec/v1\noid sha256:%064d\nsize 5\n" 7 >model.pt &&
	git add .gitattributes model.pt && git commit -q -m "weights in Git LFS" &&
	{ git -c filter.lfs.process="git-lfs filter-process" -c filter.lfs.required=true \
		train t3.micro -- --epochs 1 >out 2>err; rc=$?; } &&
	git checkout -q - &&
	test $rc = 1 &&
	test_grep "^error: cannot archive .model.pt.: its Git LFS object (sha256 000000000000) is not in this repository" err &&
	test_grep "^hint: get the objects of the commit with: git lfs fetch" err &&
	test $(test_fake_count total) = 0
'

test_expect_success EC2 'Ctrl-C while waiting for spot capacity: nothing left running, exit 130' '
	fresh "$capacity_everywhere" || exit 1
	signal_when INT "waiting for spot capacity" -- t3.micro --spot-timeout=1m -- --epochs 1 &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 130 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "^error: interrupted" err &&
	none_running &&
	no_multipart_uploads
'

test_expect_success EC2 'Ctrl-C while the instance boots: it is terminated, exit 130' '
	fresh &&
	test_fake_settings "{\"ready_delay\": 60}" || exit 1
	signal_when INT "reachable through SSM" -- t3.micro -- --epochs 1 &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 130 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "terminated i-" err &&
	test_grep "^error: interrupted" err &&
	none_running &&
	no_multipart_uploads
'

test_expect_success EC2 'Ctrl-C during the upload: instance terminated, multipart upload aborted' '
	fresh "[{\"fault\": \"slow\", \"service\": \"s3\", \"method\": \"PUT\",
		\"path\": \"/train-bucket/git-train/$(test_repo_id)/$(git rev-parse big)/code.tar.gz\",
		\"delay\": 3}]" || exit 1
	signal_when INT "waiting for the upload of the code" 60 -- t3.micro --rev big -- --epochs 1 &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 130 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "^error: interrupted: instance i-[0-9a-f]* terminated, upload of the code aborted" err &&
	none_running &&
	no_multipart_uploads
'

test_expect_success EC2 'Ctrl-C while following: detaches, the training goes on' '
	fresh || exit 1
	rm -f out err
	git-train t3.micro --wait --script slow.py -- 40 >out 2>err &
	pid=$! &&
	test_wait_for_text out "^step 1$" 60 &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 130 || { echo "exit $rc"; cat err; false; }; } &&
	id=$(test_run_id_of out) &&
	test_grep "detached from run $id" err &&
	test_grep "git train logs -f $id" err &&
	test_grep "git train stop $id" err &&
	instances running >count &&
	echo 1 >expect &&
	test_cmp expect count &&
	fresh
'

test_expect_success EC2 'a spot interruption of a run that cannot resume (train.maxInterruptions 0), followed: non-zero, the note says preempted, the log is kept' '
	fresh &&
	test_fake_settings "{\"interrupt_grace\": 60}" || exit 1
	rm -f out err
	GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=train.maxInterruptions GIT_CONFIG_VALUE_0=0 \
		git-train t3.micro --wait --script slow.py -- 60 >out 2>err &
	pid=$! &&
	test_wait_for_text out "^step 1$" 60 &&
	iid=$(sed -n "s/.* instance \(i-[0-9a-f]*\) in .*/\1/p" out) &&
	test_fake_interrupt "$iid" &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 1 || { echo "exit $rc"; cat err; false; }; } &&
	id=$(test_run_id_of out) &&
	test_grep "run $id was preempted" err &&
	git notes --ref=train show HEAD >note &&
	test_grep "^$id .*status=preempted" note &&
	s3_get "$(runs_key)/$id/log" log &&
	test_grep "^step 1$" log &&
	none_running &&
	# train.maxInterruptions 0: a one-time request, as before issue 13
	test "$(test_fake_spot_request "$iid" type)" = one-time &&
	test "$(test_fake_spot_request "$iid" behaviour)" = terminate
'

# The first instance boots without its user data (the fake runs it only when
# told): nothing but gc ends it. The second runs it: its watchdog's stage,
# 2s, is a minute on the instance, 3 s in the fake.
test_expect_success EC2 'the client SIGKILLed after the launch: the instance shuts itself down; gc ends one that cannot' '
	fresh &&
	test_fake_settings "{\"ready_delay\": 60}" || exit 1
	signal_when KILL "reachable through SSM" -- t3.micro --idle-timeout=2s -- --epochs 1 &&
	instance_ids running >unwatched &&
	test_line_count = 1 unwatched &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	test_fake_settings "{\"user_data\": true, \"shutdown_minute\": 3}" || exit 1
	signal_when KILL "reachable through SSM" -- t3.micro --idle-timeout=2s -- --epochs 1 &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	instance_ids running | grep -v -x -F "$(cat unwatched)" >watched &&
	test_line_count = 1 watched &&
	id=$(cat watched) &&
	test_fake_wait_instance $id terminated 20 &&
	test "$(test_fake_instance $id ended_by)" = "scheduled shutdown" &&
	test "$(test_fake_instance $id calls)" = "shutdown -h +1" &&
	git -c train.idleTimeout=2s train gc --dry-run >out 2>err &&
	test_grep "^would remove instance $(cat unwatched): run [0-9a-f-]* has no log [0-9]*s after its launch, past train.idleTimeout (2s): its runner never started$" out &&
	grep "^would remove instance " out >would &&
	test_line_count = 1 would &&
	instance_ids running >running &&
	test_cmp unwatched running &&
	git -c train.idleTimeout=2s train gc >out 2>err &&
	test_grep "^removed instance $(cat unwatched): " out &&
	none_running &&
	test "$(test_fake_instance $(cat unwatched) calls)" = "" &&
	test_nothing_left
'

test_expect_success EC2 'the test secret is in no output, no sandbox file, no S3 object' '
	test -s "$TRASH_DIRECTORY/all-output" &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" "$TRASH_DIRECTORY/all-output" &&
	! grep -rlF "$TEST_AWS_SECRET_ACCESS_KEY" "$TRASH_DIRECTORY/.instances" &&
	test_aws_call s3 --path /train-bucket --query list-type=2 >list.xml &&
	sed -e "s|<Key>|\n&|g" list.xml | sed -n "s|^<Key>\([^<]*\)</Key>.*|\1|p" >keys &&
	test_grep "/log$" keys &&
	mkdir s3-copy &&
	n=0 &&
	while read key; do
		n=$((n + 1)) &&
		s3_get "$key" s3-copy/$n || return 1
	done <keys &&
	! grep -rlF "$TEST_AWS_SECRET_ACCESS_KEY" s3-copy
'

test_done
