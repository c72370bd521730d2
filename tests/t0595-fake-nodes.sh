#!/bin/sh
# The fake's instances for a run on several nodes: one RunInstances boots
# each of its instances with an address of its own on loopback (never moto's
# 10.x one) in DescribeInstances and IMDS; settings spot_capacity cuts a spot
# launch to what a zone has, or fails it as AWS does; placement groups (which
# moto lacks) and security groups cannot be deleted while an instance uses
# them; and two sandboxes' torchrun really meet over gloo on those
# addresses. Shown through botocore, as a client sees it.
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO && test_have_prereq FAKE; then
	test_start_moto && test_start_fake || exit 1
	test_set_prereq AWS
fi

PY=/usr/bin/python3

# fake_call <service> <Operation> [<JSON parameters>]...: botocore through the fake
fake_call() {
	env AWS_MAX_ATTEMPTS=1 $PY "$TEST_DIRECTORY/botocall.py" "$FAKE_URL" "$@"
}

# json <python expression on d> <file>: prints its value
json() {
	$PY -c 'import json, sys; d = json.load(open(sys.argv[2])); print(eval(sys.argv[1]))' "$1" "$2"
}

# run <file> <JSON members>: RunInstances of c5.xlarge with those members
# too, tagged git-train:run-id=<file>; the instance ids, one a line, in <file>
run() {
	fake_call ec2 RunInstances "{\"ImageId\": \"$(cat ami)\", \"InstanceType\": \"c5.xlarge\",
		\"TagSpecifications\": [{\"ResourceType\": \"instance\",
		\"Tags\": [{\"Key\": \"git-train:run-id\", \"Value\": \"$1\"}]}], $2}" >"$1.json" &&
	json '"\n".join(i["InstanceId"] for i in d["Instances"])' "$1.json" >"$1"
}

terminate() {
	fake_call ec2 TerminateInstances "{\"InstanceIds\": $($PY -c '
import json, sys
print(json.dumps(sys.argv[1:]))' "$@")}" >/dev/null
}

# imds <instance id> <path>: its metadata service, with a token
imds() {
	port=$(test_fake_instance "$1" imds_port) &&
	tok=$(curl -sf -X PUT -H "X-aws-ec2-metadata-token-ttl-seconds: 60" \
		"http://127.0.0.1:$port/latest/api/token") &&
	curl -sf -H "X-aws-ec2-metadata-token: $tok" "http://127.0.0.1:$port$2"
}

# ids <file>: its instance ids as a JSON list
ids() {
	$PY -c 'import json, sys; print(json.dumps(open(sys.argv[1]).read().split()))' "$1"
}

# send <name> <instance id>... -- <command>...: SendCommand; its id in <name>
send() {
	$PY - "$@" >send.params <<-\PY &&
	import json, sys
	args = sys.argv[2:]
	cut = args.index("--")
	print(json.dumps({"DocumentName": "AWS-RunShellScript", "InstanceIds": args[:cut],
	                  "Parameters": {"commands": args[cut + 1:]}}))
	PY
	fake_call ssm SendCommand "$(cat send.params)" >"$1.json" &&
	json 'd["Command"]["CommandId"]' "$1.json" >"$1"
}

# what the instances run (single quotes, which the tests' bodies cannot have)
SHOW_ENV='echo "$GLOO_SOCKET_IFNAME $(command -v torchrun) $PWD"'
SHOW_WRAPPER='cat "$GIT_TRAIN_IMAGE_ROOT/usr/bin/torchrun"'
IMAGE_TORCHRUN='"$GIT_TRAIN_IMAGE_ROOT/usr/bin/torchrun"'

# invocation <command id> <instance id>: waits for it to end (one botocore
# that asks four times a second, not a process a look); its JSON on stdout
invocation() {
	$PY - "$FAKE_URL" "$1" "$2" <<-\PY
	import json, os, sys, time
	import botocore.session
	url, cid, iid = sys.argv[1:4]
	ssm = botocore.session.get_session().create_client(
	    "ssm", endpoint_url=url, region_name=os.environ.get("AWS_REGION", "us-east-1"))
	d = {}
	for _ in range(480):
	    try:
	        d = ssm.get_command_invocation(CommandId=cid, InstanceId=iid)
	    except ssm.exceptions.InvocationDoesNotExist:
	        d = {}
	    if d.get("Status") in ("Success", "Failed", "TimedOut"):
	        d.pop("ResponseMetadata", None)
	        print(json.dumps(d))
	        sys.exit(0)
	    time.sleep(0.25)
	sys.exit(f"command {cid} on {iid} did not finish: {d}")
	PY
}

test_expect_success AWS 'setup: the AMI' '
	fake_call ssm GetParameter \
		"{\"Name\": \"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\"}" \
		>param.json &&
	json "d[\"Parameter\"][\"Value\"]" param.json >ami &&
	test_grep "^ami-" ami
'

test_expect_success AWS 'one RunInstances of two: each boots, with its own loopback address everywhere' '
	run two "\"MinCount\": 2, \"MaxCount\": 2" &&
	test_line_count = 2 two &&
	fake_call ec2 DescribeInstances "{\"InstanceIds\": $(ids two)}" >describe.json &&
	json "\"\n\".join(i[\"InstanceId\"] + \" \" + i[\"PrivateIpAddress\"] for r in d[\"Reservations\"] for i in r[\"Instances\"])" describe.json >addresses &&
	test_line_count = 2 addresses &&
	cut -d" " -f2 addresses | sort -u >distinct &&
	test_line_count = 2 distinct &&
	! grep -v "^127\.[0-9]*\.[0-9]*\.[0-9]*$" distinct &&
	! grep "^127\.0\.0\.1$" distinct &&
	# no private address or name of moto'\''s is shown, the interfaces'\'' neither
	json "\"\n\".join(v for r in d[\"Reservations\"] for i in r[\"Instances\"] for v in [i[\"PrivateDnsName\"]] + [a[\"PrivateIpAddress\"] for n in i[\"NetworkInterfaces\"] for a in n[\"PrivateIpAddresses\"]] + [n[\"PrivateDnsName\"] for n in i[\"NetworkInterfaces\"]])" describe.json >private &&
	test_line_count = 6 private &&
	! grep -v "^ip-127-\|^127\." private &&
	while read id ip; do
		test "$(imds $id /latest/meta-data/local-ipv4)" = "$ip" &&
		imds $id /latest/dynamic/instance-identity/document >doc.json &&
		test "$(json "d[\"privateIp\"]" doc.json)" = "$ip" &&
		grep "^ip-$(echo $ip | tr . -)\.ec2\.internal$" private || return 1
	done <addresses &&
	test_fake_instances_of_run two >listed &&
	cut -d" " -f1,2,4 listed >actual &&
	sed "s/ / running /" addresses >expect &&
	test_cmp expect actual
'

test_expect_success AWS 'SendCommand to both runs on each, in its own sandbox, gloo on loopback, torchrun the wrapper' '
	send both $(cat two) -- "$SHOW_ENV" "$SHOW_WRAPPER" &&
	for id in $(cat two); do
		invocation $(cat both) $id >inv-$id.json &&
		test "$(json "d[\"Status\"]" inv-$id.json)" = Success &&
		json "d[\"StandardOutputContent\"]" inv-$id.json >out-$id &&
		dir=$(test_instance_dir $id) &&
		test "$(head -n 1 out-$id)" = "lo $dir/bin/torchrun $dir/root" &&
		test_grep "^exec /usr/bin/python3 -m torch.distributed.run --redirects 2 --tee 1 " out-$id &&
		test_cmp "$dir/bin/torchrun" "$dir/image/usr/bin/torchrun" || return 1
	done
'

test_expect_success AWS,TORCH 'two sandboxes'\''s torchrun meet over gloo at node 0'\''s address' '
	cat >allreduce.py <<-\PY &&
	import os, torch, torch.distributed as dist
	dist.init_process_group("gloo")
	t = torch.tensor([float(dist.get_rank() + 1)])
	dist.all_reduce(t)
	print("rank %d of %d: %d via %s" % (dist.get_rank(), dist.get_world_size(), t.item(),
	                                   os.environ["MASTER_ADDR"]))
	dist.destroy_process_group()
	PY
	write=$(printf "cat >allreduce.py <<\\\\EOF\n%s\nEOF" "$(cat allreduce.py)") &&
	node0=$(sed -n 1p two) node1=$(sed -n 2p two) &&
	addr=$(imds $node0 /latest/meta-data/local-ipv4) &&
	port=$(test_free_port) &&
	args="--nnodes 2 --nproc_per_node 1 --master_addr $addr --master_port $port" &&
	# node 0 takes torchrun from PATH, node 1 the one beside the image'\''s python3
	send rank0 $node0 -- "$write" "torchrun $args --node_rank 0 allreduce.py" &&
	send rank1 $node1 -- "$write" "$IMAGE_TORCHRUN $args --node_rank 1 allreduce.py" &&
	invocation $(cat rank0) $node0 >inv0.json &&
	invocation $(cat rank1) $node1 >inv1.json &&
	json "d[\"StandardOutputContent\"] + d[\"StandardErrorContent\"]" inv0.json >out0 &&
	json "d[\"StandardOutputContent\"] + d[\"StandardErrorContent\"]" inv1.json >out1 &&
	test "$(json "d[\"Status\"]" inv0.json)" = Success &&
	test "$(json "d[\"Status\"]" inv1.json)" = Success &&
	test_grep "rank 0 of 2: 3 via $addr$" out0 &&
	test_grep "rank 1 of 2: 3 via $addr$" out1
'

test_expect_success AWS 'spot_capacity: a spot launch gets at most that many, or InsufficientInstanceCapacity' '
	test_fake_settings "{\"spot_capacity\": {\"c5.xlarge\": 1}}" &&
	spot="\"InstanceMarketOptions\": {\"MarketType\": \"spot\"}" &&
	run trimmed "\"MinCount\": 1, \"MaxCount\": 3, $spot" &&
	test_line_count = 1 trimmed &&
	test_must_fail run refused "\"MinCount\": 2, \"MaxCount\": 2, $spot" 2>err &&
	test_grep "(InsufficientInstanceCapacity) when calling the RunInstances operation: There is no Spot capacity available" err &&
	test_fake_instances_of_run refused >none &&
	! test -s none &&
	# on-demand is not limited, nor other types
	run ondemand "\"MinCount\": 2, \"MaxCount\": 2" &&
	test_line_count = 2 ondemand &&
	! curl -sf -o /dev/null -X POST --data-binary "{\"spot_capacity\": {\"c5.xlarge\": -1}}" \
		"$FAKE_URL/__fake/settings" &&
	test_fake_settings "{\"spot_capacity\": {}}" &&
	terminate $(cat trimmed ondemand)
'

test_expect_success AWS 'placement groups: create, describe by name and tag, launch into, InUse, delete' '
	fake_call ec2 CreatePlacementGroup "{\"GroupName\": \"git-train-r1\", \"Strategy\": \"cluster\",
		\"TagSpecifications\": [{\"ResourceType\": \"placement-group\",
		\"Tags\": [{\"Key\": \"git-train:run-id\", \"Value\": \"r1\"}]}]}" >created.json &&
	test "$(json "d[\"PlacementGroup\"][\"Strategy\"]" created.json)" = cluster &&
	test_must_fail fake_call ec2 CreatePlacementGroup \
		"{\"GroupName\": \"git-train-r1\", \"Strategy\": \"cluster\"}" 2>err &&
	test_grep "(InvalidPlacementGroup.Duplicate)" err &&
	fake_call ec2 DescribePlacementGroups "{\"GroupNames\": [\"git-train-r1\"]}" >by-name.json &&
	fake_call ec2 DescribePlacementGroups \
		"{\"Filters\": [{\"Name\": \"tag:git-train:run-id\", \"Values\": [\"r1\"]}]}" >by-tag.json &&
	fake_call ec2 DescribePlacementGroups \
		"{\"Filters\": [{\"Name\": \"tag:git-train:run-id\", \"Values\": [\"r2\"]}]}" >other.json &&
	test "$(json "\" \".join(g[\"GroupName\"] for g in d[\"PlacementGroups\"])" by-name.json)" = git-train-r1 &&
	test "$(json "\" \".join(g[\"GroupId\"] for g in d[\"PlacementGroups\"])" by-tag.json)" = "$(json "d[\"PlacementGroup\"][\"GroupId\"]" created.json)" &&
	test "$(json "d[\"PlacementGroups\"]" other.json)" = "[]" &&
	test_must_fail run nowhere "\"MinCount\": 1, \"MaxCount\": 1, \"Placement\": {\"GroupName\": \"no-such-group\"}" 2>err &&
	test_grep "(InvalidPlacementGroup.Unknown)" err &&
	fake_call ec2 CreateSecurityGroup "{\"GroupName\": \"git-train-r1\", \"Description\": \"r1\"}" >sg.json &&
	sg=$(json "d[\"GroupId\"]" sg.json) &&
	run r1 "\"MinCount\": 2, \"MaxCount\": 2, \"Placement\": {\"GroupName\": \"git-train-r1\"}, \"SecurityGroupIds\": [\"$sg\"]" &&
	test "$(json "\" \".join(i[\"Placement\"][\"GroupName\"] for i in d[\"Instances\"])" r1.json)" = "git-train-r1 git-train-r1" &&
	test_fake_instances_of_run r1 >listed &&
	test "$(cut -d" " -f2,3,5 listed | sort -u)" = "running git-train-r1 $sg" &&
	test_fake_placement_groups >groups.json &&
	test "$(json "\" \".join(d[\"git-train-r1\"][\"instances\"])" groups.json)" = "$(sort r1 | tr "\n" " " | sed "s/ $//")" &&
	test_must_fail fake_call ec2 DeletePlacementGroup "{\"GroupName\": \"git-train-r1\"}" 2>err &&
	test_grep "(InvalidPlacementGroup.InUse)" err &&
	test_must_fail fake_call ec2 DeleteSecurityGroup "{\"GroupId\": \"$sg\"}" 2>err &&
	test_grep "(DependencyViolation) when calling the DeleteSecurityGroup operation: resource $sg has a dependent object" err &&
	# one of the two gone is not enough
	terminate $(sed -n 1p r1) &&
	test_must_fail fake_call ec2 DeletePlacementGroup "{\"GroupName\": \"git-train-r1\"}" 2>err &&
	test_grep "(InvalidPlacementGroup.InUse)" err &&
	test_must_fail fake_call ec2 DeleteSecurityGroup "{\"GroupName\": \"git-train-r1\"}" 2>err &&
	test_grep "(DependencyViolation)" err &&
	terminate $(sed -n 2p r1) &&
	fake_call ec2 DeletePlacementGroup "{\"GroupName\": \"git-train-r1\"}" \
		ec2 DeleteSecurityGroup "{\"GroupId\": \"$sg\"}" >/dev/null &&
	test_must_fail fake_call ec2 DescribePlacementGroups "{\"GroupNames\": [\"git-train-r1\"]}" 2>err &&
	test_grep "(InvalidPlacementGroup.Unknown)" err &&
	test "$(test_fake_placement_groups)" = "{}"
'

test_expect_success AWS 'nothing left once the two are terminated' '
	terminate $(cat two) &&
	test_nothing_left
'

test_done
