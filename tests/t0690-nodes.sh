#!/bin/sh
test_description='one run on several instances: torchrun with a real DDP training across the fake'"'"'s nodes'
# git train c5.xlarge --nodes N: N instances of the fake (each with its own
# 127.x address, GLOO_SOCKET_IFNAME=lo and Debian's torchrun workaround in
# its sandbox), one placement group and one security group for the run,
# torchrun --nnodes N on each; a real DistributedDataParallel training
# (Debian's python3-torch, CPU, gloo) whose ranks must end with the same
# weights, equal to those of one process on this machine with the same
# global batch and seed. Then: a zone that gives only one of two spot
# instances (exit 75, nothing left), node 1's script crashing (the run
# fails within seconds, node 1's log shown, nothing left), and bad values
# and a vCPU quota too small for every node (refused before any launch).
. "$(dirname "$0")/test-lib.sh"

# the script's interpreter: Debian's Python (it has torch), with Debian's
# torchrun workaround (test-lib.sh) beside it, where the runner looks first
test_torchrun_wrapper "$TRASH_DIRECTORY/.torch" || exit 1
ln -s /usr/bin/python3 "$TRASH_DIRECTORY/.torch/python3" || exit 1
test_start_ec2

B=train-bucket

# weights <file>: "rank world weights..." of each rank's last line, by rank
weights() {
	sed -n 's/.*final rank \([0-9]*\) world \([0-9]*\) weights \(.*\)$/\1 \2 \3/p' "$1"
}

test_expect_success EC2,TORCH 'setup: a DDP script, its single-process result, an account' '
	cat >ddp.py <<-\PY &&
	import argparse, os, sys
	import torch

	p = argparse.ArgumentParser()
	p.add_argument("--steps", type=int, default=20)
	p.add_argument("--batch", type=int, default=24)
	p.add_argument("--crash-node", type=int, default=-1)
	a = p.parse_args()

	distributed = "WORLD_SIZE" in os.environ
	node = int(os.environ.get("GROUP_RANK", "0"))
	if distributed:
	    import torch.distributed as dist
	    dist.init_process_group("gloo")
	    rank, world = dist.get_rank(), dist.get_world_size()
	else:
	    rank, world = 0, 1
	print(f"rank {rank} of {world} on node {node}", flush=True)
	if node == a.crash_node:
	    print(f"node {node}: crashing on purpose", flush=True)
	    sys.exit(3)

	torch.manual_seed(0)
	model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 1))
	if distributed:
	    model = torch.nn.parallel.DistributedDataParallel(model)
	opt = torch.optim.SGD(model.parameters(), lr=0.1)
	w = torch.arange(8, dtype=torch.float32) / 8
	share = a.batch // world
	for step in range(a.steps):
	    # the global batch of a step depends on the step alone; each rank takes its share
	    x = torch.randn(a.batch, 8, generator=torch.Generator().manual_seed(step))
	    x = x[rank * share:(rank + 1) * share]
	    loss = torch.nn.functional.mse_loss(model(x), (x @ w).unsqueeze(1))
	    opt.zero_grad()
	    loss.backward()
	    opt.step()
	flat = torch.cat([p.detach().flatten() for p in model.parameters()])
	print(f"final rank {rank} world {world} weights " +
	      " ".join("%.7f" % v for v in flat.tolist()), flush=True)
	if distributed:
	    dist.destroy_process_group()
	PY
	git add ddp.py &&
	git commit -q -m "a DDP training" &&
	/usr/bin/python3 ddp.py --steps 20 >single.out &&
	weights single.out >single &&
	test_grep "^0 1 " single &&
	test_setup_train_account $B train-role train-profile &&
	git config train.bucket $B &&
	git config train.instanceProfile train-profile &&
	git config train.interpreter "$TRASH_DIRECTORY/.torch/python3" &&
	git config train.script ddp.py &&
	# node 0 of every run of this script listens on a port of its own:
	# other scripts of the suite run torchrun on this machine at once
	/usr/bin/python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.1\", 0)); print(s.getsockname()[1])" >port &&
	git config train.masterPort "$(cat port)" &&
	test_fake_prices "{\"c5.xlarge\": 0.17}" &&
	test_fake_ctl spot-prices "{\"c5.xlarge\": 0.07}"
'

test_expect_success EC2,TORCH '--nodes 2 --wait: one placement group, torchrun on both, identical weights equal to one process'"'"'s, one note, nothing left' '
	test_train c5.xlarge --nodes 2 --wait -- --steps 20 &&
	id=$(test_run_id_of out) &&
	test -n "$id" &&
	test_grep "placement group git-train-$id and security group sg-[0-9a-f]* created for 2 nodes" err &&
	test_grep "instances i-[0-9a-f]*, i-[0-9a-f]* are ready: 2 c5.xlarge spot" err &&
	# the note: one line, nodes=2, both instances, the cost of both
	test "$(git notes --ref=train show HEAD | grep -c "^$id ")" = 1 &&
	test "$(test_note_field "$id" nodes)" = 2 &&
	test "$(test_note_field "$id" status)" = succeeded &&
	instances=$(test_note_field "$id" instances) &&
	i0=${instances%%,*} && i1=${instances#*,} &&
	test "$i0" = "$(test_note_field "$id" instance)" &&
	test "$i1" != "$i0" &&
	awk -v p="$(test_note_field "$id" price)" -v d="$(test_note_field "$id" duration)" \
		-v c="$(test_note_field "$id" cost)" "BEGIN {
		d += 0; want = 2 * p * d / 3600; exit !(c > 0 && c >= want * 0.99 - 1e-6 && c <= want * 1.01 + 1e-6) }" &&
	# both in the run placement group, torchrun on both with node 0 as master
	test_fake_instances_of_run "$id" | cut -d" " -f1,3 | sort >groups &&
	printf "%s git-train-$id\n" "$i0" "$i1" | sort >expect &&
	test_cmp expect groups &&
	for n in 0 1; do
		eval "iid=\$i$n" &&
		cat "$(test_instance_dir "$iid")"/var/lib/amazon/ssm/*/document/orchestration/*/awsrunShellScript/0.awsrunShellScript/_script.sh >command.$n &&
		test_grep "^NODES=.\{0,1\}2.\{0,1\}$" command.$n &&
		test_grep "^NODE_RANK=.\{0,1\}$n.\{0,1\}$" command.$n &&
		test_grep "^MASTER_ADDR=.\{0,1\}127\.[0-9.]*.\{0,1\}$" command.$n &&
		test_grep "^MASTER_PORT=.\{0,1\}$(cat port).\{0,1\}$" command.$n &&
		test_grep "^LAUNCHER=.*torchrun" command.$n || return 1
	done &&
	test "$(grep ^MASTER_ADDR= command.0)" = "$(grep ^MASTER_ADDR= command.1)" &&
	# each rank: world size 2; the same weights; those of one process
	weights out >rank0 &&
	git train logs "$id" --node 1 >node1.log &&
	weights node1.log >rank1 &&
	test_grep "^0 2 " rank0 &&
	test_grep "^1 2 " rank1 &&
	cut -d" " -f3- rank0 >w0 &&
	cut -d" " -f3- rank1 >w1 &&
	test_cmp w0 w1 &&
	cut -d" " -f3- single >w &&
	/usr/bin/python3 -c "
import sys
a = [float(v) for v in open(\"w\").read().split()]
b = [float(v) for v in open(\"w0\").read().split()]
assert len(a) == len(b) == 161, (len(a), len(b))
worst = max(abs(x - y) for x, y in zip(a, b))
assert worst < 1e-4, worst
" &&
	# logs --node 0 is the run log; a node it does not have is an error
	git train logs "$id" --node 0 >node0.log &&
	git train logs "$id" >run.log &&
	test_cmp run.log node0.log &&
	test_expect_code 1 git train logs "$id" --node 2 2>err &&
	test_grep "run $id has 2 nodes: --node takes 0 to 1, not 2" err &&
	# status: the run once, as 2×c5.xlarge
	git train status >status &&
	test "$(grep -c "$id" status)" = 1 &&
	grep "$id" status | grep "2×c5.xlarge" &&
	# nothing left: both instances gone, the groups too, when --wait returned
	test_nothing_left &&
	test_groups_left "$id" >left &&
	! test -s left
'

test_expect_success EC2,TORCH 'only 1 of 2 spot instances in any zone, no --yes: exit 75 with the prices, nothing left' '
	test_fake_settings "{\"spot_capacity\": {\"c5.xlarge\": 1}}" &&
	test_expect_code 75 test_train c5.xlarge --nodes 2 --spot-timeout 0 -- --steps 20 </dev/null &&
	test_fake_settings "{\"spot_capacity\": {}}" &&
	test_grep "1 of 2" err &&
	test_grep "^error: spot capacity unavailable: on-demand c5.xlarge is [$][0-9.]*/h" err &&
	test_grep "^hint: .*--yes" err &&
	! test -s out &&
	test_nothing_left &&
	id=$(sed -n "s/.*placement group git-train-\([^ ]*\) and security group.*/\1/p" err) &&
	test -n "$id" &&
	test_groups_left "$id" >left &&
	! test -s left
'

# node 1 crashes once it has joined: node 0's collective fails with it
test_expect_success EC2,TORCH 'node 1 crashes: the run fails within seconds, node 1 named and its log shown, nothing left' '
	start=$(date +%s) &&
	test_expect_code 1 test_train c5.xlarge --nodes 2 --wait -- --steps 20 --crash-node 1 &&
	took=$(($(date +%s) - start)) &&
	id=$(test_run_id_of out) &&
	test_grep "error: node 1 of 2 failed\( too\)\{0,1\} (instance i-[0-9a-f]*); the end of its log:" err &&
	# the end of node 1 log: torchrun says which rank failed, and how
	test_grep "rank *: 1 (local_rank: 0)" out &&
	test_grep "exitcode *: 3 " out &&
	git train logs "$id" --node 1 >node1.log &&
	test_grep "node 1: crashing on purpose" node1.log &&
	test_grep "git train logs $id --node 1" err &&
	test "$(test_note_field "$id" status)" = failed &&
	test_nothing_left &&
	test_groups_left "$id" >left &&
	! test -s left &&
	# the launch, the start and the end, but no waiting for a timeout
	test "$took" -lt 90
'

test_expect_success EC2,TORCH '--nodes 3: the same weights on every rank' '
	test_train c5.xlarge --nodes 3 --wait -- --steps 20 --batch 24 &&
	id=$(test_run_id_of out) &&
	test "$(test_note_field "$id" nodes)" = 3 &&
	weights out >rank0 &&
	git train logs "$id" --node 1 >n1 && weights n1 >rank1 &&
	git train logs "$id" --node 2 >n2 && weights n2 >rank2 &&
	for r in 0 1 2; do
		test_grep "^$r 3 " rank$r &&
		cut -d" " -f3- rank$r >w$r || return 1
	done &&
	test_cmp w0 w1 &&
	test_cmp w0 w2 &&
	test_nothing_left
'

test_expect_success EC2 'bad --nodes and train.nodes, a vCPU quota too small for all nodes: clear errors, nothing launched' '
	before=$(test_fake_count "ec2 RunInstances") &&
	test_expect_code 129 git train c5.xlarge --nodes 0 2>err &&
	test_grep "error: --nodes takes a number of instances from 1 to 64, not .0." err &&
	test_expect_code 129 git train c5.xlarge --nodes 65 2>err &&
	test_grep "error: --nodes takes a number of instances from 1 to 64, not .65." err &&
	test_expect_code 128 git -c train.nodes=two train c5.xlarge 2>err &&
	test_grep "bad config value .two. for .train.nodes.: use a number of instances from 1 to 64" err &&
	test_expect_code 128 git -c train.masterPort=80 train c5.xlarge --nodes 2 2>err &&
	test_grep "bad config value .80. for .train.masterPort.: use a port from 1024 to 65535" err &&
	# the vCPU quota counts every node: 4 of 4 vCPUs do not fit in 12
	test_fake_settings "{\"quotas\": {\"L-34B43A08\": 12}}" &&
	test_expect_code 1 git train c5.xlarge --nodes 4 2>err &&
	test_fake_settings "{\"quotas\": {}}" &&
	test_grep "^error: vcpu quota: 4 x c5.xlarge needs 16 vCPUs, more than the spot quota .* (L-34B43A08) allows in us-east-1: 12$" err &&
	test_grep "desired-value 16" err &&
	test_grep "nothing was launched" err &&
	test "$(test_fake_count "ec2 RunInstances")" = "$before" &&
	test_nothing_left
'

test_done
