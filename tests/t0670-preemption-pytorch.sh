#!/bin/sh
test_description='spot preemption with a real PyTorch training: resumed from its checkpoint, the same result'
# A PyTorch script (Debian's python3-torch, CPU) trains a small model for N
# steps, saves a checkpoint every 5 steps into $GIT_TRAIN_CHECKPOINT_DIR
# (write, then rename) and starts from the newest one there; the data of a
# step depends on the step alone, so an interrupted run must end with the
# same loss as an uninterrupted one, which this machine computes first.
# Two runs on the fake: one interrupted with no client attached, which the
# fake's "EC2" restarts in place (the runner comes back by itself at the
# boot); one followed by --wait whose zone never gets capacity back, which
# the client moves to another zone. After each: nothing left, no request.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

B=train-bucket

instance_of() {
	sed -n "s/.* instance \(i-[0-9a-f]*\) in .*/\1/p" "$1" | head -n 1
}

# the fake's sandbox log of a run on an instance: runner_log <instance> <run>
runner_log() {
	test_fake_query /__fake/instances 'print(d[sys.argv[1]]["sandbox"])' "$1" |
		sed "s|\$|/var/lib/git-train/$2/log|"
}

# final_loss <file>: the loss of its "done: N steps, loss X" line
final_loss() {
	sed -n 's/^done: \([0-9]*\) steps, loss \([0-9.]*\)$/\1 \2/p' "$1"
}

test_expect_success EC2,TORCH 'setup: a script that checkpoints, its uninterrupted result, an account' '
	cat >train.py <<-\PY &&
	import argparse, json, os, time
	import torch

	p = argparse.ArgumentParser()
	p.add_argument("--steps", type=int, default=40)
	p.add_argument("--pause", type=float, default=0.0)
	p.add_argument("--hold-at", type=int, default=-1)
	a = p.parse_args()

	torch.manual_seed(0)
	model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
	opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
	ckdir = os.environ["GIT_TRAIN_CHECKPOINT_DIR"]
	ckpt = os.path.join(ckdir, "last.pt")
	step = 0
	if os.path.exists(ckpt):
	    state = torch.load(ckpt)
	    model.load_state_dict(state["model"])
	    opt.load_state_dict(state["opt"])
	    step = state["step"]
	    print(f"resumed from step {step}", flush=True)
	print("attempt " + os.environ["GIT_TRAIN_ATTEMPT"], flush=True)
	w = torch.arange(8, dtype=torch.float32) / 8
	while step < a.steps:
	    # the first attempt waits here to be interrupted: on a loaded machine
	    # it could otherwise end before the interruption comes
	    if step == a.hold_at and os.environ["GIT_TRAIN_ATTEMPT"] == "1":
	        print(f"holding at step {step}", flush=True)
	        time.sleep(600)
	    x = torch.randn(64, 8, generator=torch.Generator().manual_seed(step))
	    loss = torch.nn.functional.mse_loss(model(x), (x @ w).unsqueeze(1))
	    opt.zero_grad()
	    loss.backward()
	    opt.step()
	    step += 1
	    if step % 5 == 0:
	        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step},
	                   ckpt + ".tmp")
	        os.replace(ckpt + ".tmp", ckpt)
	        print(f"checkpoint step {step}", flush=True)
	    time.sleep(a.pause)
	json.dump({"loss": loss.item()}, open("metrics.json", "w"))
	print(f"done: {step} steps, loss {loss.item():.8f}", flush=True)
	PY
	git add train.py &&
	test_tick &&
	git commit -q -m "a model that checkpoints" &&
	mkdir plain &&
	GIT_TRAIN_CHECKPOINT_DIR=$PWD/plain GIT_TRAIN_ATTEMPT=1 \
		/usr/bin/python3 train.py --steps 30 >plain.out &&
	final_loss plain.out >expect &&
	test_grep "^30 " expect &&
	test_setup_train_account $B train-role train-profile &&
	git config train.bucket $B &&
	git config train.instanceProfile train-profile &&
	git config train.interpreter /usr/bin/python3 &&
	git config train.checkpointInterval 1s &&
	test_fake_ctl spot-prices "{\"t3.micro\": 0.36}"
'

test_expect_success EC2,TORCH 'interrupted with no client attached: EC2 restarts it, the runner resumes from the checkpoint, same loss, attempts=2, both paid' '
	test_train t3.micro -- --steps 30 --pause 0.2 --hold-at 12 &&
	id=$(test_run_id_of out) && iid=$(instance_of out) &&
	test -n "$id" && test -n "$iid" &&
	log=$(runner_log "$iid" "$id") &&
	test_wait_for_text "$log" "^checkpoint step 10$" 90 &&
	test_fake_interrupt "$iid" 1 &&
	# no client: the fake stops the instance, starts it again, and the
	# runner that its per-boot hook starts finishes the run and shuts down
	i=0 &&
	until test "$(test_fake_query /__fake/instances "print(d[sys.argv[1]][\"terminated\"])" "$iid")" = True; do
		i=$((i + 1)) && test $i -lt 600 && sleep 0.2 || {
			cat "$log"; false; }
	done &&
	git train status >status &&
	test_grep "$id" status &&
	git train logs "$id" >run.log &&
	test_grep "^git-train: --- attempt 2" run.log &&
	test_grep "^resumed from step [1-9][0-9]*$" run.log &&
	test_grep "^attempt 2$" run.log &&
	final_loss run.log >actual &&
	test_cmp expect actual &&
	test "$(test_note_field "$id" status)" = succeeded &&
	test "$(test_note_field "$id" attempts)" = 2 &&
	# the cost is both attempts: 0.36 $/h over the duration, the sum of theirs
	duration=$(test_note_field "$id" duration) &&
	cost=$(test_note_field "$id" cost) &&
	awk -v d="${duration%s}" -v c="$cost" "BEGIN {
		want = 0.36 * d / 3600; exit !(c > 0 && c >= want * 0.9 && c <= want * 1.1 + 0.0001) }" &&
	test_nothing_left
'

test_expect_success EC2,TORCH '--wait, no capacity back within train.resumeTimeout: moved to another zone, restored from S3, same loss' '
	rm -f out err &&
	git -c train.resumeTimeout=2s train t3.micro --wait -- --steps 30 --pause 0.2 --hold-at 12 >out 2>err &
	pid=$! &&
	test_wait_for_text out "^checkpoint step 10$" 90 &&
	id=$(test_run_id_of out) && iid=$(instance_of out) &&
	test_fake_interrupt "$iid" null &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 0 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "moving run $id to another zone" err &&
	test_grep "^resumed from step [1-9][0-9]*$" out &&
	final_loss out >actual &&
	test_cmp expect actual &&
	test "$(test_fake_spot_request "$iid" state)" = cancelled &&
	test "$(test_note_field "$id" attempts)" = 2 &&
	test_nothing_left
'

test_done
