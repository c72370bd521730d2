#!/bin/sh
test_description='AWS HTTP layer: signatures, retries, errors, trace, clock skew'
. "$(dirname "$0")/test-lib.sh"

# Retries wait milliseconds, not the real 100 ms base, so the script stays fast.
GIT_TRAIN_RETRY_BASE_MS=1
export GIT_TRAIN_RETRY_BASE_MS

if test_have_prereq MOTO && test_have_prereq FAKE; then
	test_start_moto && test_start_fake && test_set_prereq AWS
fi

test_must_be_empty() {
	test ! -s "$1" || { echo >&2 "not empty: $1"; cat >&2 "$1"; return 1; }
}

# Everything the fake saw since the last reset, and no fault rules.
fake_reset() {
	test_fake_ctl reset
}

test_expect_count() {
	n=$(test_fake_count "$2") &&
	test "$n" = "$1" || { echo >&2 "fake saw $n of '$2', expected $1"; test_fake_ctl counts >&2; return 1; }
}

test_expect_success AWS 'sts GetCallerIdentity straight to moto' '
	AWS_ENDPOINT_URL=$MOTO_URL git train aws-call sts GetCallerIdentity >out &&
	test_grep "<Arn>arn:aws:sts::123456789012:" out
'

test_expect_success AWS 'through the fake: botocore accepts our signatures for every protocol' '
	fake_reset &&
	git train aws-call sts GetCallerIdentity >out &&
	test_grep "<Account>123456789012</Account>" out &&
	git train aws-call ec2 DescribeRegions RegionName.1=us-east-1 >out &&
	test_grep "<regionName>us-east-1</regionName>" out &&
	git train aws-call ssm PutParameter Name=/git-train/a Value="x y" Type=String &&
	git train aws-call ssm GetParameter "{\"Name\": \"/git-train/a\"}" >out &&
	test_grep "\"Value\": *\"x y\"" out &&
	git train aws-call s3 --method PUT --path /train-bucket &&
	git train aws-call s3 --method PUT --path "/train-bucket/dir/a%20b~c%E2%9C%93.txt" \
		--data "hello s3" &&
	git train aws-call s3 --path "/train-bucket/dir/a%20b~c%E2%9C%93.txt" >out &&
	echo "hello s3" >expect &&
	test_cmp expect out &&
	git train aws-call s3 --path /train-bucket --query "list-type=2&prefix=dir%2Fa%20" >out &&
	test_grep "<Key>dir/a b~c✓.txt</Key>" out &&
	test_expect_count 0 faults &&
	test_expect_count 1 "sts GetCallerIdentity" &&
	test_expect_count 1 "ssm GetParameter"
'

test_expect_success AWS 'the fake rejects a bad signature: the check can fail' '
	fake_reset &&
	test_expect_code 1 env AWS_SECRET_ACCESS_KEY=not-the-secret \
		git train aws-call sts GetCallerIdentity >out 2>err &&
	test_grep "^error: SignatureDoesNotMatch: The request signature we calculated" err &&
	test_grep "hint: AWS rejected the credentials" err &&
	test_expect_count 1 "sts GetCallerIdentity"
'

test_expect_success AWS 'throttling on every other request: each call still succeeds' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"throttle\", \"every\": 2}]" &&
	git train aws-call sts GetCallerIdentity >out &&
	test_grep "<Account>123456789012</Account>" out &&
	git train aws-call ec2 DescribeRegions >out &&
	test_grep "<regionName>us-east-1</regionName>" out &&
	git train aws-call ssm DescribeParameters >out &&
	test_grep "Parameters" out &&
	git train aws-call s3 --method PUT --path /train-bucket/throttled --data "still here" &&
	git train aws-call s3 --path /train-bucket/throttled >out &&
	echo "still here" >expect &&
	test_cmp expect out &&
	test_expect_count 2 "sts GetCallerIdentity" &&
	test_expect_count 2 "ec2 DescribeRegions" &&
	test_expect_count 2 "ssm DescribeParameters" &&
	test_expect_count 2 "s3 PUT" &&
	test_expect_count 2 "s3 GET" &&
	test_expect_count 5 faults
'

test_expect_success AWS 'a streamed upload is rewound for each retry; a download streams to a file' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"throttle\", \"every\": 2}, {\"fault\": \"error500\", \"service\": \"s3\", \"method\": \"PUT\", \"times\": 1}]" &&
	python3 -c "import os, sys; sys.stdout.buffer.write(os.urandom(3 << 20))" >big &&
	git train aws-call s3 --method PUT --path /train-bucket/big --upload-file big >out &&
	git train aws-call s3 --path /train-bucket/big -o big.back >out &&
	test_must_be_empty out &&
	cmp big big.back &&
	test_expect_count 4 "s3 PUT" &&
	test_expect_count 2 "s3 GET"
'

test_expect_success AWS 'retries reuse the connection' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"throttle\", \"times\": 3}]" &&
	git train aws-call sts GetCallerIdentity >out &&
	test_expect_count 4 "sts GetCallerIdentity" &&
	test_expect_count 1 connections &&
	git train aws-call sts GetCallerIdentity >out &&
	test_expect_count 2 connections
'

test_expect_success AWS 'one client, eight threads at once, throttled: all succeed' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"throttle\", \"every\": 2}]" &&
	git train aws-call --jobs 8 sts GetCallerIdentity >out &&
	test_grep "<Account>123456789012</Account>" out &&
	test_expect_count 16 "sts GetCallerIdentity" &&
	n=$(test_fake_count connections) &&
	test "$n" -le 8
'

test_expect_success AWS '500s, dropped and reset connections are retried' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"error500\", \"times\": 2}]" &&
	git train aws-call ec2 DescribeRegions >out &&
	test_grep "<regionName>" out &&
	test_expect_count 3 "ec2 DescribeRegions" &&
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"drop\", \"times\": 1}, {\"fault\": \"reset\", \"times\": 1}]" &&
	git train aws-call sts GetCallerIdentity >out &&
	test_grep "<Account>123456789012</Account>" out &&
	test_expect_count 3 "sts GetCallerIdentity"
'

test_expect_success AWS 'a response slower than the stall timeout is retried' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"slow\", \"delay\": 3, \"times\": 1}]" &&
	GIT_TRAIN_HTTP_TIMEOUT=1 GIT_TRAIN_TRACE=1 git train aws-call sts GetCallerIdentity >out 2>trace &&
	test_grep "<Account>123456789012</Account>" out &&
	test_grep "trace: failed after .* ms: no data moved for 1 s: the connection stalled" trace &&
	test_expect_count 2 "sts GetCallerIdentity"
'

test_expect_success AWS 'always throttled: gives up after the budget with the AWS error' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"throttle\"}]" &&
	start=$(date +%s) &&
	test_expect_code 1 git train aws-call ec2 DescribeRegions >out 2>err &&
	test $(($(date +%s) - start)) -lt 15 &&
	test_grep "^error: RequestLimitExceeded: Request limit exceeded. (request id [0-9a-f-]*)$" err &&
	test_grep "^hint: gave up after 5 attempts" err &&
	test_expect_count 5 "ec2 DescribeRegions" &&
	test_must_be_empty out &&
	git config train.maxAttempts 2 &&
	test_expect_code 1 git train aws-call ec2 DescribeRegions 2>err &&
	test_grep "^hint: gave up after 2 attempts" err &&
	test_expect_count 7 "ec2 DescribeRegions" &&
	git config --unset train.maxAttempts
'

test_expect_success AWS 'the real backoff: full jitter stays within its bounds' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"error500\"}]" &&
	start=$(date +%s) &&
	test_expect_code 1 env -u GIT_TRAIN_RETRY_BASE_MS GIT_TRAIN_TRACE=1 \
		git train aws-call sts GetCallerIdentity 2>err &&
	test $(($(date +%s) - start)) -lt 15 &&
	test_grep "^error: InternalError: We encountered an internal error" err &&
	sed -n "s/^trace: retrying in \([0-9]*\) ms (attempt \([0-9]\) of 5)$/\2 \1/p" err >delays &&
	test_line_count = 4 delays &&
	while read attempt ms; do
		test $ms -le $((100 << (attempt - 2))) || return 1
	done <delays
'

test_expect_success AWS 'errors that retrying cannot fix return at once' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 403, \"code\": \"AccessDenied\", \"message\": \"not for you\"}]" &&
	test_expect_code 1 git train aws-call sts GetCallerIdentity 2>err &&
	test_grep "^error: AccessDenied: not for you (request id" err &&
	test_grep ! "gave up" err &&
	test_expect_count 1 "sts GetCallerIdentity" &&
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 500, \"code\": \"InsufficientInstanceCapacity\", \"message\": \"no capacity\"}]" &&
	test_expect_code 1 git train aws-call ec2 DescribeRegions 2>err &&
	test_grep "^error: InsufficientInstanceCapacity: no capacity" err &&
	test_expect_count 1 "ec2 DescribeRegions"
'

test_expect_success AWS 'an S3 HEAD error has no body: the code comes from the status' '
	fake_reset &&
	test_expect_code 1 git train aws-call s3 --method HEAD --path /train-bucket/missing 2>err &&
	test_grep "^error: NotFound: HTTP 404 Not Found" err
'

test_expect_success AWS 'malformed error responses: a clear message, no crash' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"malformed\", \"body\": \"<ErrorResponse><Error><Code>Thrott\"}]" &&
	test_expect_code 1 git train aws-call sts GetCallerIdentity 2>err &&
	test_grep "^error: BadRequest: HTTP 400 with a malformed error response (not XML): .<ErrorResponse><Error><Code>Thrott.$" err &&
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"malformed\", \"body\": \"{\\\"__type\\\": \\\"Thrott\"}]" &&
	test_expect_code 1 git train aws-call ssm DescribeParameters 2>err &&
	test_grep "^error: BadRequest: HTTP 400 with a malformed error response (not a JSON object)" err &&
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"malformed\", \"status\": 502}]" &&
	test_expect_code 1 git train aws-call ec2 DescribeRegions 2>err &&
	test_grep "^error: BadGateway: HTTP 502 with a malformed error response (not XML): .<html>" err &&
	test_expect_count 5 "ec2 DescribeRegions"
'

test_expect_success AWS 'nothing listening: a transport error, retried, then a clear message' '
	port=$(test_free_port) &&
	test_expect_code 1 env AWS_ENDPOINT_URL=http://127.0.0.1:$port \
		git train aws-call sts GetCallerIdentity 2>err &&
	test_grep "^error: cannot reach sts at http://127.0.0.1:$port: failed to connect" err &&
	test_grep "^hint: gave up after 5 attempts" err
'

test_expect_success AWS 'GIT_TRAIN_TRACE: request and response lines, never a secret' '
	fake_reset &&
	test_fake_ctl rules "[{\"fault\": \"throttle\", \"every\": 2}]" &&
	token=FwoGZXIvYXdzEGitTrainSessionTokenDoNotLeak &&
	GIT_TRAIN_TRACE=1 AWS_SESSION_TOKEN=$token git train aws-call sts GetCallerIdentity >out 2>trace &&
	test_grep "^trace: POST $FAKE_URL/ (sts GetCallerIdentity)$" trace &&
	test_grep "^trace: 400 Throttling in [0-9]* ms (request id [0-9a-f-]*)$" trace &&
	test_grep "^trace: retrying in [0-9]* ms (attempt 2 of 5)$" trace &&
	test_grep "^trace: POST $FAKE_URL/ (sts GetCallerIdentity, attempt 2 of 5)$" trace &&
	test_grep "^trace: 200 in [0-9]* ms (request id " trace &&
	GIT_TRAIN_TRACE=2 AWS_SESSION_TOKEN=$token git train aws-call s3 --method PUT \
		--path /train-bucket/traced --data "$TEST_AWS_SECRET_ACCESS_KEY" 2>>trace &&
	test_grep "^trace: > Authorization: AWS4-HMAC-SHA256 Credential=.*Signature=<redacted>$" trace &&
	test_grep "^trace: > X-Amz-Security-Token: <redacted>$" trace &&
	test_grep "^trace: < x-amz-request-id: " trace &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" trace &&
	test_grep ! -F "$token" trace &&
	test_grep ! "Signature=[0-9a-f]" trace &&
	test_grep ! "Signature: *[0-9a-f]\{64\}" trace
'

test_expect_success AWS 'no trace without GIT_TRAIN_TRACE' '
	fake_reset &&
	git train aws-call sts GetCallerIdentity >out 2>err &&
	test_must_be_empty err
'

test_expect_success AWS 'clock skew: the server is an hour ahead, the call still succeeds' '
	fake_reset &&
	test_fake_ctl clock "{\"offset\": 3600}" &&
	GIT_TRAIN_TRACE=1 git train aws-call sts GetCallerIdentity >out 2>trace &&
	test_grep "<Account>123456789012</Account>" out &&
	test_grep "^trace: 403 RequestTimeTooSkewed" trace &&
	test_grep "^trace: clock skew: the server.s clock is 3[56][0-9][0-9] s ahead of ours" trace &&
	test_expect_count 2 "sts GetCallerIdentity"
'

test_expect_success AWS 'clock skew behind us, for S3, and from parallel threads' '
	fake_reset &&
	test_fake_ctl clock "{\"offset\": -3600}" &&
	git train aws-call s3 --method PUT --path /train-bucket/skewed --data "late" &&
	test_expect_count 2 "s3 PUT" &&
	test_fake_ctl clock "{\"offset\": 7200}" &&
	git train aws-call --jobs 4 sts GetCallerIdentity >out &&
	test_grep "<Account>123456789012</Account>" out
'

test_expect_success AWS 'a skewed clock is corrected once, not forever' '
	fake_reset &&
	test_fake_ctl clock "{\"offset\": 3600}" &&
	test_fake_ctl rules "[{\"fault\": \"error\", \"status\": 403, \"code\": \"SignatureDoesNotMatch\", \"message\": \"no\"}]" &&
	test_expect_code 1 git train aws-call sts GetCallerIdentity 2>err &&
	test_grep "^error: SignatureDoesNotMatch: no" err &&
	test_expect_count 2 "sts GetCallerIdentity"
'

test_done
