#!/bin/sh
# launch-nodes: one run on several instances (issue 14). The launch asks
# each zone for all N in the run's cluster placement group and security
# group, all or none: a zone that gives fewer has them terminated and the
# launch goes on as when a zone has no capacity, saying how many it got;
# the groups are made before and deleted after, leaving nothing. Driven
# through `test-tool launch --count`, which calls cluster_create(),
# launch_instance() and cluster_delete() as `git train <type> --nodes N` does.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2
if test_have_prereq EC2 && test -x "$TEST_TOOL"; then
	test_set_prereq LAUNCH
fi

PRICES="--spot-price=0.068 --on-demand-price=0.17"

# launch RUN-ID ARGS...: test-tool launch of c5.xlarge with the prices and the repository's tag
launch() {
	_run=$1
	shift
	"$TEST_TOOL" launch $PRICES --run-id="$_run" --tag=git-train:repo=t0563 "$@" c5.xlarge
}

# fresh: an empty account, the fake without rules and settings (placement groups stay:
# each test has its own run id)
fresh() {
	test_reset_moto &&
	test_fake_ctl reset &&
	test_fake_ctl rules "[]"
}

# terminate ID...: TerminateInstances through the fake, which ends their spot requests too
terminate() {
	_n=0
	for _id; do
		_n=$((_n + 1))
		set -- "$@" "InstanceId.$_n=$_id"
		shift
	done
	MOTO_URL=$FAKE_URL test_moto ec2 TerminateInstances "$@" >/dev/null
}

# groups_of RUN-ID: "<placement groups> <security groups>" named git-train-RUN-ID
groups_of() {
	test_fake_placement_groups >pgs.json &&
	test_json "sum(1 for n in d if n == \"git-train-$1\")" <pgs.json >pg-count &&
	test_moto ec2 DescribeSecurityGroups Filter.1.Name=group-name \
		Filter.1.Value.1="git-train-$1" >sgs.xml &&
	test_xml securityGroupInfo/item groupId <sgs.xml | wc -l | tr -d " " >sg-count &&
	echo "$(cat pg-count) $(cat sg-count)"
}

RUN1=20261206-000000-abc1234-0001
test_expect_success LAUNCH 'two instances in one zone, one placement group, one security group' '
	fresh &&
	launch $RUN1 --count=2 --cluster >out 2>err &&
	pg=$(sed -n "s/^placement_group //p" out) &&
	sg=$(sed -n "s/^security_group //p" out) &&
	echo "git-train-$RUN1" >expect &&
	echo "$pg" >got &&
	test_cmp expect got &&
	sed -n "s/^node //p" out >nodes &&
	test_line_count = 2 nodes &&
	cut -d" " -f1 nodes >ranks &&
	printf "0\n1\n" >expect &&
	test_cmp expect ranks &&
	# node 0 is the launch'"'"'s instance; the nodes by instance id; one zone
	test "$(sed -n "s/^instance //p" out)" = "$(sed -n "s/^0 \([^ ]*\) .*/\1/p" nodes)" &&
	cut -d" " -f2 nodes >ids &&
	sort ids >sorted &&
	test_cmp sorted ids &&
	test "$(cut -d" " -f4 nodes | sort -u | wc -l)" = 1 &&
	# each its own private address, on the loopback range
	cut -d" " -f3 nodes | sort -u >ips &&
	test_line_count = 2 ips &&
	! grep -v "^127\." ips &&
	test_fake_instances_of_run $RUN1 >instances &&
	test_line_count = 2 instances &&
	while read -r id state group ip sgs; do
		test "$state" = running &&
		test "$group" = "$pg" &&
		case ",$sgs," in *",$sg,"*) ;; *) false ;; esac || return 1
	done <instances &&
	test_grep "waiting for $(cut -d" " -f2 nodes | tail -n 1) to be reachable through SSM" err
'

test_expect_success LAUNCH 'the groups are tagged as the run, and the security group lets only itself in' '
	pg=$(sed -n "s/^placement_group //p" out) &&
	sg=$(sed -n "s/^security_group //p" out) &&
	test_fake_placement_groups >pgs.json &&
	test_json "d[\"$pg\"][\"strategy\"]" <pgs.json >got &&
	echo cluster >expect &&
	test_cmp expect got &&
	test_json "d[\"$pg\"][\"tags\"][\"git-train:run-id\"]" <pgs.json >got &&
	echo $RUN1 >expect &&
	test_cmp expect got &&
	test_moto ec2 DescribeSecurityGroups GroupId.1="$sg" >sg.xml &&
	test_xml securityGroupInfo/item/tagSet/item key value <sg.xml | sort >tags &&
	test_grep "^git-train:repo	t0563$" tags &&
	test_grep "^git-train:run-id	$RUN1$" tags &&
	test_xml securityGroupInfo/item/ipPermissions/item ipProtocol fromPort toPort \
		<sg.xml >rules &&
	printf "tcp\t0\t65535\n" >expect &&
	test_cmp expect rules &&
	test_xml securityGroupInfo/item/ipPermissions/item/groups/item groupId <sg.xml >from &&
	echo "$sg" >expect &&
	test_cmp expect from &&
	test_xml securityGroupInfo/item/ipPermissions/item/ipRanges/item cidrIp <sg.xml >cidrs &&
	test_line_count = 0 cidrs
'

test_expect_success LAUNCH 'cluster_delete waits for the instances, then leaves nothing' '
	cut -d" " -f2 nodes >ids &&
	terminate $(cat ids) &&
	"$TEST_TOOL" launch --run-id=$RUN1 --cluster-delete=30 2>err &&
	echo "0 0" >expect &&
	groups_of $RUN1 >got &&
	test_cmp expect got &&
	test_nothing_left
'

test_expect_success LAUNCH 'cluster_delete names the instances still running and keeps the groups' '
	run=20261206-000000-abc1234-0002 &&
	fresh &&
	launch $run --count=2 --cluster >out 2>err &&
	test_must_fail "$TEST_TOOL" launch --run-id=$run --cluster-delete=0 2>err &&
	test_grep "run $run still has instances not terminated" err &&
	test_grep "$(sed -n "s/^node 1 \([^ ]*\) .*/\1/p" out)" err &&
	echo "1 1" >expect &&
	groups_of $run >got &&
	test_cmp expect got &&
	sed -n "s/^node [01] \([^ ]*\) .*/\1/p" out >ids &&
	terminate $(cat ids) &&
	"$TEST_TOOL" launch --run-id=$run --cluster-delete=30 &&
	echo "0 0" >expect &&
	groups_of $run >got &&
	test_cmp expect got &&
	test_nothing_left
'

RUN3=20261206-000000-abc1234-0003
test_expect_success LAUNCH 'one of two in every zone, no --yes: each zone'"'"'s terminated, RC_NO_SPOT, nothing left' '
	fresh &&
	test_fake_settings "{\"spot_capacity\": {\"c5.xlarge\": 1}}" &&
	test_expect_code 3 launch $RUN3 --count=2 --cluster --spot-az=us-east-1b >out 2>err &&
	# the cheapest zone first, then the others, each giving one of two
	test_grep "got 1 of 2 spot c5.xlarge in us-east-1b: terminated it, trying another zone" err &&
	test_grep "got 1 of 2 spot c5.xlarge in us-east-1a: terminated it" err &&
	test "$(grep -c "got 1 of 2 spot c5.xlarge in" err)" -ge 3 &&
	# no other zone after the last one
	test_grep "got 1 of 2 spot c5.xlarge in us-east-1f: terminated it$" err &&
	# the price comparison, and how many of N were had
	test_grep "spot capacity unavailable: on-demand c5.xlarge is \$0.17/h, spot was \$0.068/h (2.5x)" err &&
	test_grep "no spot capacity for 2 c5.xlarge in one zone in us-east-1 after 1 attempt" err &&
	test_grep "(got 1 of 2 spot c5.xlarge in us-east-1" err &&
	test_grep "to launch on-demand when spot has no capacity: --yes" err &&
	! grep "^node" out &&
	test_fake_instances_of_run $RUN3 >instances &&
	! grep -v " terminated " instances &&
	echo "0 0" >expect &&
	groups_of $RUN3 >got &&
	test_cmp expect got &&
	test_nothing_left
'

RUN4=20261206-000000-abc1234-0004
test_expect_success LAUNCH 'one of two spot anywhere, --yes: two on-demand in one renewed placement group' '
	fresh &&
	test_fake_settings "{\"spot_capacity\": {\"c5.xlarge\": 1}}" &&
	launch $RUN4 --count=2 --cluster --yes >out 2>err &&
	test_grep "got 1 of 2 spot c5.xlarge in us-east-1a: terminated it, trying another zone" err &&
	test_grep "launching ON-DEMAND c5.xlarge" err &&
	test_grep "^market on-demand$" out &&
	sed -n "s/^node //p" out >nodes &&
	test_line_count = 2 nodes &&
	test_fake_instances_of_run $RUN4 >instances &&
	grep " running " instances >running &&
	test_line_count = 2 running &&
	! grep -v " git-train-$RUN4 " running &&
	# the group made again for another zone keeps the run'"'"'s tags
	test_fake_placement_groups >pgs.json &&
	test_json "d[\"git-train-$RUN4\"][\"tags\"][\"git-train:run-id\"]" <pgs.json >got &&
	echo $RUN4 >expect &&
	test_cmp expect got &&
	cut -d" " -f2 nodes >ids &&
	terminate $(cat ids) &&
	"$TEST_TOOL" launch --run-id=$RUN4 --cluster-delete=30 &&
	echo "0 0" >expect &&
	groups_of $RUN4 >got &&
	test_cmp expect got &&
	test_nothing_left
'

test_expect_success LAUNCH 'a quota error fails at once and terminates nothing else: no instance, no group' '
	run=20261206-000000-abc1234-0005 &&
	fresh &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 400,
		\"code\": \"MaxSpotInstanceCountExceeded\", \"message\": \"Max spot instance count exceeded\",
		\"service\": \"ec2\", \"action\": \"RunInstances\"}]" &&
	test_expect_code 1 launch $run --count=2 --cluster >out 2>err &&
	test_grep "MaxSpotInstanceCountExceeded" err &&
	test "$(test_fake_count "ec2 RunInstances")" = 1 &&
	echo "0 0" >expect &&
	groups_of $run >got &&
	test_cmp expect got &&
	test_nothing_left
'

test_expect_success LAUNCH 'interrupted while the nodes boot: every node terminated, the groups gone' '
	run=20261206-000000-abc1234-0008 &&
	fresh &&
	test_fake_settings "{\"ready_delay\": 60}" &&
	{ "$TEST_TOOL" launch $PRICES --run-id=$run --count=2 --cluster c5.xlarge >out 2>err &
		pid=$!; } &&
	test_wait_for_text err "reachable through SSM" 60 &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } ;
	test $rc = 130 &&
	test_grep "^cancelled$" err &&
	test_grep "terminated i-.* (interrupted)" err &&
	test_fake_instances_of_run $run >instances &&
	test_line_count = 2 instances &&
	! grep -v " terminated " instances &&
	echo "0 0" >expect &&
	groups_of $run >got &&
	test_cmp expect got &&
	test_nothing_left
'

# cancel SIR...: CancelSpotInstanceRequests through the fake
cancel() {
	_n=0
	for _id; do
		_n=$((_n + 1))
		set -- "$@" "SpotInstanceRequestId.$_n=$_id"
		shift
	done
	MOTO_URL=$FAKE_URL test_moto ec2 CancelSpotInstanceRequests "$@" >/dev/null
}

# A run that can resume on several instances: EC2 makes a persistent
# request per instance, and the launch keeps each node's.
RUN9=20261206-000000-abc1234-0009
test_expect_success LAUNCH 'persistent: a request per node, each stops its own instance, tagged with the run' '
	fresh &&
	launch $RUN9 --count=2 --cluster --persistent >out 2>err &&
	sed -n "s/^node //p" out >nodes &&
	test_line_count = 2 nodes &&
	cut -d" " -f5 nodes >sirs &&
	! grep -v "^sir-" sirs &&
	test "$(sort -u sirs | wc -l)" = 2 &&
	# node 0 is the launch'"'"'s instance, with its request
	test "$(sed -n "s/^spot_request //p" out)" = "$(head -n 1 sirs)" &&
	while read -r rank iid ip zone sir; do
		test "$(test_fake_spot_request $sir instance)" = "$iid" &&
		test "$(test_fake_spot_request $sir type)" = persistent &&
		test "$(test_fake_spot_request $sir behaviour)" = stop &&
		test "$(test_fake_spot_request $sir state)" = active &&
		test "$(test_fake_spot_request $sir valid_until)" != null &&
		test_fake_spot_request $sir tags >tags.json &&
		test "$(test_json "d[\"git-train:run-id\"]" <tags.json)" = $RUN9 || return 1
	done <nodes &&
	cancel $(cat sirs) &&
	terminate $(cut -d" " -f2 nodes) &&
	"$TEST_TOOL" launch --run-id=$RUN9 --cluster-delete=30 &&
	test_nothing_left
'

# Every way a launch of several persistent instances ends early cancels each
# instance's request while the instance still runs (the fake says
# request-canceled-and-instance-running), before it is terminated: the other
# way round, a request would be open again for a moment, and EC2 would
# start an instance for it.
# requests_of RUN-ID: "<state> <status>" of each request of the run's instances
requests_of() {
	test_fake_instances_of_run "$1" | cut -d" " -f1 >ids &&
	while read -r iid; do
		echo "$(test_fake_spot_request $iid state) $(test_fake_spot_request $iid status)" ||
			return 1
	done <ids
}

RUN10=20261206-000000-abc1234-0010
test_expect_success LAUNCH 'persistent, one of two in every zone: each request cancelled before its instance is terminated' '
	fresh &&
	test_fake_settings "{\"spot_capacity\": {\"c5.xlarge\": 1}}" &&
	test_expect_code 3 launch $RUN10 --count=2 --cluster --persistent >out 2>err &&
	test_grep "got 1 of 2 spot c5.xlarge in us-east-1a: terminated it" err &&
	requests_of $RUN10 >reqs &&
	test "$(wc -l <reqs)" -ge 3 &&
	! grep -v "^cancelled request-canceled-and-instance-running$" reqs &&
	echo "0 0" >expect &&
	groups_of $RUN10 >got &&
	test_cmp expect got &&
	test_nothing_left
'

RUN11=20261206-000000-abc1234-0011
test_expect_success LAUNCH 'persistent, interrupted while the nodes boot: every request cancelled first, every node terminated' '
	fresh &&
	test_fake_settings "{\"ready_delay\": 60}" &&
	{ "$TEST_TOOL" launch $PRICES --run-id=$RUN11 --count=2 --cluster --persistent \
		c5.xlarge >out 2>err &
		pid=$!; } &&
	test_wait_for_text err "reachable through SSM" 60 &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } ;
	test $rc = 130 &&
	requests_of $RUN11 >reqs &&
	test_line_count = 2 reqs &&
	! grep -v "^cancelled request-canceled-and-instance-running$" reqs &&
	test_fake_instances_of_run $RUN11 >instances &&
	! grep -v " terminated " instances &&
	echo "0 0" >expect &&
	groups_of $RUN11 >got &&
	test_cmp expect got &&
	test_nothing_left
'

RUN12=20261206-000000-abc1234-0012
test_expect_success LAUNCH 'persistent, node 1 never reachable: both requests cancelled first, both nodes terminated' '
	fresh &&
	test_fake_settings "{\"ready_delay\": 60}" &&
	test_expect_code 1 launch $RUN12 --count=2 --cluster --persistent --ready-timeout=2 \
		>out 2>err &&
	test_grep "did not become reachable through SSM" err &&
	requests_of $RUN12 >reqs &&
	test_line_count = 2 reqs &&
	! grep -v "^cancelled request-canceled-and-instance-running$" reqs &&
	echo "0 0" >expect &&
	groups_of $RUN12 >got &&
	test_cmp expect got &&
	test_nothing_left
'

# gc removes the groups of a run that has ended, found by the repository's
# tag: not those of a run with no instance yet (it may still be launching),
# only once the run is past its max runtime (or has a result).
test_expect_success LAUNCH 'gc removes the groups of an ended run, not of one that may be launching' '
	fresh &&
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	test_make_train_repo &&
	repo=$(test_repo_id) &&
	young=20261206-000000-abc1234-0006 old=20261206-000000-abc1234-0007 &&
	launch $young --count=2 --cluster --tag=git-train:repo=$repo >young.out 2>err &&
	launch $old --count=2 --cluster --tag=git-train:repo=$repo \
		--tag=git-train:max-runtime=1 >old.out 2>err &&
	terminate $(sed -n "s/^node [01] \([^ ]*\) .*/\1/p" young.out old.out) &&
	sleep 2 &&
	old_sg=$(sed -n "s/^security_group //p" old.out) &&
	test_train gc --dry-run &&
	test_grep "^would remove placement group git-train-$old: run $old has no instance left, and its group was made [0-9]*s ago, past its max runtime of 1s$" out &&
	test_grep "^would remove security group git-train-$old ($old_sg): run $old has no instance left" out &&
	test_grep ! "$young" out &&
	echo "1 1" >expect &&
	groups_of $old >got &&
	test_cmp expect got &&
	test_train gc &&
	test_grep "^removed placement group git-train-$old: run $old" out &&
	test_grep "^removed security group git-train-$old ($old_sg): run $old" out &&
	echo "0 0" >expect &&
	groups_of $old >got &&
	test_cmp expect got &&
	echo "1 1" >expect &&
	groups_of $young >got &&
	test_cmp expect got &&
	"$TEST_TOOL" launch --run-id=$young --cluster-delete=30 &&
	echo "0 0" >expect &&
	groups_of $young >got &&
	test_cmp expect got
'

test_done
