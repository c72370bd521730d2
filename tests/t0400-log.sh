#!/bin/sh
test_description='git train log: run history from refs/notes/train; concurrent runs'
. "$(dirname "$0")/test-lib.sh"

test_must_be_empty() {
	test ! -s "$1" || { echo >&2 "not empty: $1"; cat >&2 "$1"; return 1; }
}

# note <commit> <line>: what a run leaves, written the plain git way.
note() {
	git notes --ref=train append -m "$2" "$1"
}

test_expect_success 'no runs yet: nothing on stdout, a hint on stderr' '
	test_commit first &&
	git train log >out 2>err &&
	test_must_be_empty out &&
	test_grep "hint: no runs recorded yet: try .git train local." err &&
	git train log --json >out 2>err &&
	echo "[]" >expect &&
	test_cmp expect out
'

test_expect_success 'setup: runs on three commits, hand-written in the note format' '
	test_make_train_repo &&
	git tag c1 &&
	test_commit second &&
	git tag c2 &&
	test_commit "third with spaces" &&
	git tag c3 &&
	s1=$(git rev-parse --short c1) &&
	s2=$(git rev-parse --short c2) &&
	s3=$(git rev-parse --short c3) &&
	note c1 "20261101-100000-$s1-0001 backend=local status=succeeded exit=0 start=2026-11-01T10:00:00Z duration=12.3s metric.loss=0.5 metric.acc=0.9 log=.git/train/runs/a/log" &&
	note c2 "20261102-100000-$s2-0002 backend=local status=failed exit=3 start=2026-11-02T10:00:00Z duration=65s log=.git/train/runs/b/log" &&
	note c2 "reviewed by alice" &&
	note c3 "20261103-100000-$s3-0003 backend=t3.micro status=interrupted exit=130 start=2026-11-03T10:00:00Z duration=3723s metric.val%20loss=0.25 future=yes" &&
	note c1 "20261104-100000-$s1-0004 backend=local status=succeeded exit=0 start=2026-11-04T10:00:00Z duration=1.5s metric.loss=0.0625" &&
	git log --notes=train -1 c1 >log &&
	test_grep "20261104-100000-$s1-0004 backend=local" log
'

test_expect_success 'text: newest run first, one line each, unparsable lines kept' '
	s1=$(git rev-parse --short c1) &&
	s2=$(git rev-parse --short c2) &&
	s3=$(git rev-parse --short c3) &&
	cat >expect <<-EOF &&
	$s1  2026-11-04T10:00:00Z  local     succeeded        1.5s      loss=0.0625       training script
	$s3  2026-11-03T10:00:00Z  t3.micro  interrupted      1h02m03s  val loss=0.25     third with spaces
	$s2  2026-11-02T10:00:00Z  local     failed (exit 3)  1m05s                       second
	$s1  2026-11-01T10:00:00Z  local     succeeded        12.3s     loss=0.5 acc=0.9  training script
	$s2  reviewed by alice  second
	EOF
	git train log >out 2>err &&
	test_cmp expect out &&
	test_must_be_empty err
'

test_expect_success PYTHON '--json: valid JSON with every field' '
	git train log --json >out &&
	python3 -m json.tool out >/dev/null &&
	c1=$(git rev-parse c1) c2=$(git rev-parse c2) c3=$(git rev-parse c3) python3 - out <<-\PY
	import json, os, sys
	runs = json.load(open(sys.argv[1]))
	assert len(runs) == 5, runs
	assert [r["commit"] for r in runs] == [os.environ[c] for c in ("c1", "c3", "c2", "c1", "c2")], runs
	r = runs[0]
	assert r["subject"] == "training script"
	assert r["run_id"].startswith("20261104-100000-") and r["run_id"].endswith("-0004")
	assert r["backend"] == "local" and r["status"] == "succeeded" and r["exit_code"] == 0
	assert r["start"] == "2026-11-04T10:00:00Z" and r["duration_seconds"] == 1.5
	assert r["metrics"] == {"loss": 0.0625}, r
	assert r["line"].startswith(r["run_id"] + " backend=local")
	r = runs[1]
	assert r["status"] == "interrupted" and r["exit_code"] == 130 and r["backend"] == "t3.micro"
	assert r["metrics"] == {"val loss": 0.25} and r["extra"] == {"future": "yes"}
	assert r["duration_seconds"] == 3723 and r["log"] is None
	r = runs[2]
	assert r["status"] == "failed" and r["exit_code"] == 3 and r["metrics"] == {}
	assert r["log"] == ".git/train/runs/b/log"
	assert runs[3]["metrics"] == {"loss": 0.5, "acc": 0.9}
	r = runs[4]
	assert r["line"] == "reviewed by alice" and r["run_id"] is None and r["subject"] == "second"
	PY
'

test_expect_success 'ranges: A..B, ^A B, A...B, several revisions' '
	git train log c1..c3 >out &&
	test_line_count = 3 out &&
	test_grep ! "training script" out &&
	git train log c3 ^c2 >out2 &&
	test_line_count = 1 out2 &&
	test_grep "third with spaces" out2 &&
	git train log c2.. >out3 &&
	test_cmp out2 out3 &&
	git train log c1 c2~1 >out4 &&
	test_line_count = 2 out4 &&
	git checkout -q -b side c1 &&
	test_commit side &&
	note side "20261105-100000-$(git rev-parse --short side)-0005 backend=local status=succeeded" &&
	git train log c3...side >out5 &&
	test_line_count = 4 out5 &&
	test_grep "side$" out5 &&
	test_grep ! "training script" out5 &&
	git checkout -q main
'

test_expect_success 'default range is HEAD; --all adds other branches' '
	git train log >out &&
	test_line_count = 5 out &&
	test_grep ! "side$" out &&
	git train log --all >out &&
	test_line_count = 6 out &&
	test_grep "side$" out
'

test_expect_success 'a range without runs: empty, with a hint' '
	git train log c3..c3 >out 2>err &&
	test_must_be_empty out &&
	test_grep "hint: no runs recorded on these commits" err
'

test_expect_success 'a bad revision is fatal and named' '
	test_expect_code 128 git train log nosuch >out 2>err &&
	test_must_be_empty out &&
	test_grep "error: bad revision .nosuch." err &&
	test_expect_code 128 git train log c1..nosuch 2>err &&
	test_grep "bad revision .c1..nosuch." err &&
	test_expect_code 128 git train log "$(git rev-parse HEAD^{tree})" 2>err &&
	test_grep "bad revision" err
'

test_expect_success 'usage: -h, unknown options, paths' '
	test_expect_code 129 git train log -h >out &&
	test_grep "usage: git train log" out &&
	test_expect_code 129 git train log --jsn 2>err &&
	test_grep "unknown option .jsn." err &&
	test_grep "did you mean .--json." err &&
	test_expect_code 129 git train log -- train.py 2>err &&
	test_grep "takes revisions, not paths" err
'

test_expect_success 'outside a repository, or in an empty one: fatal' '
	mkdir -p norepo empty &&
	(cd norepo && GIT_CEILING_DIRECTORIES=$TRASH_DIRECTORY test_expect_code 128 git train log 2>../err) &&
	test_grep "not a git repository" err &&
	git init -q empty &&
	(cd empty && test_expect_code 128 git train log 2>../err) &&
	test_grep "HEAD has no commit yet" err
'

test_expect_success PYTHON '16 concurrent git train local runs lose no line' '
	git checkout -q main &&
	test_commit concurrent &&
	note HEAD "reviewed by bob" &&
	for i in $(seq 16); do
		git train local -- --epochs 1 >/dev/null 2>&1 &
	done &&
	wait &&
	git notes --ref=train show HEAD >note &&
	test_line_count = 17 note &&
	head -n 1 note >first &&
	echo "reviewed by bob" >expect &&
	test_cmp expect first &&
	git log --notes=train -1 >log &&
	test_grep -c "^    [0-9]\{8\}-[0-9]\{6\}-[0-9a-f]*-[0-9a-f]\{4\} backend=local" log >n &&
	echo 16 >expect &&
	test_cmp expect n &&
	git train log --json HEAD^..HEAD >runs.json &&
	python3 - runs.json <<-\PY
	import json, sys
	runs = json.load(open(sys.argv[1]))
	assert len(runs) == 17, len(runs)
	ours = [r for r in runs if r["run_id"]]
	assert len(ours) == 16 and len(set(r["run_id"] for r in ours)) == 16, ours
	for r in ours:
	    assert r["status"] == "succeeded" and r["exit_code"] == 0, r
	    assert r["metrics"].get("epochs") == 1, r
	assert runs[-1]["line"] == "reviewed by bob"
	PY
'

test_done
