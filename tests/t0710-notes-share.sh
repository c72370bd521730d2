#!/bin/sh
test_description='git train notes push/pull and git train init: run history that travels'
. "$(dirname "$0")/test-lib.sh"

# The run ids in the note on a commit, as git log --notes=train shows them.
runs_in_log() {
	git -C "$1" log --notes=train -1 --format='%N' "${2:-HEAD}" |
		sed -n 's/^\([0-9]\{8\}-[0-9]\{6\}-[0-9a-f]*-[0-9a-f]\{4\}\) .*/\1/p' | sort
}

# The run id git train local announced on stderr.
run_id_of() {
	sed -n 's/^run \([^ :]*\): .*/\1/p' "$1"
}

# record <clone> <epochs>: a real local run on HEAD; its id goes to <clone>.ids
record() {
	git -C "$1" train local -- --epochs "$2" >/dev/null 2>run.err &&
	run_id_of run.err >>"$1.ids"
}

test_expect_success PYTHON 'setup: a shared bare repository and two clones of it' '
	git init -q --bare remote.git &&
	git init -q one &&
	(cd one && test_make_train_repo && git remote add origin ../remote.git &&
	 git push -q -u origin main) &&
	git clone -q remote.git two &&
	test "$(git -C one rev-parse HEAD)" = "$(git -C two rev-parse HEAD)"
'

test_expect_success PYTHON 'pull from a remote without runs says so and writes nothing' '
	git -C two train notes pull >out 2>err &&
	echo "origin has no runs yet" >expect &&
	test_cmp expect out &&
	test_must_fail git -C two rev-parse -q --verify refs/notes/train &&
	test_must_fail git -C two rev-parse -q --verify refs/notes/remotes/origin/train
'

test_expect_success PYTHON 'push with no runs anywhere says so, exit 0' '
	git -C two train notes push >out &&
	echo "no runs to push yet" >expect &&
	test_cmp expect out &&
	test_must_fail git -C remote.git rev-parse -q --verify refs/notes/train
'

test_expect_success PYTHON 'both clones record runs on the same commit; one pushes' '
	record one 1 &&
	record two 2 &&
	test_line_count = 1 one.ids &&
	test_line_count = 1 two.ids &&
	git -C one train notes push >out &&
	echo "pushed 1 new run to origin (1 commit)" >expect &&
	test_cmp expect out &&
	test "$(git -C remote.git rev-parse refs/notes/train)" = \
	     "$(git -C one rev-parse refs/notes/train)"
'

test_expect_success PYTHON 'pull in the other clone: git log --notes=train shows the runs of both' '
	git -C two rev-parse refs/notes/train >before &&
	git -C two train notes pull >out &&
	echo "merged 1 new run from origin (1 commit)" >expect &&
	test_cmp expect out &&
	cat one.ids two.ids | sort >expect &&
	runs_in_log two >actual &&
	test_cmp expect actual &&
	# a merge, not an overwrite: the old local tip is a parent
	git -C two rev-parse refs/notes/train^1 >parent1 &&
	test_cmp before parent1
'

test_expect_success PYTHON 'a second pull changes nothing' '
	git -C two rev-parse refs/notes/train >before &&
	git -C two train notes pull >out &&
	echo "already up to date with origin" >expect &&
	test_cmp expect out &&
	git -C two rev-parse refs/notes/train >after &&
	test_cmp before after
'

test_expect_success PYTHON 'push after both recorded: the remote ends with the union' '
	git -C two train notes push >out &&
	echo "pushed 1 new run to origin (1 commit)" >expect &&
	test_cmp expect out &&
	record one 3 &&
	git -C one train notes push >out &&
	cat >expect <<-\EOF &&
	merged 1 new run from origin (1 commit)
	pushed 1 new run to origin (1 commit)
	EOF
	test_cmp expect out &&
	cat one.ids two.ids | sort >expect &&
	test_line_count = 3 expect &&
	runs_in_log remote.git main >actual &&
	test_cmp expect actual &&
	git -C two train notes pull >out &&
	echo "merged 1 new run from origin (1 commit)" >expect &&
	test_cmp expect out &&
	test "$(git -C two rev-parse refs/notes/train)" = \
	     "$(git -C remote.git rev-parse refs/notes/train)" &&
	git -C one train notes push >out &&
	echo "everything up to date with origin" >expect &&
	test_cmp expect out
'

test_expect_success PYTHON 'a line git-train cannot parse survives a pull and is shown as it is' '
	git clone -q remote.git three &&
	git -C three fetch -q origin refs/notes/train:refs/notes/train &&
	git -C three notes --ref=train append -m "checked by hand: loss looks fine" HEAD &&
	git -C three push -q origin refs/notes/train &&
	git -C one train notes pull >out &&
	echo "merged 1 new run from origin (1 commit)" >expect &&
	test_cmp expect out &&
	git -C one notes --ref=train show HEAD >note &&
	test_grep -x "checked by hand: loss looks fine" note &&
	git -C one train log >log &&
	test_grep "checked by hand: loss looks fine" log &&
	grep -v "^\$" note >lines &&
	test_line_count = 4 lines
'

test_expect_success PYTHON 'local runs survive a remote whose notes history was rewritten' '
	git -C three update-ref -d refs/notes/train &&
	git -C three notes --ref=train add -m "rewritten elsewhere" HEAD &&
	git -C three push -q -f origin refs/notes/train &&
	git -C one notes --ref=train show HEAD >before &&
	git -C one train notes pull >out &&
	echo "merged 1 new run from origin (1 commit)" >expect &&
	test_cmp expect out &&
	git -C one notes --ref=train show HEAD >after &&
	{ grep -v "^\$" before && echo "rewritten elsewhere"; } | sort >expect &&
	test_cmp expect after &&
	git -C one train notes push >out &&
	git -C remote.git notes --ref=train show main >remote-note &&
	test_cmp expect remote-note
'

test_expect_success PYTHON 'a push that loses a race fetches, merges and pushes again' '
	git -C two train notes pull >/dev/null &&
	git -C three fetch -q origin +refs/notes/train:refs/notes/train &&
	record one 1 &&
	# while one pushes, three gets its run in first (once)
	cat >one/.git/hooks/pre-push <<-\EOF &&
	#!/bin/sh
	test -f ../raced && exit 0
	touch ../raced
	unset GIT_DIR GIT_WORK_TREE GIT_INDEX_FILE
	git -C ../three notes --ref=train append -m "raced in by three" HEAD &&
	git -C ../three push -q origin refs/notes/train
	EOF
	chmod +x one/.git/hooks/pre-push &&
	git -C one train notes push >out 2>err &&
	rm one/.git/hooks/pre-push &&
	test -f raced &&
	cat >expect <<-\EOF &&
	merged 1 new run from origin (1 commit)
	pushed 1 new run to origin (1 commit)
	EOF
	test_cmp expect out &&
	git -C remote.git notes --ref=train show main >remote-note &&
	test_grep -x "raced in by three" remote-note &&
	test_grep "^$(tail -n 1 one.ids) " remote-note
'

test_expect_success PYTHON 'a push the remote refuses fails with git'"'"'s reason, exit 1' '
	git -C one train local -- --epochs 1 >/dev/null 2>&1 &&
	printf "#!/bin/sh\necho no notes here >&2\nexit 1\n" >remote.git/hooks/pre-receive &&
	chmod +x remote.git/hooks/pre-receive &&
	git -C remote.git rev-parse refs/notes/train >before &&
	test_expect_code 1 git -C one train notes push >out 2>err &&
	rm remote.git/hooks/pre-receive &&
	test_grep "pre-receive hook declined" err &&
	test_grep "^error: cannot push the runs to .origin.: it rejected them" err &&
	git -C remote.git rev-parse refs/notes/train >after &&
	test_cmp before after
'

# Diverged notes histories built the plain git way, merged by git itself and
# by git-train: the notes must come out identical, blob for blob.
test_expect_success 'the merge gives what git notes merge -s cat_sort_uniq gives' '
	git init -q --bare cmp.git &&
	git init -q a &&
	(cd a && git remote add origin ../cmp.git &&
	 for c in c1 c2 c3 c4 c5 c6; do test_commit $c && git tag $c || exit 1; done &&
	 git push -q origin main --tags &&
	 git notes --ref=train add -m "20261101-000000-aaaaaaa-0001 backend=local" c1 &&
	 git notes --ref=train add -m "same on both" c4 &&
	 git push -q origin refs/notes/train) &&
	git clone -q cmp.git b &&
	(cd b && git fetch -q origin refs/notes/train:refs/notes/train &&
	 git notes --ref=train append -m "20261103-000000-aaaaaaa-0003 backend=t3.micro" c1 &&
	 git notes --ref=train append -m "a note line typed by hand" c1 &&
	 git notes --ref=train add -m "zeta from b" -m "alpha from b" c3 &&
	 git notes --ref=train append -m "later on both" c4 &&
	 git notes --ref=train add -m "dup" -m "dup" c6 &&
	 git push -q origin refs/notes/train) &&
	(cd a &&
	 git notes --ref=train append -m "20261102-000000-aaaaaaa-0002 backend=local" c1 &&
	 git notes --ref=train append -m "a note line typed by hand" c1 &&
	 git notes --ref=train add -m "only in a" c2 &&
	 git notes --ref=train append -m "later on both" c4 &&
	 git notes --ref=train add -m "only a, c5" c5 &&
	 git notes --ref=train add -m "dup" c6 &&
	 git fetch -q origin +refs/notes/train:refs/notes/remotes/origin/train &&
	 git update-ref refs/notes/by-git refs/notes/train &&
	 git notes --ref=by-git merge -q -s cat_sort_uniq refs/notes/remotes/origin/train &&
	 git train notes pull >out &&
	 git notes --ref=by-git list >expect &&
	 git notes --ref=train list >actual &&
	 test_cmp expect actual &&
	 test_line_count = 6 actual &&
	 git notes --ref=train show c1 >c1-note &&
	 test_line_count = 4 c1-note)
'

# git writes notes trees with fanout (ab/cdef...) past a few hundred notes.
test_expect_success 'notes in fanout trees merge too, as git merges them' '
	(cd b && {
		for i in $(seq 1 300); do
			printf "commit refs/heads/fan\nmark :%d\n" $i &&
			printf "committer C <c@example.com> 1700000000 +0000\ndata 3\nc%d\n\n" $((i % 10))
		done &&
		printf "commit refs/notes/train\ncommitter C <c@example.com> 1700000000 +0000\n" &&
		printf "data 4\nmany\nfrom refs/notes/train^0\n" &&
		for i in $(seq 1 300); do printf "N inline :%d\ndata <<EOT\nfan %d\nEOT\n" $i $i; done
	 } | git fast-import --quiet &&
	 git ls-tree --name-only refs/notes/train >tree &&
	 test_grep -x "[0-9a-f][0-9a-f]" tree &&
	 git push -q origin refs/notes/train) &&
	(cd a && git notes --ref=train append -m "after the fanout" c2 &&
	 git fetch -q origin +refs/notes/train:refs/notes/remotes/origin/train &&
	 git update-ref refs/notes/by-git refs/notes/train &&
	 git notes --ref=by-git merge -q -s cat_sort_uniq refs/notes/remotes/origin/train &&
	 git train notes pull >out &&
	 echo "merged 300 new runs from origin (300 commits)" >expect &&
	 test_cmp expect out &&
	 git notes --ref=by-git list >expect &&
	 git notes --ref=train list >actual &&
	 test_cmp expect actual &&
	 test_line_count = 306 actual)
'

test_expect_success 'default remote: the branch upstream, else origin, else the only one' '
	git init -q multi &&
	(cd multi && test_commit m1 &&
	 git init -q --bare ../r-a.git && git init -q --bare ../r-b.git &&
	 git remote add a ../r-a.git && git remote add b ../r-b.git &&
	 test_expect_code 128 git train notes pull 2>err &&
	 test_grep "^error: cannot tell which remote to use" err &&
	 test_grep "^hint: name one after pull or push: a, b" err &&
	 git push -q -u b main &&
	 git train notes pull >out &&
	 echo "b has no runs yet" >expect &&
	 test_cmp expect out &&
	 git remote remove a &&
	 git branch --unset-upstream &&
	 git train notes pull >out &&
	 test_cmp expect out)
'

test_expect_success 'errors: unknown remote, no remote, not a repository, usage' '
	test_expect_code 128 git -C one train notes pull nope 2>err &&
	test_grep "^error: .nope. is not a remote of this repository" err &&
	test_grep "^hint: its remotes: origin" err &&
	git init -q lonely &&
	test_expect_code 128 git -C lonely train notes push 2>err &&
	test_grep "^error: this repository has no remote to share runs with" err &&
	test_grep "^hint: add one: git remote add origin <url>" err &&
	mkdir -p outside &&
	(GIT_CEILING_DIRECTORIES=$PWD && export GIT_CEILING_DIRECTORIES &&
	 cd outside && test_expect_code 128 git-train notes pull 2>../err) &&
	test_grep "not a git repository" err &&
	test_expect_code 129 git -C one train notes 2>err &&
	test_grep "say what to do: pull or push" err &&
	test_expect_code 129 git -C one train notes fetch 2>err &&
	test_grep "unknown notes command .fetch." err &&
	test_expect_code 129 git -C one train notes pull origin extra 2>err &&
	test_grep "unexpected argument .extra." err
'

test_expect_success 'a fetch that fails (remote gone) is exit 1 with git'"'"'s message' '
	git -C one remote add gone ../does-not-exist.git &&
	test_expect_code 1 git -C one train notes pull gone 2>err &&
	test_grep "^error: cannot fetch the runs from .gone." err &&
	test_grep "does-not-exist" err
'

test_expect_success 'init sets the notes config, says why, and a second init changes nothing' '
	git clone -q remote.git four &&
	git -C four config --add notes.rewriteRef refs/notes/commits &&
	git -C four train init >out &&
	cat >expect <<-\EOF &&
	set notes.rewriteRef=refs/notes/train: runs follow their commits through git commit --amend and git rebase
	set notes.train.mergeStrategy=cat_sort_uniq: git notes merge keeps the runs of both sides
	set train.cloneId (random, in this clone'"'"'s config only): the pre-push hook trusts only the smoke passes this clone recorded
	EOF
	test_cmp expect out &&
	git -C four config --local train.cloneId >id &&
	grep -q "^[0-9a-f]\{64\}$" id &&
	git -C four config --get-all notes.rewriteRef >values &&
	printf "refs/notes/commits\nrefs/notes/train\n" >expect &&
	test_cmp expect values &&
	test "$(git -C four config notes.train.mergeStrategy)" = cat_sort_uniq &&
	cp four/.git/config config-before &&
	git -C four train init >out &&
	echo "git-train is already set up in this repository: nothing changed" >expect &&
	test_cmp expect out &&
	test_cmp config-before four/.git/config
'

test_expect_success 'init --remote: plain git fetch brings the runs, even from a remote without any' '
	git -C four train init --remote origin >out &&
	echo "added remote.origin.fetch=+refs/notes/train*:refs/notes/remotes/origin/train*: git fetch origin also fetches its runs ('"'"'git train notes pull origin'"'"' merges them)" >expect &&
	test_cmp expect out &&
	git -C four fetch -q origin &&
	test "$(git -C four rev-parse refs/notes/remotes/origin/train)" = \
	     "$(git -C remote.git rev-parse refs/notes/train)" &&
	git -C four train init --remote origin >out &&
	echo "git-train is already set up in this repository: nothing changed" >expect &&
	test_cmp expect out &&
	git init -q --bare empty.git &&
	git -C four remote add empty ../empty.git &&
	git -C four train init --remote empty >/dev/null &&
	git -C four fetch -q empty
'

test_expect_success 'init: clear errors for an unknown remote and outside a repository' '
	test_expect_code 128 git -C four train init --remote nope 2>err &&
	test_grep "^error: .nope. is not a remote of this repository" err &&
	(GIT_CEILING_DIRECTORIES=$PWD && export GIT_CEILING_DIRECTORIES &&
	 cd outside && test_expect_code 128 git-train init 2>../err) &&
	test_grep "not a git repository" err &&
	test_expect_code 129 git -C four train init extra 2>err
'

test_expect_success PYTHON 'without init, git commit --amend leaves the runs behind' '
	git clone -q remote.git five &&
	(cd five && test_commit "to amend" && git train local >/dev/null 2>&1 &&
	 git log --notes=train -1 --format=%N >before &&
	 test_grep "backend=local" before &&
	 test_tick && git commit -q --amend -m "amended" &&
	 git log --notes=train -1 --format=%N >after &&
	 test_grep ! "backend=local" after)
'

test_expect_success PYTHON 'after init, git commit --amend keeps the runs on the amended commit' '
	(cd five && git train init >/dev/null && test_commit "to amend again" &&
	 git train local >/dev/null 2>err &&
	 id=$(sed -n "s/^run \([^ :]*\): .*/\1/p" err) && test -n "$id" &&
	 test_tick && git commit -q --amend -m "amended again" &&
	 git log --notes=train -1 >log &&
	 test_grep "amended again" log &&
	 test_grep "^    $id backend=local status=succeeded" log)
'

test_expect_success PYTHON 'after init, git rebase carries the runs to the rebased commits' '
	(cd five && git checkout -q -b topic && test_commit topic-work &&
	 git train local >/dev/null 2>err &&
	 id=$(sed -n "s/^run \([^ :]*\): .*/\1/p" err) && test -n "$id" &&
	 old=$(git rev-parse HEAD) &&
	 git checkout -q main && test_commit main-work && git checkout -q topic &&
	 test_tick && git rebase -q main &&
	 test "$(git rev-parse HEAD)" != "$old" &&
	 git log --notes=train -1 --format=%N >note &&
	 test_grep "^$id backend=local" note)
'

test_done
