#!/bin/sh
test_description='every command in the guides in docs/ that t9000 leaves runs as written'
. "$(dirname "$0")/test-lib.sh"
. "$SRCDIR/tests/lib-docs.sh"

test_docs_run $DOCS_T9010
test_expect_success PYTHON 'docs/local-runs.md shows a failed run and a stash run' '
	grep "^exit status 2" out-local-runs.md &&
	git -C doc-local-runs.md notes --ref=train list >notes &&
	test_line_count = 3 notes &&
	git -C doc-local-runs.md log --notes=train --all >all &&
	grep "status=failed exit=2" all &&
	grep "git-train snapshot" all
'

test_expect_success PYTHON,LFS 'docs/local-runs.md: the archive has the Git LFS file itself, run.bat CRLF' '
	grep "^version https://git-lfs.github.com/spec/v1$" out-local-runs.md &&
	grep "^weights.pt: the file itself$" out-local-runs.md &&
	grep -F "o   f   f  \r  \n" out-local-runs.md
'

test_expect_success PYTHON,LFS 'docs/local-runs.md: the interrupted run resumed from its checkpoint, one note line' '
	grep "^attempt 1 starts at step 0$" out-local-runs.md &&
	grep "^git-train: --- attempt 2 (resumed) ---$" out-local-runs.md &&
	grep "^attempt 2 starts at step [1-9]" out-local-runs.md &&
	grep "^done: 12 steps$" out-local-runs.md &&
	git -C doc-local-runs.md notes --ref=train show HEAD >line &&
	test_line_count = 1 line &&
	grep " status=succeeded .* attempts=2 lost=" line
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

test_done
