#!/bin/sh
# launch: spot first, honestly. A launch tries every zone, waits for spot
# capacity within its timeout, falls back to on-demand only when allowed and
# then loudly, fails fast on quotas, never starts two instances for one
# request, waits until SSM can reach the instance, and leaves nothing running
# when it fails or is interrupted. Driven through `test-tool launch`, which
# calls launch_instance() as `git train <type>` does.
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO && test_have_prereq FAKE && test -x "$TEST_TOOL"; then
	test_start_moto || exit 1
	test_start_fake || exit 1
	test_set_prereq LAUNCH
	command -v script >/dev/null 2>&1 && test_set_prereq LAUNCH_TTY
fi
# aws_send's own retries (the 500 of error500-after) without the real waits
GIT_TRAIN_RETRY_BASE_MS=1
export GIT_TRAIN_RETRY_BASE_MS

RUN_ID=20261129-000000-abc1234-0000
PRICES="--spot-price=0.0031 --on-demand-price=0.0104"

# launch ARGS...: test-tool launch with the prices of a t3.micro and a run id tag
launch() {
	"$TEST_TOOL" launch $PRICES --tag=git-train:commit=abc1234abc1234 "$@"
}

# fresh [RULES]: an empty account, the fake without rules and settings, then RULES
fresh() {
	test_reset_moto &&
	test_fake_ctl reset &&
	test_fake_ctl rules "${1:-[]}"
}

# settings JSON: the fake's settings (ready_delay)
settings() {
	curl -sf -o /dev/null -X POST --data-binary "$1" "$FAKE_URL/__fake/settings"
}

# instances [STATES]: how many instances exist (in those states, comma-separated)
instances() {
	if test -n "$1"; then
		set -- Filter.1.Name=instance-state-name $(echo "$1" | tr , "\n" |
			awk "{ printf \"Filter.1.Value.%d=%s\n\", NR, \$0 }")
	fi
	test_moto ec2 DescribeInstances "$@" >instances.xml &&
	test_xml reservationSet/item/instancesSet/item instanceId <instances.xml | wc -l | tr -d " "
}

# no_spot_requests: not one spot request, open or otherwise
no_spot_requests() {
	test_moto ec2 DescribeSpotInstanceRequests >requests.xml &&
	test_xml spotInstanceRequestSet/item spotInstanceRequestId <requests.xml |
		wc -l | tr -d " " >requests &&
	echo 0 >expect &&
	test_cmp expect requests
}

capacity_everywhere='[{"fault": "error", "status": 500, "code": "InsufficientInstanceCapacity",
	"message": "We currently do not have sufficient t3.micro capacity.", "service": "ec2",
	"action": "RunInstances", "params": {"InstanceMarketOptions.MarketType": "spot"}}]'

test_expect_success LAUNCH 'a spot launch in a fresh account: spot, IMDSv2, terminate on shutdown' '
	fresh &&
	launch t3.micro >out 2>err &&
	id=$(sed -n "s/^instance //p" out) &&
	test_grep "^market spot$" out &&
	test_grep "^price 0.0031$" out &&
	test_moto ec2 DescribeInstances InstanceId.1="$id" >instance.xml &&
	test_xml reservationSet/item/instancesSet/item instanceLifecycle metadataOptions/httpTokens \
		instanceState/name instanceType <instance.xml >got &&
	printf "spot\trequired\trunning\tt3.micro\n" >expect &&
	test_cmp expect got &&
	test_moto ec2 DescribeInstanceAttribute InstanceId="$id" \
		Attribute=instanceInitiatedShutdownBehavior >attribute.xml &&
	test_xml instanceInitiatedShutdownBehavior/value <attribute.xml >got &&
	echo terminate >expect &&
	test_cmp expect got &&
	ami=$(sed -n "s/^ami //p" out) &&
	test_moto ssm GetParameter \
		"{\"Name\": \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"}" \
		>parameter.json &&
	test_json "d[\"Parameter\"][\"Value\"]" <parameter.json >want-ami &&
	echo "$ami" >got-ami &&
	test_cmp want-ami got-ami &&
	test_grep "waiting for $id to be reachable through SSM (0:0.), done." err &&
	test_moto ec2 DescribeVolumes Filter.1.Name=attachment.instance-id \
		Filter.1.Value.1="$id" >volumes.xml &&
	test_xml volumeSet/item encrypted <volumes.xml >got &&
	echo true >expect &&
	test_cmp expect got
'

test_expect_success LAUNCH 'the instance is tagged at launch: ours and the caller'"'"'s' '
	id=$(sed -n "s/^instance //p" out) &&
	test_moto ec2 DescribeTags Filter.1.Name=resource-id Filter.1.Value.1="$id" >tags.xml &&
	test_xml tagSet/item key value <tags.xml | sort >got &&
	cat >expect <<-EOF &&
	Name	git-train/abc1234
	git-train:commit	abc1234abc1234
	git-train:market	spot
	git-train:max-runtime	3600
	git-train:price	0.0031
	git-train:run-id	$RUN_ID
	EOF
	test_cmp expect got
'

test_expect_success LAUNCH 'user data is the watchdog and nothing else: the idle timeout, else the max runtime' '
	id=$(sed -n "s/^instance //p" out) &&
	test_moto ec2 DescribeInstanceAttribute InstanceId="$id" Attribute=userData >attribute.xml &&
	test_xml userData/value <attribute.xml | base64 -d >user-data &&
	head -n 1 user-data >first &&
	echo "#!/bin/sh" >expect &&
	test_cmp expect first &&
	grep -v "^#" user-data >commands &&
	echo "shutdown -h +60" >expect &&
	test_cmp expect commands &&
	launch --run-id=20261129-000000-abc1234-0001 --max-runtime=5401 t3.micro >out2 &&
	id2=$(sed -n "s/^instance //p" out2) &&
	test_moto ec2 DescribeInstanceAttribute InstanceId="$id2" Attribute=userData >attribute.xml &&
	test_xml userData/value <attribute.xml | base64 -d >user-data2 &&
	test_grep "^shutdown -h +91$" user-data2 &&
	launch --run-id=20261129-000000-abc1234-0003 --idle-timeout=900 t3.micro >out3 &&
	id3=$(sed -n "s/^instance //p" out3) &&
	test_moto ec2 DescribeInstanceAttribute InstanceId="$id3" Attribute=userData >attribute.xml &&
	test_xml userData/value <attribute.xml | base64 -d | grep -v "^#" >commands &&
	echo "shutdown -h +15" >expect &&
	test_cmp expect commands
'

test_expect_success LAUNCH 'at boot, the user data schedules the shutdown' '
	fresh &&
	settings "{\"user_data\": true}" &&
	launch --run-id=20261129-000000-abc1234-0002 --max-runtime=600 --idle-timeout=900 \
		t3.micro >out 2>err &&
	id=$(sed -n "s/^instance //p" out) &&
	i=0 &&
	until curl -sf "$FAKE_URL/__fake/instances" >instances.json &&
		/usr/bin/python3 -c "import json, sys; print(\"\\n\".join(json.load(open(sys.argv[1]))[sys.argv[2]][\"calls\"]))" \
			instances.json "$id" >calls && test -s calls
	do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || return 1
	done &&
	echo "shutdown -h +10" >expect &&
	test_cmp expect calls &&
	test_fake_instance "$id" shutdown_in >left &&
	test_grep "^[56][0-9][0-9]\.[0-9]$" left
'

test_expect_success LAUNCH 'no spot capacity in one zone: launched in the next' '
	fresh "[{\"fault\": \"error\", \"status\": 500, \"code\": \"InsufficientInstanceCapacity\",
		\"service\": \"ec2\", \"action\": \"RunInstances\",
		\"params\": {\"Placement.AvailabilityZone\": \"us-east-1c\"}}]" &&
	launch --spot-az=us-east-1c t3.micro >out 2>err &&
	test_grep "^market spot$" out &&
	test_grep "^az us-east-1a$" out &&
	echo 1 >expect &&
	instances >got &&
	test_cmp expect got &&
	test_fake_count "ec2 RunInstances" >got &&
	echo 2 >expect &&
	test_cmp expect got
'

test_expect_success LAUNCH 'the cheapest zone is tried first' '
	fresh &&
	launch --spot-az=us-east-1d t3.micro >out 2>err &&
	test_grep "^az us-east-1d$" out
'

test_expect_success LAUNCH 'no spot capacity anywhere, no terminal, no --yes: the prices, nothing launched' '
	fresh "$capacity_everywhere" &&
	test_expect_code 3 launch t3.micro >out 2>err &&
	test_grep "^error: spot capacity unavailable: on-demand t3.micro is \$0.0104/h, spot was \$0.0031/h (3.4x)$" err &&
	test_grep "^hint: no spot capacity for t3.micro in us-east-1 after 1 attempt in 0:0.*InsufficientInstanceCapacity" err &&
	test_grep "^hint: .*--yes, or git config train.onDemandFallback true" err &&
	test_grep "^hint: .*--fail-if-no-spot" err &&
	test ! -s out &&
	echo 0 >expect &&
	instances >got &&
	test_cmp expect got &&
	no_spot_requests
'

test_expect_success LAUNCH 'every zone was asked' '
	zones=$(test_moto ec2 DescribeAvailabilityZones |
		test_xml availabilityZoneInfo/item zoneName | wc -l | tr -d " ") &&
	test_fake_count "ec2 RunInstances" >got &&
	echo "$zones" >expect &&
	test_cmp expect got
'

test_expect_success LAUNCH 'with --yes: on-demand, loudly, with both prices' '
	fresh "$capacity_everywhere" &&
	launch --yes t3.micro >out 2>err &&
	test_grep "^market on-demand$" out &&
	test_grep "^price 0.0104$" out &&
	test_grep "^warning: spot capacity unavailable: on-demand t3.micro is \$0.0104/h, spot was \$0.0031/h (3.4x)$" err &&
	test_grep "^warning: launching ON-DEMAND t3.micro at \$0.0104/h (3.4x the spot price)$" err &&
	id=$(sed -n "s/^instance //p" out) &&
	test_moto ec2 DescribeInstances InstanceId.1="$id" >instance.xml &&
	test_xml reservationSet/item/instancesSet/item instanceLifecycle <instance.xml >got &&
	echo None >expect &&
	test_cmp expect got &&
	test_moto ec2 DescribeTags Filter.1.Name=resource-id Filter.1.Value.1="$id" \
		Filter.2.Name=key Filter.2.Value.1=git-train:market >tags.xml &&
	test_xml tagSet/item value <tags.xml | sed -n 1p >got &&
	echo on-demand >expect &&
	test_cmp expect got &&
	echo 1 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'an unknown price is said, without a ratio' '
	fresh "$capacity_everywhere" &&
	"$TEST_TOOL" launch --yes --on-demand-price=0.0104 t3.micro >out 2>err &&
	test_grep "^warning: spot capacity unavailable: on-demand t3.micro is \$0.0104/h, spot was unknown$" err &&
	test_grep "^warning: launching ON-DEMAND t3.micro at \$0.0104/h$" err
'

test_expect_success LAUNCH '--fail-if-no-spot never falls back, even with --yes' '
	fresh "$capacity_everywhere" &&
	test_expect_code 3 launch --yes --fail-if-no-spot t3.micro >out 2>err &&
	test_grep "^error: no spot capacity for t3.micro in us-east-1 after 1 attempt" err &&
	test_grep "^hint: --fail-if-no-spot" err &&
	test_grep ! "launching ON-DEMAND" err &&
	echo 0 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'a spot quota fails at once, naming the quota and the fix' '
	fresh "[{\"fault\": \"error\", \"status\": 400, \"code\": \"VcpuLimitExceeded\",
		\"message\": \"You have requested more vCPU capacity than your current vCPU limit of 0 allows.\",
		\"service\": \"ec2\", \"action\": \"RunInstances\",
		\"params\": {\"InstanceMarketOptions.MarketType\": \"spot\"}}]" &&
	start=$(date +%s) &&
	test_expect_code 1 launch --yes --spot-timeout=60 t3.micro >out 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -lt 5 &&
	test_grep "^error: cannot launch spot t3.micro: VcpuLimitExceeded: You have requested more vCPU" err &&
	test_grep "^hint: .*\"All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests\"" err &&
	test_grep "^hint: .*aws service-quotas request-service-quota-increase --region us-east-1 --service-code ec2 --quota-code L-34B43A08" err &&
	test_grep "^hint: on-demand instances have a quota of their own: --on-demand tries it$" err &&
	test_grep ! "launching ON-DEMAND" err &&
	test_fake_count "ec2 RunInstances" >got &&
	echo 1 >expect &&
	test_cmp expect got &&
	echo 0 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'an on-demand quota names the on-demand quota' '
	fresh "[{\"fault\": \"error\", \"status\": 400, \"code\": \"VcpuLimitExceeded\",
		\"service\": \"ec2\", \"action\": \"RunInstances\"}]" &&
	test_expect_code 1 launch --on-demand g5.xlarge >out 2>err &&
	test_grep "\"Running On-Demand G and VT instances\"" err &&
	test_grep "quota-code L-DB2E81BA" err &&
	test_grep ! "tries it" err
'

test_expect_success LAUNCH 'SpotMaxPriceTooLow names the prices' '
	fresh "[{\"fault\": \"error\", \"status\": 400, \"code\": \"SpotMaxPriceTooLow\",
		\"message\": \"Your Spot request price of 0.0104 is lower than the minimum required Spot request fulfillment price of 0.012.\",
		\"service\": \"ec2\", \"action\": \"RunInstances\"}]" &&
	test_expect_code 1 launch t3.micro >out 2>err &&
	test_grep "^error: cannot launch spot t3.micro: SpotMaxPriceTooLow: Your Spot request price of 0.0104" err &&
	test_grep "^hint: the spot price of t3.micro is \$0.0031/h, above .* \$0.0104/h)" err &&
	test_fake_count "ec2 RunInstances" >got &&
	echo 1 >expect &&
	test_cmp expect got
'

test_expect_success LAUNCH 'other errors fail at once with the AWS message' '
	fresh "[{\"fault\": \"error\", \"status\": 400, \"code\": \"InvalidAMIID.NotFound\",
		\"message\": \"The image id [ami-00000000] does not exist\",
		\"service\": \"ec2\", \"action\": \"RunInstances\"}]" &&
	test_expect_code 1 launch --yes t3.micro >out 2>err &&
	test_grep "^error: cannot launch spot t3.micro in us-east-1a: InvalidAMIID.NotFound: The image id \[ami-00000000\] does not exist" err &&
	test_fake_count "ec2 RunInstances" >got &&
	echo 1 >expect &&
	test_cmp expect got &&
	fresh &&
	test_expect_code 1 launch --yes --ami=ami-00000000 t3.micro >out 2>err &&
	test_grep "^error: cannot look up AMI ami-00000000 in us-east-1: InvalidAMIID" err &&
	test_grep "^hint: check train.image or train.ami (or --image, --ami): AMIs belong to a region" err &&
	test "$(test_fake_count "ec2 RunInstances")" = 0
'

test_expect_success LAUNCH 'a 500 after the instance was created: still exactly one instance' '
	fresh "[{\"fault\": \"error500-after\", \"service\": \"ec2\", \"action\": \"RunInstances\",
		\"times\": 1}]" &&
	launch t3.micro >out 2>err &&
	test_grep "^market spot$" out &&
	test_fake_count "ec2 RunInstances" >got &&
	echo 2 >expect &&
	test_cmp expect got &&
	echo 1 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'every answer a 500: the instance it did start is found and terminated' '
	fresh "[{\"fault\": \"error500-after\", \"service\": \"ec2\", \"action\": \"RunInstances\"}]" &&
	test_expect_code 1 launch t3.micro >out 2>err &&
	test_grep "^terminated i-[0-9a-f]* (its launch failed)$" err &&
	test_grep "^error: cannot launch spot t3.micro in us-east-1a: InternalError: " err &&
	echo 1 >expect &&
	instances >got &&
	test_cmp expect got &&
	echo 0 >expect &&
	instances pending,running >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'retrying spot capacity until the timeout, saying so' '
	fresh "$capacity_everywhere" &&
	start=$(date +%s) &&
	test_expect_code 3 launch --spot-timeout=8 t3.micro >out 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -ge 8 &&
	test $((end - start)) -lt 14 &&
	test_grep "^waiting for spot capacity: t3.micro in us-east-1 (attempt 1, 0:00 of 0:08, next try in 5s)$" err &&
	test_grep "^waiting for spot capacity: t3.micro in us-east-1 (attempt 2, 0:0[5-7] of 0:08, next try in [1-3]s)$" err &&
	test_grep "^hint: no spot capacity for t3.micro in us-east-1 after 3 attempts in 0:0[89]" err &&
	echo 0 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'spot capacity that comes back during the wait is taken' '
	zones=$(test_moto ec2 DescribeAvailabilityZones |
		test_xml availabilityZoneInfo/item zoneName | wc -l | tr -d " ") &&
	fresh "[{\"fault\": \"error\", \"status\": 500, \"code\": \"InsufficientInstanceCapacity\",
		\"service\": \"ec2\", \"action\": \"RunInstances\", \"times\": $((zones + 2))}]" &&
	start=$(date +%s) &&
	launch --spot-timeout=60 t3.micro >out 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -ge 5 &&
	test_grep "^market spot$" out &&
	test_grep "^waiting for spot capacity: t3.micro in us-east-1 (attempt 1, 0:00 of 1:00, next try in 5s)$" err &&
	test_grep ! "attempt 2" err &&
	test_fake_count "ec2 RunInstances" >got &&
	echo $((zones + 3)) >expect &&
	test_cmp expect got &&
	echo 1 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'ready means reachable: it waits for SSM to say Online' '
	fresh &&
	settings "{\"ready_delay\": 3}" &&
	start=$(date +%s) &&
	launch --ready-timeout=30 t3.micro >out 2>err &&
	end=$(date +%s) &&
	test $((end - start)) -ge 3 &&
	id=$(sed -n "s/^instance //p" out) &&
	test_grep "^waiting for $id to be reachable through SSM (0:00)$" err &&
	test_grep "^waiting for $id to be reachable through SSM (0:\(0[3-9]\|[1-5][0-9]\)), done.$" err
'

test_expect_success LAUNCH 'not reachable in time: the likely causes, and the instance is terminated' '
	fresh &&
	settings "{\"ready_delay\": 30}" &&
	test_moto iam CreateInstanceProfile InstanceProfileName=train-profile >/dev/null &&
	test_expect_code 1 launch --ready-timeout=2 --profile=train-profile t3.micro >out 2>err &&
	id=$(sed -n "s/^terminated \(i-[0-9a-f]*\) (not reachable)$/\1/p" err) &&
	test -n "$id" &&
	test_grep "^error: $id did not become reachable through SSM within 0:02$" err &&
	test_grep "^hint: the instance profile train-profile needs a role that can use SSM" err &&
	test_grep "^hint: the AMI ami-.* may have no SSM agent" err &&
	test_grep "^hint: the subnet may have no route to SSM" err &&
	echo 0 >expect &&
	instances pending,running >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'Ctrl-C while waiting for spot capacity: cancelled, nothing running' '
	fresh "$capacity_everywhere" &&
	{ "$TEST_TOOL" launch $PRICES --spot-timeout=120 t3.micro >out 2>err & pid=$!; } &&
	test_wait_for_text err "waiting for spot capacity" &&
	kill -INT $pid &&
	start=$(date +%s) &&
	{ wait $pid; rc=$?; } &&
	end=$(date +%s) &&
	test $rc = 130 &&
	test $((end - start)) -le 2 &&
	test_grep "^cancelled$" err &&
	echo 0 >expect &&
	instances pending,running >got &&
	test_cmp expect got
'

test_expect_success LAUNCH 'Ctrl-C while waiting for readiness: the instance is terminated' '
	fresh &&
	settings "{\"ready_delay\": 60}" &&
	{ "$TEST_TOOL" launch $PRICES --ready-timeout=120 t3.micro >out 2>err & pid=$!; } &&
	test_wait_for_text err "to be reachable through SSM" &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 130 &&
	test_grep "^terminated i-[0-9a-f]* (interrupted)$" err &&
	test_grep "^cancelled$" err &&
	test ! -s out &&
	echo 1 >expect &&
	instances >got &&
	test_cmp expect got &&
	echo 0 >expect &&
	instances pending,running >got &&
	test_cmp expect got
'

test_expect_success LAUNCH_TTY 'on a terminal it asks, and takes no for an answer' '
	fresh "$capacity_everywhere" &&
	echo n | script -qec "\"$TEST_TOOL\" launch $PRICES t3.micro" /dev/null >tty-out 2>&1
	rc=$? &&
	test $rc = 3 &&
	test_grep "warning: spot capacity unavailable: on-demand t3.micro is \$0.0104/h" tty-out &&
	test_grep "launch on-demand instead? \[y/N\]" tty-out &&
	test_grep "on-demand was declined" tty-out &&
	echo 0 >expect &&
	instances >got &&
	test_cmp expect got
'

test_expect_success LAUNCH_TTY 'on a terminal, yes launches on-demand' '
	fresh "$capacity_everywhere" &&
	echo y | script -qec "\"$TEST_TOOL\" launch $PRICES t3.micro" /dev/null >tty-out 2>&1 &&
	test_grep "launching ON-DEMAND t3.micro at \$0.0104/h (3.4x the spot price)" tty-out &&
	test_grep "market on-demand" tty-out
'

test_expect_success LAUNCH_TTY 'on a terminal, the spot wait is one line, redrawn' '
	fresh "$capacity_everywhere" &&
	script -qec "\"$TEST_TOOL\" launch $PRICES --fail-if-no-spot --spot-timeout=3 t3.micro" \
		/dev/null >tty-out 2>&1
	rc=$? &&
	test $rc = 3 &&
	tr "\r" "\n" <tty-out | grep -c "^waiting for spot capacity" >redraws &&
	test $(cat redraws) -ge 3 &&
	tr "\r" "\n" <tty-out | test_grep "^waiting for spot capacity: .*(attempt 1, 0:0[0-2] of 0:03, next try in 1s) *$" &&
	grep -c "waiting for spot capacity" tty-out >lines &&
	echo 1 >expect &&
	test_cmp expect lines
'

# spot_request_of <sir> <fields...>: the request as the account (the fake, in
# front of moto) describes it
spot_request_of() {
	_sir=$1
	shift
	MOTO_URL=$FAKE_URL test_moto ec2 DescribeSpotInstanceRequests \
		SpotInstanceRequestId.1="$_sir" >request.xml &&
	test_xml spotInstanceRequestSet/item "$@" <request.xml
}

# A run that can resume: a persistent request that stops its instance on an
# interruption (EC2 restarts it), bounded by the max runtime, tagged as the
# instance is so that stop, gc and the instance role find it by its run.
test_expect_success LAUNCH 'a persistent spot launch: stop on interruption, valid until the max runtime, the request tagged' '
	fresh &&
	before=$(date +%s) &&
	launch --persistent --max-runtime=3600 t3.micro >out 2>err &&
	id=$(sed -n "s/^instance //p" out) &&
	sir=$(sed -n "s/^spot_request //p" out) &&
	test_grep "^spot_request sir-" out &&
	spot_request_of "$sir" type instanceInterruptionBehavior instanceId >got &&
	printf "persistent\tstop\t%s\n" "$id" >expect &&
	test_cmp expect got &&
	spot_request_of "$sir" validUntil >until &&
	$TEST_PYTHON -c "
import sys, datetime
t = datetime.datetime.strptime(open(\"until\").read().strip()[:19], \"%Y-%m-%dT%H:%M:%S\")
t = t.replace(tzinfo=datetime.timezone.utc).timestamp()
assert $before + 3600 - 5 <= t <= $before + 3600 + 120, (t, $before)
" &&
	MOTO_URL=$FAKE_URL test_moto ec2 DescribeSpotInstanceRequests \
		SpotInstanceRequestId.1="$sir" >request.xml &&
	test_xml spotInstanceRequestSet/item/tagSet/item key value <request.xml | sort >got &&
	cat >expect <<-EOF &&
	Name	git-train/abc1234
	git-train:commit	abc1234abc1234
	git-train:market	spot
	git-train:max-runtime	3600
	git-train:price	0.0031
	git-train:run-id	$RUN_ID
	EOF
	test_cmp expect got
'

test_expect_success LAUNCH 'one-time spot and on-demand launches make no persistent request' '
	fresh &&
	launch t3.micro >out 2>err &&
	test_grep "^spot_request none$" out &&
	id=$(sed -n "s/^instance //p" out) &&
	MOTO_URL=$FAKE_URL test_moto ec2 DescribeSpotInstanceRequests \
		Filter.1.Name=instance-id Filter.1.Value.1="$id" >request.xml &&
	test_xml spotInstanceRequestSet/item type instanceInterruptionBehavior <request.xml >got &&
	printf "one-time\tterminate\n" >expect &&
	test_cmp expect got &&
	fresh &&
	launch --persistent --on-demand t3.micro >out 2>err &&
	test_grep "^market on-demand$" out &&
	test_grep "^spot_request none$" out &&
	id=$(sed -n "s/^instance //p" out) &&
	test_fake_spot_requests >requests.json &&
	test_json "[i for i, r in d.items() if r[\"instance\"] == \"$id\"]" <requests.json >got &&
	echo "[]" >expect &&
	test_cmp expect got &&
	fresh "$capacity_everywhere" &&
	launch --persistent --yes t3.micro >out 2>err &&
	test_grep "^market on-demand$" out &&
	test_grep "^spot_request none$" out &&
	id=$(sed -n "s/^instance //p" out) &&
	test_fake_spot_requests >requests.json &&
	test_json "[i for i, r in d.items() if r[\"instance\"] == \"$id\"]" <requests.json >got &&
	test_cmp expect got
'

# Ready timeout: the request goes first, else EC2 would start another instance.
test_expect_success LAUNCH 'a persistent launch that fails after its instance exists cancels its request before terminating it' '
	fresh &&
	settings "{\"ready_delay\": 600}" &&
	test_expect_code 1 launch --persistent --ready-timeout=1 t3.micro >out 2>err &&
	id=$(sed -n "s/^terminated \(i-[0-9a-f]*\) (not reachable)$/\1/p" err) &&
	test -n "$id" &&
	test_grep ! "cannot cancel" err &&
	test "$(test_fake_spot_request $id state)" = cancelled &&
	test "$(test_fake_spot_request $id type)" = persistent
'

# A relaunch elsewhere avoids the zone it left: every other zone comes first.
test_expect_success LAUNCH 'avoid_az is tried last, after the cheapest zone' '
	fresh &&
	launch --spot-az=us-east-1a --avoid-az=us-east-1a t3.micro >out 2>err &&
	test_grep "^az us-east-1b$" out
'

test_expect_success LAUNCH 'no secret in any output' '
	cat out err tty-out 2>/dev/null | test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY"
'

test_done
