#!/bin/sh
# The fake that stands in for EC2 instances and for what moto lacks: an
# instance launched through it boots into a sandbox, becomes Online in SSM,
# runs what SendCommand sends with sh, gets its role's credentials from its own
# IMDSv2, shuts down (now, or when scheduled: shutdown +N) and is
# interrupted like a spot instance, and leaves no
# process behind; fault rules select requests by parameter; RunInstances is
# idempotent by ClientToken; GetProducts answers on-demand prices. Shown
# through botocore (the AWS CLI's own library), the AWS CLI where its own
# behaviour is the point (a retry; `aws s3 cp` on an instance) and signed curl
# requests, as git-train and the runner see it.
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO && test_have_prereq FAKE; then
	test_start_moto && test_start_fake || exit 1
	test_set_prereq AWS
fi

PY=/usr/bin/python3
SQ="'"

# fake_call <service> <Operation> [<JSON parameters>]: the call through the
# fake, made by botocore (the AWS CLI's library: its serializers, parsers,
# signing and retries); the response as JSON
fake_call() {
	$PY "$TEST_DIRECTORY/botocall.py" "$FAKE_URL" "$@"
}

# call <service> <body> [<json target>]: a request signed by curl, through
# the fake; the response on stdout, its status in .status
call() {
	if test -n "$3"; then
		set -- "$1" "$2" -H "X-Amz-Target: $3" -H "Content-Type: application/x-amz-json-1.1"
	else
		set -- "$1" "$2" -H "Content-Type: application/x-www-form-urlencoded"
	fi
	svc=$1 body=$2
	shift 2
	curl -s -o .response -w "%{http_code}" --aws-sigv4 "aws:amz:us-east-1:$svc" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$@" \
		--data-binary "$body" "$FAKE_URL/" >.status
	cat .response
}

ssm() {
	call ssm "$2" "AmazonSSM.$1"
}

# json <python expression on d> <file>: prints its value
json() {
	$PY -c 'import json, sys; d = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2"
}

# launch <name> [&Param=value...]: RunInstances, a t3.micro with the role;
# its id in <name>.id
launch() {
	call ec2 "Action=RunInstances&Version=2016-11-15&ImageId=$(cat ami)&MinCount=1&MaxCount=1&InstanceType=t3.micro&IamInstanceProfile.Name=train-profile$2" >launch.xml &&
	test "$(cat .status)" = 200 &&
	sed -n "s|.*<instanceId>\(i-[0-9a-f]*\)</instanceId>.*|\1|p" launch.xml >"$1.id" &&
	test_grep "^i-[0-9a-f]*$" "$1.id"
}

# run_instances [<JSON members>]: botocore's RunInstances, one attempt, through
# the fake, of a t3.micro with those parameters too; the instance id
run_instances() {
	env AWS_MAX_ATTEMPTS=1 $PY "$TEST_DIRECTORY/botocall.py" "$FAKE_URL" ec2 RunInstances \
		"{\"ImageId\": \"$(cat ami)\", \"InstanceType\": \"t3.micro\",
		  \"MinCount\": 1, \"MaxCount\": 1${1:+, $1}}" >ri.json &&
	json "d[\"Instances\"][0][\"InstanceId\"]" ri.json
}

# send <instance id> <json list of commands>: SendCommand; the id in command.id
send() {
	ssm SendCommand "{\"DocumentName\": \"AWS-RunShellScript\", \"InstanceIds\": [\"$1\"],
		\"Parameters\": {\"commands\": $2}}" >send.json &&
	test "$(cat .status)" = 200 &&
	json 'd["Command"]["CommandId"]' send.json >command.id
}

# finished <instance id>: waits for the last command to end; its invocation in inv.json
finished() {
	i=0
	while :; do
		ssm GetCommandInvocation "{\"CommandId\": \"$(cat command.id)\", \"InstanceId\": \"$1\"}" >inv.json
		case $(sed -n 's/.*"Status": "\([A-Za-z]*\)".*/\1/p' inv.json) in
		Success|Failed|TimedOut) return 0 ;;
		esac
		i=$((i + 1))
		if test $i -gt 300; then
			echo >&2 "command $(cat command.id) did not finish:"
			cat >&2 inv.json
			return 1
		fi
		sleep 0.1
	done
}

# online <instance id>: SSM lists it, once, as Online (grep, not a python3
# per look: the loops that wait would take a core)
online() {
	ssm DescribeInstanceInformation \
		"{\"Filters\": [{\"Key\": \"InstanceIds\", \"Values\": [\"$1\"]}]}" >info.json &&
	test "$(grep -o '"PingStatus": "[A-Za-z]*"' info.json)" = '"PingStatus": "Online"'
}

wait_online() {
	i=0
	until online "$1"; do
		i=$((i + 1)) && test $i -lt 150 || { cat >&2 info.json; return 1; }
		sleep 0.1
	done
}

# imds <instance id> <path> [curl options]: its metadata service, with a token
imds() {
	port=$(test_fake_instance "$1" imds_port) &&
	tok=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
		"http://127.0.0.1:$port/latest/api/token") &&
	path=$2 &&
	shift 2 &&
	curl -s -H "X-aws-ec2-metadata-token: $tok" "$@" "http://127.0.0.1:$port$path"
}

# sleepers <n>: the detached `sleep <n>` processes still alive
sleepers() {
	ps -eo stat=,args= | grep -v "^Z" | grep -c " sleep $1\$"
}

test_expect_success AWS 'setup: the AMI parameter, a role in an instance profile, a bucket' '
	fake_call ssm GetParameter \
		"{\"Name\": \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"}" \
		>param.json &&
	json "d[\"Parameter\"][\"Value\"]" param.json >ami &&
	test_grep "^ami-" ami &&
	fake_call iam CreateRole "{\"RoleName\": \"train-role\", \"AssumeRolePolicyDocument\": \"{}\"}" \
		iam CreateInstanceProfile "{\"InstanceProfileName\": \"train-profile\"}" \
		iam AddRoleToInstanceProfile \
		"{\"InstanceProfileName\": \"train-profile\", \"RoleName\": \"train-role\"}" \
		s3 CreateBucket "{\"Bucket\": \"fake-bucket\"}" >/dev/null
'

# (this instance has the real AWS CLI, not the fake's stand-in: see the aws s3 cp test)
test_expect_success AWS 'an instance boots into a sandbox and is Online only after ready_delay' '
	test_fake_settings "{\"ready_delay\": 4, \"aws_cli\": \"real\"}" &&
	start=$(date +%s) &&
	launch one &&
	id=$(cat one.id) &&
	! online $id &&
	test "$(json "d[\"InstanceInformationList\"]" info.json)" = "[]" &&
	test "$(test_fake_instance $id online)" = false &&
	! send $id "[\"true\"]" &&
	test "$(cat .status)" = 400 &&
	test_grep InvalidInstanceId .response &&
	dir=$(test_instance_dir $id) &&
	test "$(test_fake_instance $id sandbox)" = "$dir" &&
	for cmd in shutdown poweroff halt reboot systemctl systemd-run; do
		test -x "$dir/bin/$cmd" || return 1
	done &&
	wait_online $id &&
	test $(($(date +%s) - start)) -ge 3 &&
	fake_call ssm DescribeInstanceInformation \
		"{\"Filters\": [{\"Key\": \"InstanceIds\", \"Values\": [\"$id\"]}]}" >cli-online.json &&
	test "$(json "d[\"InstanceInformationList\"][0][\"PingStatus\"]" cli-online.json)" = Online &&
	test "$(test_fake_instance $id online)" = true &&
	test_fake_settings "{\"ready_delay\": 0}"
'

test_expect_success AWS 'SendCommand runs the commands with sh in the sandbox' '
	id=$(cat one.id) &&
	dir=$(test_instance_dir $id) &&
	cat >params.json <<-\EOF &&
	{"commands": ["printf \"%s\\n\" one \"two words\"", "echo made >made.txt", "pwd"]}
	EOF
	fake_call ssm SendCommand "{\"DocumentName\": \"AWS-RunShellScript\",
		\"InstanceIds\": [\"$id\"], \"Parameters\": $(cat params.json)}" >sent.json &&
	json "d[\"Command\"][\"CommandId\"]" sent.json >command.id &&
	finished $id &&
	fake_call ssm GetCommandInvocation \
		"{\"CommandId\": \"$(cat command.id)\", \"InstanceId\": \"$id\"}" >cli.json &&
	test "$(json "d[\"Status\"], d[\"ResponseCode\"]" cli.json)" = "(${SQ}Success${SQ}, 0)" &&
	json "d[\"StandardOutputContent\"]" cli.json >out &&
	printf "%s\n" one "two words" "$dir/root" "" >expect &&
	test_cmp expect out &&
	test "$(cat "$dir/root/made.txt")" = made &&
	test "$(test_fake_instance $id commands)" = "$(cat command.id)"
'

test_expect_success AWS 'a failing command: Failed, its exit code, the agent'\''s stderr line' '
	id=$(cat one.id) &&
	send $id "[\"echo on stdout\", \"echo on stderr >&2\", \"exit 7\"]" &&
	finished $id &&
	test "$(json "d[\"Status\"], d[\"ResponseCode\"]" inv.json)" = "(${SQ}Failed${SQ}, 7)" &&
	test "$(json "d[\"StandardOutputContent\"]" inv.json)" = "on stdout" &&
	printf "on stderr\nfailed to run commands: exit status 7\n" >expect &&
	json "d[\"StandardErrorContent\"]" inv.json >err &&
	test_cmp expect err
'

test_expect_success AWS 'invocation_delay: InvocationDoesNotExist right after SendCommand' '
	id=$(cat one.id) &&
	test_fake_settings "{\"invocation_delay\": 3}" &&
	send $id "[\"echo late\"]" &&
	ssm GetCommandInvocation "{\"CommandId\": \"$(cat command.id)\", \"InstanceId\": \"$id\"}" &&
	test "$(cat .status)" = 400 &&
	test_grep InvocationDoesNotExist .response &&
	finished $id &&
	test "$(json "d[\"StandardOutputContent\"]" inv.json)" = late &&
	test_fake_settings "{\"invocation_delay\": 0}"
'

test_expect_success AWS 'the instance gets no user credentials, and IMDSv2 needs a token' '
	id=$(cat one.id) &&
	send $id "[\"env\"]" &&
	finished $id &&
	json "d[\"StandardOutputContent\"]" inv.json >env &&
	test_grep ! -e "^AWS_ACCESS_KEY_ID=" -e "^AWS_SECRET_ACCESS_KEY=" -e "^AWS_SESSION_TOKEN=" \
		-e "^AWS_PROFILE=" -e "^AWS_EC2_METADATA_DISABLED=" env &&
	test_grep ! -F "$TEST_AWS_ACCESS_KEY_ID" env &&
	port=$(test_fake_instance $id imds_port) &&
	test_grep "^AWS_EC2_METADATA_SERVICE_ENDPOINT=http://127.0.0.1:$port/$" env &&
	test_grep "^AWS_ENDPOINT_URL=$FAKE_URL$" env &&
	test_grep "^GIT_TRAIN_RUNNER_DIR=$(test_instance_dir $id)/var/lib/git-train$" env &&
	test_grep "^PATH=$(test_instance_dir $id)/bin:" env &&
	test "$(curl -s -o /dev/null -w "%{http_code}" http://127.0.0.1:$port/latest/meta-data/instance-id)" = 401 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X PUT http://127.0.0.1:$port/latest/api/token)" = 400 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
		http://127.0.0.1:$port//latest/api/token)" = 404 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -H "X-aws-ec2-metadata-token: wrong" \
		http://127.0.0.1:$port/latest/meta-data/instance-id)" = 401 &&
	test "$(imds $id /latest/meta-data/instance-id)" = $id &&
	test "$(imds $id /latest/meta-data/placement/region)" = us-east-1 &&
	imds $id /latest/meta-data/placement/availability-zone | grep "^us-east-1[a-f]$" &&
	test "$(imds $id /latest/meta-data/iam/security-credentials/)" = train-role &&
	imds $id /latest/dynamic/instance-identity/document >doc.json &&
	test "$(json "d[\"instanceId\"], d[\"region\"]" doc.json)" = "(${SQ}$id${SQ}, ${SQ}us-east-1${SQ})" &&
	test "$(imds $id /latest/meta-data/spot/instance-action -o /dev/null -w "%{http_code}")" = 404 &&
	test "$(imds $id //latest/meta-data/instance-id -o /dev/null -w "%{http_code}")" = 404 &&
	imds $id /latest/meta-data/iam/security-credentials/train-role >creds.json &&
	json "d[\"Code\"], d[\"AccessKeyId\"][:4], d[\"AccessKeyId\"] != \"$TEST_AWS_ACCESS_KEY_ID\"" creds.json >got &&
	test "$(cat got)" = "(${SQ}Success${SQ}, ${SQ}ASIA${SQ}, True)"
'

test_expect_success AWS 'aws s3 cp on the instance works with the role credentials from IMDS' '
	id=$(cat one.id) &&
	send $id "[\"echo written on the instance >out.txt\",
		\"aws --endpoint-url \\\"\$AWS_ENDPOINT_URL\\\" s3 cp out.txt s3://fake-bucket/from-instance\"]" &&
	finished $id &&
	test "$(json "d[\"Status\"]" inv.json)" = Success &&
	fake_call s3 GetObject "{\"Bucket\": \"fake-bucket\", \"Key\": \"from-instance\"}" >object.json &&
	json "d[\"Body\"].rstrip()" object.json >got &&
	echo written on the instance >expect &&
	test_cmp expect got
'

test_expect_success AWS 'the role keys work only with their session token' '
	json "d[\"AccessKeyId\"] + \":\" + d[\"SecretAccessKey\"]" creds.json >role-key &&
	json "d[\"Token\"]" creds.json >role-token &&
	sigv4() {
		curl -s -o /dev/null -w "%{http_code}" --aws-sigv4 "aws:amz:us-east-1:s3" \
			--user "$(cat role-key)" "$@" "$FAKE_URL/fake-bucket/from-instance"
	} &&
	test "$(sigv4 -H "x-amz-security-token: $(cat role-token)")" = 200 &&
	test "$(sigv4)" = 400 &&
	test "$(sigv4 -H "x-amz-security-token: $(cat role-token)x")" = 400
'

test_expect_success AWS 'shutdown -h +60 is scheduled, an hour ahead; shutdown -h now terminates' '
	id=$(cat one.id) &&
	send $id "[\"shutdown -h +60\", \"setsid sleep 987651 </dev/null >/dev/null 2>&1 &\"]" &&
	finished $id &&
	test "$(test_fake_instance $id calls)" = "shutdown -h +60" &&
	test_fake_instance $id shutdown_in >left &&
	test_grep "^3[56][0-9][0-9]\.[0-9]$" left &&
	test "$(sleepers 987651)" = 1 &&
	online $id &&
	port=$(test_fake_instance $id imds_port) &&
	send $id "[\"shutdown -h now\", \"sleep 30\"]" &&
	test_fake_wait_instance $id terminated &&
	test "$(sleepers 987651)" = 0 &&
	test "$(curl -s -o /dev/null -w "%{http_code}" -X PUT \
		-H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
		http://127.0.0.1:$port/latest/api/token)" = 000 &&
	printf "%s\n" "shutdown -h +60" "shutdown -h now" >expect &&
	test_fake_instance $id calls >calls &&
	test_cmp expect calls &&
	test "$(test_moto ec2 DescribeInstances InstanceId.1=$id |
		test_xml reservationSet/item/instancesSet/item/instanceState/name)" = terminated &&
	! online $id &&
	finished $id &&
	test "$(json "d[\"Status\"]" inv.json)" = Failed &&
	test "$(test_fake_instance $id ended_by)" = shutdown
'

test_expect_success AWS 'TerminateInstances through the fake ends the instance'\''s processes' '
	launch two &&
	id=$(cat two.id) &&
	wait_online $id &&
	send $id "[\"setsid sleep 987652 </dev/null >/dev/null 2>&1 &\"]" &&
	finished $id &&
	test "$(sleepers 987652)" = 1 &&
	call ec2 "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=$id" >/dev/null &&
	test "$(cat .status)" = 200 &&
	test "$(sleepers 987652)" = 0 &&
	test "$(test_fake_instance $id terminated)" = true
'

test_expect_success AWS 'shutdown +N: a later one replaces it, -c cancels it, it fires in N shutdown_minutes' '
	test_fake_settings "{\"shutdown_minute\": 5}" &&
	launch sched &&
	id=$(cat sched.id) &&
	wait_online $id &&
	send $id "[\"shutdown -h +600\", \"shutdown --no-wall -h +2\"]" &&
	finished $id &&
	test_fake_instance $id shutdown_in >left &&
	test_grep "^[0-9]\.[0-9]$" left &&
	send $id "[\"shutdown -c\"]" &&
	finished $id &&
	test "$(test_fake_instance $id shutdown_in)" = null &&
	test_fake_settings "{\"shutdown_minute\": 0.5}" &&
	send $id "[\"shutdown -h +1\", \"setsid sleep 987654 </dev/null >/dev/null 2>&1 &\"]" &&
	test_fake_wait_instance $id terminated 10 &&
	test "$(test_fake_instance $id ended_by)" = "scheduled shutdown" &&
	test "$(sleepers 987654)" = 0 &&
	test "$(test_moto ec2 DescribeInstances InstanceId.1=$id |
		test_xml reservationSet/item/instancesSet/item/instanceState/name)" = terminated &&
	printf "%s\n" "shutdown -h +600" "shutdown --no-wall -h +2" "shutdown -c" "shutdown -h +1" \
		>expect &&
	test_fake_instance $id calls >calls &&
	test_cmp expect calls &&
	test_fake_settings "{\"shutdown_minute\": 60}"
'

test_expect_success AWS 'a spot interruption: the notice in IMDS, terminated after the grace' '
	test_fake_settings "{\"interrupt_grace\": 4}" &&
	launch spot "&InstanceMarketOptions.MarketType=spot" &&
	id=$(cat spot.id) &&
	test "$(test_fake_spot_request $id type) $(test_fake_spot_request $id state)" = \
		"one-time active" &&
	wait_online $id &&
	send $id "[\"setsid sleep 987653 </dev/null >/dev/null 2>&1 &\"]" &&
	finished $id &&
	test "$(imds $id /latest/meta-data/spot/instance-action -o /dev/null -w "%{http_code}")" = 404 &&
	test_fake_interrupt $id &&
	imds $id /latest/meta-data/spot/instance-action >notice.json &&
	json "d[\"action\"]" notice.json >action &&
	test "$(cat action)" = terminate &&
	json "d[\"time\"]" notice.json | grep "^20[0-9-]*T[0-9:]*Z$" &&
	test "$(sleepers 987653)" = 1 &&
	test "$(test_fake_instance $id terminated)" = false &&
	test_fake_wait_instance $id terminated &&
	test "$(sleepers 987653)" = 0 &&
	test "$(test_moto ec2 DescribeInstances InstanceId.1=$id |
		test_xml reservationSet/item/instancesSet/item/instanceState/name)" = terminated &&
	test "$(test_fake_spot_request $id state) $(test_fake_spot_request $id status)" = \
		"closed instance-terminated-no-capacity" &&
	test_fake_settings "{\"interrupt_grace\": 5}"
'

test_expect_success AWS 'settings user_data: the user data runs at boot, as cloud-init would' '
	test_fake_settings "{\"user_data\": true}" &&
	printf "#!/bin/sh\nshutdown -h +120\necho booted as \$(id -u)\n" >user-data &&
	launch booted "&UserData=$(base64 -w0 user-data | sed "s/+/%2B/g; s|/|%2F|g; s/=/%3D/g")" &&
	id=$(cat booted.id) &&
	log="$(test_instance_dir $id)/var/log/cloud-init-output.log" &&
	i=0 &&
	until test_grep -q "^booted as" "$log" 2>/dev/null; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || return 1
	done &&
	test "$(test_fake_instance $id calls)" = "shutdown -h +120" &&
	imds $id /latest/user-data >got &&
	test_cmp user-data got &&
	test_fake_settings "{\"user_data\": false}" &&
	launch plain "&UserData=$(base64 -w0 user-data | sed "s/+/%2B/g; s|/|%2F|g; s/=/%3D/g")" &&
	sleep 1 &&
	test_path_is_missing "$(test_instance_dir $(cat plain.id))/var/log/cloud-init-output.log" &&
	test "$(test_fake_instance $(cat plain.id) calls)" = ""
'

# moto_instances <python expression on the list i of (id, client token)>:
# from moto's DescribeInstances, straight (curl's fixed ClientToken: none)
moto_instances() {
	curl -sf --aws-sigv4 "aws:amz:us-east-1:ec2" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		--data "Action=DescribeInstances&Version=2016-11-15" "$MOTO_URL/" >instances.xml &&
	$PY -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse("instances.xml").getroot()
for el in root.iter():
    el.tag = el.tag.rsplit("}", 1)[-1]
i = [(it.findtext("instanceId"), it.findtext("clientToken"))
     for it in root.iterfind("reservationSet/item/instancesSet/item")]
print(eval(sys.argv[1]))' "$1"
}

count_instances() {
	moto_instances "len(i)"
}

test_expect_success AWS 'a rule with params: no spot capacity, on-demand launches' '
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 500,
		\"code\": \"InsufficientInstanceCapacity\", \"message\": \"no spot capacity\",
		\"service\": \"ec2\", \"action\": \"RunInstances\",
		\"params\": {\"InstanceMarketOptions.MarketType\": \"spot\"}}]" &&
	before=$(count_instances) &&
	test_must_fail run_instances "\"InstanceMarketOptions\": {\"MarketType\": \"spot\"}" 2>err &&
	test_grep "InsufficientInstanceCapacity" err &&
	test "$(count_instances)" = "$before" &&
	launch ondemand &&
	test "$(count_instances)" = $((before + 1)) &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 400, \"code\": \"Refused\",
		\"message\": \"on-demand refused\",
		\"params\": {\"InstanceMarketOptions.MarketType\": null}}]" &&
	test_must_fail run_instances 2>err &&
	test_grep "on-demand refused" err &&
	launch spot2 "&InstanceMarketOptions.MarketType=spot" &&
	test_fake_ctl reset
'

# by_token <token>: the instances moto has for that ClientToken
by_token() {
	moto_instances "\"\\n\".join(id for id, token in i if token == \"$1\")"
}

test_expect_success AWS 'ClientToken: the CLI'\''s retry after a lost response, one instance' '
	test_fake_ctl rules "[{\"fault\": \"error500-after\", \"action\": \"RunInstances\", \"times\": 1}]" &&
	aws --endpoint-url "$FAKE_URL" ec2 run-instances --image-id "$(cat ami)" \
		--instance-type t3.micro --client-token retry-token-1 \
		--query "Instances[0].InstanceId" --output text >launched &&
	test "$(test_fake_count "ec2 RunInstances")" = 2 &&
	test "$(test_fake_count faults)" = 1 &&
	by_token retry-token-1 >made &&
	test_cmp launched made &&
	test_fake_ctl reset
'

test_expect_success AWS 'ClientToken: a repeat gets the first response, never a second instance' '
	test_fake_ctl rules "[{\"fault\": \"error500-after\", \"action\": \"RunInstances\", \"times\": 1}]" &&
	test_must_fail run_instances "\"ClientToken\": \"retry-token-2\"" 2>err &&
	test_grep InternalError err &&
	by_token retry-token-2 >made &&
	test_grep "^i-[0-9a-f]*$" made &&
	run_instances "\"ClientToken\": \"retry-token-2\"" >again &&
	test_cmp made again &&
	by_token retry-token-2 >made2 &&
	test_cmp made made2 &&
	test_must_fail run_instances \
		"\"ClientToken\": \"retry-token-2\", \"Monitoring\": {\"Enabled\": true}" 2>err &&
	test_grep IdempotentParameterMismatch err &&
	test "$(test_fake_count "ec2 RunInstances")" = 3 &&
	test_fake_ctl reset
'

test_expect_success AWS 'moto alone would launch twice for one ClientToken' '
	before=$(count_instances) &&
	for i in 1 2; do
		curl -sf --aws-sigv4 "aws:amz:us-east-1:ec2" -o /dev/null \
			--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
			--data "Action=RunInstances&Version=2016-11-15&ImageId=$(cat ami)&MinCount=1&MaxCount=1&InstanceType=t3.micro&ClientToken=moto-token" \
			"$MOTO_URL/" || return 1
	done &&
	test "$(by_token moto-token | wc -l)" = 2 &&
	test "$(count_instances)" = $((before + 2))
'

# prices: the on-demand prices in products.json, one a line
prices() {
	$PY -c "
import json, sys
for p in json.load(open(\"products.json\"))[\"PriceList\"]:
    p = json.loads(p)
    for term in p[\"terms\"][\"OnDemand\"].values():
        for dim in term[\"priceDimensions\"].values():
            print(dim[\"pricePerUnit\"][\"USD\"])"
}

# price <field=value...>: the prices GetProducts gives for those TERM_MATCH filters
price() {
	filters=
	for f in "$@"; do
		filters="$filters${filters:+, }{\"Type\": \"TERM_MATCH\", \"Field\": \"${f%%=*}\", \"Value\": \"${f#*=}\"}"
	done
	call pricing "{\"ServiceCode\": \"AmazonEC2\", \"FormatVersion\": \"aws_v1\", \"Filters\": [$filters]}" \
		AWSPriceListService.GetProducts >products.json &&
	test "$(cat .status)" = 200 &&
	prices
}

LINUX="operatingSystem=Linux tenancy=Shared preInstalledSw=NA capacitystatus=Used"

test_expect_success AWS 'GetProducts: the on-demand Linux price, as the Price List API shapes it' '
	filters= &&
	for f in instanceType=t3.micro regionCode=us-east-1 $LINUX; do
		filters="$filters${filters:+, }{\"Type\": \"TERM_MATCH\", \"Field\": \"${f%%=*}\", \"Value\": \"${f#*=}\"}"
	done &&
	fake_call pricing GetProducts \
		"{\"ServiceCode\": \"AmazonEC2\", \"Filters\": [$filters]}" >products.json &&
	test "$(json "d[\"FormatVersion\"]" products.json)" = aws_v1 &&
	prices >got &&
	echo 0.0104000000 >expect &&
	test_cmp expect got &&
	price instanceType=g5.xlarge "location=US East (N. Virginia)" $LINUX >got &&
	echo 1.0060000000 >expect &&
	test_cmp expect got &&
	price instanceType=t3.micro regionCode=eu-west-1 $LINUX >got &&
	test "$(cat got)" != 0.0104000000 &&
	price instanceType=t3.micro regionCode=us-east-1 >all &&
	test_line_count -gt 1 all &&
	price instanceType=x9.nothing >none &&
	test_line_count = 0 none &&
	test_fake_prices "{\"t3.micro\": 0.5}" &&
	price instanceType=t3.micro regionCode=us-east-1 $LINUX >got &&
	echo 0.5000000000 >expect &&
	test_cmp expect got
'

test_expect_success AWS 'reset ends the processes, keeps the files, finds the instance again' '
	id=$(cat ondemand.id) &&
	wait_online $id &&
	send $id "[\"echo kept >kept.txt\", \"setsid sleep 987654 </dev/null >/dev/null 2>&1 &\"]" &&
	finished $id &&
	test "$(sleepers 987654)" = 1 &&
	test_fake_ctl reset &&
	test "$(sleepers 987654)" = 0 &&
	test "$(cat "$(test_instance_dir $id)/root/kept.txt")" = kept &&
	wait_online $id
'

test_expect_success AWS 'no process outlives the fake; the secret appears nowhere' '
	id=$(cat ondemand.id) &&
	send $id "[\"setsid sleep 987655 </dev/null >/dev/null 2>&1 &\", \"nohup sleep 987656 >/dev/null 2>&1 &\"]" &&
	finished $id &&
	test "$(sleepers 987655)" = 1 &&
	test "$(sleepers 987656)" = 1 &&
	ps -o args= -p $FAKE_PID >fake-args &&
	test_grep aws-fake.py fake-args &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" fake-args &&
	test_stop_fake &&
	for n in 987651 987652 987653 987654 987655 987656; do
		test "$(sleepers $n)" = 0 || return 1
	done &&
	! grep -l -F "=$TRASH_DIRECTORY/.instances/" /proc/[0-9]*/environ 2>/dev/null &&
	test_grep ! -r -F "$TEST_AWS_SECRET_ACCESS_KEY" "$TRASH_DIRECTORY"
'

# --- persistent spot requests: interrupted runs that EC2 starts again -------

test_expect_success AWS 'setup: no instance of the tests above left (the fake starts again)' '
	test_moto ec2 DescribeInstances >all.xml &&
	set -- &&
	for id in $(test_xml reservationSet/item/instancesSet/item instanceId instanceState/name <all.xml |
			sed -n "s/\t\(pending\|running\|stopped\)$//p"); do
		set -- "$@" "InstanceId.$(($# + 1))=$id"
	done &&
	if test $# -gt 0; then test_moto ec2 TerminateInstances "$@" >/dev/null; fi
'
if test_have_prereq AWS; then
	test_start_fake || exit 1
fi

# persistent <run id>: RunInstances' members for a run that resumes after an
# interruption (as src/services/ec2.h launches it), with the role
persistent() {
	printf '%s' "\"InstanceMarketOptions\": {\"MarketType\": \"spot\", \"SpotOptions\": {
		\"SpotInstanceType\": \"persistent\", \"InstanceInterruptionBehavior\": \"stop\",
		\"ValidUntil\": \"2030-01-02T03:04:05Z\"}},
		\"TagSpecifications\": [{\"ResourceType\": \"spot-instances-request\", \"Tags\": [
			{\"Key\": \"git-train:run-id\", \"Value\": \"$1\"},
			{\"Key\": \"git-train:repo\", \"Value\": \"fake\"}]}],
		\"IamInstanceProfile\": {\"Name\": \"train-profile\"}"
}

# spot_requests <JSON parameters>: DescribeSpotInstanceRequests through the
# fake, by botocore; a line per request: id instance state code type behaviour
# valid-until instance-type tags
spot_requests() {
	fake_call ec2 DescribeSpotInstanceRequests "$1" >dsir.json &&
	json "\"\\n\".join(\" \".join([r[\"SpotInstanceRequestId\"], r[\"InstanceId\"], r[\"State\"],
		r[\"Status\"][\"Code\"], r[\"Type\"], r[\"InstanceInterruptionBehavior\"],
		r[\"ValidUntil\"][:19], r[\"LaunchSpecification\"][\"InstanceType\"]] +
		sorted(t[\"Key\"] + \"=\" + t[\"Value\"] for t in r[\"Tags\"]))
		for r in d[\"SpotInstanceRequests\"])" dsir.json
}

# sir_ids <Query parameters>: DescribeSpotInstanceRequests signed by curl
# (a tenth of botocore's time): the ids, one a line; fails unless 200
sir_ids() {
	call ec2 "Action=DescribeSpotInstanceRequests&Version=2016-11-15$1" >sir.xml &&
	test "$(cat .status)" = 200 &&
	test_xml spotInstanceRequestSet/item/spotInstanceRequestId <sir.xml
}

test_expect_success AWS 'a persistent spot launch: its request, active, tagged, named in the instance item' '
	! launch one-time-stop "&InstanceMarketOptions.MarketType=spot&InstanceMarketOptions.SpotOptions.InstanceInterruptionBehavior=stop" &&
	test "$(cat .status)" = 400 &&
	test_grep "<Code>InvalidParameterCombination</Code>" launch.xml &&
	test "$(test_fake_spot_requests)" = "{}" &&
	run_instances "$(persistent run-1), \"ClientToken\": \"persistent-1\"" >p1.id &&
	id=$(cat p1.id) &&
	json "d[\"Instances\"][0][\"SpotInstanceRequestId\"], d[\"Instances\"][0][\"InstanceLifecycle\"]" \
		ri.json | sed "s/[(),$SQ]//g" >got &&
	read sir lifecycle <got &&
	echo $sir | grep "^sir-[a-z0-9]\{8\}$" &&
	test $lifecycle = spot &&
	echo $sir >p1.sir &&
	run_instances "$(persistent run-1), \"ClientToken\": \"persistent-1\"" >again &&
	test_cmp p1.id again &&
	test "$(json "d[\"Instances\"][0][\"SpotInstanceRequestId\"]" ri.json)" = $sir &&
	test_fake_spot_requests >requests.json &&
	test "$(json "list(d)" requests.json)" = "[${SQ}$sir${SQ}]" &&
	echo "$sir $id active fulfilled persistent stop 2030-01-02T03:04:05 t3.micro git-train:repo=fake git-train:run-id=run-1" >expect &&
	spot_requests "{\"Filters\": [{\"Name\": \"tag:git-train:run-id\", \"Values\": [\"run-1\"]}]}" >got &&
	test_cmp expect got &&
	test "$(sir_ids "&SpotInstanceRequestId.1=$sir&Filter.1.Name=instance-id&Filter.1.Value.1=$id&Filter.2.Name=state&Filter.2.Value.1=open&Filter.2.Value.2=active&Filter.3.Name=tag-key&Filter.3.Value.1=git-train:*")" = $sir &&
	test "$(sir_ids "&Filter.1.Name=tag:git-train:run-id&Filter.1.Value.1=run-2")" = "" &&
	test "$(sir_ids "&Filter.1.Name=state&Filter.1.Value.1=cancelled")" = "" &&
	! sir_ids "&Filter.1.Name=price" &&
	test_grep "InvalidParameterValue" sir.xml &&
	! sir_ids "&SpotInstanceRequestId.1=sir-00000000" &&
	test "$(cat .status)" = 400 &&
	test_grep "<Code>InvalidSpotInstanceRequestID.NotFound</Code>" sir.xml &&
	call ec2 "Action=DescribeInstances&Version=2016-11-15&InstanceId.1=$id" >di.xml &&
	test "$(test_xml reservationSet/item/instancesSet/item spotInstanceRequestId instanceLifecycle <di.xml)" = \
		"$sir	spot"
'

test_expect_success AWS 'interrupted with restart_after: "stop", stopped and disabled; then started again, its per-boot scripts run' '
	test_fake_settings "{\"interrupt_grace\": 1}" &&
	id=$(cat p1.id) &&
	dir=$(test_instance_dir $id) &&
	mkdir -p "$dir/var/lib/cloud/scripts/per-boot" &&
	printf "%s\n" "echo second >>\"\$GIT_TRAIN_RUNNER_DIR/boot.log\"" \
		>"$dir/var/lib/cloud/scripts/per-boot/20-second" &&
	printf "%s\n" "echo first \$(pwd) >>\"\$GIT_TRAIN_RUNNER_DIR/boot.log\"" \
		"setsid sleep 987662 </dev/null >/dev/null 2>&1 &" "echo per-boot output" \
		>"$dir/var/lib/cloud/scripts/per-boot/10-first.sh" &&
	wait_online $id &&
	send $id "[\"setsid sleep 987661 </dev/null >/dev/null 2>&1 &\"]" &&
	finished $id &&
	test "$(sleepers 987661)" = 1 &&
	test_fake_interrupt $id 5 &&
	imds $id /latest/meta-data/spot/instance-action >notice.json &&
	test "$(json "d[\"action\"]" notice.json)" = stop &&
	test_fake_wait_instance $id stopped 10 &&
	test "$(sleepers 987661)" = 0 &&
	test "$(test_moto ec2 DescribeInstances InstanceId.1=$id |
		test_xml reservationSet/item/instancesSet/item/instanceState/name)" = stopped &&
	test "$(test_fake_spot_request $id state) $(test_fake_spot_request $id status)" = \
		"disabled instance-stopped-no-capacity" &&
	test "$(test_fake_instance $id stopped_by)" = "spot interruption" &&
	test_path_is_missing "$dir/var/lib/git-train/boot.log" &&
	test_fake_wait_instance $id online 20 &&
	test "$(test_fake_instance $id boots)" = 2 &&
	test_wait_for_text "$dir/var/lib/git-train/boot.log" second 10 &&
	printf "%s\n" "first $dir/root" second >expect &&
	test_cmp expect "$dir/var/lib/git-train/boot.log" &&
	test_grep "^per-boot output$" "$dir/var/log/cloud-init-output.log" &&
	test "$(sleepers 987662)" = 1 &&
	test "$(test_moto ec2 DescribeInstances InstanceId.1=$id |
		test_xml reservationSet/item/instancesSet/item/instanceState/name)" = running &&
	spot_requests "{\"SpotInstanceRequestIds\": [\"$(cat p1.sir)\"]}" >got &&
	test "$(cut -d" " -f3,4 got)" = "active fulfilled" &&
	test "$(imds $id /latest/meta-data/spot/instance-action -o /dev/null -w "%{http_code}")" = 404 &&
	online $id
'

test_expect_success AWS 'interrupted with no restart: it stays stopped and disabled; cancelled, then terminated, the request stays cancelled' '
	id=$(cat p1.id) &&
	sir=$(cat p1.sir) &&
	test_fake_interrupt $id &&
	test_fake_wait_instance $id stopped 10 &&
	test "$(test_fake_instance $id restart_in)" = null &&
	test "$(sleepers 987662)" = 0 &&
	test "$(test_fake_spot_request $sir state)" = disabled &&
	test "$(test_moto ec2 DescribeInstances InstanceId.1=$id |
		test_xml reservationSet/item/instancesSet/item/instanceState/name)" = stopped &&
	! online $id &&
	fake_call ec2 CancelSpotInstanceRequests "{\"SpotInstanceRequestIds\": [\"$sir\"]}" >cancel.json &&
	test "$(json "d[\"CancelledSpotInstanceRequests\"]" cancel.json)" = \
		"[{${SQ}SpotInstanceRequestId${SQ}: ${SQ}$sir${SQ}, ${SQ}State${SQ}: ${SQ}cancelled${SQ}}]" &&
	spot_requests "{\"SpotInstanceRequestIds\": [\"$sir\"]}" >got &&
	test "$(cut -d" " -f3,4 got)" = "cancelled request-canceled-and-instance-running" &&
	call ec2 "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=$id" >/dev/null &&
	test "$(test_fake_instance $id terminated)" = true &&
	test "$(test_fake_spot_request $sir state)" = cancelled
'

test_expect_success AWS 'on the instance, aws ec2 describe-/cancel-spot-instance-requests (the stand-in, the role), a systemd-run timer, then shutdown: the request stays cancelled' '
	test_fake_settings "{\"shutdown_minute\": 2}" &&
	run_instances "$(persistent run-2)" >p2.id &&
	id=$(cat p2.id) &&
	sir=$(json "d[\"Instances\"][0][\"SpotInstanceRequestId\"]" ri.json) &&
	root=$(test_instance_dir $id)/root &&
	printf "%s\n" "echo \$1 \$AWS_REGION >>\"\$GIT_TRAIN_RUNNER_DIR/fired\"" >"$root/fire.sh" &&
	wait_online $id &&
	send $id "[\"systemd-run --unit=never --on-active=1h sh fire.sh never\",
		\"systemd-run --unit=soon --on-active=45 --description=x sh fire.sh soon\",
		\"systemctl stop never.timer\",
		\"aws ec2 describe-spot-instance-requests --filters Name=instance-id,Values=$id >described.json\",
		\"aws --endpoint-url \\\"\$AWS_ENDPOINT_URL\\\" ec2 cancel-spot-instance-requests --spot-instance-request-ids sir-00000000 2>unknown.err; echo \$? >unknown.rc\",
		\"aws ec2 cancel-spot-instance-requests --spot-instance-request-ids $sir >cancelled.json\"]" &&
	finished $id &&
	test "$(json "d[\"Status\"]" inv.json)" = Success &&
	test_wait_for_text "$root/../var/lib/git-train/fired" soon 10 &&
	echo "soon us-east-1" >expect &&
	test_cmp expect "$root/../var/lib/git-train/fired" &&
	test "$(test_fake_instance $id units)" = "{}" &&
	test_fake_settings "{\"shutdown_minute\": 60}" &&
	send $id "[\"shutdown -h now\", \"sleep 30\"]" &&
	test_fake_wait_instance $id terminated &&
	json "[(r[\"SpotInstanceRequestId\"], r[\"State\"], r[\"Tags\"][0][\"Value\"]) for r in d[\"SpotInstanceRequests\"]]" \
		"$root/described.json" >got &&
	test "$(cat got)" = "[(${SQ}$sir${SQ}, ${SQ}active${SQ}, ${SQ}run-2${SQ})]" &&
	test "$(cat "$root/unknown.rc")" = 254 &&
	test_grep "^An error occurred (InvalidSpotInstanceRequestID.NotFound) when calling the CancelSpotInstanceRequests operation: " \
		"$root/unknown.err" &&
	test "$(json "d[\"CancelledSpotInstanceRequests\"][0][\"State\"]" "$root/cancelled.json")" = cancelled &&
	test "$(test_fake_instance $id ended_by)" = shutdown &&
	test "$(test_fake_spot_request $sir state)" = cancelled
'

test_expect_success AWS 'stopped by the user: disabled; terminated so, the request is open again: test_nothing_left says so' '
	test_nothing_left &&
	o=InstanceMarketOptions &&
	t=TagSpecification.1 &&
	launch p3 "&$o.MarketType=spot&$o.SpotOptions.SpotInstanceType=persistent&$o.SpotOptions.InstanceInterruptionBehavior=stop&$o.SpotOptions.ValidUntil=2030-01-01T00:00:00Z&$t.ResourceType=spot-instances-request&$t.Tag.1.Key=git-train:run-id&$t.Tag.1.Value=run-3" &&
	id=$(cat p3.id) &&
	sir=$(test_xml instancesSet/item/spotInstanceRequestId <launch.xml) &&
	test "$(test_fake_spot_request $sir tags)" = "{\"git-train:run-id\": \"run-3\"}" &&
	test_must_fail test_nothing_left 2>left &&
	test_grep "^left: spot request $sir is active" left &&
	test_grep "^left: instance $id is running in moto" left &&
	test_grep "^left: instance $id is running in the fake" left &&
	call ec2 "Action=StopInstances&Version=2016-11-15&InstanceId.1=$id" >/dev/null &&
	test "$(test_fake_spot_request $sir state) $(test_fake_spot_request $sir status)" = \
		"disabled instance-stopped-by-user" &&
	test "$(test_fake_instance $id stopped_by)" = StopInstances &&
	test_must_fail test_nothing_left 2>left &&
	test_grep "^left: instance $id is stopped in moto" left &&
	call ec2 "Action=TerminateInstances&Version=2016-11-15&InstanceId.1=$id" >/dev/null &&
	test "$(test_fake_spot_request $sir state) $(test_fake_spot_request $sir status)" = \
		"open instance-terminated-by-user" &&
	test_must_fail test_nothing_left 2>left &&
	echo "left: spot request $sir is open (instance-terminated-by-user, instance $id)" >expect &&
	test_cmp expect left &&
	call ec2 "Action=CancelSpotInstanceRequests&Version=2016-11-15&SpotInstanceRequestId.1=$sir" \
		>cancel.xml &&
	test "$(test_xml spotInstanceRequestSet/item/state <cancel.xml)" = cancelled &&
	test "$(test_fake_spot_request $sir status)" = canceled-before-fulfillment &&
	test_nothing_left
'

test_done
