#!/bin/sh
test_description='a real PyTorch training, locally and on the fake: its metric from a pattern, its outputs back'
# A test repository trains a small linear model on synthetic data with
# Debian's PyTorch, saves its initial weights and a checkpoint into
# $GIT_TRAIN_OUTPUTS, prints "epoch N val loss X" and writes no
# metrics.json. Two torch runs in all (torch takes seconds to import): one
# with `git train local`, one on EC2 through the fake. Around them, without
# torch: what `git train outputs` does with names an instance should not
# write, with a partial download and a changed file, and train.metric on a
# run recorded later by `logs`.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2

B=train-bucket

# the run id of "run <id>: ..." (local) or "run <id> started: ..." (EC2)
run_id_of() {
	sed -n 's/^run \([^ :]*\)\(:\| started:\) .*/\1/p' "$1" | head -n 1
}

# the metric of a note line: metric_of <run-id> <name>
metric_of() {
	git notes --ref=train show HEAD | grep "^$1 " | tr ' ' '\n' | sed -n "s/^metric\.$2=//p"
}

# the value of the last "epoch N val loss X" line of a file
last_val_loss() {
	sed -n 's/^epoch [0-9]* val loss \([0-9.]*\)$/\1/p' "$1" | tail -n 1
}

same_number() {
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && b != "" && a + 0 == b + 0) }'
}

# the files under a directory, relative, sorted
files_in() {
	(cd "$1" && find . -type f | sed "s|^\./||" | LC_ALL=C sort)
}

# GETs of objects under outputs/ that the fake forwarded (listings aside)
outputs_gets() {
	test_fake_query /__fake/counts '
print(sum(n for k, n in d["requests"].items()
          if k.startswith("GET ") and "/outputs/" in k and "list-type" not in k))'
}

test_expect_success TORCH 'setup: a repository that trains a linear model with PyTorch' '
	cat >train.py <<-\PY &&
	import os
	import torch

	torch.manual_seed(0)
	out = os.environ["GIT_TRAIN_OUTPUTS"]
	x = torch.randn(256, 4)
	y = x @ torch.tensor([[1.5], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(256, 1)
	model = torch.nn.Linear(4, 1)
	torch.save(model.state_dict(), os.path.join(out, "initial.pt"))
	opt = torch.optim.SGD(model.parameters(), lr=0.1)
	for epoch in range(1, 6):
	    opt.zero_grad()
	    loss = torch.nn.functional.mse_loss(model(x[:192]), y[:192])
	    loss.backward()
	    opt.step()
	    with torch.no_grad():
	        val = torch.nn.functional.mse_loss(model(x[192:]), y[192:]).item()
	    print(f"epoch {epoch} train loss {loss.item():.6f}")
	    print(f"epoch {epoch} val loss {val:.6f}", flush=True)
	os.makedirs(os.path.join(out, "checkpoints"), exist_ok=True)
	torch.save({"epoch": 5, "model": model.state_dict()},
	           os.path.join(out, "checkpoints", "model.pt"))
	PY
	git add train.py &&
	test_tick &&
	git commit -q -m "linear regression with torch" &&
	git config train.interpreter /usr/bin/python3 &&
	git config --add train.metric "val_loss=val loss ([0-9.]+)" &&
	printf "%s\n" checkpoints/model.pt initial.pt >expect-files
'

test_expect_success 'a bad train.metric stops a run before it starts, naming the entry' '
	test_expect_code 128 git -c train.metric="loss=loss [0-9.]+" train local 2>err &&
	test_grep "train.metric .loss=loss \[0-9.\]+.: the regular expression must have exactly one capture group" err &&
	test_expect_code 128 git -c train.metric="no-equals" train local 2>err &&
	test_grep "train.metric .no-equals. is not <name>=<regex>" err &&
	test_path_is_missing .git/train/runs
'

test_expect_success TORCH 'git train local (train.download): val_loss from the pattern, outputs copied' '
	git -c train.download=true train local >out 2>err &&
	id=$(run_id_of err) &&
	echo "$id" >local-id &&
	last=$(last_val_loss out) &&
	test -n "$last" &&
	same_number "$(metric_of "$id" val_loss)" "$last" &&
	test_grep "run $id succeeded in .*: val_loss=" err &&
	test_grep "\"val_loss\":" ".git/train/runs/$id/result.json" &&
	test_grep "copied 2 files (.*) of run $id into .$id." err &&
	files_in "$id" >actual &&
	test_cmp expect-files actual &&
	cmp "$id/checkpoints/model.pt" ".git/train/runs/$id/outputs/checkpoints/model.pt"
'

test_expect_success TORCH 'git train outputs <local run> -o dir: exactly its files; again: nothing copied' '
	id=$(cat local-id) &&
	git train outputs --list "$(echo "$id" | cut -c1-20)" >list &&
	size=$(wc -c <".git/train/runs/$id/outputs/initial.pt" | tr -d " ") &&
	test_grep "^ *$size  initial.pt$" list &&
	test_line_count = 2 list &&
	git train outputs "$id" -o local-out 2>err &&
	files_in local-out >actual &&
	test_cmp expect-files actual &&
	cmp local-out/initial.pt ".git/train/runs/$id/outputs/initial.pt" &&
	git train outputs "$id" -o local-out 2>err &&
	test_grep "nothing to download: the 2 files of run $id are already in .local-out." err
'

test_expect_success TORCH,TTY 'on a terminal, a progress meter shows the transfer' '
	id=$(cat local-id) &&
	script -qec "git train outputs $id -o tty-out" /dev/null </dev/null >tty.out &&
	test_grep "Copying outputs of $id: .*100%.*done" tty.out &&
	files_in tty-out >actual &&
	test_cmp expect-files actual
'

test_expect_success EC2,TORCH 'setup: a bucket and an instance profile' '
	test_setup_train_account $B train-role train-profile &&
	git config train.bucket $B &&
	git config train.instanceProfile train-profile
'

test_expect_success EC2,TORCH 'git train t3.micro --wait --download: val_loss from the log in S3, outputs fetched' '
	git train t3.micro --wait --download --spot-timeout=5s >out 2>err &&
	id=$(run_id_of out) &&
	test -n "$id" &&
	echo "$id" >ec2-id &&
	same_number "$(metric_of "$id" val_loss)" "$(last_val_loss out)" &&
	test_grep "downloaded 2 files (.*) of run $id into .$id." err &&
	files_in "$id" >actual &&
	test_cmp expect-files actual
'

test_expect_success EC2,TORCH 'git train outputs <run> -o dir: exactly the files the script wrote; a second call transfers nothing' '
	id=$(cat ec2-id) &&
	prefix=git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs/$id &&
	before=$(outputs_gets) &&
	git train outputs "$(echo "$id" | cut -c1-22)" -o ec2-out 2>err &&
	test $(($(outputs_gets) - before)) = 2 &&
	files_in ec2-out >actual &&
	test_cmp expect-files actual &&
	for f in initial.pt checkpoints/model.pt; do
		test_aws_call s3 --path "/$B/$prefix/outputs/$f" -o direct &&
		cmp direct "ec2-out/$f" || return 1
	done &&
	before=$(outputs_gets) &&
	git train outputs "$id" -o ec2-out 2>err &&
	test "$(outputs_gets)" = "$before" &&
	test_grep "nothing to download" err &&
	git train outputs "$id" 2>err &&
	test_grep "nothing to download: the 2 files of run $id are already in .$id." err &&
	test_aws_call s3 --path "/$B/$prefix/outputs.sha256" -o sums &&
	test_grep "^[0-9a-f]\{64\}  \./checkpoints/model.pt$" sums
'

test_expect_success EC2,TORCH 'torch.load reads both checkpoints, and training changed the weights' '
	/usr/bin/python3 - "$(cat local-id)" ec2-out >check <<-\PY &&
	import sys, torch
	for d in sys.argv[1:]:
	    start = torch.load(d + "/initial.pt")
	    ckpt = torch.load(d + "/checkpoints/model.pt")
	    assert ckpt["epoch"] == 5
	    for name, w in ckpt["model"].items():
	        assert w.shape == start[name].shape, name
	        assert not torch.equal(w, start[name]), name + " did not change"
	    print(d, "ok")
	PY
	test_line_count = 2 check
'

test_expect_success EC2,TORCH 'a partial download resumes with a ranged GET; a changed file is fetched again' '
	id=$(cat ec2-id) &&
	size=$(wc -c <ec2-out/checkpoints/model.pt) &&
	head -c 100 ec2-out/checkpoints/model.pt >ec2-out/checkpoints/model.pt.part &&
	rm ec2-out/checkpoints/model.pt &&
	printf x | dd of=ec2-out/initial.pt bs=1 seek=10 conv=notrunc 2>/dev/null &&
	GIT_TRAIN_TRACE=2 git train outputs "$id" -o ec2-out 2>err &&
	test_grep -i "range: bytes=100-" err &&
	test_grep "downloaded 2 files" err &&
	test_path_is_missing ec2-out/checkpoints/model.pt.part &&
	cmp ec2-out/checkpoints/model.pt "$id/checkpoints/model.pt" &&
	cmp ec2-out/initial.pt "$id/initial.pt"
'

# An output uploaded in parts (the AWS CLI does so above 8 MiB): its ETag is
# no MD5, so the SHA-256 the runner wrote in outputs.sha256 checks it.
test_expect_success EC2,TORCH 'an output whose ETag is no MD5 is checked and skipped by outputs.sha256' '
	id=$(cat ec2-id) &&
	prefix=git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs/$id &&
	key=/$B/$prefix/outputs/big/weights.bin &&
	head -c 70000 /dev/urandom >weights.bin &&
	test_aws_call s3 --method POST --path "$key" --query uploads >mpu.xml &&
	upload=$(sed -n "s|.*<UploadId>\(.*\)</UploadId>.*|\1|p" mpu.xml) &&
	test_aws_call s3 --method PUT --path "$key" --query "partNumber=1&uploadId=$upload" \
		--upload-file weights.bin >/dev/null &&
	etag=$(md5sum <weights.bin | cut -c1-32) &&
	test_aws_call s3 --method POST --path "$key" --query "uploadId=$upload" \
		--data "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"$etag\"</ETag></Part></CompleteMultipartUpload>" >/dev/null &&
	test_aws_call s3 --path "/$B/$prefix/outputs.sha256" -o sums &&
	cp sums good-sums &&
	echo "$(sha256sum <weights.bin | cut -c1-64)  ./big/weights.bin" >>good-sums &&
	echo "$(sha256sum <expect-files | cut -c1-64)  ./big/weights.bin" >>sums &&
	test_aws_call s3 --method PUT --path "/$B/$prefix/outputs.sha256" --upload-file sums >/dev/null &&
	test_expect_code 1 git train outputs "$id" -o ec2-out 2>err &&
	test_grep "big/weights.bin. as downloaded does not match its SHA-256" err &&
	test_path_is_missing ec2-out/big/weights.bin &&
	test_path_is_missing ec2-out/big/weights.bin.part &&
	test_aws_call s3 --method PUT --path "/$B/$prefix/outputs.sha256" --upload-file good-sums >/dev/null &&
	git train outputs "$id" -o ec2-out 2>err &&
	test_grep "downloaded 1 file (.*) of run $id into .ec2-out., 2 already there" err &&
	cmp weights.bin ec2-out/big/weights.bin &&
	before=$(outputs_gets) &&
	git train outputs "$id" -o ec2-out 2>err &&
	test "$(outputs_gets)" = "$before" &&
	test_grep "nothing to download: the 3 files" err &&
	test_aws_call s3 --method DELETE --path "$key" >/dev/null
'

# an object put straight into the run's outputs, as its instance could
put_output() {
	printf "%s\n" "$2" >obj &&
	test_aws_call s3 --method PUT --path "/$B/$prefix/outputs/$1" --upload-file obj >/dev/null
}

test_expect_success EC2,TORCH 'names that escape the directory, and symlinks in it, are refused' '
	id=$(cat ec2-id) &&
	prefix=git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs/$id &&
	mkdir -p jail elsewhere &&
	put_output "sub/../../../escaped" "out of the jail" &&
	test_expect_code 1 git train outputs "$id" -o jail/dir 2>err &&
	test_grep "not a safe file name (.sub/../../../escaped. would be written outside .jail/dir." err &&
	test_path_is_missing jail/dir &&
	test_path_is_missing escaped &&
	test_aws_call s3 --method DELETE --path "/$B/$prefix/outputs/sub/../../../escaped" >/dev/null &&
	put_output "/etc/escaped" "absolute" &&
	test_expect_code 1 git train outputs "$id" -o jail/dir 2>err &&
	test_grep "not a safe file name (./etc/escaped." err &&
	test_aws_call s3 --method DELETE --path "/$B/$prefix/outputs//etc/escaped" >/dev/null &&
	mkdir -p jail/dir &&
	ln -s ../../elsewhere jail/dir/checkpoints &&
	test_expect_code 1 git train outputs "$id" -o jail/dir 2>err &&
	test_grep "jail/dir/checkpoints. is a symbolic link: not writing through it" err &&
	rm jail/dir/checkpoints &&
	ln -s ../../elsewhere/initial.pt jail/dir/initial.pt &&
	test_expect_code 1 git train outputs "$id" -o jail/dir 2>err &&
	test_grep "jail/dir/initial.pt. is a symbolic link" err &&
	files_in elsewhere >actual &&
	test_must_fail test -s actual
'

# A run on EC2 recorded by a later command: its objects put as its runner
# would, no instance left. Its metrics.json gave val_loss; the log has both.
test_expect_success EC2,TORCH 'logs records a detached run with a pattern metric (a bad one only warned of); metrics.json wins; log --metric' '
	c=$(git rev-parse HEAD) &&
	id=20261129-080100-$(git rev-parse --short=7 HEAD)-00aa &&
	prefix=git-train/$(test_repo_id)/$c/runs/$id &&
	printf "%s\n" "{\"run_id\": \"$id\", \"commit\": \"$c\", \"instance_type\": \"t3.micro\", \"launched\": \"2026-11-29T08:01:00Z\"}" >run.json &&
	test_aws_call s3 --method PUT --path "/$B/$prefix/run.json" --upload-file run.json >/dev/null &&
	printf "%s\n" "{\"run_id\": \"$id\", \"commit\": \"$c\", \"status\": \"succeeded\", \"exit_code\": 0, \"start\": \"2026-11-29T08:01:10Z\", \"duration\": 10, \"metrics\": {\"val_loss\": 0.5}}" >result.json &&
	test_aws_call s3 --method PUT --path "/$B/$prefix/result.json" --upload-file result.json >/dev/null &&
	printf "epoch 1 val loss 0.9 loss 0.5\r\nepoch 2 val loss 0.75 loss 0.25\n" >log.txt &&
	test_aws_call s3 --method PUT --path "/$B/$prefix/log" --upload-file log.txt >/dev/null &&
	git -c train.metric="loss=loss ([0-9.]+)" -c train.metric="bad=no group" train logs "$id" \
		>out 2>err &&
	test_grep "^warning: train.metric .bad=no group.: .*left out here" err &&
	test "$(metric_of "$id" val_loss)" = 0.5 &&
	test "$(metric_of "$id" loss)" = 0.25 &&
	git train log --metric val_loss >chart &&
	test_grep "2026-11-29T08:01:10Z  *0.5 " chart &&
	test "$(grep -c "^[0-9a-f]\{7\}  .*  linear regression with torch$" chart)" = 3 &&
	git train compare "$(cat local-id)" "$id" >cmp &&
	test_grep "^val_loss  *1.9[0-9]*  *0.5 " cmp
'

test_expect_success EC2 'outputs: usage errors and unknown runs' '
	test_expect_code 129 git train outputs 2>err &&
	test_grep "name the run" err &&
	test_expect_code 129 git train outputs --list -o x 20261129 2>err &&
	test_expect_code 1 git train outputs 19990101-000000 2>err &&
	test_grep "no run .19990101-000000." err &&
	test_expect_code 128 git train t3.micro --download 2>err &&
	test_grep "download needs --wait" err
'

test_done
