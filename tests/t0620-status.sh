#!/bin/sh
# git train status, logs, stop and gc: the runs of a repository on EC2 as
# their tags and S3 objects say, one DescribeInstances call for all of them,
# and the note written the first time any command sees a result.
#
# The state is made here the way `git train <type>` makes it: instances
# started by RunInstances with the launch's tags, run.json at launch, and the
# runner's log and result.json under <prefix>/<repo>/<sha>/runs/<run-id>/,
# all real moto state made with plain API calls (`git train aws-call`, fast
# enough for 20 runs). t0610 covers the launch itself.
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO && test_have_prereq FAKE; then
	test_start_moto || exit 1
	test_start_fake || exit 1
	test_set_prereq AWS
fi

B=train-bucket

# gt args...: git train, its output kept for the secret check at the end
gt() {
	git train "$@" >out 2>err
	rc=$?
	cat out err >>"$TRASH_DIRECTORY/all-output"
	return $rc
}

# put <key> <file>: an object, as the runner and the launch write them
put() {
	git train aws-call s3 --method PUT --path "/$B/$1" --upload-file "$2" >/dev/null
}

# exists <key>: the object is there
exists() {
	git train aws-call s3 --method HEAD --path "/$B/$1" >/dev/null 2>&1
}

# pfx <sha> <run-id> [<repo>]: where the run's objects are (<repo>: $R, this
# repository's id, set once the repository is made)
pfx() {
	echo "git-train/${3:-$R}/$1/runs/$2/"
}

# rid <n> <sha>: the run id of run n (they sort by n, like real ones by time)
rid() {
	printf '20261129-0801%02d-%s-%04d\n' "$1" "${2%"${2#???????}"}" "$1"
}

# launch <run-id> <sha> [<max-runtime> [<repo>]]: a spot instance tagged as
# the launch tags it (git-train:repo=<repo>, $R by default); its id goes to
# ids/<run-id>
launch() {
	git train aws-call ec2 RunInstances ImageId=$(cat ami) InstanceType=t3.micro \
		MinCount=1 MaxCount=1 TagSpecification.1.ResourceType=instance \
		TagSpecification.1.Tag.1.Key=Name \
		TagSpecification.1.Tag.1.Value=git-train/${2%"${2#???????}"} \
		TagSpecification.1.Tag.2.Key=git-train:run-id TagSpecification.1.Tag.2.Value=$1 \
		TagSpecification.1.Tag.3.Key=git-train:commit TagSpecification.1.Tag.3.Value=$2 \
		TagSpecification.1.Tag.4.Key=git-train:repo TagSpecification.1.Tag.4.Value=${4:-$R} \
		TagSpecification.1.Tag.5.Key=git-train:branch TagSpecification.1.Tag.5.Value=main \
		TagSpecification.1.Tag.6.Key=git-train:market TagSpecification.1.Tag.6.Value=spot \
		TagSpecification.1.Tag.7.Key=git-train:price TagSpecification.1.Tag.7.Value=0.0104 \
		TagSpecification.1.Tag.8.Key=git-train:max-runtime \
		TagSpecification.1.Tag.8.Value=${3:-86400} >ri.xml &&
	mkdir -p ids &&
	sed -n "s/.*<instanceId>\(i-[0-9a-f]*\)<\/instanceId>.*/\1/p" ri.xml | head -n 1 >"ids/$1" &&
	test -s "ids/$1" &&
	cat >run.json <<-EOF &&
	{"run_id": "$1", "commit": "$2", "parent": null, "instance_id": "$(cat "ids/$1")",
	 "instance_type": "t3.micro", "market": "spot", "az": "us-east-1a", "price": 0.0104,
	 "region": "us-east-1", "launched": "2026-11-29T08:01:00Z", "args": ["--epochs", "3"]}
	EOF
	put "$(pfx "$2" "$1" $4)run.json" run.json
}

# result <run-id> <sha> <status> <exit> [<repo>]: the runner's result.json
result() {
	cat >result.json <<-EOF &&
	{"run_id": "$1", "commit": "$2", "status": "$3", "exit_code": $4,
	 "start": "2026-11-29T08:01:10Z", "end": "2026-11-29T08:02:50Z", "duration": 100,
	 "metrics": {"loss": 0.125, "epochs": 3}}
	EOF
	put "$(pfx "$2" "$1" $5)result.json" result.json
}

# log <run-id> <sha> <lines...>: the runner's log so far
log() {
	log_key=$(pfx "$2" "$1")log
	shift 2
	printf '%s\n' "$@" >log.txt &&
	put "$log_key" log.txt
}

# grow <run-id> <sha>: the runner at work: the log grows, then the result comes
grow() {
	sleep 1 &&
	log $1 $2 "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" &&
	sleep 2 &&
	log $1 $2 "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" "epoch 3/3 loss=0.1250" &&
	sleep 1 &&
	result $1 $2 succeeded 0
}

# state <instance-id>: what EC2 says of it
state() {
	git train aws-call ec2 DescribeInstances InstanceId.1=$1 |
	sed -n "/<instanceState>/,/<\/instanceState>/s/.*<name>\(.*\)<\/name>.*/\1/p"
}

# note_lines <sha>: the note's lines on sha
note_lines() {
	git notes --ref=train show "$1" 2>/dev/null | grep -c .
}

test_expect_success AWS 'setup: a repository with two commits, a bucket, train.bucket' '
	git remote add origin https://example.com/team/demo.git &&
	test_make_train_repo &&
	test_commit "first try" &&
	git rev-parse HEAD >c1 &&
	test_commit "second try" &&
	git rev-parse HEAD >c2 &&
	test_moto_s3 /$B -X PUT &&
	git config train.bucket $B &&
	test_moto ec2 DescribeImages >images.xml &&
	test_xml imagesSet/item/imageId <images.xml | sed -n 1p >ami &&
	test -s ami &&
	test_repo_id >repo-id &&
	test_grep "^demo-[0-9a-f]\{12\}$" repo-id
'
R=$(cat "$TRASH_DIRECTORY/repo-id" 2>/dev/null)

test_expect_success AWS 'status without runs says how to start one' '
	gt status &&
	test ! -s out &&
	test_grep "no runs on EC2 for .$R. yet" err
'

test_expect_success AWS 'setup: 20 runs, starting, running, finished' '
	c1=$(cat c1) c2=$(cat c2) &&
	for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15; do
		launch $(rid $n $c1) $c1 || return 1
	done &&
	for n in 16 17 18 19 20; do
		launch $(rid $n $c2) $c2 &&
		log $(rid $n $c2) $c2 "epoch 1/3 loss=0.5000" || return 1
	done &&
	log $(rid 17 $c2) $c2 "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" "epoch 3/3 loss=0.1250" &&
	result $(rid 17 $c2) $c2 succeeded 0 &&
	result $(rid 18 $c2) $c2 failed 3 &&
	result $(rid 19 $c2) $c2 preempted 143
'

test_expect_success AWS 'status lists the 20 runs with one DescribeInstances request' '
	c1=$(cat c1) c2=$(cat c2) &&
	test_fake_ctl reset &&
	gt status &&
	test "$(test_fake_count "ec2 DescribeInstances")" = 1 &&
	head -n 1 out >head &&
	test_grep "^RUN  *COMMIT  *TYPE  *MARKET  *STATE  *TRAINING  *UPTIME  *COST  *SUBJECT$" head &&
	test_line_count = 21 out &&
	test_grep "^$(rid 1 $c1)  *$(git rev-parse --short $c1)  *t3.micro  *spot  *running  *starting .* first try$" out &&
	test_grep "^$(rid 16 $c2) .* running  *running  .*\\$.* second try$" out &&
	test_grep "^$(rid 17 $c2) .* running  *succeeded  .* second try$" out &&
	test_grep "^$(rid 18 $c2) .* failed exit 3 " out &&
	test_grep "^$(rid 19 $c2) .* preempted " out &&
	sed -n 2p out >first &&
	test_grep "^$(rid 20 $c2) " first
'

test_expect_success AWS 'status writes the note of a finished run once, with market, price, cost, log' '
	c2=$(cat c2) &&
	test "$(note_lines $c2)" = 3 &&
	gt status &&
	test "$(note_lines $c2)" = 3 &&
	git log --notes=train -1 $c2 >log.out &&
	p=s3://$B/$(pfx $c2 $(rid 17 $c2)) &&
	test_grep "$(rid 17 $c2) backend=t3.micro status=succeeded exit=0 start=2026-11-29T08:01:10Z duration=100s metric.loss=0.125 metric.epochs=3 log=${p}log market=spot az=us-east-1a price=0.0104 cost=0.000289 instance=$(cat ids/$(rid 17 $c2)) outputs=${p}outputs/ args=--epochs%203$" log.out &&
	test_grep "$(rid 18 $c2) backend=t3.micro status=failed exit=3 " log.out &&
	test_grep "$(rid 19 $c2) backend=t3.micro status=preempted " log.out &&
	git train log $c2 >train-log &&
	test_grep "failed (exit 3)" train-log
'

test_expect_success AWS 'status --json is an array for scripts' '
	c2=$(cat c2) &&
	gt status --json &&
	/usr/bin/python3 - "$(rid 18 $c2)" "$(rid 1 $(cat c1))" <<-\EOF
	import json, sys
	runs = {r["run_id"]: r for r in json.load(open("out"))}
	assert len(runs) == 20, len(runs)
	failed, starting = runs[sys.argv[1]], runs[sys.argv[2]]
	assert failed["training"] == "failed exit 3", failed
	assert failed["status"] == "failed" and failed["exit_code"] == 3, failed
	assert failed["recorded"] is True and failed["metrics"]["loss"] == 0.125, failed
	assert failed["log"].startswith("s3://train-bucket/git-train/demo-"), failed
	assert starting["training"] == "starting" and starting["status"] is None, starting
	assert starting["instance_state"] == "running" and starting["market"] == "spot", starting
	assert starting["price_per_hour"] == 0.0104 and starting["cost"] >= 0, starting
	EOF
'

test_expect_success AWS 'status <run> shows that run; a prefix will do; an unknown one fails' '
	c2=$(cat c2) &&
	gt status $(rid 18 $c2) &&
	test_line_count = 2 out &&
	gt status 20261129-080119 &&
	test_line_count = 2 out &&
	test_grep "preempted" out &&
	test_expect_code 1 gt status 20261129-080118 20991231-nope &&
	test ! -s out &&
	test_grep "error: no run .20991231-nope. in this repository" err &&
	test_expect_code 1 gt status 20261129-0801 &&
	test_grep "ambiguous" err
'

test_expect_success AWS 'logs prints the full log' '
	c2=$(cat c2) &&
	gt logs $(rid 17 $c2) &&
	printf "%s\n" "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" "epoch 3/3 loss=0.1250" >expect &&
	test_cmp expect out
'

test_expect_success AWS 'logs -f follows a growing log until the result is there' '
	c2=$(cat c2) id=$(rid 16 $c2) &&
	{ grow $id $c2 >bg.out 2>&1 & } &&
	bg=$! &&
	timeout 60 git train logs -f $id >out 2>err &&
	cat out err >>all-output &&
	wait $bg &&
	printf "%s\n" "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" "epoch 3/3 loss=0.1250" >expect &&
	test_cmp expect out &&
	git notes --ref=train show $c2 >note &&
	test_grep "^$id backend=t3.micro status=succeeded exit=0 " note
'

test_expect_success AWS 'Ctrl-C stops following quietly' '
	id=$(rid 2 $(cat c1)) &&
	test_fake_ctl reset || exit 1
	git-train logs -f $id >out 2>err &
	pid=$!
	# once it has looked for the result and the log, it is following
	i=0 &&
	until test $(test_fake_count "s3 GET") -ge 2; do
		i=$((i + 1)) && test $i -lt 600 && sleep 0.05 || break
	done &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	{ test $rc = 130 || { echo "exit $rc"; cat err; false; }; } &&
	test ! -s out &&
	test ! -s err
'

test_expect_success AWS 'logs works after the instance is terminated and gone' '
	c1=$(cat c1) c2=$(cat c2) &&
	for id in $(rid 17 $c2) $(rid 15 $c1); do
		git train aws-call ec2 TerminateInstances InstanceId.1=$(cat ids/$id) >/dev/null &&
		git train aws-call ec2 DeleteTags ResourceId.1=$(cat ids/$id) \
			Tag.1.Key=git-train:repo >/dev/null || return 1
	done &&
	gt status &&
	test_grep "^$(rid 17 $c2) .* -  *succeeded " out &&
	test_grep ! "$(rid 15 $c1)" out &&
	gt logs $(rid 17 $c2) &&
	test_line_count = 3 out &&
	log $(rid 15 $c1) $c1 "only line" &&
	result $(rid 15 $c1) $c1 failed 2 &&
	test "$(note_lines $c1)" = 0 &&
	gt logs $(rid 15 $c1) &&
	echo "only line" >expect &&
	test_cmp expect out &&
	git notes --ref=train show $c1 >note &&
	test_grep "^$(rid 15 $c1) backend=t3.micro status=failed exit=2 " note
'

test_expect_success AWS 'logs -f of a run whose instance is gone without a result fails' '
	id=$(rid 3 $(cat c1)) &&
	git train aws-call ec2 TerminateInstances InstanceId.1=$(cat ids/$id) >/dev/null &&
	log $id $(cat c1) "last words" &&
	test_expect_code 1 timeout 60 git train logs -f $id >out 2>err &&
	cat out err >>all-output &&
	echo "last words" >expect &&
	test_cmp expect out &&
	test_grep "error: run $id ended without a result: its instance $(cat ids/$id) is gone" err
'

test_expect_success AWS 'stop terminates the instance and records the run as stopped' '
	c2=$(cat c2) id=$(rid 20 $c2) &&
	gt stop $id &&
	echo "stopped $id: instance $(cat ids/$id) terminated" >expect &&
	test_cmp expect out &&
	state $(cat ids/$id) >st &&
	test_grep "shutting-down\|terminated" st &&
	git notes --ref=train show $c2 >note &&
	test_grep "^$id backend=t3.micro status=stopped start=[0-9T:Z-]* duration=[0-9.]*s log=s3://$B/$(pfx $c2 $id)log market=spot .*price=0.0104 cost=" note &&
	gt status $id &&
	test_grep "stopped" out &&
	gt stop $id &&
	test_grep "already ended (stopped)" out &&
	test_expect_code 1 gt stop 20991231-nope &&
	test_grep "no run .20991231-nope." err
'

test_expect_success AWS 'setup: leftovers for gc, and things that are not its business' '
	c0=$(git rev-parse HEAD~2) c1=$(cat c1) c2=$(cat c2) &&
	echo $c0 >c0 &&
	git train aws-call ec2 RunInstances ImageId=$(cat ami) InstanceType=t3.micro \
		MinCount=1 MaxCount=1 >ri.xml &&
	sed -n "s/.*<instanceId>\(i-[0-9a-f]*\)<\/instanceId>.*/\1/p" ri.xml | head -n 1 >untagged &&
	launch $(rid 21 $c2) $c2 1 &&
	echo code >code &&
	put git-train/$R/$c0/code.tar.gz code &&
	put git-train/$R/$c1/code.tar.gz code &&
	git commit -q --allow-empty -m "third try" &&
	put git-train/$R/$(git rev-parse HEAD)/code.tar.gz code &&
	put other/$c0/code.tar.gz code &&
	git train aws-call s3 --method POST --path /$B/git-train/$R/$c0/code.tar.gz \
		--query uploads >mpu.xml &&
	git train aws-call s3 --method POST --path /$B/other/big.bin --query uploads >mpu2.xml &&
	# the legacy layout (git-train 0.1: <repo> was "demo" alone): a finished
	# run of c1 whose instance is still up, and an archive and upload of c0
	launch $(rid 22 $c1) $c1 86400 demo &&
	printf "%s\n" "old line 1" "old line 2" >log.txt &&
	put "$(pfx $c1 $(rid 22 $c1) demo)log" log.txt &&
	result $(rid 22 $c1) $c1 succeeded 0 demo &&
	put git-train/demo/$c0/code.tar.gz code &&
	git train aws-call s3 --method POST --path /$B/git-train/demo/$c0/code.tar.gz \
		--query uploads >mpu3.xml &&
	# bob/demo: another repository named demo, in the same account and bucket,
	# with runs past their max runtime, old archives and an old upload, in
	# both layouts
	git init -q bob &&
	(
		cd bob &&
		git remote add origin https://example.com/bob/demo.git &&
		git config train.bucket $B &&
		test_commit "bob was here" &&
		test_repo_id >../bob-id &&
		git rev-parse HEAD >../bob-sha
	) &&
	Rb=$(cat bob-id) b=$(cat bob-sha) &&
	test "$Rb" != "$R" &&
	launch $(rid 23 $b) $b 1 $Rb &&
	launch $(rid 24 $b) $b 1 demo &&
	result $(rid 24 $b) $b succeeded 0 demo &&
	put git-train/$Rb/$b/code.tar.gz code &&
	put git-train/demo/$b/code.tar.gz code &&
	git train aws-call s3 --method POST --path /$B/git-train/demo/$b/code.tar.gz \
		--query uploads >mpu4.xml &&
	log $(rid 4 $c1) $c1 "epoch 1/3 loss=0.5000" &&
	git config train.gc.retention 6s &&
	git config train.gc.uploadAge 6s &&
	sleep 8
'

test_expect_success AWS 'two repositories named demo: each sees only its own runs; an old-layout run still shows' '
	c1=$(cat c1) b=$(cat bob-sha) &&
	gt status &&
	test_grep "^$(rid 22 $c1) .* running  *succeeded  .* first try$" out &&
	test_grep ! "$(rid 23 $b)" out &&
	test_grep ! "$(rid 24 $b)" out &&
	gt logs $(rid 22 $c1) &&
	printf "%s\n" "old line 1" "old line 2" >expect &&
	test_cmp expect out &&
	git notes --ref=train show $c1 >note &&
	test_grep "^$(rid 22 $c1) backend=t3.micro status=succeeded .* log=s3://$B/git-train/demo/$c1/runs/$(rid 22 $c1)/log " note &&
	# an old run known only from its objects (no instance, no note) is found too
	id=$(rid 25 $c1) &&
	echo "{\"run_id\": \"$id\", \"commit\": \"$c1\", \"instance_type\": \"t3.micro\"}" >run.json &&
	put "$(pfx $c1 $id demo)run.json" run.json &&
	put "$(pfx $c1 $id demo)log" expect &&
	result $id $c1 failed 4 demo &&
	gt logs $id &&
	test_cmp expect out &&
	git notes --ref=train show $c1 >note &&
	test_grep "^$id backend=t3.micro status=failed exit=4 .* log=s3://$B/git-train/demo/$c1/runs/$id/log" note &&
	test_expect_code 1 gt stop $(rid 23 $b) &&
	test_grep "no run .$(rid 23 $b). in this repository" err &&
	test_expect_code 1 gt stop $(rid 24 $b) &&
	test_grep "no run .$(rid 24 $b). in this repository" err &&
	test_expect_code 1 gt logs $(rid 24 $b) &&
	(cd bob && git train status >../bob-out 2>../bob-err) &&
	test_grep "^$(rid 23 $b) " bob-out &&
	test_grep "^$(rid 24 $b) .* succeeded " bob-out &&
	test_line_count = 3 bob-out &&
	test "$(state $(cat ids/$(rid 23 $b)))" = running &&
	test "$(state $(cat ids/$(rid 24 $b)))" = running
'

test_expect_success AWS 'gc --dry-run says what it would remove and removes nothing' '
	c0=$(cat c0) c1=$(cat c1) c2=$(cat c2) c3=$(git rev-parse HEAD) &&
	put git-train/$R/$c2/code.tar.gz code &&
	put $(pfx $c3 20261129-090000-$(git rev-parse --short=7 $c3)-0001)run.json run.json &&
	gt gc --dry-run &&
	for id in $(rid 16 $c2) $(rid 18 $c2) $(rid 19 $c2) $(rid 21 $c2); do
		test_grep "^would remove instance $(cat ids/$id): run $id " out || return 1
	done &&
	test_grep "^would remove instance .*: run $(rid 16 $c2) finished (succeeded) but its instance is still running$" out &&
	test_grep "past its max runtime of 1s$" out &&
	test_grep "^would remove upload of s3://$B/git-train/$R/$c0/code.tar.gz: started .* ago, never completed$" out &&
	test_grep "^would remove code archive s3://$B/git-train/$R/$c0/code.tar.gz: no live run uses it, last used " out &&
	test_grep "^would remove instance $(cat ids/$(rid 22 $c1)): run $(rid 22 $c1) finished (succeeded) but its instance is still running$" out &&
	test_grep "^would remove upload of s3://$B/git-train/demo/$c0/code.tar.gz: started " out &&
	test_grep "^would remove code archive s3://$B/git-train/demo/$c0/code.tar.gz: no live run uses it" out &&
	test_line_count = 9 out &&
	test "$(state $(cat ids/$(rid 18 $c2)))" = running &&
	test "$(state $(cat ids/$(rid 21 $c2)))" = running &&
	exists git-train/$R/$c0/code.tar.gz &&
	git train aws-call s3 --path "/$B" --query uploads >uploads &&
	test "$(grep -o "<UploadId>" uploads | wc -l)" = 4
'

test_expect_success AWS 'gc removes what is left behind, and nothing else' '
	c0=$(cat c0) c1=$(cat c1) c2=$(cat c2) c3=$(git rev-parse HEAD) &&
	put git-train/$R/$c2/code.tar.gz code &&
	put $(pfx $c3 20261129-090000-$(git rev-parse --short=7 $c3)-0001)run.json run.json &&
	gt gc &&
	test_line_count = 9 out &&
	test_grep "^removed instance $(cat ids/$(rid 21 $c2)): " out &&
	for id in $(rid 16 $c2) $(rid 18 $c2) $(rid 19 $c2) $(rid 21 $c2); do
		state $(cat ids/$id) >st &&
		test_grep "shutting-down\|terminated" st || return 1
	done &&
	test "$(state $(cat untagged))" = running &&
	test "$(state $(cat ids/$(rid 1 $c1)))" = running &&
	! exists git-train/$R/$c0/code.tar.gz &&
	exists git-train/$R/$c1/code.tar.gz &&
	exists git-train/$R/$c2/code.tar.gz &&
	exists git-train/$R/$c3/code.tar.gz &&
	exists other/$c0/code.tar.gz &&
	state $(cat ids/$(rid 22 $c1)) >st &&
	test_grep "shutting-down\|terminated" st &&
	! exists git-train/demo/$c0/code.tar.gz &&
	# bob/demo lost nothing: instances, archives, upload, in either layout
	b=$(cat bob-sha) Rb=$(cat bob-id) &&
	test "$(state $(cat ids/$(rid 23 $b)))" = running &&
	test "$(state $(cat ids/$(rid 24 $b)))" = running &&
	exists git-train/$Rb/$b/code.tar.gz &&
	exists git-train/demo/$b/code.tar.gz &&
	git train aws-call s3 --path "/$B" --query uploads >uploads &&
	test "$(grep -o "<UploadId>" uploads | wc -l)" = 2 &&
	test_grep "<Key>other/big.bin</Key>" uploads &&
	test_grep "<Key>git-train/demo/$b/code.tar.gz</Key>" uploads &&
	git notes --ref=train show $c2 >note &&
	test_grep "^$(rid 21 $c2) backend=t3.micro status=stopped " note &&
	put git-train/$R/$c2/code.tar.gz code &&
	put $(pfx $c3 20261129-090000-$(git rev-parse --short=7 $c3)-0001)run.json run.json &&
	gt gc &&
	test ! -s out &&
	test_grep "nothing to clean up" err
'

test_expect_success AWS 'a clone has the same id, whatever it checks out; a shallow one needs train.repo' '
	c1=$(cat c1) &&
	git rev-list --max-parents=0 HEAD >expect &&
	test_cmp expect .git/train/root &&
	git clone -q . clone &&
	git -C clone remote set-url origin https://example.com/team/demo.git &&
	git -C clone config train.bucket $B &&
	(cd clone && git train status $(rid 1 $c1) >../clone-out) &&
	test_grep "^$(rid 1 $c1) " clone-out &&
	git -C clone checkout -q --orphan pages &&
	git -C clone commit -q --allow-empty -m "another history" &&
	(cd clone && git train status $(rid 1 $c1) >../clone-out) &&
	test_grep "^$(rid 1 $c1) " clone-out &&
	# a kept root that is not a root of this repository is not believed
	git rev-parse HEAD >.git/train/root &&
	gt status $(rid 1 $c1) &&
	test_cmp expect .git/train/root &&
	git clone -q --depth 1 "file://$TRASH_DIRECTORY" shallow &&
	git -C shallow config train.bucket $B &&
	(cd shallow && test_expect_code 128 git train status >../shallow-out 2>../shallow-err) &&
	test_grep "^error: this is a shallow clone" shallow-err &&
	test_grep "git fetch --unshallow" shallow-err &&
	test_grep "train.repo" shallow-err &&
	git -C shallow config train.repo "../$R" &&
	(cd shallow && test_expect_code 128 git train status >../shallow-out 2>../shallow-err) &&
	test_grep "^error: bad train.repo .\.\./$R." shallow-err &&
	git -C shallow config train.repo "$R" &&
	(cd shallow && git train status $(rid 1 $c1) >../shallow-out) &&
	test_grep "^$(rid 1 $c1) " shallow-out
'

# Every run can write every run's run.json (the role's runs/*): one that
# names another run would steer the note to another commit.
test_expect_success AWS 'a run.json that names another run and commit is not trusted' '
	c1=$(cat c1) c2=$(cat c2) &&
	id=$(rid 40 $c2) &&
	cat >run.json <<-EOF &&
	{"run_id": "$(rid 1 $c1)", "commit": "$c1", "instance_type": "t3.micro",
	 "launched": "2026-11-29T08:01:00Z"}
	EOF
	put "$(pfx $c2 $id)run.json" run.json &&
	result $id $c2 succeeded 0 &&
	before=$(note_lines $c1) &&
	test_expect_code 1 gt status $id &&
	test_grep "^error: the run.json of s3://$B/$(pfx $c2 $id) names run $(rid 1 $c1) of commit $c1, not the run it belongs to: not trusted$" err &&
	test "$(note_lines $c1)" = "$before" &&
	git notes --ref=train show $c2 >note &&
	test_grep ! "$id" note
'

# Notes are pulled from a shared remote (cat_sort_uniq merges add the other
# clone's lines as they are), so a collaborator can write any line. Here a
# line is added with git notes append: what a pull of it leaves behind.
test_expect_success AWS 'a pulled note cannot steer logs: the configured bucket only, log= warned about' '
	c1=$(cat c1) id=$(rid 30 $(cat c1)) &&
	test_moto_s3 /evil -X PUT &&
	printf "forged log\n" >evil.txt &&
	git train aws-call s3 --method PUT --path /evil/x/log --upload-file evil.txt >/dev/null &&
	printf "real log\033]0;pwned\007 title\r\n\033[2Jcleared\rover\n\302\233 c1\n" >real.txt &&
	put "$(pfx $c1 $id)log" real.txt &&
	git notes --ref=train append -m "$id backend=t3.micro status=succeeded exit=0 log=s3://evil/x%1B%5B31m/log" $c1 &&
	gt logs $id &&
	test_cmp real.txt out &&
	test_grep "^warning: a note of run $id says its log is at .s3://evil/x?\[31m/log.; reading it from s3://$B/$(pfx $c1 $id)log, where this repository.s runs are$" err &&
	test_grep ! "forged" out &&
	# a run noted in the legacy layout (git-train 0.1) is read there, without a warning
	old=$(rid 22 $c1) &&
	git notes --ref=train show $c1 >note &&
	test_grep "^$old .* log=s3://$B/$(pfx $c1 $old demo)log " note &&
	gt logs $old &&
	printf "%s\n" "old line 1" "old line 2" >expect &&
	test_cmp expect out &&
	test_grep ! "warning" err
'

test_expect_success AWS,TTY 'on a terminal, logs shows control characters instead of obeying them' '
	id=$(rid 30 $(cat c1)) &&
	script -qec "git train logs $id" /dev/null </dev/null >tty.out &&
	cat tty.out >>all-output &&
	test_grep "real log^\[\]0;pwned^G title" tty.out &&
	test_grep "^\^\[\[2Jcleared" tty.out &&
	test_grep "^over" tty.out &&
	test_grep "M-^\[ c1" tty.out &&
	! grep -q "$(printf "\033")" tty.out &&
	! grep -q "$(printf "\007")" tty.out &&
	! grep -q "$(printf "\302\233")" tty.out
'

test_expect_success AWS 'two different lines for a run: status and log show a conflict, neither wins' '
	c2=$(cat c2) id=$(rid 17 $(cat c2)) &&
	git notes --ref=train append -m "$id backend=a1.forged status=failed exit=1 metric.loss=9 log=s3://evil/x/log" $c2 &&
	gt status $id &&
	test_grep "^$id .* conflict: succeeded or failed exit 1 " out &&
	test_grep "^warning: run $id has two different note lines" err &&
	gt status --json $id &&
	/usr/bin/python3 - "$R" <<-\EOF &&
	import json, sys
	[run] = json.load(open("out"))
	assert run["conflict"] is True and run["status"] is None, run
	assert run["exit_code"] is None and run["metrics"] == {}, run
	assert run["log"].startswith("s3://train-bucket/git-train/%s/" % sys.argv[1]), run
	EOF
	git train log $c2 >out 2>err &&
	test "$(grep -c "(conflict)" out)" = 2 &&
	test_grep "^warning: run $id has different note lines" err &&
	gt logs $id &&
	test_line_count = 3 out &&
	test_grep "^warning: a note of run $id says its log is at .s3://evil/x/log." err &&
	git notes --ref=train show $c2 >note &&
	test "$(grep -c "^$id " note)" = 2 &&
	grep -v "backend=a1.forged" note >kept &&
	git notes --ref=train add -f -F kept $c2
'

test_expect_success AWS 'a line noted for a live run does not keep its real result out' '
	c1=$(cat c1) id=$(rid 31 $(cat c1)) &&
	launch $id $c1 &&
	git notes --ref=train append -m "$id backend=t3.micro status=succeeded exit=0 log=s3://$B/$(pfx $c1 $id)log" $c1 &&
	gt status $id &&
	test_grep "^$id .* running  *starting, but a note says succeeded " out &&
	result $id $c1 failed 4 &&
	gt status $id &&
	test_grep "^$id .* conflict: failed exit 4 or succeeded " out &&
	git notes --ref=train show $c1 >note &&
	test_grep "^$id backend=t3.micro status=failed exit=4 " note &&
	test_grep "^$id backend=t3.micro status=succeeded exit=0 log=" note &&
	gt status $id &&
	git notes --ref=train show $c1 >note &&
	test "$(grep -c "^$id " note)" = 2 &&
	grep -v "^$id backend=t3.micro status=succeeded" note >kept &&
	git notes --ref=train add -f -F kept $c1 &&
	git train aws-call ec2 TerminateInstances InstanceId.1=$(cat ids/$id) >/dev/null
'

test_expect_success AWS 'errors: no train.bucket, bad credentials, no run named' '
	git config --unset train.bucket &&
	test_expect_code 128 gt status &&
	git config train.bucket $B &&
	test_grep "train.bucket is not set" err &&
	test_grep "git config train.bucket" err &&
	(
		AWS_SECRET_ACCESS_KEY=not-the-secret &&
		export AWS_SECRET_ACCESS_KEY &&
		test_expect_code 1 gt status
	) &&
	test_grep "^error: .*SignatureDoesNotMatch" err &&
	(
		AWS_ACCESS_KEY_ID=AKIANOTAKEY000000000 &&
		export AWS_ACCESS_KEY_ID &&
		test_expect_code 1 gt logs -f x
	) &&
	test_grep "^error: .*InvalidClientTokenId" err &&
	git -c train.bucket=no-such-bucket train status >out 2>err &&
	cat out err >>all-output &&
	test "$(grep -c "^warning: " err)" = 1 &&
	test_grep "^warning: cannot read how the runs are doing: NoSuchBucket" err &&
	test "$(grep -c " unknown " out)" -ge 10 &&
	test_expect_code 129 gt logs &&
	test_expect_code 129 gt stop &&
	test_expect_code 129 gt gc extra
'

# Runs 1 to 14 of the first commit are still "starting": their instances
# up, no log; run 4's log was written before the sleep above, run 2's now.
test_expect_success AWS 'gc: past train.idleTimeout, instances whose runner never started or stopped beating' '
	c1=$(cat c1) &&
	log $(rid 2 $c1) $c1 "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" &&
	git config train.idleTimeout 1h &&
	gt gc --dry-run &&
	test_grep ! "instance" out &&
	git config train.idleTimeout 5s &&
	gt gc --dry-run &&
	test_grep "^would remove instance $(cat ids/$(rid 1 $c1)): run $(rid 1 $c1) has no log [0-9]*[sm] after its launch, past train.idleTimeout (5s): its runner never started$" out &&
	test_grep "^would remove instance $(cat ids/$(rid 4 $c1)): run $(rid 4 $c1) has not written its log for [0-9]*[sm], past train.idleTimeout (5s): its runner is gone$" out &&
	test_grep ! "$(rid 2 $c1)" out &&
	test "$(state $(cat ids/$(rid 1 $c1)))" = running &&
	# (run 2 beats again just before: a loaded machine takes seconds per step)
	log $(rid 2 $c1) $c1 "epoch 1/3 loss=0.5000" "epoch 2/3 loss=0.2500" "epoch 3/3 loss=0.1250" &&
	gt gc &&
	test_grep ! "$(rid 2 $c1)" out &&
	test_grep "^removed instance $(cat ids/$(rid 4 $c1)): run $(rid 4 $c1) has not written its log" out &&
	for n in 1 4 14; do
		state $(cat ids/$(rid $n $c1)) >st &&
		test_grep "shutting-down\|terminated" st || return 1
	done &&
	test "$(state $(cat ids/$(rid 2 $c1)))" = running &&
	git notes --ref=train show $c1 >note &&
	test_grep "^$(rid 1 $c1) backend=t3.micro status=stopped " note &&
	test_expect_code 128 git -c train.idleTimeout=0 train gc 2>err &&
	test_grep "bad train.idleTimeout" err &&
	git config --unset train.idleTimeout
'

test_expect_success AWS 'the secret appears in no output' '
	test -s all-output &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" all-output
'

test_done
