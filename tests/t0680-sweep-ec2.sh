#!/bin/sh
# git train <type> --sweep on EC2 (the fake): the runs of one commit, at most
# --parallel K launched at once (a run counts until it ends), the code
# uploaded once for all of them, each run noted with its sweep and
# parameters; Ctrl-C starts no new run, leaves the started ones going to
# their end, and leaves nothing behind.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

# sweep_id_of FILE: the sweep id in the summary
sweep_id_of() {
	sed -n 's/^sweep \(sweep-[^:]*\): .*/\1/p' "$1"
}

# started: how many runs' scripts have started (each leaves started-<lr>-<bs>)
started() {
	ls sync | grep -c "^started-" || :
}

# wait_started <n>: until n scripts have started (60 s)
wait_started() {
	i=0
	until test "$(started)" -ge "$1"; do
		i=$((i + 1))
		test $i -le 600 || { echo >&2 "only $(started) runs started"; cat err; return 1; }
		sleep 0.1
	done
}

# code_puts: the uploads (PUT or multipart POST) of a code.tar.gz the fake saw
code_puts() {
	test_fake_query /__fake/counts '
print(sum(n for k, n in d["requests"].items()
          if k.split(" ")[0] in ("PUT", "POST") and "code.tar.gz" in k))'
}

# sweep_lines <id>: the note lines of the sweep on HEAD
sweep_lines() {
	git notes --ref=train show HEAD | grep " sweep=$1\( \|$\)"
}

# all_ended: every instance the fake launched has terminated (30 s)
all_ended() {
	for iid in $(test_fake_query /__fake/instances 'print("\n".join(d))'); do
		test_fake_wait_instance "$iid" terminated 30 || return 1
	done
}

test_expect_success EC2 'setup: a bucket, an instance profile, a script that waits for its turn' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	cat >sweep.py <<-\PY &&
	import json, os, sys, time
	a = dict(zip(sys.argv[1::2], sys.argv[2::2]))
	lr, bs, sync = a["--lr"], a["--bs"], a["--sync"]
	open(os.path.join(sync, f"started-{lr}-{bs}"), "w").close()
	print(f"lr={lr} bs={bs}", flush=True)
	# the test lets each run end: go-<lr>-<bs>, or go for all
	for _ in range(600):
	    if any(os.path.exists(os.path.join(sync, g)) for g in (f"go-{lr}-{bs}", "go")):
	        break
	    time.sleep(0.1)
	with open("metrics.json", "w") as f:
	    json.dump({"loss": float(lr) * 10 + float(bs)}, f)
	PY
	git add sweep.py &&
	test_tick &&
	git commit -q -m "sweep script" &&
	git config train.script sweep.py &&
	mkdir sync
'

test_expect_success EC2 'a 2 x 2 sweep with --parallel 2: never more than 2 launched, the code uploaded once' '
	test_fake_ctl reset || exit 1
	# alone, not at the end of an && list, so that $! is git-train itself
	git-train t3.micro --sweep lr=0.1,0.01 --sweep bs=1,2 --parallel 2 --spot-timeout=5s \
		-- --lr {lr} --bs {bs} --sync "$PWD/sync" >out 2>err &
	pid=$! &&
	wait_started 2 &&
	sleep 1 &&
	# two runs going: no third is launched
	test "$(started)" = 2 &&
	test "$(test_fake_count "ec2 RunInstances")" = 2 &&
	first=$(ls sync | sed -n "s/^started-//p" | head -n 1) &&
	touch sync/go-$first &&
	wait_started 3 &&
	test "$(test_fake_count "ec2 RunInstances")" = 3 &&
	touch sync/go &&
	wait $pid &&
	id=$(sweep_id_of out) &&
	test_grep "^sweep $id: 4 runs, 4 succeeded$" out &&
	test_grep "at most 2 at once" err &&
	test "$(test_fake_count "ec2 RunInstances")" = 4 &&
	test "$(code_puts)" = 1 &&
	test "$(grep -c "uploaded once for the sweep" err)" = 4 &&
	sweep_lines "$id" >lines &&
	test_line_count = 4 lines &&
	for p in "lr=0.1 param.bs=1" "lr=0.1 param.bs=2" "lr=0.01 param.bs=1" "lr=0.01 param.bs=2"; do
		grep " status=succeeded .* param.$p\( \|$\)" lines || exit 1
	done &&
	git train compare --sweep "$id" --metric loss >cmp &&
	grep "^[0-9]\{8\}-" cmp | awk "{ print \$2, \$3 }" >actual &&
	printf "%s\n" "0.01 1" "0.1 1" "0.01 2" "0.1 2" >expect &&
	test_cmp expect actual &&
	git train status >status &&
	test_grep "^sweep $id: 4 runs, 4 succeeded, best loss=1.1 (" status &&
	all_ended &&
	test_nothing_left
'

test_expect_success EC2 'Ctrl-C: no new run, the started ones go on to their end, nothing left' '
	test_fake_ctl reset && rm -f sync/* || exit 1
	git-train t3.micro --sweep lr=1,2,3 --sweep bs=5 --parallel 2 --spot-timeout=5s \
		-- --lr {lr} --bs {bs} --sync "$PWD/sync" >out 2>err &
	pid=$! &&
	wait_started 2 &&
	kill -INT $pid &&
	test_expect_code 130 wait $pid &&
	id=$(sweep_id_of out) &&
	test_grep "^sweep $id: 3 runs, 2 interrupted, 1 not started$" out &&
	test "$(grep -c "started, goes on$" out)" = 2 &&
	test_grep "not started$" out &&
	test_grep "^hint: 2 runs go on: .git train status. shows them" err &&
	sleep 1 &&
	test "$(test_fake_count "ec2 RunInstances")" = 2 &&
	test "$(started)" = 2 &&
	# the started runs are still going
	git train status >status &&
	test_grep "^sweep $id: 2 runs, 2 running$" status &&
	touch sync/go &&
	all_ended &&
	git train status >status &&
	test_grep "^sweep $id: 2 runs, 2 succeeded" status &&
	test_nothing_left
'

test_done
