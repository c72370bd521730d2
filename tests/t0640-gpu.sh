#!/bin/sh
# GPU runs on EC2, through moto and the fake: a type with NVIDIA GPUs boots
# the newest PyTorch Deep Learning AMI of its architecture (GetParametersByPath
# of the public DLAMI parameters), runs the script with the image's framework
# Python on a root volume with room, and its log starts with the GPUs and the
# PyTorch version; a driver that does not answer fails the run at stage setup;
# a vCPU quota too small fails doctor, and the launch, before anything is
# launched; train.launcher = torchrun starts one process per GPU.
. "$(dirname "$0")/test-lib.sh"

# Debian's torchrun needs its workaround (test-lib.sh): first on the PATH of
# git train local and of the fake's instances alike
test_torchrun_wrapper "$TRASH_DIRECTORY/.torchrun" || exit 1
PATH=$TRASH_DIRECTORY/.torchrun:$PATH
export PATH
test_start_ec2

# dlami <arch> <ami-type>: the AMI id the public parameter names (the fake's)
dlami() {
	git train aws-call ssm GetParameter \
		Name="/aws/service/deeplearning/ami/$1/$2/latest/ami-id" >param.json &&
	test_json 'd["Parameter"]["Value"]' <param.json
}

instance_of() {
	sed -n "s/.*instance \(i-[0-9a-f]*\) is ready.*/\1/p" "$1" "$2"
}

# image_of <instance-id>: the ImageId it was launched with, as EC2 (moto) has it
image_of() {
	test_aws_call ec2 DescribeInstances InstanceId.1="$1" >inst.xml &&
	test_xml "reservationSet/item/instancesSet/item/imageId" <inst.xml
}

test_expect_success EC2 'setup: an account, a repository with a script' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	cat >train.py <<-\PY &&
	print("training", flush=True)
	PY
	git add train.py &&
	git commit -q -m "a script"
'

test_expect_success EC2 'a vCPU quota too small: doctor fails it with the fix, and nothing is launched' '
	test_fake_settings "{\"quotas\": {\"L-3819A6DF\": 2}}" &&
	test_expect_code 1 git -c train.instanceType=g5.xlarge train doctor >out 2>err &&
	test_grep "^FAIL vcpu quota: g5.xlarge needs 4 vCPUs, more than the spot quota \"All G and VT Spot Instance Requests\" (L-3819A6DF) allows in us-east-1: 2$" out &&
	test_grep "https://us-east-1.console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-3819A6DF" out &&
	test_grep "aws service-quotas request-service-quota-increase --region us-east-1 --service-code ec2 --quota-code L-3819A6DF --desired-value 4" out &&
	test_grep "or train on-demand: --on-demand" out &&
	before=$(test_fake_count "ec2 RunInstances") &&
	test_expect_code 1 git train g5.xlarge >out 2>err &&
	test_grep "error: vcpu quota: g5.xlarge needs 4 vCPUs" err &&
	test_grep "nothing was launched" err &&
	test "$(test_fake_count "ec2 RunInstances")" = "$before" &&
	test_fake_settings "{\"quotas\": {}}" &&
	git -c train.instanceType=g5.xlarge train doctor >out &&
	test_grep "^ok   vcpu quota: g5.xlarge needs 4 vCPUs of 64 (spot quota" out &&
	test_grep "^ok   ami: $(dlami x86_64 oss-nvidia-driver-gpu-pytorch-2.10-amazon-linux-2023) (PyTorch 2.10 Deep Learning AMI, Amazon Linux 2023, x86_64)$" out &&
	git -c train.instanceType=g5g.xlarge -c train.image=base train doctor >out &&
	test_grep "^ok   ami: $(dlami arm64 base-oss-nvidia-driver-gpu-amazon-linux-2023) (Base Deep Learning AMI, Amazon Linux 2023, arm64)$" out
'

test_expect_success EC2 'a root volume smaller than the image: refused before the launch' '
	before=$(test_fake_count "ec2 RunInstances") &&
	test_expect_code 1 git train g5.xlarge --volume-size 20 >out 2>err &&
	test_grep "error: a root volume of 20 GiB is smaller than the snapshot of ami-[0-9a-f]* (75 GiB)" err &&
	test_grep "git config train.volumeSize 175" err &&
	test "$(test_fake_count "ec2 RunInstances")" = "$before" &&
	test_expect_code 129 git train g5.xlarge --image ubuntu 2>err &&
	test_grep "unknown image .ubuntu.: train.image takes pytorch, base, al2023 or an AMI id" err
'

test_expect_success EC2,TORCH 'git train g5.xlarge --wait: the newest PyTorch DLAMI, its Python, room, the GPUs first in the log, the image in the note' '
	test_train g5.xlarge --wait --keep &&
	id=$(test_run_id_of out) &&
	iid=$(instance_of out err) &&
	ami=$(dlami x86_64 oss-nvidia-driver-gpu-pytorch-2.10-amazon-linux-2023) &&
	test "$(image_of "$iid")" = "$ami" &&
	test_aws_call ec2 DescribeVolumes Filter.1.Name=attachment.instance-id \
		Filter.1.Value.1="$iid" >volumes.xml &&
	test "$(test_xml volumeSet/item/size <volumes.xml)" = 175 &&
	test_grep "image $ami (PyTorch 2.10 Deep Learning AMI, Amazon Linux 2023, x86_64), root volume 175 GiB" err &&
	cat "$(test_instance_dir "$iid")"/var/lib/amazon/ssm/*/document/orchestration/*/awsrunShellScript/0.awsrunShellScript/_script.sh >command &&
	test_grep "^INTERPRETER=.*/opt/pytorch/bin/python" command &&
	test_grep "^GPUS=1$" command &&
	git train logs "$id" >log &&
	head -n 2 log >first &&
	printf "%s\n" "git-train: GPU: 1 x NVIDIA A10G, 22888 MiB, 570.133.20 (CUDA 12.8)" >expect &&
	head -n 1 first | test_cmp expect - &&
	test_grep "^git-train: PyTorch [0-9][0-9.a-z+]* (/opt/pytorch/bin/python)$" first &&
	test_grep "^training$" log &&
	note=$(git notes --ref=train show HEAD) &&
	echo "$note" | grep " image=$ami" &&
	test_aws_call ec2 TerminateInstances InstanceId.1="$iid" >/dev/null
'

test_expect_success EC2 'an arm64 type boots the arm64 DLAMI; a driver that does not answer fails the run at stage setup, before the script' '
	test_fake_settings "{\"nvidia_smi\": \"broken\"}" &&
	! test_train g5g.xlarge --wait &&
	test_grep "run [^ ]* failed" err &&
	test_fake_settings "{\"nvidia_smi\": \"ok\"}" &&
	id=$(test_run_id_of out) &&
	iid=$(instance_of out err) &&
	test "$(image_of "$iid")" = "$(dlami arm64 oss-nvidia-driver-gpu-pytorch-2.10-amazon-linux-2023)" &&
	git train logs "$id" >log &&
	test_grep "^git-train: the NVIDIA driver does not answer: nvidia-smi: NVIDIA-SMI has failed because it couldn.t communicate with the NVIDIA driver" log &&
	test_grep ! "^training$" log &&
	git notes --ref=train show HEAD | grep "$id .*stage=setup"
'

test_expect_success EC2,TORCH 'train.launcher = torchrun: one process per GPU of the type (gloo), on EC2 and locally' '
	cat >dist.py <<-\PY &&
	import os
	os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")
	import torch, torch.distributed as dist
	dist.init_process_group("gloo")
	t = torch.ones(1)
	dist.all_reduce(t)
	if dist.get_rank() == 0:
	    with open(os.path.join(os.environ["GIT_TRAIN_OUTPUTS"], "world.txt"), "w") as f:
	        f.write("%d %d\n" % (dist.get_world_size(), t.item()))
	dist.destroy_process_group()
	PY
	git add dist.py &&
	git commit -q -m "a distributed script" &&
	git config train.launcher torchrun &&
	git config train.script dist.py &&
	test_train g7e.12xlarge --wait &&
	id=$(test_run_id_of out) &&
	test_aws_call s3 --path "/train-bucket/git-train/$(test_repo_id)/$(git rev-parse HEAD)/runs/$id/outputs/world.txt" -o world &&
	echo "2 2" >expect &&
	test_cmp expect world &&
	iid=$(instance_of out err) &&
	cat "$(test_instance_dir "$iid")"/var/lib/amazon/ssm/*/document/orchestration/*/awsrunShellScript/0.awsrunShellScript/_script.sh >command &&
	test_grep "^LAUNCHER=.*torchrun" command &&
	test_grep "^NPROC=2$" command &&
	git train local >out 2>err &&
	run=$(ls -t .git/train/runs | head -n 1) &&
	echo "1 1" >expect &&
	test_cmp expect .git/train/runs/$run/outputs/world.txt
'

test_done
