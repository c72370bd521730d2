#!/bin/sh
# The runner's checkpoints and attempts (issue 13), on one instance of the
# fake kept up (--keep) for several runs at once: GIT_TRAIN_CHECKPOINT_DIR
# synced to S3 while the script runs (complete files only) and at the end,
# restored from another run (--resume-from) or at a later attempt, the
# script run again in place for a train.retryOnExit code while
# train.maxInterruptions allows, attempts.json and the result's attempts
# and lost time, a run continued on another instance (ATTEMPT > 1: its log
# and attempts downloaded and continued), and the spot request's cancel
# (at the end; a systemd timer before the watchdog's shutdown) and
# per-boot hook.
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
SQ="'"

# s3_get <key> <file>: an object of the bucket, from moto, signed by curl
s3_get() {
	curl -sf -o "$2" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$MOTO_URL/$BUCKET/$1"
}

# s3_put <key> <file>: the key as it is (curl would resolve a "..")
s3_put() {
	curl -sf --path-as-is -o /dev/null -T "$2" --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$MOTO_URL/$BUCKET/$1"
}

# s3_keys <prefix>: the keys under the prefix, relative to it, sorted
s3_keys() {
	test_moto_s3 "/$BUCKET?list-type=2&prefix=$1" | test_xml Contents/Key |
		sed "s|^$1||" | sort
}

# sse <key>: the server-side encryption S3 says the object has
sse() {
	curl -sf -I --aws-sigv4 "aws:amz:us-east-1:s3" \
		--user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" "$MOTO_URL/$BUCKET/$1" |
		tr -d "\r" | sed -n "s/^x-amz-server-side-encryption: //Ip"
}

# start_run <run-id> [<test-tool runner options>] [-- <args>]: the runner on
# the instance, its SSM command ended (not the run)
start_run() {
	run=$1
	shift
	"$TEST_TOOL" runner --run-id "$run" --commit "$sha" --bucket $BUCKET \
		--code-key "$code_key" --code-sha256 "$code_sum" --run-prefix "$runs/$run/" \
		--region us-east-1 --script ckpt.py --log-interval 1 --keep \
		--instance "$id" "$@" >"$run.send" 2>&1 &&
	test_grep "^git-train: runner started (pid [0-9]*)$" "$run.send"
}

# wait_object <run-id> <name> <text>: until the run's object says text (180 s)
wait_object() {
	i=0
	until s3_get "$runs/$1/$2" "$1.$2" && grep -q "$3" "$1.$2"; do
		i=$((i + 1))
		if test $i -gt 900; then
			echo >&2 "no '$3' in s3://$BUCKET/$runs/$1/$2 after 180 s"
			return 1
		fi
		sleep 0.2
	done
}

# wait_result <run-id>: result.json and the log; "status exit_code [stage]"
# and the attempts as "n status exit_code" lines in <run>.got
wait_result() {
	wait_object "$1" result.json '"status"' &&
	s3_get "$runs/$1/log" "$1.log" &&
	python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
print(" ".join([r["status"], str(r["exit_code"])] + ([r["stage"]] if "stage" in r else [])))
for a in r.get("attempts", []):
    print(a["attempt"], a["status"], a["exit_code"])' "$1.result.json" >"$1.got"
}

test_expect_success RUNNER 'setup: a script that checkpoints, its code in S3, an instance' '
	cat >ckpt.py <<-\PY &&
	import os, signal, sys, time
	ck = os.environ["GIT_TRAIN_CHECKPOINT_DIR"]
	attempt = int(os.environ["GIT_TRAIN_ATTEMPT"])
	opts = dict(zip(sys.argv[1::2], sys.argv[2::2]))
	found = sorted(os.listdir(ck))
	print("attempt %d: found %s" % (attempt, " ".join(found) or "nothing"))
	step = max([int(f[5:-3]) for f in found if f.startswith("step-") and f.endswith(".pt")] or [0])
	print(f"loaded step {step}")
	def save(n):
	    tmp = os.path.join(ck, f"step-{n}.pt.tmp")
	    with open(tmp, "w") as f:
	        f.write(f"{n}\n")
	    os.rename(tmp, os.path.join(ck, f"step-{n}.pt"))
	save(step + 1)
	def on_term(signum, frame):
	    time.sleep(0.5)  # a checkpoint that takes its time
	    save(step + 2)
	    print(f"saved step {step + 2} at SIGTERM")
	    sys.exit(143)
	signal.signal(signal.SIGTERM, on_term)
	while opts.get("--mode") == "wait" and attempt < int(opts.get("--until", 1)):
	    time.sleep(0.1)
	if opts.get("--mode") == "hold":
	    for name in ("partial.tmp", ".hidden", "backup~"):
	        with open(os.path.join(ck, name), "w") as f:
	            f.write("incomplete\n")
	    with open(os.path.join(ck, "growing.bin"), "w") as g:
	        while not os.path.exists("go"):
	            g.write("x")
	            g.flush()
	            time.sleep(0.1)
	    sys.exit(0)
	sys.exit(75 if attempt < int(opts.get("--until", 1)) else int(opts.get("--exit", 0)))
	PY
	git add ckpt.py &&
	test_tick &&
	git commit -q -m "a script that checkpoints" &&
	test_moto_s3 /$BUCKET -X PUT &&
	git config train.bucket $BUCKET &&
	git config train.repo demo &&
	git train upload >/dev/null &&
	sha=$(git rev-parse HEAD) &&
	s3_get "git-train/demo/$sha/code.tar.gz" code.tar.gz &&
	sha256sum <code.tar.gz | cut -c 1-64 >code.sha256 &&
	git train aws-call ssm GetParameter \
		Name=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 |
		python3 -c "import json, sys; print(json.load(sys.stdin)[\"Parameter\"][\"Value\"])" >ami &&
	test_fake_settings "{\"ready_delay\": 1, \"invocation_delay\": 1}" &&
	git train aws-call ec2 RunInstances ImageId="$(cat ami)" InstanceType=t3.micro \
		MinCount=1 MaxCount=1 >run-instances &&
	sed -n "s|.*<instanceId>\(i-[0-9a-f]*\)</instanceId>.*|\1|p" run-instances |
		sed -n 1p >instance &&
	test -s instance
'
sha=$(git rev-parse -q --verify HEAD)
runs=git-train/demo/$sha/runs
code_key=git-train/demo/$sha/code.tar.gz
code_sum=$(cat code.sha256 2>/dev/null)
id=$(cat instance 2>/dev/null)
sandbox=$(test_instance_dir "$id")

# what a run continued elsewhere finds in S3: the log and attempts.json of
# the instance before (with lines no runner writes, which are dropped), and
# a checkpoint
test_expect_success RUNNER 'the runs start: periodic sync, retries, a run continued elsewhere' '
	printf "old output\n" >old.log &&
	s3_put "$runs/relaunch/log" old.log &&
	cat >old.json <<-\EOF &&
	{"run_id": "relaunch", "attempts": [
	{"attempt": 1, "instance": "i-0123456789abcdef0", "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:10:00Z", "duration": 600, "status": "preempted", "exit_code": 143},
	{"attempt": 1, "instance": "../../etc/passwd", "start": "2026-01-01T00:00:00Z", "status": "running", "exit_code": -1},
	{"attempt": 3, "instance": "i-0123456789abcdef0", "start": "2026-01-01T00:00:00Z", "status": "running", "exit_code": -1},
	{"attempt": 1, "instance": "i-0123456789abcdef0", "start": "2026-01-01T00:00:00Z", "status": "done; rm -rf /", "exit_code": 0}
	]}
	EOF
	s3_put "$runs/relaunch/attempts.json" old.json &&
	echo 7 >step-7.pt &&
	s3_put "$runs/relaunch/checkpoints/step-7.pt" step-7.pt &&
	s3_put "hostile/ck/a/../../../evil.pt" step-7.pt &&
	start_run hold --checkpoint-interval 2 --spot-request sir-0123456789abcdef \
		--idle-timeout 120 -- --mode hold &&
	start_run retry --retry-on-exit "3,75" --max-interruptions 3 \
		--setup "echo setup >>setup.count" -- --until 3 &&
	start_run noretry --retry-on-exit 75 --max-interruptions 3 -- --exit 1 &&
	start_run limit --retry-on-exit 75 --max-interruptions 1 -- --until 9 &&
	start_run relaunch --attempt 2 --max-interruptions 3 &&
	start_run hostile --resume-from-key hostile/ck/ &&
	# an instance that went down without a word (its attempt still running,
	# its heartbeat last seen 100 s in): a boot from the same volume
	crash="$sandbox/var/lib/git-train/crash" &&
	mkdir -p "$crash" &&
	echo "1 i-0aaaaaaaaaaaaaaaa 2026-01-01T00:00:00Z 1767225600 - - running -1" >"$crash/attempts" &&
	echo 1767225700 >"$crash/alive" &&
	start_run crash --max-interruptions 2
'

test_expect_success RUNNER 'complete files are synced while the script runs; .tmp, .part, ~, dot-files and a file being written are not' '
	i=0 &&
	until s3_keys "$runs/hold/checkpoints/" >keys && test -s keys; do
		i=$((i + 1)) && test $i -lt 600 && sleep 0.2 || return 1
	done &&
	echo step-1.pt >expect &&
	test_cmp expect keys &&
	test "$(sse "$runs/hold/checkpoints/step-1.pt")" = AES256 &&
	# the per-boot hook, while the run lasts
	hook="$sandbox/var/lib/cloud/scripts/per-boot/git-train-hold.sh" &&
	test_path_is_file "$hook" &&
	sh -n "$hook" &&
	dir="$sandbox/var/lib/git-train/hold" &&
	test_grep "^shutdown --no-wall -h +2 " "$hook" &&
	line=$(sed -n "s/^	setsid nohup sh \(.*\) <\/dev\/null .*/\1/p" "$hook") &&
	eval "set -- $line" &&
	test "$1" = "$dir/start.sh" &&
	test "$2" = "$dir" &&
	>"$dir/work/go" &&
	wait_result hold &&
	echo "succeeded 0" >expect &&
	test_cmp expect hold.got &&
	# at the end the script has ended: what it wrote last is complete
	s3_keys "$runs/hold/checkpoints/" >keys &&
	printf "growing.bin\nstep-1.pt\n" >expect &&
	test_cmp expect keys
'

test_expect_success RUNNER 'the spot request: a systemd timer cancels it before the watchdog; the run ended, no hook' '
	calls=$(cat "$sandbox/calls.log") &&
	dir=/var/lib/git-train/hold &&
	printf "%s\n" "$calls" | grep "git-train-cancel-hold" >timer &&
	# two units take turns (-a, -b): the new one starts before the shutdown moves
	test_grep "^systemd-run --unit=git-train-cancel-hold-a --on-active=90 sh .*$dir/cancel.sh$" timer &&
	grep -A1 "^systemd-run --unit=git-train-cancel-hold-a " "$sandbox/calls.log" >order &&
	test_grep "^shutdown --no-wall -h +2$" order &&
	test_grep "cancel-spot-instance-requests --spot-instance-request-ids .sir-0123456789abcdef.$" \
		"$sandbox$dir/cancel.sh" &&
	# no such request: the failure is logged, and the run still ends
	test_grep "^git-train: cannot cancel the spot request sir-0123456789abcdef: " hold.log &&
	test_path_is_missing "$hook" &&
	test_path_is_file "$sandbox$dir/ended"
'

test_expect_success RUNNER 'train.retryOnExit: the script again in place, attempt after attempt; attempts.json and the result' '
	wait_result retry &&
	cat >expect <<-\EOF &&
	succeeded 0
	1 retried 75
	2 retried 75
	3 succeeded 0
	EOF
	test_cmp expect retry.got &&
	sed -e "s/(i-[0-9a-f]*,/(ID,/" retry.log >log &&
	cat >expect <<-\EOF &&
	attempt 1: found nothing
	loaded step 0
	git-train: --- attempt 2 of 4 (ID, the script exited 75, in train.retryOnExit): running it again ---
	attempt 2: found step-1.pt
	loaded step 1
	git-train: --- attempt 3 of 4 (ID, the script exited 75, in train.retryOnExit): running it again ---
	attempt 3: found step-1.pt step-2.pt
	loaded step 2
	EOF
	test_cmp expect log &&
	echo setup >expect &&
	test_cmp expect "$sandbox/var/lib/git-train/retry/work/setup.count" &&
	s3_keys "$runs/retry/checkpoints/" >keys &&
	printf "step-1.pt\nstep-2.pt\nstep-3.pt\n" >expect &&
	test_cmp expect keys &&
	s3_get "$runs/retry/attempts.json" attempts.json &&
	python3 -c "
import json, sys
a, r = json.load(open(\"attempts.json\")), json.load(open(\"retry.result.json\"))
assert a[\"run_id\"] == \"retry\" and a[\"attempts\"] == r[\"attempts\"], (a, r)
ids = {x[\"instance\"] for x in a[\"attempts\"]}
assert ids == {sys.argv[1]}, ids
assert r[\"start\"] == a[\"attempts\"][0][\"start\"], r
assert r[\"duration\"] == sum(x[\"duration\"] for x in a[\"attempts\"]), r
assert r[\"lost\"] >= 0 and all(x[\"start\"] <= x[\"end\"] for x in a[\"attempts\"]), r
" "$id"
'

test_expect_success RUNNER 'an exit code not in train.retryOnExit fails the run; the limit ends the retries' '
	wait_result noretry &&
	echo "failed 1" >expect &&
	test_cmp expect noretry.got &&
	test_grep ! "git-train: ---" noretry.log &&
	test_grep ! "\"attempts\"" noretry.result.json &&
	wait_result limit &&
	printf "failed 75\n1 retried 75\n2 failed 75\n" >expect &&
	test_cmp expect limit.got &&
	test_grep "^git-train: the script exited 75 (train.retryOnExit), but train.maxInterruptions (1) was reached: the run fails$" limit.log
'

test_expect_success RUNNER 'a run continued elsewhere: its log and attempts go on, its checkpoints restored' '
	wait_result relaunch &&
	printf "succeeded 0\n1 preempted 143\n2 succeeded 0\n" >expect &&
	test_cmp expect relaunch.got &&
	sed -e "s/(i-[0-9a-f]*,/(ID,/" -e "s/after [0-9hms]* without/after SPAN without/" \
		relaunch.log >log &&
	cat >expect <<-EOF &&
	old output
	git-train: --- attempt 2 of 4 (ID, after SPAN without capacity): restoring checkpoints ---
	git-train: checkpoints: 1 file(s) restored from s3://$BUCKET/$runs/relaunch/checkpoints/
	attempt 2: found step-7.pt
	loaded step 7
	EOF
	test_cmp expect log &&
	python3 -c "
import json, sys
r = json.load(open(\"relaunch.result.json\"))
a = r[\"attempts\"]
assert a[0][\"instance\"] == \"i-0123456789abcdef0\" and a[0][\"duration\"] == 600, a
assert a[1][\"instance\"] == sys.argv[1], a
assert r[\"start\"] == \"2026-01-01T00:00:00Z\", r
assert r[\"duration\"] == 600 + a[1][\"duration\"], r
assert r[\"lost\"] > 3600, r
" "$id" &&
	s3_keys "$runs/relaunch/checkpoints/" >keys &&
	printf "step-7.pt\nstep-8.pt\n" >expect &&
	test_cmp expect keys
'

test_expect_success RUNNER 'a start after an instance went down mid-attempt: that attempt interrupted at its last heartbeat, the next one runs' '
	wait_result crash &&
	printf "succeeded 0\n1 interrupted -1\n2 succeeded 0\n" >expect &&
	test_cmp expect crash.got &&
	sed -e "s/(i-[0-9a-f]*,/(ID,/" -e "s/after [0-9hms]* down/after SPAN down/" crash.log >log &&
	cat >expect <<-EOF &&
	git-train: --- attempt 2 of 3 (ID, after SPAN down): restoring checkpoints ---
	git-train: checkpoints: none at s3://$BUCKET/$runs/crash/checkpoints/ yet
	attempt 2: found nothing
	loaded step 0
	EOF
	test_cmp expect log &&
	python3 -c "
import json
a = json.load(open(\"crash.result.json\"))[\"attempts\"][0]
assert a[\"end\"] == \"2026-01-01T00:01:40Z\" and a[\"duration\"] == 100, a
assert a[\"instance\"] == \"i-0aaaaaaaaaaaaaaaa\", a
"
'

test_expect_success RUNNER 'a checkpoint key that would land outside the directory: refused, the script never runs' '
	wait_result hostile &&
	echo "failed 1 setup" >expect &&
	test_cmp expect hostile.got &&
	echo "git-train: refusing the checkpoints at s3://$BUCKET/hostile/ck/: the object key '\''hostile/ck/a/../../../evil.pt'\'' would land outside the checkpoint directory" >expect &&
	test_cmp expect hostile.log &&
	test_path_is_missing "$sandbox/var/lib/git-train/evil.pt" &&
	test_path_is_missing "$sandbox/var/lib/git-train/hostile/evil.pt"
'

test_expect_success RUNNER '--resume-from: another run'\''s checkpoints at attempt 1' '
	start_run resume --resume-from-key "$runs/retry/checkpoints/" &&
	wait_result resume &&
	echo "succeeded 0" >expect &&
	test_cmp expect resume.got &&
	cat >expect <<-EOF &&
	git-train: checkpoints: 3 file(s) restored from s3://$BUCKET/$runs/retry/checkpoints/
	attempt 1: found step-1.pt step-2.pt step-3.pt
	loaded step 3
	EOF
	test_cmp expect resume.log &&
	s3_keys "$runs/resume/checkpoints/" >keys &&
	printf "step-1.pt\nstep-2.pt\nstep-3.pt\nstep-4.pt\n" >expect &&
	test_cmp expect keys
'

# A persistent spot request that stops its instance: the script saves a
# checkpoint at SIGTERM, which the runner syncs once the script has ended,
# saves the attempt, and the next boot goes on (the per-boot hook); at
# the second notice train.maxInterruptions (1) is reached: the run ends
# preempted, its request cancelled, its instance terminated.
test_expect_success RUNNER 'a stop notice: the run goes on at the next boot; at the limit it ends, its request cancelled' '
	test_fake_settings "{\"interrupt_grace\": 10}" &&
	o=InstanceMarketOptions &&
	git train aws-call ec2 RunInstances ImageId="$(cat ami)" InstanceType=t3.micro \
		MinCount=1 MaxCount=1 $o.MarketType=spot $o.SpotOptions.SpotInstanceType=persistent \
		$o.SpotOptions.InstanceInterruptionBehavior=stop \
		$o.SpotOptions.ValidUntil=2030-01-01T00:00:00Z >spot.xml &&
	spot=$(sed -n "s|.*<instanceId>\(i-[0-9a-f]*\)</instanceId>.*|\1|p" spot.xml | sed -n 1p) &&
	sir=$(sed -n "s|.*<spotInstanceRequestId>\(sir-[0-9a-z]*\)</spotInstanceRequestId>.*|\1|p" spot.xml | sed -n 1p) &&
	test -n "$sir" &&
	keep_id=$id &&
	id=$spot &&
	"$TEST_TOOL" runner --run-id spot --commit "$sha" --bucket $BUCKET \
		--code-key "$code_key" --code-sha256 "$code_sum" --run-prefix "$runs/spot/" \
		--region us-east-1 --script ckpt.py --log-interval 1 --idle-timeout 120 \
		--checkpoint-interval 1000 --spot-request "$sir" --max-interruptions 1 \
		--instance "$spot" -- --mode wait --until 3 >spot.send 2>&1 &&
	id=$keep_id &&
	test_grep "^git-train: runner started" spot.send &&
	wait_object spot log "^loaded step 0$" &&
	test_fake_interrupt "$spot" 1 &&
	wait_object spot log "^attempt 2: found step-1.pt step-2.pt$" &&
	s3_keys "$runs/spot/checkpoints/" >keys &&
	printf "step-1.pt\nstep-2.pt\n" >expect &&
	test_cmp expect keys &&
	test_path_is_file "$(test_instance_dir $spot)/var/lib/cloud/scripts/per-boot/git-train-spot.sh" &&
	test_fake_interrupt "$spot" &&
	wait_result spot &&
	printf "preempted 143\n1 preempted 143\n2 preempted 143\n" >expect &&
	test_cmp expect spot.got &&
	sed -e "s/(i-[0-9a-f]*,/(ID,/" -e "s/after [0-9hms]* without/after SPAN without/" spot.log >log &&
	cat >expect <<-EOF &&
	attempt 1: found nothing
	loaded step 0
	git-train: spot interruption notice: stopping the run
	saved step 2 at SIGTERM
	git-train: spot interruption (stop): attempt 1 saved; the run goes on from its checkpoints when the instance starts again
	git-train: --- attempt 2 of 2 (ID, after SPAN without capacity): restoring checkpoints ---
	git-train: checkpoints: 2 file(s) kept on this instance${SQ}s volume
	attempt 2: found step-1.pt step-2.pt
	loaded step 2
	git-train: spot interruption notice: stopping the run
	saved step 4 at SIGTERM
	git-train: train.maxInterruptions (1) was reached: the run ends preempted
	git-train: spot request $sir cancelled
	EOF
	test_cmp expect log &&
	s3_keys "$runs/spot/checkpoints/" >keys &&
	printf "step-1.pt\nstep-2.pt\nstep-3.pt\nstep-4.pt\n" >expect &&
	test_cmp expect keys &&
	python3 -c "
import json
r = json.load(open(\"spot.result.json\"))
a = r[\"attempts\"]
assert a[0][\"instance\"] == a[1][\"instance\"], a
assert r[\"lost\"] >= 1 and r[\"duration\"] == a[0][\"duration\"] + a[1][\"duration\"], r
" &&
	test_fake_wait_instance "$spot" terminated 60 &&
	test "$(test_fake_spot_request $sir state)" = cancelled &&
	test_path_is_missing "$(test_instance_dir $spot)/var/lib/cloud/scripts/per-boot/git-train-spot.sh"
'

test_expect_success RUNNER 'the kept instance ended: nothing left' '
	git train aws-call ec2 TerminateInstances InstanceId.1="$id" >/dev/null &&
	test_fake_wait_instance "$id" terminated 30 &&
	test_nothing_left
'

test_done
