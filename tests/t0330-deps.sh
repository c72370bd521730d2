#!/bin/sh
test_description='git train local: the dependencies installed once into a virtual environment, then taken from the cache'
. "$(dirname "$0")/test-lib.sh"

# Debian's python3, with venv and pip: the environment is made over it
if test -x /usr/bin/python3 && /usr/bin/python3 -m pip --version >/dev/null 2>&1 &&
	/usr/bin/python3 -c 'import venv' 2>/dev/null; then
	test_set_prereq PIP
fi
if test_have_prereq PYTHON,PIP; then
	mkdir -p "$TRASH_DIRECTORY/index/simple" &&
	test_start_package_index "$TRASH_DIRECTORY/index" || exit 1
fi

command -v conda || command -v mamba || command -v micromamba || test_set_prereq NOCONDA

envs=$TRASH_DIRECTORY/.cache/git-train/envs

# The requests that reached the index (its access log, the readiness probe aside).
index_requests() {
	grep -c "GET /simple/tiny" "$TRASH_DIRECTORY/.index.log"
}

# The key the run's "dependencies ..." line names, from file $1.
key_of() {
	sed -n "s/^git-train: dependencies from requirements.txt [a-z ]* in [0-9.]* s (\(cached as \)\{0,1\}\([0-9a-f]\{16\}\))$/\2/p" "$1"
}

test_expect_success PYTHON,PIP 'setup: a package index with tinypkg 1.0 and 1.1, a script that imports it' '
	test_make_wheel index/simple/tinypkg tinypkg 1.0 &&
	test_make_wheel index/simple/tinypkg tinypkg 1.1 &&
	cat >train.py <<-\PY &&
	import os, sys
	import tinypkg
	print("tinypkg", tinypkg.VERSION)
	print("prefix", sys.prefix)
	print("VIRTUAL_ENV", os.environ.get("VIRTUAL_ENV"))
	print("PATH", os.environ["PATH"].split(":")[0])
	PY
	printf "%s\n" "--index-url $INDEX_URL" "tinypkg==1.0" >requirements.txt &&
	git add train.py requirements.txt &&
	git commit -q -m "train with tinypkg" &&
	git config train.interpreter /usr/bin/python3 &&
	git config train.setup "python -c \"import sys, tinypkg; print(\\\"setup sees tinypkg\\\", tinypkg.VERSION, sys.prefix)\""
'

test_expect_success PYTHON,PIP 'the first run installs them from the index; setup and the script run in the environment' '
	git train local >out 2>err &&
	key=$(key_of err) &&
	test -n "$key" &&
	echo "$key" >first-key &&
	test_grep "^git-train: dependencies from requirements.txt installed in [0-9.]* s (cached as $key)$" err &&
	test_grep "Successfully installed tinypkg-1.0" err &&
	test "$(index_requests)" -ge 1 &&
	venv=$envs/$key &&
	test_grep "^tinypkg 1.0$" out &&
	test_grep "^prefix $venv$" out &&
	test_grep "^VIRTUAL_ENV $venv$" out &&
	test_grep "^PATH $venv/bin$" out &&
	test_grep "^setup sees tinypkg 1.0 $venv$" err &&
	test_path_is_file "$venv/.git-train-deps" &&
	! ls -a "$envs" | grep "^\." | grep -v "^\.\.\{0,1\}$" &&
	git notes --ref=train show HEAD >note &&
	test_grep " status=succeeded .*deps=$key" note &&
	id=$(sed -n "s/^run \([^ :]*\): .*/\1/p" err) &&
	test_grep "^git-train: dependencies from requirements.txt installed in" .git/train/runs/$id/log &&
	grep -q "\"deps\":[[:space:]]*\"$key\"" .git/train/runs/$id/result.json
'

test_expect_success PYTHON,PIP 'the second run restores them: no request reaches the index' '
	before=$(index_requests) &&
	git train local >out 2>err &&
	key=$(cat first-key) &&
	test_grep "^git-train: dependencies from requirements.txt restored from cache in [0-9.]* s ($key)$" err &&
	test_grep ! "installed" err &&
	test "$(index_requests)" = "$before" &&
	test_grep "^tinypkg 1.0$" out &&
	test_grep "^prefix $envs/$key$" out &&
	git notes --ref=train show HEAD >note &&
	test "$(grep -c "deps=$key" note)" = 2
'

test_expect_success PYTHON,PIP 'a changed requirements.txt installs again, under another key; two runs at once make one environment' '
	before=$(index_requests) &&
	printf "%s\n" "--index-url $INDEX_URL" "tinypkg==1.1" >requirements.txt &&
	git commit -q -am "tinypkg 1.1" || exit 1
	git train local >out1 2>err1 &
	pid=$!

	git train local >out2 2>err2 &&
	wait $pid &&
	key=$(key_of err1) &&
	test "$key" = "$(key_of err2)" &&
	test "$key" != "$(cat first-key)" &&
	cat err1 err2 >err &&
	test_grep "installed in [0-9.]* s (cached as $key)$" err &&
	test "$(index_requests)" -gt "$before" &&
	test_grep "^tinypkg 1.1$" out1 &&
	test_grep "^tinypkg 1.1$" out2 &&
	test_path_is_dir "$envs/$(cat first-key)" &&
	ls -a "$envs" >list &&
	test_line_count = 4 list &&
	test_path_is_file "$envs/$key/.git-train-deps" &&
	ls -a "$envs/$key" >inside &&
	test_grep ! "^\.$key" inside
'

test_expect_success PYTHON,PIP,TORCH 'torch, which the interpreter has, is not installed again: the environment sees it' '
	printf "%s\n" "--index-url $INDEX_URL" "tinypkg==1.1" "torch" >requirements.txt &&
	cat >where_torch.py <<-\PY &&
	import importlib.util
	print("torch", importlib.util.find_spec("torch").origin)
	PY
	git add requirements.txt where_torch.py &&
	git commit -q -m "where is torch" &&
	git train local --script where_torch.py >out 2>err &&
	test_grep "^Requirement already satisfied: torch in /usr/lib/python3/dist-packages" err &&
	test_grep "^torch /usr/lib/python3/dist-packages/torch/__init__.py$" out &&
	test_grep ! "GET /simple/torch" "$TRASH_DIRECTORY/.index.log" &&
	key=$(key_of err) &&
	test_grep "installed in [0-9.]* s (cached as $key)$" err &&
	! find "$envs/$key" -name "torch*" | grep .
'

test_expect_success PYTHON,PIP 'a failed install fails the run at stage setup with pip'"'"'s output; setup and the script never run' '
	printf "%s\n" "--index-url $INDEX_URL" "nosuchpkg==9" >requirements.txt &&
	git commit -q -am "a package the index lacks" &&
	test_must_fail git train local >out 2>err &&
	test_grep "No matching distribution found for nosuchpkg==9" err &&
	test_grep "^git-train: cannot install the dependencies from requirements.txt (exit 1)$" err &&
	test_grep ! "setup sees" err &&
	test_grep ! "tinypkg" out &&
	git notes --ref=train show HEAD >note &&
	test_grep "status=failed exit=1 .*stage=setup" note &&
	test_grep ! "deps=" note &&
	id=$(sed -n "s/^run \([^ :]*\): .*/\1/p" err) &&
	test_grep "No matching distribution found" .git/train/runs/$id/log &&
	ls -a "$envs" >list &&
	! grep "^\.[0-9a-f]" list
'

test_expect_success PYTHON,NOCONDA 'environment.yml on a machine without conda: stage setup, saying what it needs' '
	git rm -q requirements.txt &&
	printf "name: demo\ndependencies:\n  - numpy\n" >environment.yml &&
	git add environment.yml &&
	git commit -q -m "a conda environment" &&
	test_expect_code 127 git train local >out 2>err &&
	test_grep "^git-train: cannot install environment.yml: it needs conda, mamba or micromamba, and this machine has none" err &&
	git notes --ref=train show HEAD >note &&
	test_grep "status=failed exit=127 .*stage=setup" note
'

test_expect_success PYTHON 'a commit without dependency files runs as before, with no deps= in its note' '
	git rm -q environment.yml &&
	echo "print(\"plain\")" >plain.py &&
	git add plain.py &&
	git commit -q -m "plain script" &&
	git config --unset train.setup &&
	git train local --script plain.py >out 2>err &&
	test_grep "^plain$" out &&
	test_grep ! "dependencies" err &&
	git notes --ref=train show HEAD >note &&
	test_grep ! "deps=" note
'

test_done
