#!/bin/sh
test_description='--stash: the working tree as a snapshot commit, touching nothing'
. "$(dirname "$0")/test-lib.sh"

# Everything a snapshot must leave as it was: the status, the index file's
# bytes and mtime, HEAD, every ref but the notes, and the stash. Kept outside
# the repository under test, so that saving it changes nothing there. git
# status may itself rewrite the index to refresh it: it runs first when
# saving, last when checking, and without optional locks.
state_dir() {
	S="$TRASH_DIRECTORY/state.$(basename "$PWD")" &&
	mkdir -p "$S"
}

status() {
	git --no-optional-locks status --porcelain
}

# git-train's own refs (the notes, and refs/train/snapshots/ keeping the
# snapshots that ran) are expected to change; nothing else may.
list_refs() {
	git for-each-ref --format="%(refname) %(objectname)" >"$1.all" &&
	{ grep -v -e "^refs/notes/" -e "^refs/train/" "$1.all" >"$1"; true; }
}

save_state() {
	state_dir &&
	status >"$S/status" &&
	cp .git/index "$S/index" &&
	stat -c %y .git/index >"$S/mtime" &&
	git rev-parse HEAD >"$S/head" &&
	git symbolic-ref -q HEAD >"$S/symref" &&
	list_refs "$S/refs"
}

check_state() {
	state_dir &&
	cmp "$S/index" .git/index &&
	stat -c %y .git/index >"$S/now.mtime" &&
	test_cmp "$S/mtime" "$S/now.mtime" &&
	git rev-parse HEAD >"$S/now.head" &&
	test_cmp "$S/head" "$S/now.head" &&
	git symbolic-ref -q HEAD >"$S/now.symref" &&
	test_cmp "$S/symref" "$S/now.symref" &&
	list_refs "$S/now.refs" &&
	test_cmp "$S/refs" "$S/now.refs" &&
	test_must_fail git rev-parse -q --verify refs/stash &&
	git stash list >"$S/now.stash" &&
	test_must_be_empty "$S/now.stash" &&
	status >"$S/now.status" &&
	test_cmp "$S/status" "$S/now.status"
}

test_must_be_empty() {
	test -s "$1" || return 0
	echo >&2 "not empty: $1"
	cat >&2 "$1"
	return 1
}

# The snapshot commits: written as objects only, so no ref reaches them.
snapshot_commits() {
	git fsck --unreachable --no-reflogs 2>/dev/null |
	while read -r what type id; do
		test "$type" = commit || continue
		git log -1 --format=%s "$id" | grep -q "^git-train snapshot on " && echo "$id"
	done
}

sane_unset() {
	for v in "$@"; do unset "$v"; done
	return 0
}

extract() {
	rm -rf "$2" && mkdir "$2" && tar xzf "$1" -C "$2"
}

uni="données-ü-日本.txt"

test_expect_success 'setup: a committed tree, then every kind of change' '
	git init -q work &&
	cd work &&
	echo keep >keep.txt &&
	echo old >modified.txt &&
	echo old >staged.txt &&
	echo old >both.txt &&
	echo old >deleted.txt &&
	echo old >removed.txt &&
	printf "#!/bin/sh\necho hi\n" >run.sh &&
	echo old >"name with space.txt" &&
	echo old >"$uni" &&
	echo target-a >a.txt && echo target-b >b.txt &&
	ln -s a.txt link &&
	echo regular >becomes-link &&
	ln -s a.txt becomes-file &&
	printf "*.log\nbuild/\n" >.gitignore &&
	git add . &&
	test_tick &&
	git commit -q -m "the base" &&

	echo new >modified.txt &&
	echo new >staged.txt && git add staged.txt &&
	echo staged >both.txt && git add both.txt && echo unstaged >both.txt &&
	rm deleted.txt &&
	git rm -q removed.txt &&
	chmod +x run.sh &&
	echo new >"name with space.txt" &&
	echo new >"$uni" &&
	rm link && ln -s b.txt link &&
	rm becomes-link && ln -s b.txt becomes-link &&
	rm becomes-file && echo regular >becomes-file &&
	echo added >added.txt && git add added.txt &&
	echo untracked >untracked.txt &&
	mkdir -p newdir/deep && echo untracked >"newdir/deep/un tracked.txt" &&
	echo ignored >debug.log &&
	mkdir build && echo ignored >build/out.o &&
	save_state
'

test_expect_success 'archive --stash holds staged and unstaged changes to tracked files' '
	(cd work && git train archive --stash -o ../snap.tgz) &&
	extract snap.tgz x &&
	echo keep >expect && test_cmp expect x/keep.txt &&
	echo new >expect && test_cmp expect x/modified.txt &&
	test_cmp expect x/staged.txt &&
	test_cmp expect "x/name with space.txt" &&
	test_cmp expect "x/$uni" &&
	echo unstaged >expect && test_cmp expect x/both.txt &&
	echo added >expect && test_cmp expect x/added.txt &&
	test_path_is_missing x/deleted.txt &&
	test_path_is_missing x/removed.txt &&
	test -x x/run.sh &&
	test -h x/link && test "$(readlink x/link)" = b.txt &&
	test -h x/becomes-link && test "$(readlink x/becomes-link)" = b.txt &&
	! test -h x/becomes-file && echo regular >expect && test_cmp expect x/becomes-file
'

test_expect_success 'archive --stash leaves out untracked and ignored files' '
	test_path_is_file x/keep.txt &&
	test_path_is_missing x/untracked.txt &&
	test_path_is_missing x/newdir &&
	test_path_is_missing x/debug.log &&
	test_path_is_missing x/build
'

test_expect_success 'the snapshot is one commit on HEAD, named like git stash names its own' '
	cd work &&
	snapshot_commits >../snaps &&
	test_line_count = 1 ../snaps &&
	snap=$(cat ../snaps) &&
	git rev-parse HEAD >../expect &&
	git rev-list --parents -1 "$snap" | cut -d" " -f2- >../actual &&
	test_cmp ../expect ../actual &&
	echo "git-train snapshot on main: $(git rev-parse --short HEAD) the base" >../expect &&
	git log -1 --format=%s "$snap" >../actual &&
	test_cmp ../expect ../actual &&
	echo "A U Thor <author@example.com>, C O Mitter <committer@example.com>" >../expect &&
	git log -1 --format="%an <%ae>, %cn <%ce>" "$snap" >../actual &&
	test_cmp ../expect ../actual &&
	git ls-tree "$snap" run.sh >../actual &&
	test_grep "^100755 " ../actual &&
	git ls-tree "$snap" link >../actual &&
	test_grep "^120000 " ../actual
'

test_expect_success 'archive --stash changed nothing: status, index, HEAD, refs, stash' '
	cd work &&
	check_state
'

test_expect_success 'archive --stash --include-untracked adds untracked, non-ignored files' '
	(cd work && git train archive --stash --include-untracked -o ../snap-u.tgz) &&
	extract snap-u.tgz u &&
	echo untracked >expect &&
	test_cmp expect u/untracked.txt &&
	test_cmp expect "u/newdir/deep/un tracked.txt" &&
	echo unstaged >expect && test_cmp expect u/both.txt &&
	echo added >expect && test_cmp expect u/added.txt &&
	test_path_is_missing u/deleted.txt &&
	test_path_is_missing u/debug.log &&
	test_path_is_missing u/build &&
	cd work &&
	check_state
'

test_expect_success 'archive --stash on a clean tree is the archive of HEAD' '
	git clone -q work clean &&
	(
		cd clean &&
		echo ignored >more.log &&
		save_state &&
		git train archive -o ../head.tgz &&
		git train archive --stash -o ../stash.tgz 2>../err &&
		git train archive --stash --include-untracked -o ../stash-u.tgz &&
		check_state
	) &&
	test_grep -i "nothing to snapshot\|no local changes" err &&
	test_grep "HEAD" err &&
	cmp head.tgz stash.tgz &&
	cmp head.tgz stash-u.tgz
'

test_expect_success 'a bare repository refuses --stash, and archives a commit' '
	git clone -q --bare work bare.git &&
	(
		cd bare.git &&
		test_expect_code 128 git train archive --stash -o ../bare-stash.tgz 2>../err &&
		git train archive -o ../bare.tgz
	) &&
	test_grep "^error: --stash needs a working tree" err &&
	test_grep "^hint: " err &&
	test_path_is_missing bare-stash.tgz &&
	tar tzf bare.tgz >list &&
	test_grep "^keep.txt$" list
'

test_expect_success 'an unborn HEAD refuses --stash' '
	git init -q unborn &&
	(
		cd unborn &&
		echo x >file && git add file &&
		cp .git/index ../unborn.index &&
		test_expect_code 128 git train archive --stash -o ../unborn.tgz 2>../err &&
		cmp ../unborn.index .git/index &&
		test_must_fail git rev-parse -q --verify HEAD
	) &&
	test_grep "^error: .*no commit yet" err &&
	test_grep "unborn" err &&
	test_path_is_missing unborn.tgz
'

test_expect_success 'unresolved conflicts refuse --stash, naming a path' '
	git init -q conflict &&
	(
		cd conflict &&
		test_commit base f.txt base &&
		git checkout -q -b side &&
		test_commit side f.txt side &&
		git checkout -q main &&
		test_commit main f.txt main &&
		test_must_fail git merge -q side >/dev/null 2>&1 &&
		save_state &&
		test_expect_code 128 git train archive --stash -o ../conflict.tgz 2>../err &&
		check_state
	) &&
	test_grep "^error: .*conflict.*f.txt" err &&
	test_grep "^hint: " err &&
	test_path_is_missing conflict.tgz
'

test_expect_success 'a changed submodule keeps the gitlink of the index' '
	git init -q sub-origin &&
	(cd sub-origin && test_commit one && test_commit two) &&
	git init -q super &&
	(
		cd super &&
		git submodule -q add ../sub-origin sub 2>/dev/null &&
		test_commit super &&
		git -C sub checkout -q HEAD~1 &&
		echo dirty >sub/dirt &&
		echo changed >super.t &&
		git rev-parse HEAD:sub >../expect &&
		save_state &&
		git train archive --stash --include-untracked -o ../super.tgz &&
		snapshot_commits >../snaps &&
		test_line_count = 1 ../snaps &&
		git rev-parse "$(cat ../snaps):sub" >../actual &&
		test_cmp ../expect ../actual &&
		git rev-parse "$(cat ../snaps):super.t" >../actual &&
		git hash-object super.t >../expect &&
		test_cmp ../expect ../actual &&
		test_must_fail git rev-parse -q --verify "$(cat ../snaps):dirt" &&
		test_must_fail git rev-parse -q --verify "$(cat ../snaps):sub/dirt" &&
		check_state
	)
'

test_expect_success 'the snapshot is made by user.name, else by git-train' '
	git init -q anon &&
	cd anon &&
	test_commit one &&
	echo two >one.t &&
	sane_unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL &&
	git train archive --stash -o ../anon.tgz &&
	snapshot_commits >../snaps &&
	test_line_count = 1 ../snaps &&
	echo "git-train <git-train@localhost>" >../expect &&
	git log -1 --format="%an <%ae>" $(cat ../snaps) >../actual &&
	test_cmp ../expect ../actual &&
	git config user.name "Con Fig" &&
	git config user.email "con@example.com" &&
	echo three >one.t &&
	git train archive --stash -o ../anon.tgz &&
	snapshot_commits | grep -v "$(cat ../snaps)" >../snaps2 &&
	test_line_count = 1 ../snaps2 &&
	echo "Con Fig <con@example.com>" >../expect &&
	git log -1 --format="%an <%ae>" $(cat ../snaps2) >../actual &&
	test_cmp ../expect ../actual
'

test_expect_success PYTHON 'setup: a training repository with an edited script' '
	git init -q train &&
	(
		cd train &&
		test_make_train_repo &&
		{ echo "print(\"edited in the working tree\", flush=True)"; cat train.py; } >edited &&
		mv edited train.py &&
		save_state
	)
'

test_expect_success PYTHON 'local without --stash warns and runs HEAD' '
	(
		cd train &&
		git train local -- --epochs 1 >../out 2>../err &&
		test_grep "not part of this run" ../err &&
		test_grep "epoch 1/1" ../out &&
		test_grep ! "edited in the working tree" ../out &&
		git notes --ref=train show HEAD >../note &&
		test_line_count = 1 ../note &&
		check_state
	)
'

test_expect_success PYTHON 'local --stash runs the edited script and notes the snapshot commit' '
	(
		cd train &&
		git train local --stash -- --epochs 1 >../out 2>../err &&
		test_grep "edited in the working tree" ../out &&
		test_grep "epoch 1/1" ../out &&
		git notes --ref=train list >../notes &&
		cut -d" " -f2 ../notes | grep -v "^$(git rev-parse HEAD)$" >../noted &&
		test_line_count = 1 ../noted &&
		snap=$(cat ../noted) &&
		git rev-parse HEAD >../expect &&
		git rev-parse "$snap^" >../actual &&
		test_cmp ../expect ../actual &&
		test_must_fail git rev-parse -q --verify "$snap^2" &&
		git show "$snap:train.py" >../actual &&
		test_cmp train.py ../actual &&
		git notes --ref=train show "$snap" >../note &&
		test_grep "succeeded" ../note &&
		echo "$snap" >../expect &&
		git rev-parse "refs/train/snapshots/$snap" >../actual &&
		test_cmp ../expect ../actual &&
		git log --notes=train --all --format="%H %N" >../log &&
		test_grep "^$snap .*succeeded" ../log &&
		check_state
	)
'

test_expect_success PYTHON 'local --stash --include-untracked runs with a new, untracked module' '
	(
		cd train &&
		echo "GREETING = \"hello from an untracked module\"" >helper.py &&
		{ echo "import helper; print(helper.GREETING, flush=True)"; cat train.py; } >edited &&
		mv edited train.py &&
		save_state &&
		test_expect_code 1 git train local --stash -- --epochs 1 >../out 2>../err &&
		cat ../out ../err | test_grep "No module named .helper" &&
		git train local --stash --include-untracked -- --epochs 1 >../out 2>../err &&
		test_grep "hello from an untracked module" ../out &&
		check_state
	)
'

test_expect_success PYTHON 'local --stash on a clean tree runs HEAD and notes it' '
	(
		cd train &&
		git checkout -q -- train.py && rm helper.py &&
		git notes --ref=train list >../notes.before &&
		git notes --ref=train show HEAD >../note.before &&
		test_line_count = 1 ../note.before &&
		save_state &&
		git train local --stash -- --epochs 1 >../out 2>../err &&
		test_grep "nothing to snapshot" ../err &&
		git notes --ref=train list >../notes.after &&
		test_line_count = $(wc -l <../notes.before) ../notes.after &&
		git notes --ref=train show HEAD >../note.after &&
		test_line_count = 2 ../note.after &&
		check_state
	)
'

test_done
