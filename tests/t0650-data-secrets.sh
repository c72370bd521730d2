#!/bin/sh
# Data, environment and secrets (train.data/--data, train.env/--env,
# train.secret): an S3 prefix brought to the run and fingerprinted in the
# note, downloaded once into the cache for local runs, variables for setup
# and the script, secrets read by reference whose values reach the script
# and nothing else; and the checks before launch (a missing prefix or
# secret, a role that cannot read them).
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

SECRET_VALUE=s3cr3t-$$-hunter2
MANAGER_VALUE=mgr-$$-swordfish

# put KEY TEXT: an object of the data bucket
put() {
	test_aws_call s3 --method PUT --path "/data-bucket/$1" --data "$2" >/dev/null
}

# gets: how many objects of the data bucket were downloaded through the fake
gets() {
	test_fake_query /__fake/counts '
print(sum(n for k, n in d["requests"].items() if k.startswith("GET /data-bucket/text/")))'
}

test_expect_success EC2 'setup: a data prefix, a SecureString and a secret, a script that reads them' '
	test_aws_call s3 --method PUT --path /data-bucket >/dev/null &&
	put text/a.txt "first file" &&
	put text/b.txt "second file" &&
	put text/sub/c.txt "third file" &&
	put other/x.txt "not under the prefix" &&
	test_aws_call ssm PutParameter "{\"Name\": \"/train/token\", \"Value\": \"$SECRET_VALUE\", \"Type\": \"SecureString\"}" >/dev/null &&
	test_aws_call secretsmanager CreateSecret "{\"Name\": \"train-key\", \"SecretString\": \"$MANAGER_VALUE\"}" >/dev/null &&
	cat >train.py <<-\PY &&
	import hashlib, os
	d = os.environ["GIT_TRAIN_DATA"]
	assert d == os.environ["GIT_TRAIN_DATA_TEXT"], d
	for root, dirs, files in sorted(os.walk(d)):
	    for f in sorted(files):
	        p = os.path.join(root, f)
	        print("data", os.path.relpath(p, d), open(p).read())
	for k in ("MODE", "TOKEN", "KEY"):
	    v = os.environ.get(k)
	    print(k, "unset" if v is None else hashlib.sha256(v.encode()).hexdigest())
	PY
	git add train.py &&
	git commit -q -m "reads data, env and secrets" &&
	git config --add train.data text=s3://data-bucket/text &&
	git config --add train.env MODE=offline &&
	git config --add train.secret TOKEN=ssm:/train/token &&
	git config --add train.secret KEY=secretsmanager:train-key
'

sha() {
	printf %s "$1" | sha256sum | cut -c 1-64
}

test_expect_success EC2 'git train local: the data, the variables and the secrets; the note names them' '
	before=$(gets) &&
	GIT_TRAIN_TRACE=2 test_train local --setup "test \"\$MODE\" = offline && test -n \"\$TOKEN\" && test -d \"\$GIT_TRAIN_DATA\"" &&
	test_grep "POST .*(ssm GetParameter)" err &&
	test_grep "POST .*(secretsmanager GetSecretValue)" err &&
	test_grep "^data a.txt first file$" out &&
	test_grep "^data b.txt second file$" out &&
	test_grep "^data sub/c.txt third file$" out &&
	test_grep ! "not under the prefix" out &&
	test_grep "^MODE $(sha offline)$" out &&
	test_grep "^TOKEN $(sha "$SECRET_VALUE")$" out &&
	test_grep "^KEY $(sha "$MANAGER_VALUE")$" out &&
	test $(($(gets) - before)) = 3 &&
	git notes --ref=train show HEAD >note &&
	test_grep " env=MODE " note &&
	test_grep " secrets=KEY,TOKEN " note &&
	test_grep " data\.text=[0-9a-f]\{12\}" note &&
	sed -n "s/.* data\.text=\([0-9a-f]*\).*/\1/p" note >fp1 &&
	printf "a.txt\t10\t%s\nb.txt\t11\t%s\nsub/c.txt\t10\t%s\n" \
		"$(printf "first file" | md5sum | cut -c 1-32)" \
		"$(printf "second file" | md5sum | cut -c 1-32)" \
		"$(printf "third file" | md5sum | cut -c 1-32)" | sha256sum | cut -c 1-12 >expect &&
	test_cmp expect fp1
'

test_expect_success EC2 'a second local run downloads nothing; a changed object changes the fingerprint' '
	before=$(gets) &&
	test_train local --env MODE=online &&
	test $(gets) = $before &&
	test_grep "^MODE $(sha online)$" out &&
	test_grep "^data b.txt second file$" out &&
	put text/b.txt "second file, changed" &&
	test_train local &&
	test $(($(gets) - before)) = 1 &&
	test_grep "^data b.txt second file, changed$" out &&
	git notes --ref=train show HEAD >note &&
	sed -n "s/.* data\.text=\([0-9a-f]*\).*/\1/p" note >fps &&
	test_line_count = 3 fps &&
	test $(sort -u fps | wc -l) = 2 &&
	test "$(sed -n 2p fps)" = "$(cat fp1)"
'

test_expect_success EC2 '--data and --env override by name; bad names and addresses are refused' '
	test_must_fail git train local --data "te st=s3://data-bucket/text/" 2>err &&
	test_grep "is not a data source name" err &&
	test_must_fail git train local --data "text=https://example.com/x" 2>err &&
	test_grep "is not an s3://<bucket>/<prefix>/ address" err &&
	test_must_fail git train local --env "1X=y" 2>err &&
	test_grep "is not a variable name" err &&
	test_must_fail git train local --env "GIT_TRAIN_RUN_ID=y" 2>err &&
	test_grep "GIT_TRAIN_\* are git-train" err &&
	test_must_fail git train local --env "PATH=/x" 2>err &&
	test_grep "does not let a run set PATH" err &&
	test_must_fail git -c train.secret=T=vault:/x train local 2>err &&
	test_grep "must start with ssm: or secretsmanager:" err &&
	test_must_fail git -c train.data=text-x=s3://data-bucket/text/ -c train.data=text_x=s3://data-bucket/text/ train local 2>err &&
	test_grep "would both be GIT_TRAIN_DATA_TEXT_X" err &&
	test_must_fail git train local --data text=s3://data-bucket/nothing/ 2>err &&
	test_grep "the data .text. at s3://data-bucket/nothing/ is empty or does not exist" err &&
	test_must_fail git -c train.secret=GONE=ssm:/train/gone train local 2>err &&
	test_grep "the secret ssm:/train/gone does not exist" err &&
	ls .git/train/runs >runs &&
	test_line_count = 3 runs
'

test_expect_success EC2 'an object key that would land outside the data directory is refused' '
	put "evil/../../escape.txt" "pwned" &&
	put "evil/ok.txt" "fine" &&
	test_must_fail git train local --data text=s3://data-bucket/evil/ 2>err &&
	test_grep "refusing the data .text. at s3://data-bucket/evil/: its object key .evil/../../escape.txt." err &&
	! find "$TRASH_DIRECTORY" -name escape.txt | grep . &&
	ls .git/train/runs >runs &&
	test_line_count = 3 runs
'

test_expect_success EC2 'EC2: a role that cannot read the data or the secrets fails before launch, naming the permission' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	test_must_fail git train doctor >doctor.out 2>&1 &&
	test_grep "data: .*text s3://data-bucket/text/ (3 objects)" doctor.out &&
	test_grep "secrets: TOKEN (ssm:/train/token), KEY (secretsmanager:train-key) exist" doctor.out &&
	test_grep "role data access.*s3:ListBucket on arn:aws:s3:::data-bucket is allowed by no policy" doctor.out &&
	test_grep "role secret access.*ssm:GetParameter on arn:aws:ssm:us-east-1:[0-9]*:parameter/train/token is allowed by no policy" doctor.out &&
	test_must_fail test_train t3.micro --wait &&
	test_grep "role data access: role train-role cannot list the data .text.: s3:ListBucket" err &&
	test_grep "nothing was launched" err &&
	test_aws_call ec2 DescribeInstances >instances.xml &&
	test_grep ! "<instanceId>" instances.xml
'

test_expect_success EC2 'EC2: a missing prefix or secret fails before launch, naming it' '
	test_aws_call iam PutRolePolicy RoleName=train-role PolicyName=git-train-inputs \
		PolicyDocument="{\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"s3:ListBucket\", \"Resource\": \"arn:aws:s3:::data-bucket\"}, {\"Effect\": \"Allow\", \"Action\": \"s3:GetObject\", \"Resource\": \"arn:aws:s3:::data-bucket/text/*\"}, {\"Effect\": \"Allow\", \"Action\": \"ssm:GetParameter\", \"Resource\": \"arn:aws:ssm:*:*:parameter/train/*\"}, {\"Effect\": \"Allow\", \"Action\": \"secretsmanager:GetSecretValue\", \"Resource\": \"arn:aws:secretsmanager:*:*:secret:train-key-*\"}]}" \
		>>setup.out &&
	git train doctor >doctor.out 2>&1 &&
	test_grep "role data access.*may list and read the data" doctor.out &&
	test_grep "role secret access.*may read the secrets" doctor.out &&
	test_must_fail test_train t3.micro --data text=s3://data-bucket/nothing/ &&
	test_grep "the data .text. at s3://data-bucket/nothing/ is empty or does not exist" err &&
	test_must_fail test_train t3.micro --data more=s3://data-bucket/other/ &&
	test_grep "role data access: role train-role cannot read the data .more.: s3:GetObject on arn:aws:s3:::data-bucket/other/\*" err &&
	test_must_fail git -c train.secret=GONE=secretsmanager:gone train t3.micro >out 2>err &&
	test_grep "the secret secretsmanager:gone does not exist" err &&
	test_aws_call ec2 DescribeInstances >instances.xml &&
	test_grep ! "<instanceId>" instances.xml
'

test_expect_success EC2 'EC2: the data, a variable and the secrets reach the script; the note names them' '
	test_fake_settings "{\"aws_cli\": \"real\"}" &&
	test_train t3.micro --wait --spot-timeout=5s &&
	test_grep "^data a.txt first file$" out &&
	test_grep "^data b.txt second file, changed$" out &&
	test_grep "^data sub/c.txt third file$" out &&
	test_grep "^MODE $(sha offline)$" out &&
	test_grep "^TOKEN $(sha "$SECRET_VALUE")$" out &&
	test_grep "^KEY $(sha "$MANAGER_VALUE")$" out &&
	test_grep "git-train: data text: s3://data-bucket/text/ in .*/data/text (fingerprint" out &&
	git notes --ref=train show HEAD >note &&
	tail -n 1 note >last &&
	test_grep " env=MODE " last &&
	test_grep " secrets=KEY,TOKEN " last &&
	test "$(sed -n "s/.* data\.text=\([0-9a-f]*\).*/\1/p" last)" = "$(sed -n 3p fps)" &&
	id=$(sed -n "s/^run \([^ ]*\) started: .*/\1/p" out err | head -n 1) &&
	test -n "$id" &&
	git train log >log.out &&
	cat log.out note >>"$TRASH_DIRECTORY/all-output" &&
	instance=$(sed -n "s/.* instance=\(i-[0-9a-f]*\).*/\1/p" last) &&
	find "$(test_instance_dir $instance)/var/lib/amazon/ssm" -name _script.sh >scripts &&
	test_line_count = 1 scripts &&
	test_grep "^SECRETS=.TOKEN.ssm./train/token$" $(cat scripts)
'

test_expect_success EC2 'EC2: data that changed between the launch and the sync fails the run at stage setup' '
	test_fake_settings "{\"aws_cli\": \"standin\", \"ready_delay\": 2}" &&
	rm -f out err &&
	{ git train t3.micro --wait --spot-timeout=5s >out 2>err & } &&
	pid=$! &&
	test_wait_for_text err "data text: s3://data-bucket/text/, fingerprint" &&
	put text/a.txt "first file, changed after the launch" &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	test $rc != 0 &&
	test_grep "git-train: the data .text. at s3://data-bucket/text/ changed since the launch (fingerprint [0-9a-f]*, not $(sed -n 3p fps))" out &&
	test_grep ! "^data a.txt" out &&
	git notes --ref=train show HEAD | tail -n 1 >last &&
	test_grep "status=failed .*stage=setup" last &&
	test_grep " data\.text=$(sed -n 3p fps)" last
'

test_expect_success EC2 'the secrets are in no output, log, note, S3 object, user data or SSM command' '
	test -s "$TRASH_DIRECTORY/all-output" &&
	for v in "$SECRET_VALUE" "$MANAGER_VALUE"; do
		test_grep ! -F "$v" "$TRASH_DIRECTORY/all-output" &&
		! grep -rlF "$v" "$TRASH_DIRECTORY/.instances" .git || return 1
	done &&
	for b in train-bucket data-bucket; do
		test_aws_call s3 --path /$b --query list-type=2 >list.xml &&
		sed -e "s|<Key>|\n&|g" list.xml | sed -n "s|^<Key>\([^<]*\)</Key>.*|\1|p" >keys &&
		mkdir -p s3-copy/$b &&
		n=0 &&
		while read key; do
			n=$((n + 1)) &&
			test_aws_call s3 --path "/$b/$key" -o s3-copy/$b/$n || return 1
		done <keys || return 1
	done &&
	test -n "$(ls s3-copy/train-bucket)" &&
	! grep -rlF -e "$SECRET_VALUE" -e "$MANAGER_VALUE" s3-copy &&
	test_aws_call ec2 DescribeInstances >instances.xml &&
	for i in $(sed -n "s|.*<instanceId>\(i-[0-9a-f]*\)</instanceId>.*|\1|p" instances.xml); do
		test_aws_call ec2 DescribeInstanceAttribute InstanceId=$i Attribute=userData >ud.xml &&
		sed -n "s|.*<value>\([^<]*\)</value>.*|\1|p" ud.xml | base64 -d >ud.txt &&
		test_grep "shutdown" ud.txt &&
		! grep -F -e "$SECRET_VALUE" -e "$MANAGER_VALUE" ud.txt || return 1
	done
'

test_done
