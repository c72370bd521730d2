#!/bin/sh
# ec2 and pricing: the EC2 calls and prices git-train relies on, against
# moto (and the fake where moto lacks something: ClientToken idempotency,
# the Price List API, injected capacity errors). A spot launch is spot,
# tagged at launch (instance and volume), IMDSv2 only, terminated on
# shutdown, its root volume encrypted; what DescribeInstances says matches what moto says (its XML read
# by the test itself, not by git-train's parser); prices are real
# numbers, cached per repository. Driven through `test-tool ec2` (tests/helper/).
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO && test -x "$TEST_TOOL"; then
	test_start_moto || exit 1
	test_set_prereq EC2
	if test_have_prereq FAKE; then
		test_start_fake || exit 1
		# moto itself unless a test asks for the fake
		AWS_ENDPOINT_URL=$MOTO_URL
		test_set_prereq EC2_FAKE
		grep -q GetProducts "$TEST_DIRECTORY/aws-fake.py" && test_set_prereq PRICE_LIST
	fi
fi
# aws_send's own retries without the real waits
GIT_TRAIN_RETRY_BASE_MS=1
export GIT_TRAIN_RETRY_BASE_MS

RUN_ID=20261129-000000-abc1234-0000
BRANCH='feature/a b&c=d+e'

# ec2 ARGS...: test-tool ec2, its output kept for the secret check at the end
ec2() {
	"$TEST_TOOL" ec2 "$@" >out 2>err
	rc=$?
	cat out err >>"$TRASH_DIRECTORY/all-output"
	return $rc
}

# through_fake CMD...: CMD with the fake in front of moto
through_fake() {
	AWS_ENDPOINT_URL=$FAKE_URL "$@"
}

# field NAME: the value of "NAME value" in out
field() {
	sed -n "s/^$1 //p" out
}

# Debian's python3 when there is one: it starts in a tenth of the time of a shim
PY=python3
test -x /usr/bin/python3 && PY=/usr/bin/python3

# cli_view FILE: the instance of moto's DescribeInstances XML in FILE, as
# lines like test-tool ec2's (lifecycle, metadata options, root device, sorted tags)
cli_view() {
	$PY -c '
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
for el in root.iter():
    el.tag = el.tag.rsplit("}", 1)[-1]
d = root.findall("reservationSet/item/instancesSet/item")
assert len(d) == 1, d
i = d[0]
print("id", i.findtext("instanceId"))
print("lifecycle", i.findtext("instanceLifecycle", "on-demand"))
print("http-tokens", i.findtext("metadataOptions/httpTokens"))
print("http-endpoint", i.findtext("metadataOptions/httpEndpoint"))
print("root-device", i.findtext("blockDeviceMapping/item/deviceName"))
for k, v in sorted((t.findtext("key"), t.findtext("value")) for t in i.iterfind("tagSet/item")):
    print("tag %s=%s" % (k, v))' "$1"
}

test_expect_success EC2 'setup: an instance profile, an AMI and its root device' '
	test_moto iam CreateInstanceProfile InstanceProfileName=train-profile >profile.out &&
	test_moto ec2 DescribeImages Owner.1=amazon \
		Filter.1.Name=architecture Filter.1.Value.1=x86_64 \
		Filter.2.Name=root-device-type Filter.2.Value.1=ebs >images.xml &&
	test_xml imagesSet/item imageId rootDeviceName <images.xml | sed -n 1p >ami &&
	read ami root <ami &&
	test -n "$ami" && test -n "$root" &&
	echo "$ami" >ami-id &&
	echo "$root" >ami-root &&
	test_moto ec2 DescribeImages ImageId.1="$ami" >image.xml &&
	test_xml imagesSet/item/blockDeviceMapping/item deviceName ebs/volumeSize <image.xml |
		sed -n "s|^$root	||p" >ami-root-size &&
	test_grep "^[1-9][0-9]*$" ami-root-size
'

test_expect_success EC2 'availability zones: the available ones, sorted' '
	ec2 zones &&
	test_moto ec2 DescribeAvailabilityZones Filter.1.Name=state Filter.1.Value.1=available \
		Filter.2.Name=zone-type Filter.2.Value.1=availability-zone >zones.xml &&
	test_xml availabilityZoneInfo/item/zoneName <zones.xml >zones &&
	tr "\t" "\n" <zones | sort >expect &&
	test_line_count -gt 1 expect &&
	test_cmp expect out
'

test_expect_success EC2 'a spot launch: spot, in its zone, tagged at launch' '
	ec2 run t3.micro "$(cat ami-id)" --spot --az us-east-1b --token "$RUN_ID-spot-1" \
		--profile train-profile --user-data "#!/bin/sh
shutdown -h +60" --volume 16 \
		--tag Name=git-train/abc1234 --tag "git-train:run-id=$RUN_ID" \
		--tag "git-train:branch=$BRANCH" --tag git-train:user=author@example.com &&
	field id >spot-id &&
	test_grep "^i-" spot-id &&
	echo spot >expect && field lifecycle >actual && test_cmp expect actual &&
	echo us-east-1b >expect && field az >actual && test_cmp expect actual &&
	echo t3.micro >expect && field type >actual && test_cmp expect actual &&
	test_grep "^tag Name=git-train/abc1234$" out &&
	test_grep -F "tag git-train:branch=$BRANCH" out &&
	test_grep "^launched 20[0-9][0-9]-" out
'

test_expect_success EC2 'DescribeInstances finds it by tag, as the AWS CLI does' '
	id=$(cat spot-id) &&
	ec2 describe --filter "tag:git-train:run-id=$RUN_ID" &&
	grep "^id " out >ids &&
	echo "id $id" >expect && test_cmp expect ids &&
	test_grep "^lifecycle spot$" out &&
	test_grep "^az us-east-1b$" out &&
	grep "^tag " out | sort >ours &&
	test_line_count = 4 ours &&
	test_moto ec2 DescribeInstances Filter.1.Name=tag:git-train:run-id \
		"Filter.1.Value.1=$RUN_ID" >cli.xml &&
	cli_view cli.xml >cli &&
	grep "^tag " cli >theirs &&
	test_cmp theirs ours &&
	test_grep "^id $id$" cli &&
	test_grep "^lifecycle spot$" cli
'

test_expect_success EC2 'IMDSv2 only, terminate on shutdown, the user data as given' '
	test_moto ec2 DescribeInstanceAttribute InstanceId="$(cat spot-id)" \
		Attribute=instanceInitiatedShutdownBehavior >shutdown.xml &&
	test_xml instanceInitiatedShutdownBehavior/value <shutdown.xml >shutdown &&
	id=$(cat spot-id) &&
	test_grep "^http-tokens required$" cli &&
	test_grep "^http-endpoint enabled$" cli &&
	test_moto ec2 DescribeInstanceAttribute InstanceId="$id" Attribute=userData >user-data.xml &&
	test_xml userData/value <user-data.xml >user-data.b64 &&
	echo terminate >expect && test_cmp expect shutdown &&
	base64 -d user-data.b64 >actual &&
	printf "#!/bin/sh\nshutdown -h +60" >expect && test_cmp expect actual
'

test_expect_success EC2 'the root volume: the AMI root device, its size, gp3, encrypted, tagged too' '
	id=$(cat spot-id) &&
	echo "root-device $(cat ami-root)" >expect &&
	grep "^root-device " cli >actual && test_cmp expect actual &&
	test_moto ec2 DescribeVolumes Filter.1.Name=attachment.instance-id \
		"Filter.1.Value.1=$id" >volumes.xml &&
	test_xml volumeSet/item size volumeType encrypted \
		"tagSet/item[key=\"git-train:run-id\"]/value" <volumes.xml >actual &&
	printf "16\tgp3\ttrue\t%s\n" "$RUN_ID" >expect && test_cmp expect actual
'

test_expect_success EC2 'an on-demand launch has no lifecycle; describe by id' '
	ec2 run t3.micro "$(cat ami-id)" --token "$RUN_ID-on-demand-1" \
		--tag "git-train:run-id=$RUN_ID-od" &&
	field id >od-id &&
	test_grep "^lifecycle on-demand$" out &&
	ec2 describe --id "$(cat od-id)" --id "$(cat spot-id)" &&
	grep "^id " out | sort >actual &&
	sort od-id spot-id | sed "s/^/id /" >expect &&
	test_cmp expect actual &&
	grep "^lifecycle " out | sort >actual &&
	printf "lifecycle on-demand\nlifecycle spot\n" >expect && test_cmp expect actual &&
	test_moto ec2 DescribeVolumes Filter.1.Name=attachment.instance-id \
		"Filter.1.Value.1=$(cat od-id)" >volumes.xml &&
	test_xml volumeSet/item size encrypted <volumes.xml >actual &&
	printf "%s\ttrue\n" "$(cat ami-root-size)" >expect && test_cmp expect actual
'

test_expect_success EC2_FAKE 'a repeated ClientToken gives the same instance, not a second' '
	through_fake ec2 run t3.micro "$(cat ami-id)" --spot --token "$RUN_ID-spot-2" \
		--tag "git-train:run-id=$RUN_ID-token" &&
	field id >first &&
	through_fake ec2 run t3.micro "$(cat ami-id)" --spot --token "$RUN_ID-spot-2" \
		--tag "git-train:run-id=$RUN_ID-token" &&
	field id >second &&
	test_cmp first second &&
	ec2 describe --filter "tag:git-train:run-id=$RUN_ID-token" &&
	grep "^id " out >ids &&
	test_line_count = 1 ids
'

test_expect_success EC2 'run errors give the AWS error code: a missing AMI, a bad zone' '
	test_expect_code 1 ec2 run t3.micro ami-0000000000000000f --volume 8 &&
	echo "code InvalidAMIID.NotFound" >expect && test_cmp expect out &&
	test_grep "^error: InvalidAMIID.NotFound: " err &&
	test_expect_code 1 ec2 run t3.micro "$(cat ami-id)" --az us-east-1q &&
	echo "code InvalidParameterValue" >expect && test_cmp expect out
'

test_expect_success EC2_FAKE 'no spot capacity: its code at once, not retried as a 500' '
	test_fake_ctl reset &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 500,
		\"code\": \"InsufficientInstanceCapacity\", \"message\": \"no t3.micro capacity\",
		\"service\": \"ec2\", \"action\": \"RunInstances\"}]" &&
	test_expect_code 1 through_fake ec2 run t3.micro "$(cat ami-id)" --spot &&
	echo "code InsufficientInstanceCapacity" >expect && test_cmp expect out &&
	test_grep "InsufficientInstanceCapacity: no t3.micro capacity" err &&
	test "$(test_fake_count "ec2 RunInstances")" = 1 &&
	test_fake_ctl rules "[]"
'

test_expect_success EC2 'terminate: the instances end; a missing one is no error' '
	ec2 terminate "$(cat spot-id)" i-0123456789abcdef0 "$(cat od-id)" &&
	ec2 describe --id "$(cat spot-id)" --id "$(cat od-id)" &&
	grep "^state " out | sort -u >actual &&
	echo "state terminated" >expect && test_cmp expect actual &&
	ec2 terminate i-0123456789abcdef0 &&
	ec2 terminate
'

test_expect_success EC2 'spot price: the lowest over the zones, positive, in a zone' '
	ec2 spot-price t3.micro &&
	read price az <out &&
	awk -v p="$price" "BEGIN { exit !(p > 0) }" &&
	ec2 zones && grep -x "$az" out
'

test_expect_success PRICE_LIST 'on-demand price from the Price List API' '
	through_fake ec2 on-demand us-east-1 t3.micro &&
	echo 0.010400 >expect && test_cmp expect out &&
	through_fake ec2 on-demand us-east-1 g5.xlarge &&
	echo 1.006000 >expect && test_cmp expect out &&
	through_fake ec2 on-demand us-east-1 x9.nonexistent &&
	echo none >expect && test_cmp expect out
'

test_expect_success PRICE_LIST 'a quote is cached in the repository for a while' '
	test_fake_ctl reset &&
	through_fake ec2 quote .git us-east-1 t3.micro &&
	test_grep "^spot \$0.00001/h us-east-1[a-z]$" out &&
	test_grep "^on-demand \$0.0104/h$" out &&
	test_line_count = 0 err &&
	test_path_is_file .git/train/prices.json &&
	test_fake_ctl prices "{\"t3.micro\": 0.5}" &&
	through_fake ec2 quote .git us-east-1 t3.micro &&
	test_grep "^on-demand \$0.0104/h$" out &&
	test "$(test_fake_count "pricing GetProducts")" = 1 &&
	test "$(test_fake_count "ec2 DescribeSpotPriceHistory")" = 1 &&
	rm .git/train/prices.json &&
	through_fake ec2 quote .git us-east-1 t3.micro &&
	test_grep "^on-demand \$0.50/h$" out
'

test_expect_success EC2_FAKE 'a price that cannot be had is a warning, not a failure' '
	test_fake_ctl reset &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 400,
		\"code\": \"AccessDeniedException\", \"message\": \"not allowed\",
		\"service\": \"pricing\"}]" &&
	through_fake ec2 quote .git us-east-1 m5.large &&
	test_fake_ctl rules "[]" &&
	test_grep "^spot \$[0-9.]*/h us-east-1[a-z]$" out &&
	test_grep "^on-demand unknown$" out &&
	echo "cannot get the on-demand price of m5.large in us-east-1:" \
		"AccessDeniedException: not allowed" >expect &&
	sed "s/ (request id .*//" err >actual &&
	test_cmp expect actual
'

test_expect_success EC2 'the secret key never shows' '
	test_path_is_file all-output &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" all-output
'

test_done
