#!/bin/sh
# The instance side: the exact command git-train sends with SendCommand
# (`test-tool runner` prints or sends runner_command()) runs src/run/runner.sh in
# the fake's sandbox for an instance launched in moto: the code from S3, the
# script with its arguments byte for byte, the log in S3 while it runs,
# result.json, the outputs (all encrypted by S3), then the instance shuts
# itself down. Failures of the runner itself still leave a log, a result and
# no running instance, and a runner killed outright leaves an instance that
# its watchdog shuts down.
. "$(dirname "$0")/test-lib.sh"

if ! test -x "$TEST_TOOL"; then
	echo "Bail out! $TEST_TOOL is not built (run make check)"
	exit 1
fi

if test_have_prereq MOTO && test_have_prereq FAKE && test_have_prereq PYTHON; then
	test_start_moto || exit 1
	test_start_fake || exit 1
	test_set_prereq RUNNER
fi

BUCKET=train-bucket

# as_user <cmd>...: cmd as a user that is not root, for whom the runner's
# directory is in TMPDIR (nobody, when the tests run as root)
if test "$(id -u)" != 0; then
	as_user() { "$@"; }
	test_set_prereq NOT_ROOT
elif setpriv --reuid=65534 --regid=65534 --clear-groups true 2>/dev/null; then
	as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; }
	test_set_prereq NOT_ROOT
fi

# s3_get <key> <file>: an object of the bucket, from moto, signed by curl
s3_get() {
	curl -sf -o "$2" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$MOTO_URL/$BUCKET/$1"
}

# launch <name>: a t3.micro launched through the fake, which boots it into a
# sandbox; its id in instance.<name> (git-train's own calls: the AWS CLI
# takes seconds to start on a loaded machine)
launch() {
	git train aws-call ec2 RunInstances ImageId="$(cat ami)" InstanceType=t3.micro \
		MinCount=1 MaxCount=1 >"run-instances.$1" &&
	sed -n "s|.*<instanceId>\(i-[0-9a-f]*\)</instanceId>.*|\1|p" "run-instances.$1" |
		sed -n 1p >"instance.$1" &&
	test -s "instance.$1"
}

# start_run <run-id> <instance> [<test-tool runner options>] [-- <args>]: sends the
# runner through ssm.c and waits for the SSM command (not the run) to end
# (the fake is slow to say Online and to know the invocation, as SSM is);
# the code is at $key when set; its SHA-256 is the upload's
start_run() {
	run=$1 instance=$2
	shift 2
	"$TEST_TOOL" runner --run-id "$run" --commit "$sha" --bucket $BUCKET \
		--code-key "${key:-$code_key}" --code-sha256 "$code_sum" --run-prefix "git-train/demo/$sha/runs/$run/" \
		--region us-east-1 --script train.py --log-interval 1 \
		--instance "$instance" "$@" >"$run.send" 2>&1 &&
	test_grep "^status Success$" "$run.send" &&
	test_grep "^exit 0$" "$run.send" &&
	test_grep "^git-train: runner started (pid [0-9]*)$" "$run.send"
}

# wait_object <run-id> <name> <text> [seconds]: until the run's object says text
wait_object() {
	i=0
	until s3_get "git-train/demo/$sha/runs/$1/$2" "$1.$2" && grep -q "$3" "$1.$2"; do
		i=$((i + 1))
		if test $i -gt $((${4:-180} * 5)); then
			echo >&2 "no '$3' in s3://$BUCKET/git-train/demo/$sha/runs/$1/$2 after ${4:-180} s"
			return 1
		fi
		sleep 0.2
	done
}

# wait_result <run-id>: result.json, as "status exit_code [stage] metrics" in <run>.got
wait_result() {
	wait_object "$1" result.json '"status"' &&
	s3_get "git-train/demo/$sha/runs/$1/log" "$1.log" &&
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
assert r["run_id"] == sys.argv[2] and r["commit"] == sys.argv[3], r
assert r["start"] <= r["end"] and r["duration"] >= 0, r
words = [r["status"], str(r["exit_code"])] + ([r["stage"]] if "stage" in r else [])
print(" ".join(words + [json.dumps(r["metrics"], sort_keys=True)]))' \
		"$1.result.json" "$1" "$sha" >"$1.got"
}

# calls <instance>: what the instance ran of shutdown & co.
calls() {
	cat "$(test_instance_dir "$1")/calls.log" 2>/dev/null
}

# wait_calls <instance> <n> <line>: until the instance called it n times (30 s)
wait_calls() {
	i=0
	until test "$(calls "$1" | grep -c -x -e "$3")" -ge "$2"; do
		i=$((i + 1))
		if test $i -gt 150; then
			echo >&2 "$1 did not call '$3' $2 times:"
			calls "$1" >&2
			return 1
		fi
		sleep 0.2
	done
}

# sse <key>: the server-side encryption S3 says the object has
sse() {
	curl -sf -I --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$MOTO_URL/$BUCKET/$1" |
		tr -d "\r" | sed -n "s/^x-amz-server-side-encryption: //Ip"
}

# The arguments of the argument test: every kind of byte a shell could mangle.
nasty_args() {
	"$@" "two words" "it's" '"double"' '$(touch pwned)' '`touch pwned`' 'a;b' '*' \
		'line one
line two' '' 'h€llo wörld ✓' "$(printf 'bad\377\376utf8')" 'back\slash\' \
		"trailing newline
" '-n' '--' '$HOME ${x:-y}' '#' '~'
}

test_expect_success RUNNER 'setup: a training repository, its code in S3' '
	cat >train.py <<-\PY &&
	import json, os, subprocess, sys, time
	args = sys.argv[1:]
	out = os.environ["GIT_TRAIN_OUTPUTS"]
	with open(os.path.join(out, "argv.json"), "w") as f:
	    json.dump([os.fsencode(a).hex() for a in args], f)
	if args[:1] == ["--args"]:
	    sys.exit(0)
	opts = dict(zip(args[::2], args[1::2]))
	epochs, hold = int(opts.get("--epochs", 1)), opts.get("--hold")
	if hold:
	    with open("child.pid", "w") as f:
	        print(subprocess.Popen(["sleep", "300"]).pid, file=f)
	loss = 1.0
	for e in range(1, epochs + 1):
	    loss /= 2
	    print(f"epoch {e}/{epochs} loss={loss:.4f}")
	    while e == 1 and hold and not os.path.exists(hold):
	        time.sleep(0.1)
	with open(os.path.join(out, "model.txt"), "w") as f:
	    f.write("weights\n")
	with open("metrics.json", "w") as f:
	    if opts.get("--metrics") == "bad":
	        f.write("{\"loss\": \"low\", \"epochs\": %d}" % epochs)
	    else:
	        json.dump({"loss": loss, "epochs": epochs}, f)
	print("run", os.environ["GIT_TRAIN_RUN_ID"], "of", os.environ["GIT_TRAIN_COMMIT"])
	sys.exit(int(opts.get("--fail", 0)))
	PY
	git add train.py &&
	test_tick &&
	git commit -q -m "training script" &&
	test_moto_s3 /$BUCKET -X PUT &&
	git remote add origin https://example.com/team/demo.git &&
	git config train.bucket $BUCKET &&
	# the keys under git-train/demo/, as train.repo names them
	git config train.repo demo &&
	git train upload >uploaded &&
	sha=$(git rev-parse HEAD) &&
	echo "s3://$BUCKET/git-train/demo/$sha/code.tar.gz" >expect &&
	test_cmp expect uploaded &&
	s3_get "git-train/demo/$sha/code.tar.gz" code.tar.gz &&
	sha256sum <code.tar.gz | cut -c 1-64 >code.sha256 &&
	git train aws-call ssm GetParameter \
		Name=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 |
		python3 -c "import json, sys; print(json.load(sys.stdin)[\"Parameter\"][\"Value\"])" >ami &&
	# what a hostile run could put in place of the code: the comment of the
	# commit, other code
	test_forged_code other.tar.gz "$sha" "open(\"pwned\", \"w\").close()" &&
	test_moto_s3 /$BUCKET/other/code.tar.gz -T other.tar.gz &&
	printf "not gzip at all\n" >bad.tar.gz &&
	test_moto_s3 /$BUCKET/bad/code.tar.gz -T bad.tar.gz &&
	test_fake_settings "{\"interrupt_grace\": 60, \"ready_delay\": 2, \"invocation_delay\": 2}"
'
sha=$(git rev-parse -q --verify HEAD)
code_key=git-train/demo/$sha/code.tar.gz
code_sum=$(cat code.sha256 2>/dev/null)

test_expect_success RUNNER 'the command is valid sh, holds the runner and no secret' '
	nasty_args "$TEST_TOOL" runner --run-id r0 --commit "$sha" --bucket $BUCKET \
		--code-key "$code_key" --run-prefix "git-train/demo/$sha/runs/r0/" \
		--region us-east-1 --script train.py --setup "pip install -r requirements.txt" \
		-- >cmd.sh &&
	sh -n cmd.sh &&
	for shell in dash bash; do
		! command -v $shell >/dev/null || $shell -n cmd.sh || return 1
	done &&
	python3 -c "import sys; open(sys.argv[1], \"rb\").read().decode(\"utf-8\")" cmd.sh &&
	test_grep "^set -e$" cmd.sh &&
	test_grep "runner started" cmd.sh &&
	test_grep "^runner_main \"\$@\"$" cmd.sh &&
	test_grep ! -F "$TEST_AWS_SECRET_ACCESS_KEY" cmd.sh &&
	test_grep ! -F "$TEST_AWS_ACCESS_KEY_ID" cmd.sh
'

# Another user of a shared TMPDIR plants a link where the runner's directory
# goes, or makes that directory first: the command refuses it (before
# writing anything), and makes a missing one with mode 700. A stand-in
# nohup keeps the runner itself from starting on this machine.
test_expect_success NOT_ROOT 'not root: the runner directory in TMPDIR is private; a planted link is refused' '
	"$TEST_TOOL" runner --run-id r9 --commit 0123 --bucket $BUCKET --code-key c \
		--run-prefix p/ --region us-east-1 --script train.py >r9.sh &&
	uid=$(as_user id -u) &&
	# the other user must reach it all, wherever the checkout is (a private
	# mktemp -d, a home directory): a directory of its own in /tmp
	w=$(mktemp -d /tmp/git-train-t0600.XXXXXX) &&
	chmod 755 "$w" &&
	cp r9.sh "$w/r9.sh" &&
	chmod 644 "$w/r9.sh" &&
	cd "$w" &&
	mkdir -p shared victim stubs &&
	chmod 1777 shared &&
	chmod 777 victim &&
	printf "#!/bin/sh\necho \"nohup \$*\" >>\"%s/nohup.log\"\n" "$PWD" >stubs/nohup &&
	chmod 755 stubs/nohup &&
	: >nohup.log && chmod 666 nohup.log &&
	dir=$PWD/shared/git-train-$uid &&
	ln -s "$PWD/victim" "$dir" &&
	test_expect_code 1 as_user env TMPDIR="$PWD/shared" PATH="$PWD/stubs:$PATH" \
		sh r9.sh >out 2>err &&
	echo "git-train: refusing the runner directory $dir: it is a symbolic link" >expect &&
	test_cmp expect err &&
	test ! -s out &&
	test -z "$(ls -A victim)" &&
	rm "$dir" &&
	as_user mkdir -m 777 "$dir" &&
	test_expect_code 1 as_user env TMPDIR="$PWD/shared" PATH="$PWD/stubs:$PATH" \
		sh r9.sh >out 2>err &&
	test_grep "^git-train: refusing the runner directory $dir: other users may use it (drwxrwxrwx)$" err &&
	rmdir "$dir" &&
	if test "$(id -u)" = 0; then
		mkdir -m 700 "$dir" &&
		test_expect_code 1 as_user env TMPDIR="$PWD/shared" PATH="$PWD/stubs:$PATH" \
			sh r9.sh >out 2>err &&
		test_grep "^git-train: refusing the runner directory $dir: it belongs to user 0$" err &&
		rmdir "$dir"
	fi &&
	test ! -s nohup.log &&
	as_user env TMPDIR="$PWD/shared" PATH="$PWD/stubs:$PATH" sh r9.sh >out 2>err &&
	test_grep "^git-train: runner started" out &&
	i=0 &&
	until test -s nohup.log; do
		i=$((i + 1)) && test $i -lt 100 && sleep 0.1 || return 1
	done &&
	test_grep "^nohup sh $dir/r9/start.sh $dir/r9$" nohup.log &&
	ls -ldn "$dir" >mode &&
	test_grep "^drwx------ *[0-9]* $uid " mode &&
	cd "$TRASH_DIRECTORY" &&
	rm -rf "$w"
'

# The runs go on at the same time, each instance's runner detached from
# SSM: the suite waits for the slowest, not for the sum. The main run (r1)
# is the one run of the suite whose runner uses the real AWS CLI; the
# others, like every other test's, use the fake's stand-in for `aws s3 cp`.
test_expect_success RUNNER 'the runner starts detached on each instance' '
	test_fake_settings "{\"aws_cli\": \"real\"}" &&
	launch main &&
	test_fake_settings "{\"aws_cli\": \"standin\"}" &&
	test_path_is_missing "$(test_instance_dir $(cat instance.main))/bin/aws" &&
	launch keep &&
	launch corrupt &&
	launch spot &&
	launch watch &&
	start_run r1 $(cat instance.main) -- --epochs 3 --hold go &&
	nasty_args start_run args $(cat instance.keep) --keep -- --args &&
	start_run exit3 $(cat instance.keep) --keep -- --fail 3 &&
	start_run setup $(cat instance.keep) --keep --setup "echo preparing; exit 4" -- &&
	start_run badmetrics $(cat instance.keep) --keep -- --metrics bad &&
	start_run term $(cat instance.keep) --keep -- --epochs 2 --hold never &&
	key=git-train/demo/0000/code.tar.gz &&
	start_run missing $(cat instance.keep) --keep &&
	key=other/code.tar.gz &&
	start_run wrong $(cat instance.keep) --keep --setup "touch setup-ran" &&
	key=bad/code.tar.gz &&
	start_run corrupt $(cat instance.corrupt) &&
	key= &&
	start_run spot $(cat instance.spot) -- --epochs 3 --hold never
'

test_expect_success RUNNER 'a run: live log, result with metrics, outputs, then shutdown' '
	id=$(cat instance.main) &&
	wait_object r1 log "^epoch 1/3 loss=0.5000$" &&
	test_must_fail s3_get "git-train/demo/$sha/runs/r1/result.json" early.json &&
	calls "$id" >calls &&
	test_grep ! shutdown calls &&
	>"$(test_instance_dir "$id")/var/lib/git-train/r1/work/go" &&
	wait_result r1 &&
	echo "succeeded 0 {\"epochs\": 3, \"loss\": 0.125}" >expect &&
	test_cmp expect r1.got &&
	cat >expect <<-EOF &&
	epoch 1/3 loss=0.5000
	epoch 2/3 loss=0.2500
	epoch 3/3 loss=0.1250
	run r1 of $sha
	EOF
	test_cmp expect r1.log &&
	s3_get "git-train/demo/$sha/runs/r1/outputs/model.txt" model.txt &&
	echo weights >expect &&
	test_cmp expect model.txt &&
	for object in log result.json outputs/model.txt; do
		test "$(sse "git-train/demo/$sha/runs/r1/$object")" = AES256 || return 1
	done &&
	test_fake_wait_instance "$id" terminated 60 &&
	calls "$id" >calls &&
	test_grep "^shutdown -h now$" calls
'

test_expect_success RUNNER 'the arguments reach the script byte for byte' '
	wait_result args &&
	echo "succeeded 0 {}" >expect &&
	test_cmp expect args.got &&
	s3_get "git-train/demo/$sha/runs/args/outputs/argv.json" argv.json &&
	nasty_args python3 -c "import json, os, sys
json.dump([os.fsencode(a).hex() for a in sys.argv[1:]], sys.stdout)" --args >expect &&
	echo >>expect &&
	echo >>argv.json &&
	test_cmp expect argv.json
'

test_expect_success RUNNER 'a script exiting 3, a failing setup: failed, with that exit' '
	wait_result exit3 &&
	echo "failed 3 {\"epochs\": 1, \"loss\": 0.5}" >expect &&
	test_cmp expect exit3.got &&
	test_grep "^epoch 1/1 loss=0.5000$" exit3.log &&
	wait_result setup &&
	echo "failed 4 setup {}" >expect &&
	test_cmp expect setup.got &&
	printf "preparing\ngit-train: setup failed (exit 4): echo preparing; exit 4\n" >expect &&
	test_cmp expect setup.log &&
	test_path_is_missing "$(test_instance_dir $(cat instance.keep))/var/lib/git-train/setup/work/outputs/argv.json"
'

test_expect_success RUNNER 'metrics.json not a flat object of numbers: no metrics, a log line' '
	wait_result badmetrics &&
	echo "succeeded 0 {}" >expect &&
	test_cmp expect badmetrics.got &&
	test_grep "^git-train: metrics.json is not a flat JSON object of numbers: no metrics recorded$" badmetrics.log
'

test_expect_success RUNNER 'the runner stopped by a signal (a shutdown): interrupted' '
	wait_object term log "^epoch 1/2 loss=0.5000$" &&
	pid=$(sed -n "s/^git-train: runner started (pid \([0-9]*\))$/\1/p" term.send) &&
	kill -TERM "$pid" &&
	wait_result term &&
	echo "interrupted 143 {}" >expect &&
	test_cmp expect term.got &&
	printf "epoch 1/2 loss=0.5000\ngit-train: interrupted: the runner received a signal\n" >expect &&
	test_cmp expect term.log &&
	child=$(cat "$(test_instance_dir $(cat instance.keep))/var/lib/git-train/term/work/child.pid") &&
	{ ps -o stat= -p "$child" >child.stat || :; } &&
	test_grep ! "^[^Z]" child.stat
'

test_expect_success RUNNER 'no archive, or another one (its comment forged): failed at code, nothing run' '
	wait_result missing &&
	echo "failed 127 code {}" >expect &&
	test_cmp expect missing.got &&
	test_grep "^git-train: cannot download s3://$BUCKET/git-train/demo/0000/code.tar.gz$" missing.log &&
	wait_result wrong &&
	echo "failed 126 code {}" >expect &&
	test_cmp expect wrong.got &&
	forged=$(sha256sum <other.tar.gz | cut -c 1-64) &&
	echo "git-train: the code archive s3://$BUCKET/other/code.tar.gz is not the code of commit $sha: its SHA-256 is $forged, not $code_sum; nothing of it was run" >expect &&
	test_cmp expect wrong.log &&
	dir="$(test_instance_dir $(cat instance.keep))/var/lib/git-train/wrong" &&
	test_path_is_missing "$dir/work/setup-ran" &&
	test_path_is_missing "$dir/work/pwned" &&
	test_path_is_missing "$dir/work/train.py"
'

test_expect_success RUNNER 'with --keep the instance stays up' '
	id=$(cat instance.keep) &&
	calls "$id" >calls &&
	test_grep ! shutdown calls &&
	test "$(test_fake_instance "$id" terminated)" = false
'

test_expect_success RUNNER 'a corrupt archive: failed, and the instance still shuts down' '
	id=$(cat instance.corrupt) &&
	wait_result corrupt &&
	echo "failed 126 code {}" >expect &&
	test_cmp expect corrupt.got &&
	test_grep "^git-train: the code archive s3://$BUCKET/bad/code.tar.gz is not the code of commit $sha: its SHA-256 is [0-9a-f]*, not $code_sum; nothing of it was run$" corrupt.log &&
	test_fake_wait_instance "$id" terminated 60 &&
	calls "$id" >calls &&
	test_grep "^shutdown -h now$" calls
'

test_expect_success RUNNER 'a spot interruption: preempted, with the log so far' '
	id=$(cat instance.spot) &&
	wait_object spot log "^epoch 1/3 loss=0.5000$" &&
	test_fake_interrupt "$id" &&
	wait_result spot &&
	echo "preempted 143 {}" >expect &&
	test_cmp expect spot.got &&
	printf "epoch 1/3 loss=0.5000\ngit-train: spot interruption notice: stopping the run\n" >expect &&
	test_cmp expect spot.log &&
	test_fake_wait_instance "$id" terminated 90
'

# The watchdog's stage, 2 s, is a minute on the instance; the fake's minute
# is 10 s. The heartbeat comes every second (--log-interval 5 at the tests'
# tick) plus what a beat costs: the log's upload by the AWS CLI stand-in and
# the shutdown call, which on a loaded machine (CI's sanitizer build with
# TEST_JOBS=4 on 2 cores) take seconds; with a 3-second minute the watchdog
# fired between two beats of a live runner, which then logged "interrupted:
# the runner received a signal". The tests still wait seconds, not minutes.
test_expect_success RUNNER 'the watchdog: with --keep, at the deadline when the run ends' '
	id=$(cat instance.watch) &&
	test_fake_settings "{\"shutdown_minute\": 10}" &&
	start_run wkeep $id --keep --log-interval 5 --idle-timeout 2 --deadline-in 3600 \
		-- --epochs 1 &&
	wait_result wkeep &&
	wait_calls $id 1 "shutdown --no-wall -h +60" &&
	calls $id >calls &&
	test_grep "^shutdown --no-wall -h +1$" calls &&
	test_grep ! "now" calls &&
	test "$(calls $id | tail -n 1)" = "shutdown --no-wall -h +60" &&
	test_fake_instance $id shutdown_in >left &&
	test_grep "^\(5[0-9][0-9]\|600\)\.[0-9]$" left &&
	test "$(test_fake_instance $id terminated)" = false
'

test_expect_success RUNNER 'the watchdog: moved on while the runner lives; its shell killed, the instance shuts down within the stage' '
	id=$(cat instance.watch) &&
	calls $id | wc -l >before &&
	start_run watch $id --log-interval 5 --idle-timeout 2 --deadline-in 3600 \
		-- --epochs 2 --hold never &&
	wait_object watch log "^epoch 1/2 loss=0.5000$" &&
	wait_calls $id $(($(cat before) + 5)) "shutdown --no-wall -h +1" &&
	test "$(test_fake_instance $id terminated)" = false &&
	pid=$(sed -n "s/^git-train: runner started (pid \([0-9]*\))$/\1/p" watch.send) &&
	kill -KILL "$pid" &&
	test_fake_wait_instance $id terminated 40 &&
	test "$(test_fake_instance $id ended_by)" = "scheduled shutdown" &&
	test_grep ! now "$(test_instance_dir $id)/calls.log" &&
	test_must_fail s3_get "git-train/demo/$sha/runs/watch/result.json" watch.result.json &&
	test "$(sse "git-train/demo/$sha/runs/watch/log")" = AES256
'

test_expect_success RUNNER 'no secret of the user on the instances or in S3' '
	test_moto_s3 "/$BUCKET?list-type=2" >list.xml &&
	test_xml Contents/Key <list.xml >keys &&
	while read key; do
		mkdir -p "s3-copy/$(dirname "$key")" &&
		s3_get "$key" "s3-copy/$key" || return 1
	done <keys &&
	test_path_is_file s3-copy/git-train/demo/$sha/runs/r1/result.json &&
	test_path_is_file "$(test_instance_dir "$(cat instance.main)")/var/lib/git-train/r1/start.sh" &&
	test_grep ! -r -F "$TEST_AWS_SECRET_ACCESS_KEY" s3-copy "$TRASH_DIRECTORY/.instances" &&
	test_grep ! -r -F "$TEST_AWS_ACCESS_KEY_ID" s3-copy "$TRASH_DIRECTORY/.instances"
'

test_done
