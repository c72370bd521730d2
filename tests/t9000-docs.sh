#!/bin/sh
test_description='every command in README.md and docs/ runs as written'
. "$(dirname "$0")/test-lib.sh"

# A repository like the demo's: the example training script, committed.
test_expect_success PYTHON 'set up the example repository' '
	cp "$SRCDIR/examples/linear/train.py" . &&
	printf "outputs/\nmetrics.json\n" >.gitignore &&
	git add train.py .gitignore &&
	git commit -q -m "linear model"
'

# The quick start's two commands: the demo runs for real (reusing the build
# under test); the test-suite command is the one CI runs, so it is checked to
# be exactly what .ci/run executes rather than run inside itself.
test_expect_success PYTHON 'README.md: every command runs' '
	"$SRCDIR/tests/doc-commands.py" "$SRCDIR/README.md" \
		--replace "bash scripts/demo.sh=>GIT_TRAIN_DEMO_DIR=\"$TRASH_DIRECTORY/demo\" bash \"$SRCDIR/scripts/demo.sh\"" \
		--replace "bash scripts/test.sh=>grep -q \"^exec bash scripts/test.sh\$\" \"$SRCDIR/.ci/run\"" \
		>readme.sh &&
	bash readme.sh >out 2>&1 || { cat out; false; } &&
	grep "epoch 3/3" out &&
	grep "status=succeeded" out &&
	grep "exit status 2" out
'

test_expect_success PYTHON 'the demo ran and its note records the run' '
	git -C demo log --notes=train -1 >demo.log &&
	grep "backend=local status=succeeded" demo.log &&
	grep "metric.loss=" demo.log
'

for doc in "$SRCDIR"/docs/*.md; do
	name=$(basename "$doc")
	test_expect_success PYTHON "docs/$name: every command runs" '
		rm -rf "doc-$name" && mkdir "doc-$name" && cd "doc-$name" &&
		git init -q &&
		"$SRCDIR/tests/doc-commands.py" "$doc" >../doc.sh &&
		bash ../doc.sh >../out 2>&1 || { cat ../out; false; }
	'
done

test_expect_success PYTHON 'docs/local-runs.md shows a failed run and a stash run' '
	grep "^exit status 2" out &&
	git -C doc-local-runs.md notes --ref=train list >notes &&
	test_line_count = 2 notes &&
	git -C doc-local-runs.md log --notes=train --all >all &&
	grep "status=failed exit=2" all &&
	grep "git-train snapshot" all
'

test_done
