#!/bin/sh
test_description='every command in README.md and docs/ runs as written'
. "$(dirname "$0")/test-lib.sh"

# The EC2 commands (README.md, docs/ec2-runs.md) run against moto behind the fake, which runs the
# instances' side in sandboxes; its `aws` commands reach them through a
# wrapper that adds --endpoint-url, as older AWS CLIs ignore AWS_ENDPOINT_URL.
test_start_ec2
if test_have_prereq EC2; then
	mkdir -p "$TRASH_DIRECTORY/aws-bin"
	cat >"$TRASH_DIRECTORY/aws-bin/aws" <<-EOF
	#!/bin/sh
	PATH='$PATH' exec aws --endpoint-url "\$AWS_ENDPOINT_URL" "\$@"
	EOF
	chmod +x "$TRASH_DIRECTORY/aws-bin/aws"
fi

# docs/dependencies.md installs a package as a user would, from PyPI; here a
# package index on 127.0.0.1 serves a stand-in of it (PIP_INDEX_URL).
if test_have_prereq PYTHON; then
	test_make_wheel "$TRASH_DIRECTORY/index/simple/tabulate" tabulate 0.9.0 &&
	test_make_wheel "$TRASH_DIRECTORY/index/simple/tabulate" tabulate 0.8.10 &&
	test_start_package_index "$TRASH_DIRECTORY/index" || exit 1
	PIP_INDEX_URL=$INDEX_URL
	export PIP_INDEX_URL
fi

# A repository like the demo's: the example training script, committed.
test_expect_success PYTHON 'set up the example repository' '
	cp "$SRCDIR/examples/linear/train.py" . &&
	printf "outputs/\nmetrics.json\n" >.gitignore &&
	git add train.py .gitignore &&
	git commit -q -m "linear model"
'

# What README.md assumes was done once (docs/ec2-runs.md shows how): a
# bucket, and an instance profile whose role can use SSM and the bucket.
test_expect_success EC2 'set up the account the README uses' '
	test_setup_train_account my-train-bucket git-train-instance git-train-instance
'

# The quick start's two commands: the demo runs for real (reusing the build
# under test); the test-suite command is the one CI runs, so it is checked to
# be exactly what .ci/run executes rather than run inside itself.
test_expect_success EC2 'README.md: every command runs' '
	"$SRCDIR/tests/doc-commands.py" "$SRCDIR/README.md" \
		--replace "bash scripts/demo.sh=>GIT_TRAIN_DEMO_DIR=\"$TRASH_DIRECTORY/demo\" bash \"$SRCDIR/scripts/demo.sh\"" \
		--replace "bash scripts/test.sh=>grep -q \"^exec bash scripts/test.sh\$\" \"$SRCDIR/.ci/run\"" \
		>readme.sh &&
	PATH="$TRASH_DIRECTORY/aws-bin:$PATH" bash readme.sh >out 2>&1 || { cat out; false; } &&
	grep "epoch 3/3" out &&
	grep "status=succeeded" out &&
	grep "exit status 2" out
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

for doc in "$SRCDIR"/docs/*.md; do
	name=$(basename "$doc")
	# the contributors' map shows no commands to run; t0020 checks it
	test "$name" != architecture.md || continue
	# a guide that runs on EC2 (the emulated one) says so in a comment
	prereq=PYTHON
	! grep -q "^<!-- t9000: EC2 -->" "$doc" || prereq=EC2
	! grep -q "^\$ git lfs " "$doc" || prereq=$prereq,LFS
	test_expect_success $prereq "docs/$name: every command runs" '
		rm -rf "doc-$name" && mkdir "doc-$name" && cd "doc-$name" &&
		git init -q &&
		"$SRCDIR/tests/doc-commands.py" "$doc" >../doc.sh &&
		PATH="$TRASH_DIRECTORY/aws-bin:$PATH" bash ../doc.sh >../out-$name 2>&1 ||
		{ cat ../out-$name; false; }
	'
done

test_expect_success PYTHON 'docs/local-runs.md shows a failed run and a stash run' '
	grep "^exit status 2" out-local-runs.md &&
	git -C doc-local-runs.md notes --ref=train list >notes &&
	test_line_count = 2 notes &&
	git -C doc-local-runs.md log --notes=train --all >all &&
	grep "status=failed exit=2" all &&
	grep "git-train snapshot" all
'

test_expect_success PYTHON,LFS 'docs/local-runs.md: the archive has the Git LFS file itself, run.bat CRLF' '
	grep "^version https://git-lfs.github.com/spec/v1$" out-local-runs.md &&
	grep "^weights.pt: the file itself$" out-local-runs.md &&
	grep -F "o   f   f  \r  \n" out-local-runs.md
'

test_expect_success PYTHON 'docs/workflow.md: the broken push was refused, the fixed one smoke-trained once, runs travelled' '
	grep "^push refused$" out-workflow.md &&
	test "$(grep -c "^smoke .* passed in " out-workflow.md)" = 1 &&
	test "$(grep -c "^smoke .* already passed " out-workflow.md)" = 2 &&
	grep "^already up to date with origin$" out-workflow.md &&
	git -C doc-workflow.md/project log --notes=train -1 HEAD~4 >runs &&
	grep "args=--epochs%201 smoke=1" runs &&
	grep "args=--epochs%203" runs &&
	grep "args=--epochs%205" runs &&
	grep "<- best  lr 0.8$" out-workflow.md
'

test_expect_success PYTHON 'docs/dependencies.md: installed, restored without the index, installed again for new requirements' '
	out=out-dependencies.md &&
	test "$(grep -c "^git-train: dependencies from requirements.txt installed in [0-9.]* s (cached as [0-9a-f]\{16\})$" $out)" = 2 &&
	test "$(grep -c "^git-train: dependencies from requirements.txt restored from cache in [0-9.]* s ([0-9a-f]\{16\})$" $out)" = 1 &&
	sed -n "s/^git-train: dependencies from .* (\(cached as \)\{0,1\}\([0-9a-f]*\))$/\2/p" $out >keys &&
	test "$(sed -n 1p keys)" = "$(sed -n 2p keys)" &&
	test "$(sed -n 2p keys)" != "$(sed -n 3p keys)" &&
	grep "^tabulate 0.9.0 from $TRASH_DIRECTORY/.cache/git-train/envs/$(sed -n 1p keys)$" $out &&
	grep "^tabulate 0.8.10 from " $out &&
	test "$(grep -c "GET /simple/tabulate/tabulate-0.9.0-py3-none-any.whl" .index.log)" = 1 &&
	git -C doc-dependencies.md notes --ref=train show HEAD~1 >notes &&
	test "$(grep -c " deps=$(sed -n 1p keys)" notes)" = 2
'

# The guide's role has the SSM agent's policy and the narrowed bucket
# statements, not AmazonSSMManagedInstanceCore: doctor passes with no warning.
test_expect_success EC2 'docs/ec2-runs.md: doctor accepts the minimal policies as written' '
	grep "^ok   role ssm access: role git-train-instance allows ssm:UpdateInstanceInformation and its messages$" out-ec2-runs.md &&
	grep "^ok   role bucket access: role git-train-instance may read code archives and write runs in s3://my-train-bucket/git-train/$" out-ec2-runs.md &&
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

test_expect_success EC2 'docs/data-and-secrets.md: the data, the variable and the token reached the runs, the token nothing else' '
	grep "^hamlet.txt 20 bytes$" out-data-and-secrets.md &&
	grep "^caesar.txt 16 bytes$" out-data-and-secrets.md &&
	grep "data text: 2 objects, fingerprint [0-9a-f]* (2 downloaded)" out-data-and-secrets.md &&
	grep "data text: 2 objects, fingerprint [0-9a-f]* (0 downloaded)" out-data-and-secrets.md &&
	test "$(grep -c "^token: set$" out-data-and-secrets.md)" = 3 &&
	grep "^wandb mode: disabled$" out-data-and-secrets.md &&
	test "$(grep -c "^wandb mode: offline$" out-data-and-secrets.md)" = 2 &&
	git -C doc-data-and-secrets.md notes --ref=train show HEAD >notes &&
	test_line_count = 3 notes &&
	test "$(grep -c " env=WANDB_MODE secrets=HF_TOKEN data\.text=[0-9a-f]\{12\}" notes)" = 3 &&
	sed -n "s/.* data\.text=\([0-9a-f]*\).*/\1/p" notes | sort -u >fingerprints &&
	test_line_count = 1 fingerprints &&
	grep "backend=t3.micro status=succeeded" notes &&
	token=$(cat doc-data-and-secrets.md/token.txt) &&
	test -n "$token" &&
	! grep -rlF "$token" out-data-and-secrets.md .instances doc-data-and-secrets.md/.git
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

test_done
