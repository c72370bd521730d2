#!/bin/sh
# git train doctor: every check passes on an account set up for training (the
# SSM agent's policy and the narrowed bucket statements of docs/ec2-runs.md);
# each missing piece fails its own check, with the fix, and no other check
# fails; AmazonSSMManagedInstanceCore and a role that may overwrite code
# archives pass with a warning and the narrower policy; --json says the same;
# the test secret never shows.
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO; then
	# moto knows AWS's managed policies (AmazonSSMManagedInstanceCore) only when asked
	test_start_moto MOTO_IAM_LOAD_MANAGED_POLICIES=true || exit 1
fi

# Debian's python3 when there is one: it starts in a tenth of the time of a shim
PY=python3
test -x /usr/bin/python3 && PY=/usr/bin/python3

CHECKS='credentials
region
bucket
bucket exists
bucket region
bucket writable
instance profile
role ssm access
role bucket access
role spot requests
ami
instance type
vcpu quota'

# doctor [args]: git train doctor, its output kept for the secret check at the end
doctor() {
	git train doctor "$@" >out 2>err
	rc=$?
	cat out err >>"$TRASH_DIRECTORY/all-output"
	return $rc
}

# the settings of a repository that is ready to train
configure() {
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile
}

# only_failure <check>: that check is the one that failed
only_failure() {
	grep "^FAIL" out >fails
	test_line_count = 1 fails &&
	test_grep "^FAIL $1: " fails
}

# role <name> <profile>: a role EC2 may assume, in an instance profile of its own
role() {
	test_moto iam CreateRole RoleName="$1" AssumeRolePolicyDocument="$(cat trust.json)" &&
	test_moto iam CreateInstanceProfile InstanceProfileName="$2" &&
	test_moto iam AddRoleToInstanceProfile InstanceProfileName="$2" RoleName="$1"
}

test_expect_success MOTO 'setup: buckets, a role with SSM and bucket access, its instance profile' '
	cat >trust.json <<-\EOF &&
	{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
	 "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
	EOF
	cat >agent.json <<-\EOF &&
	{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
	 "Action": ["ssm:UpdateInstanceInformation",
	            "ssmmessages:CreateControlChannel", "ssmmessages:CreateDataChannel",
	            "ssmmessages:OpenControlChannel", "ssmmessages:OpenDataChannel",
	            "ec2messages:*"],
	 "Resource": "*"}]}
	EOF
	cat >bucket-policy.json <<-\EOF &&
	{"Version": "2012-10-17", "Statement": [
	 {"Effect": "Allow", "Action": "s3:PutObject",
	  "Resource": "arn:aws:s3:::train-bucket/git-train/*/*/runs/*"},
	 {"Effect": "Allow", "Action": "s3:GetObject",
	  "Resource": "arn:aws:s3:::train-bucket/git-train/*/*/code.tar.gz"},
	 {"Effect": "Allow", "Action": "s3:GetObject",
	  "Resource": ["arn:aws:s3:::train-bucket/git-train/*/*/runs/*/checkpoints/*",
	               "arn:aws:s3:::train-bucket/git-train/*/*/runs/*/attempts.json",
	               "arn:aws:s3:::train-bucket/git-train/*/*/runs/*/log",
	               "arn:aws:s3:::train-bucket/git-train/*/*/runs/*/nodes/*/result.json"]},
	 {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::train-bucket",
	  "Condition": {"StringLike": {"s3:prefix": ["git-train/*/*/runs/*/checkpoints/*",
	                                             "git-train/*/*/runs/*/nodes/*",
	                                             "git-train/*/*/runs/*/result.json"]}}}]}
	EOF
	cat >spot.json <<-\EOF &&
	{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
	 "Action": "ec2:CancelSpotInstanceRequests",
	 "Resource": "arn:aws:ec2:*:*:spot-instances-request/*",
	 "Condition": {"Null": {"aws:ResourceTag/git-train:run-id": "false"}}}]}
	EOF
	cat >broad-bucket-policy.json <<-\EOF &&
	{"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
	 "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::train-bucket/git-train/*"},
	 {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::train-bucket"}]}
	EOF
	{
		test_moto_s3 /other-data -X PUT &&
		test_moto_s3 /train-bucket -X PUT &&
		role train-role train-profile &&
		test_moto iam PutRolePolicy RoleName=train-role PolicyName=git-train-agent \
			PolicyDocument="$(cat agent.json)" &&
		test_moto iam CreatePolicy PolicyName=train-bucket-access \
			PolicyDocument="$(cat bucket-policy.json)" >policy.xml &&
		arn=$(test_xml CreatePolicyResult/Policy/Arn <policy.xml) &&
		test_moto iam AttachRolePolicy RoleName=train-role PolicyArn="$arn" &&
		test_moto iam PutRolePolicy RoleName=train-role PolicyName=git-train-spot \
			PolicyDocument="$(cat spot.json)" &&
		role bare-role bare-profile &&
		test_moto iam PutRolePolicy RoleName=bare-role PolicyName=bucket \
			PolicyDocument="$(cat bucket-policy.json)" &&
		test_moto iam PutRolePolicy RoleName=bare-role PolicyName=git-train-spot \
			PolicyDocument="$(cat spot.json)" &&
		role core-role core-profile &&
		test_moto iam AttachRolePolicy RoleName=core-role \
			PolicyArn=arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore &&
		test_moto iam PutRolePolicy RoleName=core-role PolicyName=bucket \
			PolicyDocument="$(cat broad-bucket-policy.json)" &&
		test_moto iam PutRolePolicy RoleName=core-role PolicyName=git-train-spot \
			PolicyDocument="$(cat spot.json)"
	} >setup.out &&
	test_moto ssm GetParameters "{\"Names\": [
		\"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64\",
		\"/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64\"]}" >amis.json &&
	test_json "\"\\n\".join(p[\"Name\"] + \"\\t\" + p[\"Value\"] for p in d[\"Parameters\"])" \
		<amis.json >amis &&
	test_line_count = 2 amis &&
	test_commit first
'

# ami <arch>: the AMI the public parameter names
ami() {
	sed -n "s|^/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-$1\t||p" amis
}

test_expect_success MOTO 'a set-up account: every check passes, in order, exit 0' '
	configure &&
	doctor &&
	sed -e "s/^.... //" -e "s/: .*//" out >names &&
	echo "$CHECKS" >expect &&
	test_cmp expect names &&
	test_grep ! -v "^ok   " out &&
	test_grep "^ok   credentials: arn:aws:[a-z]*::123456789012:.* (account 123456789012)$" out &&
	test_grep "^ok   region: us-east-1" out &&
	test_grep "^ok   bucket: s3://train-bucket/git-train/$" out &&
	test_grep "^ok   bucket exists: train-bucket$" out &&
	test_grep "^ok   bucket region: us-east-1$" out &&
	test_grep "^ok   instance profile: train-profile (role train-role)$" out &&
	test_grep "^ok   role ssm access: role train-role allows ssm:UpdateInstanceInformation and its messages$" out &&
	test_grep "^ok   role bucket access: role train-role may read code archives and write runs in s3://train-bucket/git-train/$" out &&
	test_grep "^ok   ami: $(ami x86_64) (Amazon Linux 2023, x86_64)$" out &&
	test_grep "^ok   instance type: t3.micro (x86_64, offered in us-east-1)$" out &&
	test_grep "^ok   vcpu quota: t3.micro needs 2 vCPUs; the quota \"All Standard (A, C, D, H, I, M, R, T, Z) Spot Instance Requests\" is not known here$" out
'

test_expect_success MOTO 'the writability probe leaves nothing in the bucket' '
	curl -sf "$MOTO_URL/train-bucket?list-type=2" >list &&
	test_grep "<KeyCount>0</KeyCount>" list
'

test_expect_success MOTO 'a passing result is cached briefly, a failing one is not' '
	configure &&
	doctor &&
	test_path_is_file .git/train/doctor.json &&
	test_grep "\"key\":[[:space:]]*\"[0-9a-f]\{64\}\"" .git/train/doctor.json &&
	git config train.bucket no-such-bucket &&
	test_expect_code 1 doctor &&
	test_path_is_missing .git/train/doctor.json
'

test_expect_success MOTO 'a Graviton type checks the arm64 AMI' '
	configure &&
	doctor --instance-type t4g.micro &&
	test_grep "^ok   ami: $(ami arm64) (Amazon Linux 2023, arm64)$" out &&
	test_grep "^ok   instance type: t4g.micro (arm64, offered in us-east-1)$" out
'

test_expect_success MOTO 'no train.bucket: the exact command, and the buckets there are' '
	configure &&
	git config --unset train.bucket &&
	test_expect_code 1 doctor &&
	only_failure bucket &&
	test_grep -A2 "^FAIL bucket: train.bucket is not set$" out >fix &&
	test_grep "^     fix: git config train.bucket <name>$" fix &&
	test_grep "^          your buckets: .*other-data" fix &&
	test_grep "^          your buckets: .*train-bucket" fix &&
	test_grep "^--   bucket exists: skipped (no bucket)$" out &&
	test_grep "^--   bucket region: skipped (no bucket)$" out &&
	test_grep "^--   bucket writable: skipped (no bucket)$" out &&
	test_grep "^--   role bucket access: skipped (no bucket)$" out &&
	test_grep "^ok   credentials: " out &&
	test_grep "^ok   role ssm access: " out &&
	test_grep "^ok   instance type: " out
'

test_expect_success MOTO 'a missing bucket: the command that makes it, and it works' '
	configure &&
	git config train.bucket new-bucket &&
	test_expect_code 1 doctor &&
	only_failure "bucket exists" &&
	test_grep -A1 "^FAIL bucket exists: the bucket .new-bucket. does not exist$" out >fix &&
	test_grep "^     fix: aws s3 mb s3://new-bucket --region us-east-1$" fix &&
	test_grep "^--   bucket region: skipped (no bucket)$" out &&
	test_grep "^--   bucket writable: skipped (no bucket)$" out &&
	test_grep "^--   role bucket access: skipped (no bucket)$" out &&
	test_grep "^ok   instance profile: " out &&

	test_aws s3 mb s3://new-bucket --region us-east-1 >/dev/null &&
	test_expect_code 1 doctor &&
	only_failure "role bucket access" &&
	test_grep "^FAIL role bucket access: role train-role cannot reach the bucket: s3:GetObject on arn:aws:s3:::new-bucket/git-train/doctor-check/0\{40\}/code.tar.gz is allowed by no policy$" out &&
	sed -n "s/^     fix: aws //p" out >cmd &&
	test_grep "^iam put-role-policy --role-name train-role --policy-name git-train-bucket .*\"arn:aws:s3:::new-bucket/git-train/\*/\*/runs/\*\"" cmd &&
	test_grep "\"s3:GetObject\",\"Resource\":\"arn:aws:s3:::new-bucket/git-train/\*/\*/code.tar.gz\"" cmd &&
	eval "test_aws $(cat cmd)" &&
	doctor &&
	test_grep ! "^warn " out
'

test_expect_success MOTO 'a missing instance profile: the commands that make it, and they work' '
	configure &&
	git config train.instanceProfile new-profile &&
	test_expect_code 1 doctor &&
	only_failure "instance profile" &&
	test_grep "^FAIL instance profile: the instance profile .new-profile. does not exist$" out &&
	test_grep "^     fix: aws iam create-instance-profile --instance-profile-name new-profile$" out &&
	test_grep "^          aws iam add-role-to-instance-profile --instance-profile-name new-profile --role-name <role>$" out &&
	test_grep "^--   role ssm access: skipped (no instance profile)$" out &&
	test_grep "^--   role bucket access: skipped (no instance profile)$" out &&
	test_grep "^ok   bucket writable: " out &&

	sed -n -e "s/^     fix: aws //p" -e "s/^          aws //p" out |
		sed -e "s/<role>/train-role/" >cmds &&
	while read cmd; do test_aws $cmd >/dev/null || exit 1; done <cmds &&
	doctor &&
	test_grep "^ok   instance profile: new-profile (role train-role)$" out
'

test_expect_success MOTO 'a role without SSM: the policy to attach, and it works' '
	configure &&
	git config train.instanceProfile bare-profile &&
	test_expect_code 1 doctor &&
	only_failure "role ssm access" &&
	test_grep "^FAIL role ssm access: role bare-role cannot use SSM: ssm:UpdateInstanceInformation is allowed by no policy$" out &&
	sed -n "s/^     fix: aws //p" out >cmd &&
	test_grep "^iam put-role-policy --role-name bare-role --policy-name git-train-agent .*\"ssm:UpdateInstanceInformation\"" cmd &&
	test_grep ! "GetParameter\|AmazonSSMManagedInstanceCore" cmd &&
	test_grep "^ok   role bucket access: role bare-role may read code archives and write runs" out &&

	eval "test_aws $(cat cmd)" &&
	doctor &&
	test_grep "^ok   role ssm access: role bare-role allows ssm:UpdateInstanceInformation and its messages$" out &&
	test_grep ! "^warn " out
'
# The managed policy reads every Parameter Store value, and git-train/*
# lets a run overwrite other commits' code: both work, both are warned
# about, each with the narrower policy; applying the fixes clears them.
test_expect_success MOTO 'AmazonSSMManagedInstanceCore and a broad bucket policy: warnings, the narrower policies' '
	configure &&
	git config train.instanceProfile core-profile &&
	doctor &&
	test_grep ! "^FAIL" out &&
	test_grep "^warn role ssm access: role core-role has AmazonSSMManagedInstanceCore, whose ssm:GetParameter on \* lets every training script read every Parameter Store value of the account$" out &&
	test_grep "^warn role bucket access: role core-role may put objects on code archives (s3:PutObject on arn:aws:s3:::train-bucket/git-train/\*/\*/code.tar.gz): a training script could replace the code of other commits$" out &&
	sed -n -e "s/^     fix: aws //p" -e "s/^          aws //p" out >cmds &&
	test_line_count = 3 cmds &&
	test_grep "^iam put-role-policy --role-name core-role --policy-name git-train-agent " cmds &&
	test_grep "^iam detach-role-policy --role-name core-role --policy-arn arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore$" cmds &&
	test_grep "^iam put-role-policy --role-name core-role --policy-name git-train-bucket " cmds &&
	test_grep "docs/ec2-runs.md, \"The instance role\"" out &&

	doctor --json &&
	$PY -c "
import json
d = {c[\"check\"]: c for c in json.load(open(\"out\"))}
for name in (\"role ssm access\", \"role bucket access\"):
    c = d[name]
    assert c[\"ok\"] and c[\"warning\"] and not c[\"skipped\"] and c[\"fix\"], c
assert not d[\"credentials\"][\"warning\"], d
" &&

	while read cmd; do eval "test_aws $cmd" >/dev/null || exit 1; done <cmds &&
	test_moto iam DeleteRolePolicy RoleName=core-role PolicyName=bucket >/dev/null &&
	doctor &&
	test_grep ! "^warn \|^FAIL " out &&
	test_grep "^ok   role ssm access: role core-role allows ssm:UpdateInstanceInformation and its messages$" out &&
	test_grep "^ok   role bucket access: role core-role may read code archives" out
'

# A spot run that resumes has a persistent request, which the runner cancels
# at the end: without that permission EC2 would start another instance.
test_expect_success MOTO 'a role that cannot cancel spot requests: the policy that allows it, and only when runs resume' '
	configure &&
	test_moto iam DeleteRolePolicy RoleName=train-role PolicyName=git-train-spot >/dev/null &&
	test_expect_code 1 doctor &&
	only_failure "role spot requests" &&
	test_grep "^FAIL role spot requests: role train-role cannot end a run that resumes: ec2:CancelSpotInstanceRequests on arn:aws:ec2:us-east-1:123456789012:spot-instances-request/sir-00000000 is allowed by no policy$" out &&
	sed -n -e "s/^     fix: aws //p" out >cmd &&
	test_line_count = 1 cmd &&
	test_grep "^iam put-role-policy --role-name train-role --policy-name git-train-spot .*aws:ResourceTag/git-train:run-id" cmd &&
	test_grep "git config train.maxInterruptions 0" out &&

	git -c train.maxInterruptions=0 train doctor >out 2>err &&
	test_grep ! "role spot requests" out &&
	git -c train.spot=false train doctor >out 2>err &&
	test_grep ! "role spot requests" out &&

	eval "test_aws $(cat cmd)" >/dev/null &&
	doctor &&
	test_grep "^ok   role spot requests: role train-role may cancel the run.s spot request$" out
'

test_expect_success MOTO 'an unknown instance type: the error and types that exist' '
	configure &&
	test_expect_code 1 doctor --instance-type t3.nonsense &&
	only_failure "instance type" &&
	test_grep "^FAIL instance type: InvalidInstanceType: .*t3.nonsense" out &&
	test_grep "^     fix: offered in us-east-1 and close to it: t3.nano, t3.micro, t3.small, t3.medium$" out &&
	test_grep "^          git config train.instanceType <type>$" out &&
	test_grep "^ok   ami: ami-" out &&

	test_expect_code 1 doctor --instance-type t3.mirco &&
	test_grep "^     fix: offered in us-east-1 and close to it: t3.micro, " out &&

	git config train.instanceType t3.nonsense &&
	test_expect_code 1 doctor &&
	only_failure "instance type" &&
	git config --unset train.instanceType
'

test_expect_success MOTO 'a bucket in another region: the region to use' '
	configure &&
	AWS_REGION=eu-west-1 test_moto_s3 /eu-bucket -X PUT -H "Content-Type: application/xml" --data-binary \
		"<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>" \
		>/dev/null &&
	git config train.bucket eu-bucket &&
	test_expect_code 1 doctor &&
	test_grep "^FAIL bucket region: the bucket .eu-bucket. is in eu-west-1, the instances would be in us-east-1$" out &&
	test_grep "^     fix: git config train.region eu-west-1$" out &&
	test_grep "^--   bucket writable: skipped (bucket in another region)$" out &&
	test_grep "^ok   bucket exists: eu-bucket$" out
'

test_expect_success MOTO 'no credentials: that check fails, the AWS ones are skipped' '
	configure &&
	: >empty &&
	test_expect_code 1 env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
		AWS_CONFIG_FILE="$PWD/empty" AWS_SHARED_CREDENTIALS_FILE="$PWD/empty" \
		git train doctor >out 2>err &&
	cat out err >>all-output &&
	only_failure credentials &&
	test_grep -A1 "^FAIL credentials: " out >fix &&
	test_grep "^     fix: aws configure$" fix &&
	test_grep "^ok   region: us-east-1" out &&
	test_grep "^ok   bucket: s3://train-bucket/" out &&
	for c in "bucket exists" "bucket region" "bucket writable" "instance profile" \
		"ami" "instance type"
	do
		test_grep "^--   $c: skipped (no credentials)$" out || exit 1
	done &&
	test_grep "^--   role ssm access: skipped (no instance profile)$" out
'

test_expect_success MOTO 'no region: that check fails, the regional ones are skipped' '
	configure &&
	test_expect_code 1 env -u AWS_REGION -u AWS_DEFAULT_REGION git train doctor >out 2>err &&
	cat out err >>all-output &&
	only_failure region &&
	test_grep "^     fix: git config train.region <region>" out &&
	test_grep "^ok   credentials: " out &&
	test_grep "^--   bucket exists: skipped (no region)$" out &&
	test_grep "^--   ami: skipped (no region)$" out &&
	test_grep "^ok   instance profile: train-profile (role train-role)$" out &&
	test_grep "^ok   role ssm access: " out
'

test_expect_success MOTO '--json: the same results, valid JSON' '
	configure &&
	git config --unset train.bucket &&
	test_expect_code 1 doctor &&
	mv out text &&
	test_expect_code 1 doctor --json &&
	$PY -c "
import json, sys
for c in json.load(open(\"out\")):
    assert sorted(c) == [\"check\", \"detail\", \"fix\", \"ok\", \"skipped\", \"warning\"], c
    assert c[\"fix\"] is None or not c[\"ok\"] or c[\"warning\"], c
    mark = \"warn\" if c[\"warning\"] else \"ok  \" if c[\"ok\"] else \"--  \" if c[\"skipped\"] else \"FAIL\"
    print(mark, c[\"check\"] + \": \" + c[\"detail\"])
    for i, line in enumerate((c[\"fix\"] or \"\").splitlines()):
        print((\"     fix: \" if i == 0 else \"          \") + line)
" >from-json &&
	test_cmp text from-json &&
	configure &&
	doctor --json &&
	$PY -c "
import json
d = json.load(open(\"out\"))
assert len(d) == 13 and all(c[\"ok\"] and not c[\"skipped\"] and not c[\"warning\"] and c[\"fix\"] is None for c in d), d
"
'

test_expect_success MOTO 'usage and not a repository' '
	test_expect_code 129 git train doctor extra 2>err &&
	test_grep "usage: git train doctor" err &&
	test_expect_code 129 git train doctor --jsno 2>err &&
	test_expect_code 128 env GIT_DIR="$PWD/nowhere" git train doctor >out 2>err &&
	test_grep "not a git repository" err &&
	test_grep ! . out
'

test_expect_success MOTO 'the secret never shows, even in a trace' '
	configure &&
	GIT_TRAIN_TRACE=1 git train doctor >out 2>err &&
	cat out err >>all-output &&
	test_grep "GetCallerIdentity\|sts" err &&
	test_grep ! -F -- "$TEST_AWS_SECRET_ACCESS_KEY" all-output &&
	test_grep ! -F -- "$TEST_AWS_SECRET_ACCESS_KEY" .git/train/doctor.json
'

test_done
