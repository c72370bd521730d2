#!/bin/sh
test_description='AWS authentication: moto checks our signatures with a real IAM key'
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO; then
	test_start_moto && test_set_prereq AWS
fi

# The key created in setup, from moto's CreateAccessKey answer.
key_field() {
	test_xml "CreateAccessKeyResult/AccessKey/$1" <key.xml
}

# as_trainer cmd...: runs cmd with the IAM user's key instead of the test key.
as_trainer() {
	AWS_ACCESS_KEY_ID=$(key_field AccessKeyId) &&
	AWS_SECRET_ACCESS_KEY=$(key_field SecretAccessKey) &&
	export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
	"$@"
}

test_expect_success AWS 'setup: a user with a key and a policy, then authentication on' '
	test_moto iam CreateUser UserName=trainer >/dev/null &&
	test_moto iam PutUserPolicy UserName=trainer PolicyName=everything \
		"PolicyDocument={\"Version\": \"2012-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\", \"Resource\": \"*\"}]}" >/dev/null &&
	test_moto iam CreateAccessKey UserName=trainer >key.xml &&
	key_field SecretAccessKey | grep . >/dev/null &&
	curl -sf -o /dev/null -X POST -H "Content-Type: text/plain" --data-binary 0 \
		"$MOTO_URL/moto-api/reset-auth"
'

test_expect_success AWS 'signed with the real key: sts, ec2, iam and s3 accept our requests' '
	as_trainer git train aws-call sts GetCallerIdentity >out &&
	test_grep "<Arn>arn:aws:iam::123456789012:user/trainer</Arn>" out &&
	as_trainer git train aws-call ec2 DescribeRegions RegionName.1=us-east-1 >out &&
	test_grep "<regionName>us-east-1</regionName>" out &&
	as_trainer git train aws-call iam GetUser UserName=trainer >out &&
	test_grep "<UserName>trainer</UserName>" out &&
	as_trainer git train aws-call s3 --method PUT --path /auth-bucket &&
	as_trainer git train aws-call s3 --method PUT --path "/auth-bucket/a%20key~1" --data signed &&
	as_trainer git train aws-call s3 --path "/auth-bucket/a%20key~1" >out &&
	echo signed >expect &&
	test_cmp expect out
'

test_expect_success AWS 'a wrong secret is rejected, and the message says so' '
	wrong=WrongSecretGitTrainTest0123456789abcdefXYZ &&
	test_expect_code 1 env AWS_ACCESS_KEY_ID=$(key_field AccessKeyId) \
		AWS_SECRET_ACCESS_KEY=$wrong GIT_TRAIN_TRACE=1 \
		git train aws-call sts GetCallerIdentity >out 2>err &&
	test_grep "^error: SignatureDoesNotMatch: " err &&
	test_grep "^hint: AWS rejected the credentials from environment: check the access key and secret" err &&
	test_grep "^hint: .aws configure. sets them up" err &&
	test_grep ! -F "$wrong" err &&
	test_grep ! "retrying" err &&
	test_must_fail env AWS_ACCESS_KEY_ID=$(key_field AccessKeyId) AWS_SECRET_ACCESS_KEY=$wrong \
		git train aws-call s3 --method PUT --path "/auth-bucket/x" --data x 2>err &&
	test_grep "^error: SignatureDoesNotMatch: " err &&
	test_grep "^hint: AWS rejected the credentials" err
'

test_expect_success AWS 'an unknown access key is rejected, and the message says so' '
	test_expect_code 1 git train aws-call sts GetCallerIdentity >out 2>err &&
	test_grep "^error: InvalidClientTokenId: " err &&
	test_grep "^hint: AWS rejected the credentials from environment" err &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" err
'

test_done
