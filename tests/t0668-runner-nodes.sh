#!/bin/sh
# The runner on several instances of the fake (issue 14): a real PyTorch
# DistributedDataParallel training (gloo, Debian's torch by /usr/bin/python3)
# across 2 nodes, each instance's runner given its node rank and node 0's
# address; node 0 is the run (log, result, outputs), node 1 writes
# nodes/1/log and nodes/1/result.json; a failure on node 1 ends the run on
# node 0 within seconds, naming node 1 and its log; every instance ends.
# On two instances of persistent spot requests that stop: a spot
# interruption of either node stops the attempt on both, the one stopped
# comes back at its next boot and both run the next attempt from node 0's
# checkpoints, to the same model as a run never interrupted; a node that
# never comes back ends the run preempted after twice the resume timeout,
# its request cancelled by node 0.
. "$(dirname "$0")/test-lib.sh"

if ! test -x "$TEST_TOOL"; then
	echo "Bail out! $TEST_TOOL is not built (run make check)"
	exit 1
fi

if test_have_prereq MOTO && test_have_prereq FAKE && test_have_prereq PYTHON &&
	/usr/bin/python3 -c "import torch" 2>/dev/null; then
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

# s3_keys <prefix>: the keys under the prefix, relative to it, sorted
s3_keys() {
	test_moto_s3 "/$BUCKET?list-type=2&prefix=$1" | test_xml Contents/Key |
		sed "s|^$1||" | sort
}

# wait_key <key> <file> [<seconds>]: until the object exists (60 s)
wait_key() {
	i=0
	until s3_get "$1" "$2"; do
		i=$((i + 1))
		if test $i -gt $((${3:-60} * 5)); then
			echo >&2 "no s3://$BUCKET/$1 after ${3:-60} s"
			return 1
		fi
		sleep 0.2
	done
}

# two_instances <name> [<ami file> [<RunInstances parameters>...]]: two
# instances of the fake, their ids in <name>.0 and <name>.1, node 0's
# private address in <name>.addr
two_instances() {
	t_name=$1 t_ami=${2:-ami}
	shift
	test $# = 0 || shift
	git train aws-call ec2 RunInstances ImageId="$(cat "$t_ami")" InstanceType=t3.micro \
		MinCount=2 MaxCount=2 "$@" >"$t_name.xml" &&
	grep -o "<instanceId>i-[0-9a-f]*</instanceId>" "$t_name.xml" |
		sed "s|</*instanceId>||g" >"$t_name.ids" &&
	sed -n 1p "$t_name.ids" >"$t_name.0" &&
	sed -n 2p "$t_name.ids" >"$t_name.1" &&
	test -s "$t_name.1" &&
	git train aws-call ec2 DescribeInstances InstanceId.1="$(cat "$t_name.0")" |
		grep -o "<privateIpAddress>[0-9.]*</privateIpAddress>" |
		sed -e "s|</*privateIpAddress>||g" -e 1q >"$t_name.addr" &&
	# every packet on loopback: the fake gives each instance its own 127.x
	grep -q "^127\.[0-9]*\.[0-9]*\.[0-9]*$" "$t_name.addr"
}

# free_port: a TCP port on 127.0.0.1 that nothing listens on now
free_port() {
	/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start_node <run-id> <instances name> <rank> <port> [<runner options>] [-- <args>]
start_node() {
	run=$1 inst=$2 rank=$3 port=$4
	shift 4
	"$TEST_TOOL" runner --run-id "$run" --commit "$sha" --bucket $BUCKET \
		--code-key "$code_key" --code-sha256 "$code_sum" --run-prefix "$runs/$run/" \
		--region us-east-1 --script ddp.py --interpreter /usr/bin/python3 \
		--log-interval 5 --nodes 2 --node-rank "$rank" --master-addr "$(cat "$inst.addr")" \
		--master-port "$port" --instance "$(cat "$inst.$rank")" "$@" >"$run.$rank.send" 2>&1 &&
	test_grep "^git-train: runner started (pid [0-9]*)$" "$run.$rank.send"
}

# terminated <instance>...: until the fake says each is terminated (60 s)
terminated() {
	for t_id in "$@"; do
		i=0
		until test "$(test_fake_query /__fake/instances \
			"print(d[sys.argv[1]][\"terminated\"])" "$t_id")" = True; do
			i=$((i + 1))
			test $i -lt 300 || { echo >&2 "$t_id is not terminated after 60 s"; return 1; }
			sleep 0.2
		done
	done
}

# the weights of rank0.json (node 0's outputs, from S3) and rank1.json
# (node 1's, from its instance) are one model's, trained by a world of 2
same_model() {
	s3_get "$runs/$1/outputs/rank0.json" rank0.json &&
	cp "$(test_instance_dir "$(cat "$1.1")")/var/lib/git-train/$1/work/outputs/rank1.json" rank1.json &&
	/usr/bin/python3 -c "
import json
a, b = (json.load(open(f)) for f in (\"rank0.json\", \"rank1.json\"))
assert a[\"world\"] == b[\"world\"] == 2, (a, b)
assert a[\"weights\"] == b[\"weights\"], (a, b)
"
}

# spot_requests <name>: the persistent requests of <name>.0 and <name>.1
# (two_instances with spot options), in <name>.sir0 and <name>.sir1
spot_requests() {
	for n in 0 1; do
		test_fake_query /__fake/spot-requests '
print([i for i, r in d.items() if r["instance"] == sys.argv[1]][0])' "$(cat "$1.$n")" \
			>"$1.sir$n" || return 1
	done
}

# start_spot <run-id> <resume timeout> <args>...: both nodes of a run on
# spot_requests' instances, node 0 given node 1's request
start_spot() {
	run=$1 rt=$2
	shift 2
	free_port >"$run.port" &&
	start_node "$run" "$run" 0 "$(cat "$run.port")" --spot-request "$(cat "$run.sir0")" \
		--node-spot-requests "$(cat "$run.sir1")" --max-interruptions 2 \
		--resume-timeout "$rt" --checkpoint-interval 5 -- "$@" &&
	start_node "$run" "$run" 1 "$(cat "$run.port")" --spot-request "$(cat "$run.sir1")" \
		--max-interruptions 2 --resume-timeout "$rt" --checkpoint-interval 5 -- "$@"
}

# wait_line <key> <pattern> [<seconds>]: until the object has such a line (120 s)
wait_line() {
	i=0
	until s3_get "$1" wait.txt && grep -q "$2" wait.txt; do
		i=$((i + 1))
		if test $i -gt $((${3:-120} * 5)); then
			echo >&2 "no '$2' in s3://$BUCKET/$1 after ${3:-120} s"
			return 1
		fi
		sleep 0.2
	done
}

# runner_lines <log>: the runner's lines and the script's "resumed", with
# what changes from run to run replaced (the instance, spans, the step);
# without those of a race: node 1 ending after node 0, and the stop of a
# notice's grace (12 s here, 2 minutes on EC2) coming, on a loaded machine,
# before the runner's last uploads
runner_lines() {
	grep -e "^git-train: " -e "resumed from step" "$1" |
		grep -v -e "^git-train: the run has ended on node 0: node 1 stops$" \
			-e "^git-train: interrupted: the runner received a signal$" |
		sed -e "s/(i-[0-9a-f]*,/(ID,/" -e "s/after [0-9hms]*\([ )]\)/after SPAN\1/" \
			-e "s/from step [0-9]*$/from step K/" -e "s/[0-9]* file(s) kept/N file(s) kept/"
}

# same_steps <run>: both ranks resumed from one step, after the first
# checkpoint; the weights are those of the run never interrupted
same_steps() {
	k0=$(sed -n "s/^rank 0: resumed from step //p" "$1.log") &&
	k1=$(sed -n "s/^rank 1: resumed from step //p" "$1.1.log") &&
	test -n "$k0" && test "$k0" = "$k1" && test "$k0" -ge 5 &&
	same_model "$1" &&
	/usr/bin/python3 -c "
import json
a, b = (json.load(open(f)) for f in (\"rank0.json\", \"expect.json\"))
assert a[\"weights\"] == b[\"weights\"], (a, b)
"
}

test_expect_success RUNNER 'setup: a DDP script, its code in S3' '
	cat >ddp.py <<-\PY &&
	import json, os, sys, time
	import torch
	import torch.distributed as dist
	opts = dict(zip(sys.argv[1::2], sys.argv[2::2]))
	rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
	addr, port = os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"]
	print(f"rank {rank} of {world}: {addr}:{port}", flush=True)
	if "TORCHELASTIC_RUN_ID" in os.environ:
	    print(f"rank {rank}: started by torchrun", flush=True)
	dist.init_process_group("gloo")
	torch.manual_seed(0)
	linear = torch.nn.Linear(4, 1)
	opt = torch.optim.SGD(linear.parameters(), lr=0.1)
	# the checkpoint, written by rank 0 (write, then rename), loaded by all
	ck = os.environ.get("GIT_TRAIN_CHECKPOINT_DIR", "")
	start = 0
	if ck and os.path.exists(os.path.join(ck, "ckpt.pt")):
	    saved = torch.load(os.path.join(ck, "ckpt.pt"))
	    linear.load_state_dict(saved["model"])
	    opt.load_state_dict(saved["opt"])
	    start = saved["step"]
	    print(f"rank {rank}: resumed from step {start}", flush=True)
	model = torch.nn.parallel.DistributedDataParallel(linear)
	g = torch.Generator().manual_seed(1 + rank)
	for step in range(start):
	    torch.randn(8, 4, generator=g)  # the data as an uninterrupted run has it
	every = int(opts.get("--ckpt-every", 0))
	hold = int(opts.get("--hold-at", -1))
	for step in range(start, int(opts.get("--steps", 3))):
	    # the first attempt waits here to be interrupted: on a loaded machine
	    # it could otherwise end before the interruption comes
	    if step == hold and os.environ.get("GIT_TRAIN_ATTEMPT") == "1":
	        time.sleep(600)
	    # mid-training, as a real crash: the other ranks fail in their
	    # next all-reduce, often before the result of this node is in S3
	    if step == 1 and rank == int(opts.get("--crash-rank", -1)):
	        print(f"rank {rank}: crashing", flush=True)
	        sys.exit(3)
	    x = torch.randn(8, 4, generator=g)
	    opt.zero_grad()
	    loss = ((model(x) - x.sum(1, keepdim=True)) ** 2).mean()
	    loss.backward()
	    opt.step()
	    if rank == 0 and every and (step + 1) % every == 0:
	        tmp = os.path.join(ck, "ckpt.pt.tmp")
	        torch.save({"step": step + 1, "model": linear.state_dict(),
	                    "opt": opt.state_dict()}, tmp)
	        os.rename(tmp, os.path.join(ck, "ckpt.pt"))
	        print(f"rank 0: checkpoint at step {step + 1}", flush=True)
	    time.sleep(float(opts.get("--sleep", 0)))
	weights = [p.detach().flatten().tolist() for p in model.parameters()]
	with open(os.path.join(os.environ["GIT_TRAIN_OUTPUTS"], f"rank{rank}.json"), "w") as f:
	    json.dump({"rank": rank, "world": dist.get_world_size(), "weights": weights}, f)
	print(f"rank {rank}: done", flush=True)
	dist.destroy_process_group()
	PY
	git add ddp.py &&
	test_tick &&
	git commit -q -m "a DDP script" &&
	test_moto_s3 /$BUCKET -X PUT &&
	git config train.bucket $BUCKET &&
	git config train.repo demo &&
	git train upload >/dev/null &&
	sha=$(git rev-parse HEAD) &&
	s3_get "git-train/demo/$sha/code.tar.gz" code.tar.gz &&
	sha256sum <code.tar.gz | cut -c 1-64 >code.sha256 &&
	git train aws-call ssm GetParameter \
		Name=/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64 |
		test_json "d[\"Parameter\"][\"Value\"]" >ami &&
	git train aws-call ssm GetParameter \
		Name=/aws/service/deeplearning/ami/x86_64/oss-nvidia-driver-gpu-pytorch-2.10-amazon-linux-2023/latest/ami-id |
		test_json "d[\"Parameter\"][\"Value\"]" >dlami &&
	test_fake_settings "{\"ready_delay\": 1, \"invocation_delay\": 1}"
'
sha=$(git rev-parse -q --verify HEAD)
runs=git-train/demo/$sha/runs
code_key=git-train/demo/$sha/code.tar.gz
code_sum=$(cat code.sha256 2>/dev/null)

# three runs on two instances each, at once: DDP with the standard
# variables, DDP under torchrun, and one whose rank 1 crashes
test_expect_success RUNNER 'the runs start, each node given its rank and node 0'\''s address' '
	two_instances ok &&
	two_instances tr dlami &&
	two_instances crash &&
	free_port >ok.port &&
	start_node ok ok 0 "$(cat ok.port)" -- --steps 3 &&
	start_node ok ok 1 "$(cat ok.port)" -- --steps 3 &&
	# the DLAMI'\''s framework Python (/opt/pytorch/bin/python in the fake'\''s
	# image: Debian'\''s), with the torchrun beside it
	free_port >tr.port &&
	start_node tr tr 0 "$(cat tr.port)" --launcher torchrun --interpreter /opt/pytorch/bin/python \
		-- --steps 2 &&
	start_node tr tr 1 "$(cat tr.port)" --launcher torchrun --interpreter /opt/pytorch/bin/python \
		-- --steps 2 &&
	free_port >crash.port &&
	start_node crash crash 0 "$(cat crash.port)" -- --crash-rank 1 &&
	start_node crash crash 1 "$(cat crash.port)" -- --crash-rank 1
'

test_expect_success RUNNER 'two nodes train one model: node 0 is the run, node 1 its nodes/1/; both instances end' '
	wait_key "$runs/ok/result.json" ok.result.json &&
	wait_key "$runs/ok/nodes/1/result.json" ok.1.result.json &&
	s3_get "$runs/ok/log" ok.log &&
	s3_get "$runs/ok/nodes/1/log" ok.1.log &&
	test_json "d[\"status\"]" <ok.result.json >status &&
	echo succeeded >expect &&
	test_cmp expect status &&
	test_json "d[\"status\"]" <ok.1.result.json >status &&
	test_cmp expect status &&
	test_grep "^rank 0: done$" ok.log &&
	test_grep "^rank 1: done$" ok.1.log &&
	test_grep "^rank 0 of 2: $(cat ok.addr):$(cat ok.port)$" ok.log &&
	test_grep "^rank 1 of 2: $(cat ok.addr):$(cat ok.port)$" ok.1.log &&
	test_grep ! "started by torchrun" ok.log &&
	# the run'\''s outputs are node 0'\''s; node 1'\''s stay on its instance
	s3_keys "$runs/ok/" >keys &&
	cat >expect <<-\EOF &&
	attempts.json
	log
	nodes/1/log
	nodes/1/result.json
	outputs.sha256
	outputs/rank0.json
	result.json
	EOF
	test_cmp expect keys &&
	same_model ok &&
	terminated "$(cat ok.0)" "$(cat ok.1)"
'

test_expect_success RUNNER 'train.launcher torchrun on two nodes: the static rendezvous puts global rank 0 on node 0' '
	wait_key "$runs/tr/result.json" tr.result.json &&
	wait_key "$runs/tr/nodes/1/result.json" tr.1.result.json &&
	s3_get "$runs/tr/log" tr.log &&
	s3_get "$runs/tr/nodes/1/log" tr.1.log &&
	echo succeeded >expect &&
	test_json "d[\"status\"]" <tr.result.json >status &&
	test_cmp expect status &&
	test_json "d[\"status\"]" <tr.1.result.json >status &&
	test_cmp expect status &&
	test_grep "rank 0 of 2: $(cat tr.addr):$(cat tr.port)$" tr.log &&
	test_grep "rank 1 of 2: $(cat tr.addr):$(cat tr.port)$" tr.1.log &&
	test_grep "rank 0: started by torchrun$" tr.log &&
	test_grep "rank 1: started by torchrun$" tr.1.log &&
	same_model tr &&
	terminated "$(cat tr.0)" "$(cat tr.1)"
'

test_expect_success RUNNER 'node 1 crashing ends the run on node 0 within seconds, naming node 1 and its log' '
	wait_key "$runs/crash/nodes/1/result.json" crash.1.result.json &&
	wait_key "$runs/crash/result.json" crash.result.json &&
	s3_get "$runs/crash/log" crash.log &&
	s3_get "$runs/crash/nodes/1/log" crash.1.log &&
	test_grep "^rank 1: crashing$" crash.1.log &&
	/usr/bin/python3 -c "
import datetime, json
n, r = (json.load(open(f)) for f in (\"crash.1.result.json\", \"crash.result.json\"))
assert n[\"status\"] == \"failed\" and n[\"exit_code\"] == 3, n
assert r[\"status\"] == \"failed\" and r[\"exit_code\"] == 3 and r[\"failed_node\"] == 1, r
t = lambda d: datetime.datetime.strptime(d[\"end\"], \"%Y-%m-%dT%H:%M:%SZ\")
assert 0 <= (t(r) - t(n)).total_seconds() <= 15, (n, r)
" &&
	test_grep "^git-train: node 1 failed (exit 3): its log is at s3://$BUCKET/$runs/crash/nodes/1/log$" crash.log &&
	test_grep ! "^rank 0: done$" crash.log &&
	terminated "$(cat crash.0)" "$(cat crash.1)"
'

# a run of 40 steps, one each 0.3 s, checkpointed every 5: the same
# script on this machine, never interrupted, gives the weights to expect
test_expect_success RUNNER 'setup: the weights of a run never interrupted; instances of persistent spot requests' '
	mkdir -p plain/ck0 plain/ck1 &&
	port=$(free_port) &&
	for r in 0 1; do
		RANK=$r WORLD_SIZE=2 MASTER_ADDR=127.0.0.1 MASTER_PORT=$port GLOO_SOCKET_IFNAME=lo \
		GIT_TRAIN_OUTPUTS=$PWD/plain GIT_TRAIN_CHECKPOINT_DIR=$PWD/plain/ck$r \
			/usr/bin/python3 ddp.py --steps 40 --ckpt-every 5 >plain/$r.out 2>&1 &
	done &&
	wait &&
	test_grep "^rank 0: checkpoint at step 40$" plain/0.out &&
	cp plain/rank0.json expect.json &&
	test_fake_settings "{\"interrupt_grace\": 12}" &&
	o=InstanceMarketOptions &&
	for run in pa pb pc; do
		two_instances $run ami $o.MarketType=spot $o.SpotOptions.SpotInstanceType=persistent \
			$o.SpotOptions.InstanceInterruptionBehavior=stop &&
		spot_requests $run || return 1
	done
'

# node 1 stopped (pa), node 0 stopped (pb), node 1 never back (pc)
test_expect_success RUNNER 'spot runs on two nodes start; an interruption after the first checkpoint' '
	start_spot pa 60 --steps 40 --sleep 0.3 --ckpt-every 5 --hold-at 7 &&
	start_spot pb 60 --steps 40 --sleep 0.3 --ckpt-every 5 --hold-at 7 &&
	start_spot pc 3 --steps 40 --sleep 0.3 --ckpt-every 5 --hold-at 7 &&
	wait_line "$runs/pa/log" "^rank 0: checkpoint at step 5$" &&
	test_fake_interrupt "$(cat pa.1)" 3 &&
	wait_line "$runs/pb/log" "^rank 0: checkpoint at step 5$" &&
	test_fake_interrupt "$(cat pb.0)" 3 &&
	wait_line "$runs/pc/log" "^rank 0: checkpoint at step 5$" &&
	test_fake_interrupt "$(cat pc.1)" null
'

test_expect_success RUNNER 'node 1 stopped: node 0 waits for it, both go on from node 0'\''s checkpoint to the same model' '
	wait_key "$runs/pa/result.json" pa.result.json 180 &&
	wait_key "$runs/pa/nodes/1/result.json" pa.1.result.json &&
	s3_get "$runs/pa/log" pa.log &&
	s3_get "$runs/pa/nodes/1/log" pa.1.log &&
	echo succeeded >expect &&
	test_json "d[\"status\"]" <pa.result.json >status &&
	test_cmp expect status &&
	test_json "d[\"status\"]" <pa.1.result.json >status &&
	test_cmp expect status &&
	runner_lines pa.log >lines &&
	cat >expect <<-EOF &&
	git-train: node 1 was preempted (spot interruption): attempt 1 stops on every node
	git-train: waiting for node 1 to come back: attempt 2 starts on every node when it does (at most 2m00s)
	git-train: --- attempt 2 of 3 (ID, node 1 back after SPAN): restoring checkpoints ---
	git-train: checkpoints: N file(s) kept on this instance${SQ}s volume
	rank 0: resumed from step K
	git-train: spot requests $(cat pa.sir0) $(cat pa.sir1) cancelled
	EOF
	test_cmp expect lines &&
	runner_lines pa.1.log >lines &&
	cat >expect <<-EOF &&
	git-train: spot interruption notice: stopping the run
	git-train: spot interruption (stop): attempt 1 saved; the run goes on from its checkpoints when the instance starts again
	git-train: --- attempt 2 of 3 (ID, after SPAN without capacity): restoring checkpoints ---
	git-train: waiting for the other nodes: attempt 2 starts on every node together
	git-train: checkpoints: 1 file(s) restored from s3://$BUCKET/$runs/pa/checkpoints/
	rank 1: resumed from step K
	git-train: spot request $(cat pa.sir1) cancelled
	EOF
	test_cmp expect lines &&
	same_steps pa &&
	s3_get "$runs/pa/attempts.json" pa.attempts.json &&
	/usr/bin/python3 -c "
import json
a = json.load(open(\"pa.attempts.json\"))[\"attempts\"]
assert [x[\"status\"] for x in a] == [\"preempted\", \"succeeded\"], a
assert a[0][\"end\"] <= a[1][\"start\"], a
r = json.load(open(\"pa.result.json\"))
assert r[\"attempts\"] == a and r[\"lost\"] >= 3, r
" &&
	test "$(test_fake_spot_request "$(cat pa.sir0)" state)" = cancelled &&
	test "$(test_fake_spot_request "$(cat pa.sir1)" state)" = cancelled &&
	terminated "$(cat pa.0)" "$(cat pa.1)"
'

test_expect_success RUNNER 'node 0 stopped: node 1 waits for it, both go on from its checkpoint to the same model' '
	wait_key "$runs/pb/result.json" pb.result.json 180 &&
	wait_key "$runs/pb/nodes/1/result.json" pb.1.result.json &&
	s3_get "$runs/pb/log" pb.log &&
	s3_get "$runs/pb/nodes/1/log" pb.1.log &&
	echo succeeded >expect &&
	test_json "d[\"status\"]" <pb.result.json >status &&
	test_cmp expect status &&
	test_json "d[\"status\"]" <pb.1.result.json >status &&
	test_cmp expect status &&
	runner_lines pb.log >lines &&
	cat >expect <<-EOF &&
	git-train: spot interruption notice: stopping the run
	git-train: spot interruption (stop): attempt 1 saved; the run goes on from its checkpoints when the instance starts again
	git-train: --- attempt 2 of 3 (ID, after SPAN without capacity): restoring checkpoints ---
	git-train: checkpoints: N file(s) kept on this instance${SQ}s volume
	git-train: waiting for the other nodes: attempt 2 starts on every node together
	rank 0: resumed from step K
	git-train: spot requests $(cat pb.sir0) $(cat pb.sir1) cancelled
	EOF
	test_cmp expect lines &&
	runner_lines pb.1.log >lines &&
	cat >expect <<-EOF &&
	git-train: node 0 was preempted (spot interruption): attempt 1 stops on every node
	git-train: waiting for node 0 to come back: attempt 2 starts on every node when it does (at most 2m00s)
	git-train: --- attempt 2 of 3 (ID, node 0 back after SPAN): restoring checkpoints ---
	git-train: checkpoints: 1 file(s) restored from s3://$BUCKET/$runs/pb/checkpoints/
	rank 1: resumed from step K
	git-train: spot request $(cat pb.sir1) cancelled
	EOF
	test_cmp expect lines &&
	same_steps pb &&
	s3_get "$runs/pb/attempts.json" pb.attempts.json &&
	/usr/bin/python3 -c "
import json
a = json.load(open(\"pb.attempts.json\"))[\"attempts\"]
assert [x[\"status\"] for x in a] == [\"preempted\", \"succeeded\"], a
" &&
	test "$(test_fake_spot_request "$(cat pb.sir0)" state)" = cancelled &&
	test "$(test_fake_spot_request "$(cat pb.sir1)" state)" = cancelled &&
	terminated "$(cat pb.0)" "$(cat pb.1)"
'

test_expect_success RUNNER 'node 1 never back: node 0 ends the run preempted after twice the resume timeout, cancelling its request' '
	wait_key "$runs/pc/result.json" pc.result.json 120 &&
	s3_get "$runs/pc/log" pc.log &&
	s3_get "$runs/pc/attempts.json" pc.attempts.json &&
	/usr/bin/python3 -c "
import datetime, json
r = json.load(open(\"pc.result.json\"))
a = json.load(open(\"pc.attempts.json\"))[\"attempts\"]
assert r[\"status\"] == \"preempted\" and r[\"failed_node\"] == 1, r
assert [x[\"status\"] for x in a] == [\"preempted\"], a
t = lambda s: datetime.datetime.strptime(s, \"%Y-%m-%dT%H:%M:%SZ\")
waited = (t(r[\"end\"]) - t(a[0][\"end\"])).total_seconds()
assert 6 <= waited <= 30, (waited, r, a)
" &&
	runner_lines pc.log >lines &&
	cat >expect <<-EOF &&
	git-train: node 1 was preempted (spot interruption): attempt 1 stops on every node
	git-train: waiting for node 1 to come back: attempt 2 starts on every node when it does (at most 6s)
	git-train: node 1 did not come back within twice train.resumeTimeout (6s): the run ends preempted
	git-train: spot requests $(cat pc.sir0) $(cat pc.sir1) cancelled
	EOF
	test_cmp expect lines &&
	test "$(test_fake_spot_request "$(cat pc.sir1)" state)" = cancelled &&
	test "$(test_fake_spot_request "$(cat pc.sir0)" state)" = cancelled &&
	terminated "$(cat pc.0)" &&
	test "$(test_fake_instance "$(cat pc.1)" stopped)" = true
'

# a cancelled request never starts its stopped instance again; started
# anyway (by hand, or capacity back just before node 0 cancelled), its
# runner sees the run ended and ends the instance at once
test_expect_success RUNNER 'node 1 started after the run ended: it ends at once, interrupted; nothing left' '
	git train aws-call ec2 StartInstances InstanceId.1="$(cat pc.1)" >/dev/null &&
	wait_key "$runs/pc/nodes/1/result.json" pc.1.result.json &&
	test_json "d[\"status\"]" <pc.1.result.json >status &&
	echo interrupted >expect &&
	test_cmp expect status &&
	s3_get "$runs/pc/nodes/1/log" pc.1.log &&
	runner_lines pc.1.log >lines &&
	cat >expect <<-EOF &&
	git-train: spot interruption notice: stopping the run
	git-train: spot interruption (stop): attempt 1 saved; the run goes on from its checkpoints when the instance starts again
	git-train: the run has ended while this instance was stopped: node 1 stops
	git-train: spot request $(cat pc.sir1) cancelled
	EOF
	test_cmp expect lines &&
	terminated "$(cat pc.1)" &&
	test_path_is_missing "$(test_instance_dir "$(cat pc.1)")/var/lib/cloud/scripts/per-boot/git-train-pc.sh" &&
	test_nothing_left
'

test_done
