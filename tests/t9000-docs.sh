#!/bin/sh
test_description='every command in README.md and the EC2 guides in docs/ runs as written'
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/lib-docs.sh"

test_expect_success 'every guide in docs/ is run, by t9000 or t9010' '
	for doc in "$SRCDIR"/docs/*.md; do
		basename "$doc"
	done | grep -v "^architecture.md$" | sort >guides &&
	# the contributors map shows no commands to run; t0020 checks it
	printf "%s\n" $DOCS_T9000 $DOCS_T9010 | sort >run &&
	test_cmp guides run
'

# A repository like the demo's: the example training script, committed.
test_expect_success PYTHON 'set up the example repository' '
	cp "$SRCDIR/examples/linear/train.py" . &&
	printf "outputs/\nmetrics.json\n" >.gitignore &&
	git add train.py .gitignore &&
	git commit -q -m "linear model"
'

# What README.md assumes was done once (docs/ec2-runs.md shows how): a
# bucket, and an instance profile whose role can use SSM and the bucket;
# for its real-training section, a dataset in data/, a W&B key in the
# environment and the role's access to them (docs/data-and-secrets.md).
test_expect_success EC2 'set up the account the README uses' '
	test_setup_train_account my-train-bucket git-train-instance git-train-instance &&
	mkdir data &&
	printf "x,y\n0,1\n1,4\n" >data/train.csv &&
	printf "x,y\n2,7\n" >data/valid.csv &&
	cat >read-data.json <<-\JSON &&
	{"Version": "2012-10-17", "Statement": [
	 {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::my-train-bucket"},
	 {"Effect": "Allow", "Action": "s3:GetObject",
	  "Resource": "arn:aws:s3:::my-train-bucket/datasets/*"},
	 {"Effect": "Allow", "Action": "ssm:GetParameter",
	  "Resource": "arn:aws:ssm:*:*:parameter/linear/*"}]}
	JSON
	AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam PutRolePolicy RoleName=git-train-instance \
		PolicyName=read-data PolicyDocument="$(cat read-data.json)" >/dev/null
'

# The quick start's two commands: the demo runs for real (reusing the build
# under test); the test-suite command is the one CI runs, so it is checked to
# be exactly what .ci/run executes rather than run inside itself.
test_expect_success EC2 'README.md: every command runs' '
	"$SRCDIR/tests/doc-commands.py" "$SRCDIR/README.md" \
		--replace "bash scripts/demo.sh=>GIT_TRAIN_DEMO_DIR=\"$TRASH_DIRECTORY/demo\" bash \"$SRCDIR/scripts/demo.sh\"" \
		--replace "bash scripts/test.sh=>grep -q \"^exec bash scripts/test.sh\$\" \"$SRCDIR/.ci/run\"" \
		>readme.sh &&
	WANDB_API_KEY=$(head -c 18 /dev/urandom | base64 | tr -d "/+=") &&
	echo "$WANDB_API_KEY" >wandb-key &&
	WANDB_API_KEY=$WANDB_API_KEY PATH="$TRASH_DIRECTORY/aws-bin:$PATH" bash readme.sh >out 2>&1 ||
	{ cat out; false; } &&
	grep "epoch 3/3" out &&
	grep "status=succeeded" out &&
	grep "exit status 2" out
'

test_expect_success EC2 'README.md: the GPU run had the DLAMI, the data, the secret and the metric; its outputs are here' '
	grep "^git-train: GPU: 1 x NVIDIA A10G" out &&
	git notes --ref=train show HEAD >notes &&
	grep "backend=g5.xlarge status=succeeded .*image=ami-[0-9a-f]*" notes >gpu-run &&
	test_grep " metric.slope=0\.[0-9]* " gpu-run &&
	test_grep " env=WANDB_PROJECT secrets=WANDB_API_KEY data\.train=[0-9a-f]\{12\}" gpu-run &&
	grep "^data.train=[0-9a-f]\{12\}$" out &&
	grep "^metric.slope=0\.[0-9]*$" out &&
	id=$(cut -d" " -f1 gpu-run) &&
	test_path_is_file "$id/model.json" &&
	! grep -rlF "$(cat wandb-key)" out .git .instances
'

test_expect_success EC2 'the demo ran and its note records the run' '
	git -C demo log --notes=train -1 >demo.log &&
	grep "backend=local status=succeeded" demo.log &&
	grep "metric.loss=" demo.log
'

# the guide sets up the account itself
test_expect_success EC2 'a fresh emulated account for the guide' '
	test_reset_moto &&
	test_fake_ctl reset
'

test_docs_run $DOCS_T9000

# The guide's role has the SSM agent's policy and the narrowed bucket
# statements, not AmazonSSMManagedInstanceCore: doctor passes with no warning.
test_expect_success EC2 'docs/ec2-runs.md: doctor accepts the minimal policies as written' '
	grep "^ok   role ssm access: role git-train-instance allows ssm:UpdateInstanceInformation and its messages$" out-ec2-runs.md &&
	grep "^ok   role bucket access: role git-train-instance may read code archives and write runs in s3://my-train-bucket/git-train/$" out-ec2-runs.md &&
	grep "^ok   role spot requests: role git-train-instance may cancel the run.s spot request$" out-ec2-runs.md &&
	! grep "^warn \|^FAIL " out-ec2-runs.md &&
	AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam ListAttachedRolePolicies RoleName=git-train-instance \
		>attached.xml &&
	! grep "AmazonSSMManagedInstanceCore" attached.xml &&
	AWS_ENDPOINT_URL=$MOTO_URL git train aws-call iam ListPolicies Scope=Local >policies.xml &&
	grep "<PolicyName>git-train-user</PolicyName>" policies.xml
'

test_expect_success EC2 'docs/outputs-and-metrics.md: val_loss from the pattern, the outputs back once' '
	d=doc-outputs-and-metrics.md &&
	git -C $d notes --ref=train show HEAD >notes &&
	test "$(grep -c " metric.val_loss=0.216 " notes)" = 2 &&
	grep "backend=t3.micro status=succeeded" notes &&
	id=$(sed -n "s/^\(.*\) backend=t3.micro .*/\1/p" notes) &&
	grep "^downloaded 3 files (.*) of run $id into .$id.$" out-outputs-and-metrics.md &&
	grep "^ *22  checkpoints/epoch-3.txt$" out-outputs-and-metrics.md &&
	grep "^downloaded 3 files (.*) of run $id into .model.$" out-outputs-and-metrics.md &&
	grep "^nothing to download: the 3 files of run $id are already in .model.$" out-outputs-and-metrics.md &&
	echo "weights after epoch 3" >expect &&
	test_cmp expect $d/model/checkpoints/epoch-3.txt &&
	test_cmp expect $d/$id/checkpoints/epoch-3.txt
'

test_expect_success EC2,TORCH 'docs/preemption.md: interrupted after a checkpoint, resumed from it by the runner at the next boot, one note line' '
	{ grep "^git-train: --- attempt 2 " out-preemption.md || {
		cat interrupter.log; false; }; } &&
	grep "^resumed from step [1-9][0-9]*$" out-preemption.md &&
	grep "^attempt 2$" out-preemption.md &&
	grep "^done: 40 steps, " out-preemption.md &&
	grep "^attempts=2$" out-preemption.md &&
	git -C doc-preemption.md notes --ref=train show HEAD >notes &&
	test_line_count = 1 notes &&
	grep "status=succeeded .*attempts=2" notes &&
	test_nothing_left
'

test_expect_success EC2,TORCH 'docs/several-machines.md: two nodes, the same weights on both ranks, one note line, nothing left' '
	o=out-several-machines.md &&
	grep "rank 0 of 2: bias " $o >rank0 &&
	grep "rank 1 of 2: bias " $o >rank1 &&
	test "$(sed "s/.*bias //" rank0)" = "$(sed "s/.*bias //" rank1)" &&
	grep "^nodes=2$" $o &&
	grep "^instances=i-[0-9a-f]*,i-[0-9a-f]*$" $o &&
	grep "2×g5.xlarge" $o &&
	git -C doc-several-machines.md notes --ref=train show HEAD >notes &&
	test_line_count = 1 notes &&
	grep "status=succeeded .*nodes=2" notes &&
	test_nothing_left
'

test_expect_success EC2 'docs/ec2-runs.md: the runs are in the notes, nothing is left running' '
	grep "^epoch 3 loss=0.125" out-ec2-runs.md &&
	git -C doc-ec2-runs.md notes --ref=train show HEAD >notes &&
	grep "backend=t3.micro status=succeeded exit=0 .*market=spot" notes &&
	test_line_count = 3 notes &&
	AWS_ENDPOINT_URL=$MOTO_URL git train aws-call ec2 DescribeInstances \
		Filter.1.Name=instance-state-name Filter.1.Value.1=running \
		Filter.1.Value.2=pending >instances.xml &&
	! grep "<instanceId>" instances.xml &&
	! grep -r "$TEST_AWS_SECRET_ACCESS_KEY" out-ec2-runs.md .instances
'

test_expect_success EC2 'docs/gpu.md: the PyTorch DLAMI, the GPUs first in the log, the image in the note' '
	grep "^ok   vcpu quota: g5.xlarge needs 4 vCPUs of 64 " out-gpu.md &&
	grep "^ok   ami: ami-[0-9a-f]* (PyTorch 2.10 Deep Learning AMI, Amazon Linux 2023, x86_64)$" out-gpu.md &&
	grep "image ami-[0-9a-f]* (PyTorch 2.10 Deep Learning AMI, Amazon Linux 2023, x86_64), root volume 175 GiB" out-gpu.md &&
	grep -A1 "^git-train: GPU: 1 x NVIDIA A10G" out-gpu.md | grep "^git-train: PyTorch .* (/opt/pytorch/bin/python)$" &&
	grep "^trained on cpu: " out-gpu.md &&
	git -C doc-gpu.md notes --ref=train show HEAD >notes &&
	grep "backend=g5.xlarge status=succeeded .* image=ami-[0-9a-f]*" notes &&
	grep "^image=ami-[0-9a-f]*$" out-gpu.md
'

test_expect_success EC2 'docs/sweeps.md: six local runs and three on EC2 in the notes, ranked, nothing left' '
	grep "^sweep sweep-[0-9a-f-]*: 6 runs, 6 succeeded$" out-sweeps.md &&
	grep "^sweep sweep-[0-9a-f-]*: 3 runs, 3 succeeded$" out-sweeps.md &&
	grep "^sweep sweep-[0-9a-f-]*: 6 runs, best first by loss (lower is better)$" out-sweeps.md &&
	grep "^[0-9a-f-]*  0.03  64  succeeded .*  best$" out-sweeps.md &&
	git -C doc-sweeps.md notes --ref=train show HEAD >notes &&
	test_line_count = 9 notes &&
	test "$(grep -c "backend=t3.micro status=succeeded .* param.lr=" notes)" = 3 &&
	# each instance shuts itself down once its run has ended
	for iid in $(test_fake_query /__fake/instances "print(\"\\n\".join(d))"); do
		test_fake_wait_instance "$iid" terminated 30 || exit 1
	done &&
	test_nothing_left
'

test_done
