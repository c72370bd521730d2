#!/bin/sh
test_description='AWS credentials resolved like the AWS CLI: environment, profiles,
credential_process, assume-role with its cache, the instance role (IMDSv2), and
the errors when none is found; no secret in any output'
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO; then
	test_start_moto && test_set_prereq AWS
fi

# Every case's stdout and stderr go to files named *.out and *.err, which the
# last test searches for every secret the script handed out.
PROFILE_SECRET=pRoFiLeSeCrEt/DoNotLeak+abcdefghijklmnopqrs
PROCESS_SECRET=pRoCeSsSeCrEt/DoNotLeak+abcdefghijklmnopqrs
IMDS_SECRET=iMdSsEcReT/DoNotLeak+abcdefghijklmnopqrstuvwx
export PROFILE_SECRET PROCESS_SECRET IMDS_SECRET
SQ="'"

test_must_be_empty() {
	test ! -s "$1" || { echo >&2 "not empty: $1"; cat >&2 "$1"; return 1; }
}

no_secret() {
	for s in "$TEST_AWS_SECRET_ACCESS_KEY" "$PROFILE_SECRET" "$PROCESS_SECRET" "$IMDS_SECRET" \
		DoNotLeak $(cat "$TRASH_DIRECTORY/secrets" 2>/dev/null); do
		if grep -F -- "$s" "$@"; then
			echo >&2 "a secret leaked into $*"
			return 1
		fi
	done
}

# Only the shared files name credentials from here on; each test sets what it needs.
without_env_keys() {
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN "$@"
}

xml_value() {
	sed -n "s:.*<$1>\(.*\)</$1>.*:\1:p" "$2"
}

# An IAM user in moto with a key of its own, so GetCallerIdentity names it.
make_user() {
	git train aws-call iam CreateUser UserName="$1" >/dev/null &&
	git train aws-call iam CreateAccessKey UserName="$1" >"key-$1.xml" &&
	xml_value SecretAccessKey "key-$1.xml" >>secrets
}

test_expect_success AWS 'setup: moto users, and shared files with several profiles' '
	make_user default-user &&
	make_user dev-user &&
	mkdir -p .aws &&
	cat >.aws/credentials <<-EOF &&
	# keys of the default profile
	[default]
	aws_access_key_id = $(xml_value AccessKeyId key-default-user.xml)
	aws_secret_access_key = $(xml_value SecretAccessKey key-default-user.xml)

	[dev]
	; spacing and case as people write them
	  aws_secret_access_key   :   $(xml_value SecretAccessKey key-dev-user.xml)
	AWS_Access_Key_Id=$(xml_value AccessKeyId key-dev-user.xml)
	EOF
	cat >.aws/config <<-EOF
	[default]
	region = eu-west-1
	s3 =
	  max_concurrent_requests = 10
	  addressing_style = path

	[profile dev]
	region = us-east-1
	EOF
'

test_expect_success AWS 'keys from the environment' '
	git train aws-call sts GetCallerIdentity >env.out 2>env.err &&
	test_grep "<Arn>arn:aws:sts::123456789012:user/" env.out &&
	no_secret env.out env.err
'

test_expect_success AWS 'one key alone in the environment is an error naming the other' '
	test_expect_code 1 env -u AWS_SECRET_ACCESS_KEY \
		git train aws-call sts GetCallerIdentity >partial.out 2>partial.err &&
	test_grep "^error: incomplete AWS credentials in the environment: AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not" partial.err &&
	no_secret partial.out partial.err
'

test_expect_success AWS 'the default profile from the credentials file' '
	without_env_keys git train aws-call sts GetCallerIdentity >default.out 2>default.err &&
	test_grep "<Arn>arn:aws:iam::123456789012:user/default-user</Arn>" default.out &&
	no_secret default.out default.err
'

test_expect_success AWS 'AWS_PROFILE picks a profile' '
	AWS_PROFILE=dev without_env_keys \
		git train aws-call sts GetCallerIdentity >profile.out 2>profile.err &&
	test_grep "<Arn>arn:aws:iam::123456789012:user/dev-user</Arn>" profile.out &&
	no_secret profile.out profile.err
'

test_expect_success AWS 'train.profile wins over AWS_PROFILE and over keys in the environment' '
	AWS_PROFILE=default git -c train.profile=dev train aws-call sts GetCallerIdentity \
		>trainprofile.out 2>trainprofile.err &&
	test_grep "<Arn>arn:aws:iam::123456789012:user/dev-user</Arn>" trainprofile.out &&
	no_secret trainprofile.out trainprofile.err
'

test_expect_success AWS 'a profile that does not exist is its own error, with a suggestion' '
	test_expect_code 1 env AWS_PROFILE=deb \
		git train aws-call sts GetCallerIdentity >missing.out 2>missing.err &&
	test_grep "^error: AWS profile .deb. (from AWS_PROFILE) not found in .*/.aws/config. or .*/.aws/credentials." missing.err &&
	test_grep "^hint: did you mean .dev.?" missing.err &&
	test_grep "aws configure --profile deb" missing.err &&
	no_secret missing.out missing.err
'

test_expect_success AWS 'a malformed credentials file names the line, never its text' '
	mkdir broken &&
	printf "[default]\naws_access_key_id = AKIABROKEN\n$PROFILE_SECRET\n" >broken/credentials &&
	test_expect_code 1 env AWS_SHARED_CREDENTIALS_FILE="$PWD/broken/credentials" \
		git train aws-call sts GetCallerIdentity >broken.out 2>broken.err &&
	test_grep "^error: cannot read .*broken/credentials.: line 3: expected .name = value." broken.err &&
	no_secret broken.out broken.err
'

test_expect_success AWS 'no credentials anywhere: every source tried, and the fix' '
	test_expect_code 1 without_env_keys env AWS_SHARED_CREDENTIALS_FILE="$PWD/none" \
		AWS_CONFIG_FILE="$PWD/none" git train aws-call sts GetCallerIdentity \
		>none.out 2>none.err &&
	cat >expect <<-EOF &&
	error: no AWS credentials found
	hint: tried environment variables: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set
	hint: tried profile ${SQ}default${SQ} in ${SQ}$PWD/none${SQ} and ${SQ}$PWD/none${SQ}: no such profile
	hint: tried the EC2 instance role: instance metadata disabled by AWS_EC2_METADATA_DISABLED
	hint: set up credentials with ${SQ}aws configure${SQ}, or choose a profile with AWS_PROFILE=<name> or ${SQ}git config train.profile <name>${SQ}
	EOF
	test_cmp expect none.err &&
	test_must_be_empty none.out
'

test_expect_success AWS 'setup: a credential_process that prints a moto user'"'"'s keys' '
	make_user process-user &&
	cat >cred-process.sh <<-EOF &&
	#!/bin/sh
	cat <<JSON
	{"Version": 1, "AccessKeyId": "$(xml_value AccessKeyId key-process-user.xml)",
	 "SecretAccessKey": "$(xml_value SecretAccessKey key-process-user.xml)",
	 "Expiration": "$(date -u -d "+1 hour" +%Y-%m-%dT%H:%M:%SZ)"}
	JSON
	EOF
	cat >cred-fail.sh <<-EOF &&
	#!/bin/sh
	echo "{\"Version\": 1, \"SecretAccessKey\": \"$PROCESS_SECRET\""
	echo "cred-helper: your session has expired" >&2
	exit 3
	EOF
	cat >cred-garbage.sh <<-EOF &&
	#!/bin/sh
	echo "AccessKeyId=AKIAX SecretAccessKey=$PROCESS_SECRET"
	EOF
	cat >>.aws/config <<-EOF
	[profile proc]
	credential_process = sh "$PWD/cred-process.sh"
	[profile proc-fail]
	credential_process = sh $PWD/cred-fail.sh --profile x
	[profile proc-garbage]
	credential_process = sh $PWD/cred-garbage.sh
	EOF
'

test_expect_success AWS 'credential_process' '
	AWS_PROFILE=proc without_env_keys \
		git train aws-call sts GetCallerIdentity >process.out 2>process.err &&
	test_grep "<Arn>arn:aws:iam::123456789012:user/process-user</Arn>" process.out &&
	test_must_be_empty process.err
'

test_expect_success AWS 'a failing credential_process: its stderr, its exit code, never its stdout' '
	test_expect_code 1 without_env_keys env AWS_PROFILE=proc-fail \
		git train aws-call sts GetCallerIdentity >process-fail.out 2>process-fail.err &&
	test_grep "^cred-helper: your session has expired" process-fail.err &&
	test_grep "^error: the credential_process of AWS profile .proc-fail. failed with exit code 3" process-fail.err &&
	test_must_be_empty process-fail.out &&
	no_secret process-fail.out process-fail.err
'

test_expect_success AWS 'a credential_process printing something else than JSON' '
	test_expect_code 1 without_env_keys env AWS_PROFILE=proc-garbage \
		git train aws-call sts GetCallerIdentity >process-bad.out 2>process-bad.err &&
	test_grep "^error: the credential_process of AWS profile .proc-garbage. printed something that is not JSON" process-bad.err &&
	no_secret process-bad.out process-bad.err
'

test_expect_success AWS 'setup: role profiles' '
	cat >>.aws/config <<-EOF
	[profile trainer]
	role_arn = arn:aws:iam::123456789012:role/trainer
	source_profile = dev
	role_session_name = git-train-test
	[profile loop-a]
	role_arn = arn:aws:iam::123456789012:role/a
	source_profile = loop-b
	[profile loop-b]
	role_arn = arn:aws:iam::123456789012:role/b
	source_profile = loop-a
	EOF
'

test_expect_success AWS 'role_arn + source_profile: STS AssumeRole with the source profile'"'"'s keys' '
	AWS_PROFILE=trainer GIT_TRAIN_TRACE=1 without_env_keys \
		git train aws-call sts GetCallerIdentity >role.out 2>role.err &&
	test_grep "<Arn>arn:aws:sts::123456789012:assumed-role/trainer/git-train-test</Arn>" role.out &&
	test_grep "sts AssumeRole" role.err &&
	test_grep "sts GetCallerIdentity" role.err &&
	ls .cache/git-train/role-*.json >cache-files &&
	test_line_count = 1 cache-files &&
	test "$(stat -c %a $(cat cache-files))" = 600 &&
	no_secret role.out role.err
'

test_expect_success AWS 'a second command reuses the cached role credentials' '
	AWS_PROFILE=trainer GIT_TRAIN_TRACE=1 without_env_keys \
		git train aws-call sts GetCallerIdentity >role2.out 2>role2.err &&
	test_grep "<Arn>arn:aws:sts::123456789012:assumed-role/trainer/git-train-test</Arn>" role2.out &&
	test_grep "sts GetCallerIdentity" role2.err &&
	! grep "AssumeRole" role2.err &&
	no_secret role2.out role2.err
'

test_expect_success AWS 'cached credentials about to expire are not used' '
	sed "s/\"Expiration\":\"[^\"]*\"/\"Expiration\":\"$(date -u -d "+4 minutes" +%Y-%m-%dT%H:%M:%SZ)\"/" \
		$(cat cache-files) >cache.tmp &&
	cat cache.tmp >$(cat cache-files) &&
	AWS_PROFILE=trainer GIT_TRAIN_TRACE=1 without_env_keys \
		git train aws-call sts GetCallerIdentity >role3.out 2>role3.err &&
	test_grep "sts AssumeRole" role3.err &&
	test_grep "assumed-role/trainer/git-train-test" role3.out &&
	no_secret role3.out role3.err
'

test_expect_success AWS 'source_profile loops are an error' '
	test_expect_code 1 without_env_keys env AWS_PROFILE=loop-a \
		git train aws-call sts GetCallerIdentity >loop.out 2>loop.err &&
	test_grep "^error: AWS profile .loop-b. names .loop-a. as source_profile, which leads back to it" loop.err
'

# A fake EC2 instance metadata service: IMDSv2 only, so a GET without a
# token from PUT /latest/api/token gets 401, as on an instance with
# HttpTokens=required. It exits with this script.
cat >imds.py <<'EOF'
import datetime, http.server, json, os, sys, threading, time

role, creds = sys.argv[2], json.load(open(sys.argv[3]))
state = {"norole": False}
TOKEN = "imds-token-0123"

class H(http.server.BaseHTTPRequestHandler):
    def log_message(self, *a):
        sys.stderr.write("%s %s\n" % (self.command, self.path))
    def send(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_PUT(self):
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            return self.send(200, TOKEN.encode())
        self.send(400)
    def do_POST(self):
        state["norole"] = self.path == "/__ctl/norole"
        self.send(200)
    def do_GET(self):
        if self.headers.get("X-aws-ec2-metadata-token") != TOKEN:
            return self.send(401)
        base = "/latest/meta-data/iam/security-credentials/"
        if state["norole"] and self.path.startswith(base):
            return self.send(404)
        if self.path == base:
            return self.send(200, role.encode())
        if self.path == base + role:
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=6)
            doc = dict(creds, Code="Success", Type="AWS-HMAC", Token="imds-session-token",
                       Expiration=exp.strftime("%Y-%m-%dT%H:%M:%SZ"))
            return self.send(200, json.dumps(doc).encode())
        self.send(404)

s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def watch(pid):
    while True:
        time.sleep(0.5)
        try:
            os.kill(pid, 0)
        except OSError:
            os._exit(0)
threading.Thread(target=watch, args=(int(sys.argv[4]),), daemon=True).start()
s.serve_forever()
EOF

test_expect_success AWS 'setup: a fake instance metadata service with a role' '
	make_user instance-user &&
	printf "{\"AccessKeyId\": \"%s\", \"SecretAccessKey\": \"%s\"}" \
		"$(xml_value AccessKeyId key-instance-user.xml)" \
		"$(xml_value SecretAccessKey key-instance-user.xml)" >imds-creds.json &&
	{ python3 imds.py imds.port train-instance-role imds-creds.json $$ 2>imds.log & } &&
	i=0 &&
	until test -s imds.port; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || return 1
	done &&
	echo "http://127.0.0.1:$(cat imds.port)" >imds.url &&
	test "$(curl -s -o /dev/null -w "%{http_code}" \
		$(cat imds.url)/latest/meta-data/iam/security-credentials/)" = 401
'

test_expect_success AWS 'the EC2 instance role through IMDSv2' '
	without_env_keys env -u AWS_EC2_METADATA_DISABLED \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="$(cat imds.url)/" \
		AWS_SHARED_CREDENTIALS_FILE="$PWD/none" AWS_CONFIG_FILE="$PWD/none" \
		git train aws-call sts GetCallerIdentity >imds.out 2>imds.err &&
	test_grep "<Arn>arn:aws:iam::123456789012:user/instance-user</Arn>" imds.out &&
	test_grep "^PUT /latest/api/token" imds.log &&
	test_grep "^GET /latest/meta-data/iam/security-credentials/train-instance-role" imds.log &&
	no_secret imds.out imds.err
'

test_expect_success AWS 'an instance without a role, and no instance at all: said in the hints' '
	curl -sf -X POST -o /dev/null "$(cat imds.url)/__ctl/norole" &&
	test_expect_code 1 without_env_keys env -u AWS_EC2_METADATA_DISABLED \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="$(cat imds.url)" \
		AWS_SHARED_CREDENTIALS_FILE="$PWD/none" AWS_CONFIG_FILE="$PWD/none" \
		git train aws-call sts GetCallerIdentity >imds-norole.out 2>imds-norole.err &&
	test_grep "^hint: tried the EC2 instance role: this instance has no IAM role" imds-norole.err &&
	test_grep "^hint: set up credentials with .aws configure." imds-norole.err &&
	test_expect_code 1 without_env_keys env -u AWS_EC2_METADATA_DISABLED \
		AWS_EC2_METADATA_SERVICE_ENDPOINT="http://127.0.0.1:$(test_free_port)" \
		AWS_SHARED_CREDENTIALS_FILE="$PWD/none" AWS_CONFIG_FILE="$PWD/none" \
		git train aws-call sts GetCallerIdentity >imds-none.out 2>imds-none.err &&
	test_grep "^hint: tried the EC2 instance role: no instance metadata at http://127.0.0.1:[0-9]* (.*): not on EC2" imds-none.err
'

test_expect_success AWS 'no secret in any output' '
	no_secret *.out *.err
'

test_done
