#!/bin/sh
test_description='git train local: the checkpoint contract, train.retryOnExit, git train resume, --resume-from'
. "$(dirname "$0")/test-lib.sh"

if test_have_prereq MOTO; then
	test_start_moto || exit 1
	test_set_prereq AWS
fi

# The run id git-train announced on stderr ("run <id>: <sha> <subject> (local)").
run_id_of() {
	sed -n 's/^run \([^ :]*\): .*/\1/p' "$1" | head -n 1
}

# The note lines of one run, on HEAD.
note_lines_of() {
	git notes --ref=train show HEAD | grep "^$1 "
}

# As t0300: git-train in its own process group, SIGINT at its default.
start_own_group() {
	exec python3 -c 'import os, signal, sys
signal.signal(signal.SIGINT, signal.SIG_DFL)
os.setsid()
os.execvp(sys.argv[1], sys.argv[1:])' "$@"
}

# A training that checkpoints each step (write, then rename), loads the
# newest checkpoint when it starts, and ends with a value that depends on
# every step: a resumed run must end with the uninterrupted run's value.
test_expect_success PYTHON 'setup: a training script that checkpoints' '
	cat >train.py <<-\PY &&
	import argparse, json, os, sys, time
	p = argparse.ArgumentParser()
	p.add_argument("--steps", type=int, default=6)
	p.add_argument("--pause-at", type=int, default=0)
	p.add_argument("--exit-once", type=int, default=0)
	p.add_argument("--exit-always", type=int, default=0)
	a = p.parse_args()
	ck = os.environ["GIT_TRAIN_CHECKPOINT_DIR"]
	attempt = int(os.environ["GIT_TRAIN_ATTEMPT"])
	step, x = 0, 1
	names = [n for n in os.listdir(ck) if n.startswith("ckpt-") and n.endswith(".json")]
	if names:
	    newest = max(names, key=lambda n: int(n[5:-5]))
	    with open(os.path.join(ck, newest)) as f:
	        d = json.load(f)
	    step, x = d["step"], d["x"]
	print(f"attempt {attempt} loaded step {step}", flush=True)
	if a.exit_always:
	    sys.exit(a.exit_always)
	while step < a.steps:
	    step += 1
	    x = (x * 31 + step) % 1000003
	    tmp = os.path.join(ck, ".tmp")
	    with open(tmp, "w") as f:
	        json.dump({"step": step, "x": x}, f)
	    os.rename(tmp, os.path.join(ck, f"ckpt-{step}.json"))
	    print(f"checkpoint {step} saved", flush=True)
	    if attempt == 1 and step == a.exit_once:
	        sys.exit(75)
	    if attempt == 1 and step == a.pause_at:
	        for _ in range(600):
	            time.sleep(0.05)
	        sys.exit(3)
	print(f"final step {step} x={x}", flush=True)
	PY
	git add train.py &&
	test_tick &&
	git commit -q -m "checkpointing training" &&
	git train local -- --steps 6 >plain.out 2>plain.err &&
	test_grep "^attempt 1 loaded step 0$" plain.out &&
	grep "^final step 6 " plain.out >expect-final &&
	id=$(run_id_of plain.err) &&
	echo "$id" >plain-id &&
	test_path_is_file .git/train/runs/$id/checkpoints/ckpt-6.json &&
	note_lines_of $id >line &&
	test_grep ! " attempts=" line
'

test_expect_success PYTHON 'SIGTERM mid-run, then git train resume: continues from the checkpoint' '
	start_own_group git-train local -- --steps 6 --pause-at 3 >term.out 2>term.err &
	pid=$! &&
	test_wait_for_text term.out "^checkpoint 3 saved$" &&
	id=$(run_id_of term.err) &&
	test_expect_code 1 git train resume $id 2>running.err &&
	test_grep "run $id is still running" running.err &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	test $rc = 130 &&
	echo "$id" >term-id &&
	note_lines_of $id >line &&
	test_grep " status=interrupted " line &&
	test_path_is_file .git/train/runs/$id/checkpoints/ckpt-3.json &&
	git train resume $id >resume.out 2>resume.err &&
	test_grep "^run $id: " resume.err &&
	test_grep "^attempt 2 loaded step 3$" resume.out &&
	test_grep "^git-train: --- attempt 2 (resumed) ---$" resume.out &&
	grep "^final step 6 " resume.out >final &&
	test_cmp expect-final final &&
	test_grep "^run $id succeeded in " resume.err &&
	note_lines_of $id >lines &&
	test_line_count = 1 lines &&
	test_grep " status=succeeded exit=0 " lines &&
	test_grep " attempts=2 " lines &&
	test_grep " lost=[0-9]*s" lines &&
	log=.git/train/runs/$id/log &&
	test_grep "^attempt 1 loaded step 0$" $log &&
	test_grep "^git-train: --- attempt 2 (resumed) ---$" $log &&
	test_grep "^attempt 2 loaded step 3$" $log &&
	test $(grep -c "^git-train: ---" $log) = 1 &&
	python3 - .git/train/runs/$id/result.json <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	a = r["attempts"]
	assert [t["attempt"] for t in a] == [1, 2], a
	assert [t["status"] for t in a] == ["interrupted", "succeeded"], a
	assert all(t["instance"] == "local" for t in a), a
	assert r["status"] == "succeeded" and r["lost"] >= 0, r
	assert abs(r["duration"] - sum(t["duration"] for t in a)) < 0.01, r
	assert r["start"] == a[0]["start"], r
	PY
'

test_expect_success PYTHON 'resume of a run that succeeded, or of no run, is refused' '
	id=$(cat term-id) &&
	test_expect_code 1 git train resume $id 2>err &&
	test_grep "run $id succeeded: there is nothing to resume" err &&
	note_lines_of $id >lines &&
	test_line_count = 1 lines &&
	test_expect_code 1 git train resume 20200101-000000-0000000-0000 2>err &&
	test_grep "no run .20200101-000000-0000000-0000. in this repository" err &&
	test_expect_code 129 git train resume 2>err &&
	test_grep "name the run to resume" err
'

test_expect_success PYTHON 'train.retryOnExit: a listed exit code runs the script again at once' '
	git -c train.retryOnExit="76, 75" \
		-c train.setup="echo setup: attempt \$GIT_TRAIN_ATTEMPT in \$GIT_TRAIN_CHECKPOINT_DIR" \
		train local -- --steps 4 --exit-once 2 >retry.out 2>retry.err &&
	id=$(run_id_of retry.err) &&
	test "$(grep -c "^setup: " retry.err)" = 1 &&
	test_grep "^setup: attempt 1 in $TRASH_DIRECTORY/.git/train/runs/$id/checkpoints$" retry.err &&
	test_grep "^attempt 2 loaded step 2$" retry.out &&
	test_grep "^final step 4 " retry.out &&
	log=.git/train/runs/$id/log &&
	test $(grep -c "^git-train: ---" $log) = 1 &&
	test_grep "^git-train: --- attempt 2 (train.retryOnExit) ---$" $log &&
	note_lines_of $id >lines &&
	test_line_count = 1 lines &&
	test_grep " status=succeeded .* attempts=2 " lines &&
	python3 - .git/train/runs/$id/result.json <<-\PY
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert [t["status"] for t in r["attempts"]] == ["retried", "succeeded"], r
	assert r["attempts"][0]["exit_code"] == 75, r
	PY
'

test_expect_success PYTHON 'an exit code not listed is a failure, not retried; nor is resume' '
	test_expect_code 1 git -c train.retryOnExit=75 train local -- --exit-always 1 >fail.out 2>fail.err &&
	id=$(run_id_of fail.err) &&
	test_grep ! "^git-train: ---" .git/train/runs/$id/log &&
	test $(grep -c "loaded step" fail.out) = 1 &&
	note_lines_of $id >lines &&
	test_grep " status=failed exit=1 " lines &&
	test_grep ! " attempts=" lines &&
	test_expect_code 1 git -c train.retryOnExit=75 train resume $id 2>err &&
	test_grep "run $id failed (exit 1): its script.s own error" err
'

test_expect_success PYTHON 'retries stop at train.maxInterruptions' '
	test_expect_code 75 git -c train.retryOnExit=75 -c train.maxInterruptions=2 \
		train local -- --exit-always 75 >max.out 2>max.err &&
	id=$(run_id_of max.err) &&
	test $(grep -c "loaded step" max.out) = 3 &&
	note_lines_of $id >lines &&
	test_grep " status=failed exit=75 .* attempts=3 " lines &&
	test_expect_code 75 git -c train.retryOnExit=75 -c train.maxInterruptions=0 \
		train local -- --exit-always 75 >max0.out 2>max0.err &&
	test $(grep -c "loaded step" max0.out) = 1
'

test_expect_success PYTHON 'a bad train.retryOnExit entry is refused before anything runs' '
	ls .git/train/runs >before &&
	for bad in 0 256 abc -1 7.5 0x4b; do
		test_expect_code 128 git -c train.retryOnExit="75,$bad" train local >bad.out 2>bad.err &&
		test_grep "^error: bad config value for .train.retryOnExit.: .$bad. is not an exit code from 1 to 255$" bad.err &&
		test ! -s bad.out || return 1
	done &&
	test_expect_code 128 git -c train.retryOnExit=75 -c train.retryOnExit=x train local 2>bad.err &&
	test_grep "train.retryOnExit.: .x. is not an exit code" bad.err &&
	test_expect_code 128 git -c train.maxInterruptions=-1 train local 2>bad.err &&
	test_grep "^error: bad config value .-1. for .train.maxInterruptions.: use a number of attempts from 0 to 100$" bad.err &&
	test_expect_code 128 git -c train.checkpointInterval=often train local 2>bad.err &&
	test_grep "^error: bad config value .often. for .train.checkpointInterval." bad.err &&
	ls .git/train/runs >after &&
	test_cmp before after
'

test_expect_success PYTHON '--resume-from a local run: its checkpoints, resumed_from= in the note' '
	from=$(cat term-id) &&
	git train local --resume-from $from -- --steps 8 >from.out 2>from.err &&
	id=$(run_id_of from.err) &&
	test "$id" != "$from" &&
	test_grep "^attempt 1 loaded step 6$" from.out &&
	test_grep "^final step 8 " from.out &&
	test_grep "checkpoints of run $from: 6 files restored" from.err &&
	note_lines_of $id >lines &&
	test_grep " resumed_from=$from" lines &&
	test_path_is_file .git/train/runs/$from/checkpoints/ckpt-6.json &&
	test_path_is_missing .git/train/runs/$from/checkpoints/ckpt-7.json &&
	test_expect_code 128 git train local --resume-from 20200101-000000-0000000-0000 >out 2>err &&
	test_grep "no run .20200101-000000-0000000-0000. in this repository" err &&
	test ! -s out
'

test_expect_success AWS,PYTHON '--resume-from a run on EC2: its checkpoints/ in S3' '
	git config train.bucket ckpt-bucket &&
	test_moto_s3 /ckpt-bucket -X PUT &&
	c=$(git rev-parse HEAD) &&
	id=20261129-080100-$(git rev-parse --short=7 HEAD)-0001 &&
	pfx=git-train/$(test_repo_id)/$c/runs/$id/ &&
	echo "{\"run_id\": \"$id\", \"commit\": \"$c\", \"instance_type\": \"t3.micro\"}" >run.json &&
	git train aws-call s3 --method PUT --path "/ckpt-bucket/${pfx}run.json" --upload-file run.json >/dev/null &&
	echo "{\"step\": 5, \"x\": 42}" >ck.json &&
	git train aws-call s3 --method PUT --path "/ckpt-bucket/${pfx}checkpoints/ckpt-5.json" --upload-file ck.json >/dev/null &&
	git train local --resume-from $id -- --steps 5 >s3.out 2>s3.err &&
	test_grep "^attempt 1 loaded step 5$" s3.out &&
	test_grep "^final step 5 x=42$" s3.out &&
	new=$(run_id_of s3.err) &&
	note_lines_of $new >lines &&
	test_grep " resumed_from=$id" lines &&
	# a name that would climb out of the checkpoint directory: nothing runs
	git train aws-call s3 --method PUT --path "/ckpt-bucket/${pfx}checkpoints/a/../../../evil.json" --upload-file ck.json >/dev/null &&
	ls .git/train/runs >before &&
	test_must_fail git train local --resume-from $id -- --steps 5 >esc.out 2>esc.err &&
	test_grep "checkpoint whose name is not a safe file name (.a/../../../evil.json. would be written outside" esc.err &&
	test_grep ! "^run " esc.err &&
	test ! -s esc.out &&
	ls .git/train/runs >after &&
	test_cmp before after &&
	test_path_is_missing .git/train/runs/evil.json &&
	test_path_is_missing .git/train/evil.json
'

test_done
