#!/bin/sh
test_description='S3 addressing as the AWS CLI does it, and buckets in another region

Custom endpoints are addressed path-style unless the AWS config says
addressing_style = virtual; then the bucket goes into the Host (under
localhost, which curl resolves to loopback itself, and which moto serves
virtual-hosted). A bucket name that cannot be a host name stays
path-style. A bucket in another region than the client is followed there
once, and the client then goes straight to it. The trace (GIT_TRAIN_TRACE)
shows the URL and, at level 2, the Host and the credential scope of each
request; the fake in front of moto checks every signature with botocore,
the Host included. AWS'"'"'s own endpoints (https://<bucket>.s3.<region>.amazonaws.com)
are checked in tests/unit/aws/test-bucket.c.'
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO && test_have_prereq FAKE; then
	test_start_moto && test_start_fake || exit 1
	test_set_prereq AWS
	FAKE_PORT=${FAKE_URL##*:}
	GIT_TRAIN_RETRY_BASE_MS=1
	export GIT_TRAIN_RETRY_BASE_MS
fi

# the requests of a trace, "METHOD URL", and the Host of each
requests() {
	sed -n "s/^trace: \([A-Z]*\) \(http[^ ]*\) .*/\1 \2/p" "$1"
}
hosts() {
	sed -n "s/^trace: > Host: //p" "$1" | sort -u
}

style() {
	mkdir -p "$(dirname "$AWS_CONFIG_FILE")" &&
	printf "[default]\ns3 =\n    addressing_style = %s\n" "$1" >"$AWS_CONFIG_FILE"
}

test_expect_success AWS 'setup: a repository, buckets here and in eu-west-1' '
	test_moto_s3 /code-bucket -X PUT &&
	test_moto_s3 /Code_Bucket -X PUT &&
	AWS_REGION=eu-west-1 test_moto_s3 /eu-bucket -X PUT -H "Content-Type: application/xml" \
		--data-binary "<CreateBucketConfiguration><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>" &&
	test_moto_s3 /eu-bucket -I | grep -i "^x-amz-bucket-region: eu-west-1" &&
	git remote add origin https://example.com/team/demo.git &&
	git config train.bucket code-bucket &&
	test_make_train_repo
'

test_expect_success AWS 'a custom endpoint: path-style, the bucket first in the path' '
	rm -f "$AWS_CONFIG_FILE" &&
	AWS_ENDPOINT_URL=http://localhost:$FAKE_PORT GIT_TRAIN_TRACE=2 git train upload >out 2>trace &&
	key=$(sed -n "s|^s3://code-bucket/||p" out) &&
	test -n "$key" &&
	requests trace >reqs &&
	test_grep "^PUT http://localhost:$FAKE_PORT/code-bucket/$key$" reqs &&
	test_grep ! -v " http://localhost:$FAKE_PORT/code-bucket/" reqs &&
	echo "localhost:$FAKE_PORT" >expect &&
	hosts trace >got &&
	test_cmp expect got &&
	test_moto_s3 "/code-bucket/$key" -o got.tgz &&
	git train archive -o want.tgz &&
	cmp want.tgz got.tgz
'

test_expect_success AWS 'addressing_style = virtual: the bucket in the Host, the key alone in the path' '
	style virtual &&
	test_commit virtual &&
	AWS_ENDPOINT_URL=http://localhost:$FAKE_PORT GIT_TRAIN_TRACE=2 git train upload >out 2>trace &&
	key=$(sed -n "s|^s3://code-bucket/||p" out) &&
	requests trace >reqs &&
	test_grep "^HEAD http://code-bucket.localhost:$FAKE_PORT/$key$" reqs &&
	test_grep "^PUT http://code-bucket.localhost:$FAKE_PORT/$key$" reqs &&
	test_grep ! -v " http://code-bucket.localhost:$FAKE_PORT/git-train/" reqs &&
	echo "code-bucket.localhost:$FAKE_PORT" >expect &&
	hosts trace >got &&
	test_cmp expect got &&
	test_grep ! "signature" "$TRASH_DIRECTORY/.fake.log" &&
	test_moto_s3 "/code-bucket/$key" -o got.tgz &&
	git train archive -o want.tgz &&
	cmp want.tgz got.tgz &&

	# a presigned URL is addressed the same way, and plain curl follows it
	AWS_ENDPOINT_URL=http://localhost:$MOTO_PORT git train upload --presign 60 >out &&
	url=$(sed -n 2p out) &&
	case "$url" in "http://code-bucket.localhost:$MOTO_PORT/$key?"*) ;; *) false ;; esac &&
	curl -sf -o presigned.tgz "$url" &&
	cmp want.tgz presigned.tgz
'

test_expect_success AWS 'a bucket name that is no host name stays path-style, even when virtual' '
	style virtual &&
	AWS_ENDPOINT_URL=http://localhost:$FAKE_PORT GIT_TRAIN_TRACE=2 \
		git -c train.bucket=Code_Bucket train upload >out 2>trace &&
	key=$(sed -n "s|^s3://Code_Bucket/||p" out) &&
	requests trace >reqs &&
	test_grep "^PUT http://localhost:$FAKE_PORT/Code_Bucket/$key$" reqs &&
	echo "localhost:$FAKE_PORT" >expect &&
	hosts trace >got &&
	test_cmp expect got &&
	test_moto_s3 "/Code_Bucket/$key" -I >/dev/null
'

test_expect_success AWS 'addressing_style = path, and a style that does not exist' '
	style path &&
	AWS_ENDPOINT_URL=http://localhost:$FAKE_PORT GIT_TRAIN_TRACE=1 git train upload >out 2>trace &&
	requests trace >reqs &&
	test_grep "^HEAD http://localhost:$FAKE_PORT/code-bucket/git-train/" reqs &&
	style sideways &&
	test_must_fail git train upload >out 2>err &&
	test_grep "^error: bad addressing_style .sideways. in the s3 settings of the AWS profile .default.: expected auto, virtual or path$" err &&
	rm "$AWS_CONFIG_FILE"
'

# each request of the trace, and the region it was signed for
signed_regions() {
	sed -n -e "s/^trace: \([A-Z]*\) http[^ ]* .*/\1/p" \
		-e "s|^trace: > Authorization: .*Credential=[^/]*/[0-9]*/\([a-z0-9-]*\)/s3/.*|\1|p" "$1" |
	paste -d " " - -
}

test_expect_success AWS 'a bucket in eu-west-1, a client in us-east-1: S3 says 301, the client follows once' '
	test_fake_settings "{\"s3_regions\": \"301\"}" &&
	test_commit redirect301 &&
	# without following, the fake refuses: the test can fail
	test_must_fail git train aws-call s3 --method HEAD --path /eu-bucket 2>err &&
	test_grep "PermanentRedirect: HTTP 301 Moved Permanently (the bucket is in region .eu-west-1.)" err &&
	GIT_TRAIN_TRACE=2 git -c train.bucket=eu-bucket train upload >out 2>trace &&
	key=$(sed -n "s|^s3://eu-bucket/||p" out) &&
	test_grep "^trace: 301 PermanentRedirect in" trace &&
	test_grep "^trace: the bucket .eu-bucket. is in eu-west-1, not us-east-1: sending it there$" trace &&
	signed_regions trace >got &&
	cat >expect <<-\EOF &&
	HEAD us-east-1
	HEAD eu-west-1
	PUT eu-west-1
	EOF
	test_cmp expect got &&
	test_moto_s3 "/eu-bucket/$key" -o got.tgz &&
	git train archive -o want.tgz &&
	cmp want.tgz got.tgz
'

test_expect_success AWS 'S3 says 400 AuthorizationHeaderMalformed with the region: followed too, body and all' '
	test_fake_settings "{\"s3_regions\": \"400\"}" &&
	GIT_TRAIN_TRACE=2 git train aws-call s3 --method PUT --bucket eu-bucket --path /notes/a%20b \
		--data "sent twice" 2>trace &&
	test_grep "^trace: 400 AuthorizationHeaderMalformed in" trace &&
	signed_regions trace >got &&
	printf "PUT us-east-1\nPUT eu-west-1\n" >expect &&
	test_cmp expect got &&
	printf "sent twice" >expect &&
	test_moto_s3 "/eu-bucket/notes/a%20b" >got &&
	test_cmp expect got &&
	# and a HEAD, whose bare 400 carries x-amz-bucket-region
	GIT_TRAIN_TRACE=1 git train aws-call s3 --method HEAD --bucket eu-bucket \
		--path /notes/a%20b 2>trace &&
	test_grep "^trace: 400 BadRequest in" trace &&
	test_grep "^trace: 200 in" trace &&
	test_fake_settings "{\"s3_regions\": \"off\"}"
'

test_done
