#!/bin/sh
test_description='a spot interruption of one node of a run on several instances: every node resumes from the checkpoint'
# git train c5.xlarge --nodes 2 with a real DistributedDataParallel
# training (Debian's python3-torch, CPU, gloo, torchrun across the fake's
# nodes) that saves a checkpoint every 5 steps on rank 0 (write, then
# rename) and starts every rank from the newest one: node 1's instance is
# interrupted mid-run. With no client attached, the fake's "EC2" starts it
# again: node 0 stopped the attempt and waited, both nodes run attempt 2
# from node 0's checkpoint, and the weights are those of an uninterrupted
# run. With --wait and no capacity back within train.resumeTimeout, the
# client moves the whole run, two new instances in another zone, from the
# checkpoints in S3. After each: no instance, no spot request, no group.
. "$(dirname "$0")/test-lib.sh"

# Debian's Python (it has torch) with Debian's torchrun workaround beside it
test_torchrun_wrapper "$TRASH_DIRECTORY/.torch" || exit 1
ln -s /usr/bin/python3 "$TRASH_DIRECTORY/.torch/python3" || exit 1
test_start_ec2

B=train-bucket

# the instances of the launch: "instances i-a, i-b are ready: ..."
instances_of() {
	sed -n 's/.*instances \(i-[0-9a-f]*\), \(i-[0-9a-f]*\) are ready.*/\1 \2/p' "$1" | head -n 1
}

# weights <file>: "rank world weights..." of each rank's last line
weights() {
	sed -n 's/.*final rank \([0-9]*\) world \([0-9]*\) weights \(.*\)$/\1 \2 \3/p' "$1"
}

# same_weights <file>: rank <rank>'s weights there, world 2, are the single
# process's within 1e-4
same_weights() {
	weights "$1" >w.ranks &&
	grep "^$2 2 " w.ranks | cut -d" " -f3- >w.rank &&
	/usr/bin/python3 -c "
import sys
a = [float(v) for v in open(\"w.single\").read().split()]
b = [float(v) for v in open(\"w.rank\").read().split()]
assert len(a) == len(b) == 161, (len(a), len(b))
worst = max(abs(x - y) for x, y in zip(a, b))
assert worst < 1e-4, worst
"
}

# node_log <instance> <run> <rank>: the runner's log in the fake's sandbox
node_log() {
	test_fake_query /__fake/instances 'print(d[sys.argv[1]]["sandbox"])' "$1" |
		sed "s|\$|/var/lib/git-train/$2/log|"
}

test_expect_success EC2,TORCH 'setup: a DDP script that checkpoints, its single-process result, an account' '
	cat >ddp.py <<-\PY &&
	import argparse, os, time
	import torch
	import torch.distributed as dist

	p = argparse.ArgumentParser()
	p.add_argument("--steps", type=int, default=30)
	p.add_argument("--batch", type=int, default=24)
	p.add_argument("--pause", type=float, default=0.0)
	p.add_argument("--hold-at", type=int, default=-1)
	a = p.parse_args()

	distributed = "WORLD_SIZE" in os.environ
	if distributed:
	    dist.init_process_group("gloo")
	    rank, world = dist.get_rank(), dist.get_world_size()
	else:
	    rank, world = 0, 1
	torch.manual_seed(0)
	model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
	opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.5)
	ckpt = os.path.join(os.environ["GIT_TRAIN_CHECKPOINT_DIR"], "last.pt")
	step = 0
	if os.path.exists(ckpt):
	    state = torch.load(ckpt)
	    model.load_state_dict(state["model"])
	    opt.load_state_dict(state["opt"])
	    step = state["step"]
	    print(f"rank {rank}: resumed from step {step}", flush=True)
	attempt = os.environ.get("GIT_TRAIN_ATTEMPT")
	print(f"rank {rank} of {world}, attempt {attempt}", flush=True)
	ddp = torch.nn.parallel.DistributedDataParallel(model) if distributed else model
	w = torch.arange(8, dtype=torch.float32) / 8
	share = a.batch // world
	while step < a.steps:
	    # the first attempt waits here to be interrupted: on a loaded machine
	    # it could otherwise end before the interruption comes
	    if step == a.hold_at and attempt == "1":
	        print(f"rank {rank}: holding at step {step}", flush=True)
	        time.sleep(600)
	    # the global batch of a step depends on the step alone; each rank takes its share
	    x = torch.randn(a.batch, 8, generator=torch.Generator().manual_seed(step))
	    x = x[rank * share:(rank + 1) * share]
	    loss = torch.nn.functional.mse_loss(ddp(x), (x @ w).unsqueeze(1))
	    opt.zero_grad()
	    loss.backward()
	    opt.step()
	    step += 1
	    if step % 5 == 0 and rank == 0:
	        torch.save({"model": model.state_dict(), "opt": opt.state_dict(), "step": step},
	                   ckpt + ".tmp")
	        os.replace(ckpt + ".tmp", ckpt)
	        print(f"checkpoint step {step}", flush=True)
	    time.sleep(a.pause)
	flat = torch.cat([p.detach().flatten() for p in model.parameters()])
	print(f"final rank {rank} world {world} weights " +
	      " ".join("%.7f" % v for v in flat.tolist()), flush=True)
	if distributed:
	    dist.destroy_process_group()
	PY
	git add ddp.py &&
	git commit -q -m "a DDP training that checkpoints" &&
	mkdir plain &&
	GIT_TRAIN_CHECKPOINT_DIR=$PWD/plain /usr/bin/python3 ddp.py --steps 40 >single.out &&
	weights single.out >single &&
	test_grep "^0 1 " single &&
	cut -d" " -f3- single >w.single &&
	test_setup_train_account $B train-role train-profile &&
	git config train.bucket $B &&
	git config train.instanceProfile train-profile &&
	git config train.interpreter "$TRASH_DIRECTORY/.torch/python3" &&
	git config train.script ddp.py &&
	git config train.checkpointInterval 1s &&
	# node 0 of every run here listens on a port of its own: other scripts
	# of the suite run torchrun on this machine at once
	/usr/bin/python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])" >port &&
	git config train.masterPort "$(cat port)" &&
	test_fake_prices "{\"c5.xlarge\": 0.17}" &&
	test_fake_ctl spot-prices "{\"c5.xlarge\": 0.07}" &&
	# the notice leaves the interrupted node time to save its attempt, on a loaded machine too
	test_fake_settings "{\"interrupt_grace\": 10}"
'

test_expect_success EC2,TORCH 'node 1 interrupted, no client attached: restarted in place, both nodes resume from the checkpoint, the weights of one process, attempts=2, nothing left' '
	test_train c5.xlarge --nodes 2 -- --steps 40 --pause 0.25 --hold-at 12 &&
	id=$(test_run_id_of out) &&
	set -- $(instances_of err) &&
	i0=$1 i1=$2 &&
	test -n "$id" && test -n "$i1" &&
	# two persistent requests that stop, one a node
	test "$(test_fake_spot_request "$i0" type)" = persistent &&
	test "$(test_fake_spot_request "$i1" type)" = persistent &&
	log0=$(node_log "$i0" "$id") &&
	test_wait_for_text "$log0" "checkpoint step 10$" 120 &&
	test_fake_interrupt "$i1" 1 &&
	# no client: node 1 stops and starts again; the runners carry on, and
	# every instance shuts itself down at the end
	for iid in "$i0" "$i1"; do
		test_fake_wait_instance "$iid" terminated 180 || { cat "$log0"; return 1; }
	done &&
	git train logs "$id" >run.log &&
	test_grep "^git-train: node 1 was preempted" run.log &&
	test_grep "^git-train: --- attempt 2 " run.log &&
	test_grep "rank 0: resumed from step [1-9][0-9]*$" run.log &&
	test_grep "rank 0 of 2, attempt 2$" run.log &&
	same_weights run.log 0 &&
	git train logs "$id" --node 1 >node1.log &&
	{ grep "rank 1: resumed from step [1-9][0-9]*$" node1.log && same_weights node1.log 1 || {
		echo "node 1 log:"; cut -c1-200 node1.log; false; }; } &&
	test "$(test_note_field "$id" status)" = succeeded &&
	test "$(test_note_field "$id" nodes)" = 2 &&
	test "$(test_note_field "$id" attempts)" = 2 &&
	# the cost: both nodes over both attempts, and node 0 while it waited
	awk -v p="$(test_note_field "$id" price)" -v d="$(test_note_field "$id" duration)" \
		-v l="$(test_note_field "$id" lost)" -v c="$(test_note_field "$id" cost)" "BEGIN {
		d += 0; l += 0; want = p * (2 * d + l) / 3600
		exit !(l > 0 && c > 0 && c >= want * 0.98 - 1e-6 && c <= want * 1.02 + 1e-6) }" &&
	test "$(test_fake_spot_request "$i0" state)" = cancelled &&
	test "$(test_fake_spot_request "$i1" state)" = cancelled &&
	test_nothing_left &&
	# no client saw the end: gc deletes the groups of the ended run
	git train gc >gc.out 2>&1 &&
	test_groups_left "$id" >left &&
	! test -s left
'

test_expect_success EC2,TORCH '--wait, node 1 gets no capacity back within train.resumeTimeout: the run moves, two new instances, from the checkpoints in S3, nothing left' '
	rm -f out err &&
	git -c train.resumeTimeout=8s train c5.xlarge --nodes 2 --wait -- --steps 40 --pause 0.25 --hold-at 12 >out 2>err &
	pid=$! &&
	test_wait_for_text out "checkpoint step 10$" 120 &&
	id=$(test_run_id_of out) &&
	set -- $(instances_of err) &&
	i0=$1 i1=$2 &&
	test_fake_interrupt "$i1" null &&
	{ wait $pid; rc=$?; } &&
	cat out err >>"$TRASH_DIRECTORY/all-output" &&
	{ test $rc = 0 || { echo "exit $rc"; cat err; false; }; } &&
	test_grep "moving run $id to another zone" err &&
	test_grep "rank 0: resumed from step [1-9][0-9]*$" out &&
	same_weights out 0 &&
	git train logs "$id" --node 1 >node1.log &&
	same_weights node1.log 1 &&
	test "$(test_note_field "$id" status)" = succeeded &&
	test "$(test_note_field "$id" attempts)" = 2 &&
	# two new instances, neither of the first launch
	instances=$(test_note_field "$id" instances) &&
	case ",$instances," in *",$i0,"* | *",$i1,"*) false ;; esac &&
	test "$(test_fake_spot_request "$i0" state)" = cancelled &&
	test "$(test_fake_spot_request "$i1" state)" = cancelled &&
	test_fake_wait_instance "$i0" terminated 30 &&
	test_fake_wait_instance "$i1" terminated 30 &&
	test_nothing_left &&
	test_groups_left "$id" >left &&
	! test -s left
'

test_done
