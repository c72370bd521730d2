#!/bin/sh
# git train upload: the code of a commit goes to S3 once, at a key named by
# the commit, encrypted, streamed in parallel parts when large; a failure or
# Ctrl-C never leaves an incomplete multipart upload behind.
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO; then
	test_start_moto || exit 1
	# the fake in front of moto (faults, botocore's signature checks) only
	# where a test names it: the others talk to moto, whose log they read
	if test_have_prereq FAKE; then
		test_start_fake || exit 1
		AWS_ENDPOINT_URL=$MOTO_URL
		test_set_prereq MOTO_FAKE
	fi
	# script(1) gives the command a terminal
	command -v script >/dev/null 2>&1 && test_set_prereq MOTO_TTY
fi

# fake_rules '<json list>': from now on, these fault rules and fresh counts
fake_rules() {
	test_fake_ctl reset &&
	test_fake_ctl rules "$1"
}

# no_incomplete_uploads: S3 holds no multipart upload in progress
no_incomplete_uploads() {
	curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		"$MOTO_URL/code-bucket?uploads" >uploads.xml &&
	test_grep "<ListMultipartUploadsResult" uploads.xml >/dev/null &&
	test_grep ! "<UploadId>" uploads.xml
}

# s3_get s3://bucket/key file: the object, from moto, signed by curl
s3_get() {
	curl -sf -o "$2" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$MOTO_URL/${1#s3://}"
}

# moto's request log lines for method and key, so far
moto_requests() {
	grep -c "\"$1 /code-bucket/$2" "$TRASH_DIRECTORY/.moto.log"
}

# moto_log_settles N: moto logs a request after answering it, so wait for
# its log to reach N requests, and check it stays there
moto_log_settles() {
	i=0
	while test $(grep -c "HTTP/1.1\"" "$TRASH_DIRECTORY/.moto.log") -lt $1 && test $i -lt 50; do
		sleep 0.1
		i=$((i + 1))
	done
	sleep 0.3
	test $(grep -c "HTTP/1.1\"" "$TRASH_DIRECTORY/.moto.log") = $1
}

test_expect_success MOTO 'setup: a repository, a bucket, train.bucket' '
	test_moto_s3 /code-bucket -X PUT &&
	git remote add origin https://example.com/team/demo.git &&
	git config train.bucket code-bucket &&
	test_make_train_repo &&
	test_commit data data/a.txt "some data" &&
	test_repo_id >repo-id
'
# <repo> in the keys: demo and the root commit (src/run/layout.h)
R=$(cat "$TRASH_DIRECTORY/repo-id" 2>/dev/null)

test_expect_success MOTO 'upload puts the archive at <prefix>/<repo>/<commit>/code.tar.gz' '
	sha=$(git rev-parse HEAD) &&
	key=git-train/$R/$sha/code.tar.gz &&
	git train upload >out 2>err &&
	echo "s3://code-bucket/$key" >expect &&
	test_cmp expect out &&
	test_grep "uploaded code for $(git rev-parse --short HEAD)" err &&
	s3_get "s3://code-bucket/$key" got.tgz &&
	git train archive -o want.tgz &&
	cmp want.tgz got.tgz &&
	tar tzf got.tgz >got.list &&
	tar tzf want.tgz >want.list &&
	test_cmp want.list got.list &&
	test_grep "^data/a.txt$" got.list
'

test_expect_success MOTO 'the object is encrypted, private, and records the commit' '
	key=git-train/$R/$(git rev-parse HEAD)/code.tar.gz &&
	test_moto_s3 "/code-bucket/$key" -I >head.txt &&
	test_grep -i "^x-amz-server-side-encryption: AES256" head.txt &&
	test_grep -i "^x-amz-meta-git-train-commit: $(git rev-parse HEAD)" head.txt &&
	test $(curl -s -o /dev/null -w "%{http_code}" "$MOTO_URL/code-bucket/$key") = 403 &&
	curl -sf --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		"$MOTO_URL/code-bucket/$key?acl" >acl.xml &&
	test_grep "<Permission>FULL_CONTROL</Permission>" acl.xml &&
	test_grep ! "AllUsers" acl.xml &&
	test_grep ! "AuthenticatedUsers" acl.xml
'

test_expect_success MOTO 'uploading the same commit again sends nothing but one HEAD' '
	sha=$(git rev-parse HEAD) &&
	key=git-train/$R/$sha/code.tar.gz &&
	all=$(grep -c "HTTP/1.1\"" "$TRASH_DIRECTORY/.moto.log") &&
	heads=$(moto_requests HEAD "$key") &&
	GIT_TRAIN_TRACE=1 git train upload >out 2>trace &&
	echo "s3://code-bucket/$key" >expect &&
	test_cmp expect out &&
	echo "code for $(git rev-parse --short HEAD) is already in s3://code-bucket/$key" >expect &&
	grep -v "^trace: " trace >err &&
	test_cmp expect err &&
	grep "^trace: [A-Z]* http" trace >requests &&
	test_line_count = 1 requests &&
	test_grep "^trace: HEAD $MOTO_URL/code-bucket/$key " requests &&
	moto_log_settles $((all + 1)) &&
	test $(moto_requests HEAD "$key") = $((heads + 1))
'

test_expect_success MOTO 'another tar.umask makes other bytes: the object is replaced' '
	git -c tar.umask=022 train upload >out 2>err &&
	test_grep "uploaded code for" err &&
	git -c tar.umask=022 train archive -o want022.tgz &&
	s3_get "$(cat out)" got022.tgz &&
	cmp want022.tgz got022.tgz &&
	! cmp -s want.tgz got022.tgz &&
	git train upload 2>err &&
	test_grep "uploaded code for" err
'

test_expect_success MOTO 'a large archive goes up in parallel parts, byte for byte' '
	git checkout -q -b big &&
	head -c 31457280 /dev/urandom >big.bin &&
	git add big.bin &&
	test_tick &&
	git commit -q -m "30 MiB of weights" &&
	git checkout -q main &&
	key=git-train/$R/$(git rev-parse big)/code.tar.gz &&
	git train upload --rev big >out 2>err &&
	test_grep "in 4 parts" err &&
	s3_get "s3://code-bucket/$key" big-got.tgz &&
	git train archive -o big-want.tgz big &&
	cmp big-want.tgz big-got.tgz &&
	curl -sfI --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" \
		"$MOTO_URL/code-bucket/$key" >head.txt &&
	test_grep -i "^x-amz-server-side-encryption: AES256" head.txt &&
	no_incomplete_uploads
'

# big_commit <message>: a new commit of the big tree, so never uploaded yet
big_commit() {
	git commit-tree -p big -m "$1" "big^{tree}"
}

test_expect_success MOTO 'without train.bucket it says how to set it' '
	git init -q nobucket &&
	(
		cd nobucket &&
		test_commit one &&
		test_expect_code 128 git train upload >out 2>err &&
		test_must_be_empty() { ! test -s "$1"; } &&
		test_must_be_empty out &&
		test_grep "train.bucket is not set" err &&
		test_grep "git config train.bucket <name>" err
	)
'

test_expect_success MOTO 'a bucket that does not exist fails with NoSuchBucket' '
	test_expect_code 1 git -c train.bucket=no-such-bucket train upload --rev HEAD~1 >out 2>err &&
	test_grep "^error: cannot upload .code.tar.gz.: NoSuchBucket: " err &&
	! test -s out
'

# check_presigned <url>: botocore (not our signer) computes the same signature
check_presigned() {
	/usr/bin/python3 - "$1" "$TEST_AWS_ACCESS_KEY_ID" "$TEST_AWS_SECRET_ACCESS_KEY" <<-\PY
	import datetime, sys, urllib.parse
	import botocore.auth
	from botocore.awsrequest import AWSRequest
	from botocore.credentials import Credentials
	url, akid, secret = sys.argv[1:4]
	u = urllib.parse.urlsplit(url)
	q = urllib.parse.parse_qsl(u.query, keep_blank_values=True)
	d = dict(q)
	when = datetime.datetime.strptime(d["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
	class Clock(datetime.datetime):
	    @classmethod
	    def utcnow(cls):
	        return when
	botocore.auth.datetime = type("clock", (), {"datetime": Clock})
	region = d["X-Amz-Credential"].split("/")[2]
	plain = urllib.parse.urlencode([(k, v) for k, v in q if not k.startswith("X-Amz-")])
	req = AWSRequest(method="GET", url=urllib.parse.urlunsplit(u._replace(query=plain)))
	botocore.auth.S3SigV4QueryAuth(Credentials(akid, secret), "s3", region,
	                               expires=int(d["X-Amz-Expires"])).add_auth(req)
	want = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(req.url).query))
	sys.exit(0 if want["X-Amz-Signature"] == d["X-Amz-Signature"] else 1)
	PY
}

test_expect_success MOTO '--presign prints a GET URL that plain curl downloads' '
	git train upload --presign 600 >out 2>err &&
	test_line_count = 2 out &&
	url=$(sed -n 2p out) &&
	case "$url" in "$MOTO_URL/code-bucket/git-train/$R/"*X-Amz-Expires=600*) ;; *) false ;; esac &&
	curl -sf -o presigned.tgz "$url" &&
	git train archive -o want.tgz &&
	cmp want.tgz presigned.tgz &&
	test_expect_code 129 git train upload --presign 0 2>err &&
	test_grep "from 1 to 604800" err
'

test_expect_success MOTO_FAKE 'the presigned URL carries the signature botocore computes' '
	url=$(git train upload --presign 600 | sed -n 2p) &&
	check_presigned "$url" &&
	! check_presigned "$(echo "$url" | sed "s/X-Amz-Expires=600/X-Amz-Expires=601/")"
'

test_expect_success MOTO '--stash uploads the snapshot of the working tree' '
	echo changed >data/a.txt &&
	git train upload --stash >out 2>err &&
	test_grep "uploading snapshot" err &&
	snap=$(sed -n "s|^s3://code-bucket/git-train/$R/\([0-9a-f]*\)/code.tar.gz$|\1|p" out) &&
	test -n "$snap" &&
	test "$snap" != "$(git rev-parse HEAD)" &&
	s3_get "$(cat out)" snap.tgz &&
	tar xzf snap.tgz -O data/a.txt >snap-a.txt &&
	echo changed >expect &&
	test_cmp expect snap-a.txt &&
	git checkout -q data/a.txt
'

test_expect_success MOTO_TTY 'a terminal gets a progress bar with rate and ETA' '
	git commit -q --allow-empty -m "for the progress bar" &&
	script -qec "git train upload" /dev/null >tty.out &&
	test_grep "Uploading code for $(git rev-parse --short HEAD): .*/s" tty.out &&
	test_grep "done\." tty.out &&
	git commit -q --allow-empty -m "no terminal" &&
	git train upload >out 2>err &&
	test_line_count = 1 err &&
	test_grep ! Uploading err
'

test_expect_success MOTO_FAKE 'Ctrl-C during a multipart upload aborts it' '
	rev=$(big_commit "to interrupt") &&
	fake_rules "[{\"fault\": \"slow\", \"service\": \"s3\", \"method\": \"PUT\", \"delay\": 3}]" ||
	exit 1
	AWS_ENDPOINT_URL=$FAKE_URL git-train upload --rev $rev >out 2>err &
	pid=$!
	# once parts reach the fake (which holds them for 3 s), Ctrl-C; on a
	# loaded machine (a sanitizer build, parallel tests) archiving the first
	# 8 MiB part can take many seconds, so wait up to a minute for it
	i=0 &&
	until test $(test_fake_count "s3 PUT") -ge 1; do
		i=$((i + 1)) && test $i -lt 1200 && sleep 0.05 || break
	done &&
	test $(test_fake_count "s3 PUT") -ge 1 &&
	kill -INT $pid &&
	{ wait $pid; rc=$?; } &&
	{ test $rc = 130 || { echo "exit $rc"; cat err; false; }; } &&
	test $(test_fake_count "s3 POST") = 1 &&
	test $(test_fake_count "s3 DELETE") = 1 &&
	fake_rules "[]" &&
	test_grep "error: cannot upload .code.tar.gz.: interrupted" err &&
	! test -s out &&
	no_incomplete_uploads
'

test_expect_success MOTO_FAKE 'parts that keep failing: the AWS error, the upload aborted' '
	rev=$(big_commit "parts fail") &&
	fake_rules "[{\"fault\": \"error500\", \"service\": \"s3\", \"method\": \"PUT\"}]" &&
	GIT_TRAIN_RETRY_BASE_MS=1 AWS_ENDPOINT_URL=$FAKE_URL \
		test_expect_code 1 git -c train.maxAttempts=3 train upload --rev $rev >out 2>err &&
	test $(test_fake_count "s3 POST") = 1 &&
	test $(test_fake_count "s3 DELETE") = 1 &&
	fake_rules "[]" &&
	test_grep "^error: cannot upload .code.tar.gz.: InternalError: We encountered an internal error" err &&
	test_grep "(request id " err &&
	no_incomplete_uploads
'

test_expect_success MOTO_FAKE 'every request failing: gives up with the AWS error, leaves nothing' '
	git commit -q --allow-empty -m "all fail" &&
	fake_rules "[{\"fault\": \"error500\"}]" &&
	GIT_TRAIN_RETRY_BASE_MS=1 AWS_ENDPOINT_URL=$FAKE_URL \
		test_expect_code 1 git train upload >out 2>err &&
	fake_rules "[]" &&
	test_grep "^error: cannot upload .code.tar.gz.: InternalError: " err &&
	no_incomplete_uploads
'

test_expect_success MOTO_FAKE 'through the fake, signed parts are accepted (checked by botocore)' '
	rev=$(big_commit "through the fake") &&
	fake_rules "[]" &&
	AWS_ENDPOINT_URL=$FAKE_URL git train upload --rev $rev >out 2>err &&
	test_grep "uploaded code for .* in 4 parts" err &&
	test $(test_fake_count "s3 PUT") = 4 &&
	test $(test_fake_count faults) = 0 &&
	s3_get "$(cat out)" fake.tgz &&
	git train archive -o fake-want.tgz $rev &&
	cmp fake-want.tgz fake.tgz
'

# sha256_of <file>: the base64 SHA-256 of each 8 MiB part of file, one a line,
# then "composite <the SHA-256 of those digests>" and "whole <the SHA-256 of
# the file>", as S3 computes them
sha256_of() {
	python3 - "$1" <<-\PY
	import base64, hashlib, sys
	data = open(sys.argv[1], "rb").read()
	size = 8 << 20
	mds = [hashlib.sha256(data[i:i + size]).digest() for i in range(0, len(data), size)]
	for m in mds:
	    print(base64.b64encode(m).decode())
	print("composite", base64.b64encode(hashlib.sha256(b"".join(mds)).digest()).decode())
	print("whole", base64.b64encode(hashlib.sha256(data).digest()).decode())
	PY
}

test_expect_success MOTO 'each part carries its SHA-256; S3 keeps the checksum of the object' '
	rev=$(big_commit "checksums") &&
	GIT_TRAIN_TRACE=2 git train upload --rev $rev >out 2>trace &&
	test_grep "uploaded code for .* in 4 parts" trace &&
	test_grep "^trace: > x-amz-checksum-algorithm: SHA256" trace &&
	s3_get "$(cat out)" sum.tgz &&
	sha256_of sum.tgz >sum.all &&
	grep -v "^composite \|^whole " sum.all | sort >expect &&
	sed -n "s/^trace: > x-amz-checksum-sha256: //p" trace | tr -d "\r" | sort >actual &&
	test_cmp expect actual &&
	test_moto_s3 "/code-bucket/$(sed "s|^s3://code-bucket/||" out)" -I \
		-H "x-amz-checksum-mode: ENABLED" | tr -d "\r" >head.txt &&
	test_grep -i "^x-amz-checksum-sha256: $(sed -n "s/^composite //p" sum.all)\(-4\)\{0,1\}$" head.txt &&
	git train upload --rev $rev 2>err &&
	test_grep "is already in" err
'

test_expect_success MOTO 'a small archive goes in one PUT that carries its SHA-256' '
	git commit -q --allow-empty -m "one PUT" &&
	git train upload >out 2>err &&
	test_grep ! " parts" err &&
	s3_get "$(cat out)" one.tgz &&
	test_moto_s3 "/code-bucket/$(sed "s|^s3://code-bucket/||" out)" -I \
		-H "x-amz-checksum-mode: ENABLED" | tr -d "\r" >head.txt &&
	test_grep -i "^x-amz-checksum-sha256: $(sha256_of one.tgz | sed -n 1p)$" head.txt
'

# forge <key> <file> [<curl options>]: what a training run with the role
# could do: other code at key, with the commit's comment and metadata
forge() {
	test_forged_code "$2" "$sha" &&
	k=$1 f=$2 &&
	shift 2 &&
	test_moto_s3 "/code-bucket/$k" -T "$f" -H "x-amz-meta-git-train-commit: $sha" \
		-H "x-amz-meta-git-train-umask: 0002" -H "x-amz-meta-git-train-format: 3" "$@"
}

test_expect_success MOTO 'a tampered archive, its metadata and comment forged: uploaded again' '
	sha=$(git rev-parse HEAD) &&
	key=git-train/$R/$sha/code.tar.gz &&
	git train archive -o want.tgz &&
	forge "$key" forged.tgz -H "x-amz-sdk-checksum-algorithm: SHA256" \
		-H "x-amz-checksum-sha256: $(sha256_of forged.tgz | sed -n "s/^whole //p")" &&
	test_moto_s3 "/code-bucket/$key" -I -H "x-amz-checksum-mode: ENABLED" >head.txt &&
	test_grep -i "^x-amz-meta-git-train-commit: $sha" head.txt &&
	test_grep -i "^x-amz-checksum-sha256: " head.txt &&
	git train upload >out 2>err &&
	test_grep "^uploaded code for $(git rev-parse --short HEAD): .* (replacing s3://code-bucket/$key, whose checksum was not the archive.s)$" err &&
	s3_get "s3://code-bucket/$key" got.tgz &&
	cmp want.tgz got.tgz &&
	git train upload 2>err &&
	test_grep "is already in" err &&
	forge "$key" forged.tgz &&
	git train upload 2>err &&
	test_grep "^uploaded code for" err &&
	s3_get "s3://code-bucket/$key" got.tgz &&
	cmp want.tgz got.tgz
'

test_expect_success MOTO 'the secret never appears, not even in a trace' '
	git commit -q --allow-empty -m "traced" &&
	GIT_TRAIN_TRACE=2 git train upload --presign 60 >trace.out 2>trace.err &&
	test_grep "HEAD " trace.err &&
	! grep -rF "$TEST_AWS_SECRET_ACCESS_KEY" . --exclude-dir=.git --exclude=.moto.log \
		--exclude=.fake.log --exclude-dir=.aws
'

test_done
