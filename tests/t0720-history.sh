#!/bin/sh
test_description='git train log --metric and git train compare: metrics across runs'
. "$(dirname "$0")/test-lib.sh"


# Losses of the ten runs, oldest first; the best (lowest) is the 8th. One has
# more digits than %g shows, to see the value kept as the note has it.
LOSSES="0.9 0.75 0.8 0.5 0.30000000000000004 0.62 0.41 0.25 0.33 0.275"

test_must_be_empty() {
	test ! -s "$1" || { echo >&2 "not empty: $1"; cat >&2 "$1"; return 1; }
}

# note_metric <commit> <name>: the metric's value, read from the note as git shows it.
note_metric() {
	git notes --ref=train show "$1" | sed -n "s/.* metric\.$2=\([^ ]*\).*/\1/p"
}

# note_run_id <commit>: the run id of the note's only line.
note_run_id() {
	git notes --ref=train show "$1" | sed -n 's/^\([0-9a-f-]*\) .*/\1/p'
}

# rows <file>: "<short commit> <value>" of each row of a --metric table.
rows() {
	grep "^[0-9a-f]\{7,\}  " "$1" | awk '{ print $1, $3 }'
}

# expected_rows <commit>...: the same pairs, straight from the notes.
expected_rows() {
	for c in "$@"; do
		echo "$(git rev-parse --short "$c") $(note_metric "$c" loss)"
	done
}

test_expect_success 'setup: ten commits, each trained once with its own loss' '
	cat >train.sh <<-\EOF &&
	#!/bin/sh
	# the loss comes from the commit, the throughput from the arguments
	echo "{\"loss\": $(cat loss.txt), \"tokens_per_s\": $2}" >metrics.json
	EOF
	git config train.script train.sh &&
	i=0 &&
	for loss in $LOSSES; do
		i=$((i + 1)) &&
		echo $loss >loss.txt &&
		git add train.sh loss.txt &&
		test_tick &&
		git commit -q -m "step $i" &&
		git train local -- --tps $((i * 100)) >run.out 2>&1 || { cat run.out; exit 1; }
	done &&
	git rev-list HEAD >commits &&
	test_line_count = 10 commits &&
	test "$(note_metric HEAD~5 loss)" = 0.30000000000000004
'

test_expect_success 'log --metric: one row per run, newest first, values as in the notes' '
	git train log --metric loss >out 2>err &&
	test_must_be_empty err &&
	rows out >actual &&
	expected_rows $(cat commits) >expect &&
	test_line_count = 10 expect &&
	test_cmp expect actual &&
	git log --notes=train --format="%h %N" | sed -n "s/^\([0-9a-f]*\) .* metric\.loss=\([^ ]*\).*/\1 \2/p" >from-git-log &&
	test_cmp from-git-log actual
'

test_expect_success 'log --metric: the lowest loss is marked best, and said so' '
	git train log --metric loss >out &&
	grep "best  " out >marked &&
	test_line_count = 1 marked &&
	test_grep "^$(git rev-parse --short HEAD~2)  .*  0.25  #*  *<- best  step 8$" marked &&
	test_grep "^best: lowest loss, 0.25 ($(git rev-parse --short HEAD~2), run $(note_run_id HEAD~2))$" out
'

test_expect_success 'log --metric, piped: ASCII bars scaled from min to max, no escapes' '
	git train log --metric loss >out &&
	LC_ALL=C grep -n "[^ -~]" out >non-ascii || true &&
	test_must_be_empty non-ascii &&
	# 0.9 (the max) gets the whole bar, 0.25 (the min) one column
	test_grep "  0.9  ########################  " out &&
	test_grep "  0.25  #  " out &&
	test_grep "^loss, oldest -> newest: " out &&
	sed -n "s/^loss, oldest -> newest: //p" out >spark &&
	test "$(cat spark)" = "#=*-.~,_._"
'

test_expect_success TTY 'log --metric on a terminal: Unicode bars and a sparkline' '
	script -qec "git train log --metric loss" /dev/null >out </dev/null &&
	test_grep "0.9  ████████████████████████" out &&
	test_grep "0.25  █  *← best   step 8" out &&
	# every subject starts in the same column, the best row too
	grep "step" out | tr -d "\r" | sed "s/step.*//" | while IFS= read -r head; do
		printf "%s" "$head" | LC_ALL=C.UTF-8 wc -m
	done | sort -u >columns &&
	test_line_count = 1 columns &&
	test_grep "loss, oldest → newest: █▆▇▄▂▅▃▁▂▁" out &&
	rows out | tr -d "\r" >actual &&
	expected_rows $(cat commits) >expect &&
	test_cmp expect actual
'

test_expect_success 'log --metric --best=max: the highest value is best instead' '
	git train log --metric loss --best=max >out &&
	grep "best  " out >marked &&
	test_line_count = 1 marked &&
	test_grep "^$(git rev-parse --short HEAD~9)  .*  0.9  .*<- best  step 1$" marked &&
	test_grep "^best: highest loss, 0.9 " out
'

test_expect_success 'log --metric: a metric not named like a loss is best when highest' '
	git train log --metric tokens_per_s >out &&
	test_grep "^$(git rev-parse --short HEAD)  .*  1000  .*<- best  step 10$" out &&
	test_grep "^best: highest tokens_per_s, 1000 " out &&
	git train log --metric tokens_per_s --best=min >out &&
	test_grep "  100  .*<- best  step 1$" out
'

test_expect_success 'log --metric with a revision range: only those commits' '
	git train log --metric loss HEAD~5..HEAD~2 >out &&
	rows out >actual &&
	expected_rows HEAD~2 HEAD~3 HEAD~4 >expect &&
	test_cmp expect actual &&
	test_grep "best: lowest loss, 0.25 " out &&
	git train log --metric loss HEAD~9 >out &&
	rows out >actual &&
	expected_rows HEAD~9 >expect &&
	test_cmp expect actual
'

test_expect_success 'log --metric: an unknown metric names the ones recorded, exit 1' '
	test_expect_code 1 git train log --metric accuracy >out 2>err &&
	test_must_be_empty out &&
	test_grep "^error: no run on these commits has the metric .accuracy.$" err &&
	test_grep "^hint: metrics recorded on these commits: .loss., .tokens_per_s.$" err
'

test_expect_success 'log --metric: usage errors' '
	test_expect_code 129 git train log --best=min >out 2>err &&
	test_grep "error: --best needs --metric <name>" err &&
	test_expect_code 129 git train log --metric loss --best=lowest 2>err &&
	test_grep "error: --best takes .min. or .max., not .lowest." err &&
	test_expect_code 128 git train log --metric loss nosuchbranch 2>err &&
	test_grep "bad revision .nosuchbranch." err
'

test_expect_success PYTHON 'log --metric --json: every run with its value and the best' '
	git train log --metric loss --json >out &&
	git rev-list HEAD >commits-full &&
	for c in $(cat commits-full); do
		echo "$c $(note_run_id $c) $(note_metric $c loss)"
	done >expect &&
	python3 - out >actual <<-\PY &&
	import json, sys
	runs = json.load(open(sys.argv[1]))
	for r in runs:
	    assert sorted(r) == ["best", "commit", "run_id", "start", "subject", "value"], r
	    print(r["commit"], r["run_id"], repr(r["value"]))
	assert [r["subject"] for r in runs if r["best"]] == ["step 8"], runs
	PY
	test_cmp expect actual
'

# compare: two commits trained with different arguments.
test_expect_success 'compare: two commits side by side, args and metric deltas' '
	git train compare HEAD~9 HEAD~2 >out 2>err &&
	test_must_be_empty err &&
	test_grep "^run  *$(note_run_id HEAD~9)  *$(note_run_id HEAD~2)$" out &&
	test_grep "^commit  *$(git rev-parse --short HEAD~9) step 1  *$(git rev-parse --short HEAD~2) step 8$" out &&
	test_grep "^args  *--tps 100  *--tps 800$" out &&
	test_grep "^backend  *local  *local$" out &&
	test_grep "^status  *succeeded  *succeeded$" out &&
	test_grep "^loss  *0.9  *0.25  *-0.65  *-72.2%  better$" out &&
	test_grep "^tokens_per_s  *100  *800  *+700  *+700.0%  better$" out &&
	git train compare HEAD~2 HEAD~9 >out &&
	test_grep "^loss  *0.25  *0.9  *+0.65  *+260.0%  worse$" out &&
	test_grep "^tokens_per_s  *800  *100  *-700  *-87.5%  worse$" out
'

test_expect_success 'compare: runs named by id and by a unique prefix' '
	a=$(note_run_id HEAD~1) &&
	b=$(note_run_id HEAD) &&
	git train compare "$a" "${b%-*}" >out &&
	test_grep "^run  *$a  *$b$" out &&
	test_grep "^loss  *0.33  *0.275  *-0.055  *-16.7%  better$" out
'

test_expect_success 'compare: a commit with several runs takes the newest and says so' '
	git train local -- --tps 5 >/dev/null 2>&1 &&
	newest=$(git notes --ref=train show HEAD | sed -n "2s/ .*//p") &&
	test -n "$newest" &&
	git train compare HEAD~1 HEAD >out 2>err &&
	test_grep "^run  *$(note_run_id HEAD~1)  *$newest$" out &&
	test_grep "^tokens_per_s  *900  *5  *-895  *-99.4%  worse$" out &&
	test_grep "hint: .HEAD. has 2 runs: comparing the newest, $newest" err
'

test_expect_success 'compare: a missing metric on one side shows "-"' '
	git commit -q --allow-empty -m "no metrics" &&
	cat >train.sh <<-\EOF &&
	#!/bin/sh
	echo "{\"acc\": 0.5}" >metrics.json
	EOF
	git add train.sh &&
	test_tick &&
	git commit -q -m "acc only" &&
	git train local >/dev/null 2>&1 &&
	git train compare HEAD~2 HEAD >out &&
	test_grep "^loss  *0.275  *-  *-  *-$" out &&
	test_grep "^acc  *-  *0.5  *-  *-$" out
'

test_expect_success 'compare: a commit without runs, a bad revision, an ambiguous prefix' '
	test_expect_code 1 git train compare HEAD~1 HEAD~3 >out 2>err &&
	test_must_be_empty out &&
	test_grep "^error: commit .HEAD~1. ($(git rev-parse --short=7 HEAD~1)) has no runs$" err &&
	test_grep "^hint: .git train log --all. lists every run" err &&
	test_expect_code 128 git train compare nosuchthing HEAD 2>err &&
	test_grep "^error: bad revision .nosuchthing.: not a run id or a commit$" err &&
	test_expect_code 128 git train compare HEAD 2 2>err &&
	test_grep "^error: run id prefix .2. is ambiguous: 12 runs match$" err &&
	test_grep "^hint: $(note_run_id HEAD)  $(git rev-parse --short HEAD)  acc only$" err &&
	test_expect_code 129 git train compare HEAD 2>err &&
	test_grep "takes two runs or commits" err
'

test_expect_success PYTHON 'compare --json: both runs and the metric changes' '
	git train compare --json HEAD~11 HEAD~10 >out &&
	python3 - out <<-\PY
	import json, sys
	d = json.load(open(sys.argv[1]))
	assert d["a"]["subject"] == "step 1" and d["b"]["subject"] == "step 2", d
	assert d["a"]["extra"]["args"] == "--tps 100", d["a"]
	m = {x["name"]: x for x in d["metrics"]}
	assert m["loss"]["a"] == 0.9 and m["loss"]["b"] == 0.75, m
	assert abs(m["loss"]["delta"] + 0.15) < 1e-12 and m["loss"]["better"] is True, m
	assert abs(m["loss"]["change_percent"] + 100 / 6) < 1e-9, m
	assert m["tokens_per_s"]["better"] is True, m
	PY
'

test_expect_success 'log --metric: a NaN in a note is shown, never charted or best' '
	c=$(git commit-tree -p HEAD -m "hand-written runs" HEAD^{tree}) &&
	s=$(git rev-parse --short $c) &&
	git notes --ref=train append -m "20261101-100000-$s-0001 backend=local status=succeeded exit=0 start=2026-11-01T10:00:00Z metric.loss=nan" $c &&
	git notes --ref=train append -m "not a run line" $c &&
	git notes --ref=train append -m "20261102-100000-$s-0002 backend=local status=succeeded exit=0 start=2026-11-02T10:00:00Z metric.loss=0.5" $c &&
	git train log --metric loss HEAD..$c >out &&
	cat >expect <<-EOF &&
	$s  2026-11-02T10:00:00Z  0.5  ########################  <- best  hand-written runs
	$s  2026-11-01T10:00:00Z  nan                                     hand-written runs
	loss, oldest -> newest:  -
	best: lowest loss, 0.5 ($s, run 20261102-100000-$s-0002)
	EOF
	test_cmp expect out &&
	git train compare 20261101-100000-$s 20261102-100000-$s >out &&
	test_grep "^loss  *nan  *0.5  *-  *-$" out
'

test_done
