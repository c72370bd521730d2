#!/bin/sh
# The dependencies on EC2 (through moto and the fake's instances): the first
# run installs them from the package index and packs the environment into
# the repository's cache in S3; the next run, on another instance, restores
# it from there, and no request reaches the index.
. "$(dirname "$0")/test-lib.sh"

test_start_ec2
if test_have_prereq EC2 && /usr/bin/python3 -m pip --version >/dev/null 2>&1; then
	test_set_prereq PIP
	mkdir -p "$TRASH_DIRECTORY/index/simple" &&
	test_start_package_index "$TRASH_DIRECTORY/index" || exit 1
fi

index_requests() {
	grep -c "GET /simple/tinypkg" "$TRASH_DIRECTORY/.index.log"
}

test_expect_success EC2,PIP 'setup: an account, a package index, a script that imports its package' '
	test_setup_train_account train-bucket train-role train-profile &&
	git config train.bucket train-bucket &&
	git config train.instanceProfile train-profile &&
	git config train.interpreter /usr/bin/python3 &&
	test_make_wheel index/simple/tinypkg tinypkg 1.0 &&
	cat >train.py <<-\PY &&
	import os, tinypkg
	print("tinypkg", tinypkg.VERSION, "in", os.environ["VIRTUAL_ENV"])
	PY
	printf "%s\n" "--index-url $INDEX_URL" "tinypkg==1.0" >requirements.txt &&
	git add train.py requirements.txt &&
	git commit -q -m "train with tinypkg"
'

test_expect_success EC2,PIP 'the first run installs them and packs the environment into S3 (SSE)' '
	git train t3.micro --wait >out 2>err &&
	test_grep "^tinypkg 1.0 in .*/var/lib/git-train/envs/[0-9a-f]\{16\}$" out &&
	key=$(sed -n "s/^git-train: dependencies from requirements.txt installed in [0-9.]* s (cached as \([0-9a-f]\{16\}\))$/\1/p" out) &&
	test -n "$key" &&
	echo $key >key &&
	test "$(index_requests)" -ge 1 &&
	git notes --ref=train show HEAD >note &&
	test_grep " status=succeeded .* deps=$key" note &&
	object=/train-bucket/git-train/$(test_repo_id)/envs/$key.tar.gz &&
	test_moto_s3 "$object" -I >head &&
	test_grep -i "^x-amz-server-side-encryption: AES256" head
'

test_expect_success EC2,PIP 'the next run, on another instance, restores it from S3: no request reaches the index' '
	before=$(index_requests) &&
	key=$(cat key) &&
	git train t3.micro --wait >out 2>err &&
	test_grep "^git-train: dependencies from requirements.txt restored from cache in [0-9.]* s ($key)$" out &&
	test_grep ! "installed in" out &&
	test "$(index_requests)" = "$before" &&
	venv=$(sed -n "s/^tinypkg 1.0 in //p" out) &&
	test -n "$venv" &&
	test_path_is_file "$venv/.git-train-deps" &&
	test_grep "^VIRTUAL_ENV=\"\{0,1\}$venv\"\{0,1\}$" "$venv/bin/activate" &&
	git notes --ref=train show HEAD >note &&
	test "$(grep -c " deps=$key" note)" = 2
'

test_done
