#!/bin/sh
test_description='git train local --sweep: a run for each point of the cross product, one commit, noted and compared as a sweep'
. "$(dirname "$0")/test-lib.sh"

# The sweep id git-train printed ("sweep <id>: 4 runs, ...") on stdout.
sweep_id_of() {
	sed -n 's/^sweep \(sweep-[^:]*\): .*/\1/p' "$1"
}

# The field $1 of a note line on stdin, decoded as the notes write spaces.
field() {
	sed -n "s/.* $1=\([^ ]*\).*/\1/p" | sed 's/%20/ /g'
}

# The note lines of sweep $1 on commit $2 (HEAD).
sweep_lines() {
	git notes --ref=train show "${2:-HEAD}" | grep " sweep=$1\( \|$\)"
}

test_expect_success 'setup: a script whose loss comes from its arguments' '
	cat >train.sh <<-\EOF &&
	#!/bin/sh
	# train.sh --lr <lr> --bs <bs> [--sync <dir>] [--lit <word>]
	while test $# -gt 0; do
		case $1 in
		--lr) lr=$2 ;;
		--bs) bs=$2 ;;
		--sync) sync=$2 ;;
		--lit) lit=$2 ;;
		esac
		shift 2
	done
	echo "lr=$lr bs=$bs lit=$lit"
	test "$lr" != oops || exit 3
	seen=1
	if test -n "$sync"; then
		# two runs at once each see the other start
		touch "$sync/$lr" && i=0 &&
		while test "$(ls "$sync" | wc -l)" -lt 2 && test $i -lt 100; do
			sleep 0.05; i=$((i + 1))
		done
		seen=$(ls "$sync" | wc -l)
	fi
	awk -v lr="$lr" -v bs="$bs" -v seen="$seen" \
		"BEGIN { printf \"{\\\"loss\\\": %.17g, \\\"acc\\\": %.17g, \\\"seen\\\": %d}\\n\", lr * 10 + bs, 1 - lr, seen }" >metrics.json
	EOF
	chmod +x train.sh &&
	git add train.sh &&
	test_tick &&
	git commit -q -m "sweepable script" &&
	git config train.script train.sh
'

test_expect_success 'a sweep of 2 x 2 makes 4 runs, each noted with the sweep and its parameters' '
	git train local --sweep lr=0.1,0.01 --sweep bs=1,2 -- --lr {lr} --bs {bs} >out 2>err ||
	{ cat out err; exit 1; } &&
	id=$(sweep_id_of out) &&
	echo "$id" | grep "^sweep-[0-9]\{8\}-[0-9]\{6\}-[0-9a-f]\{4\}$" &&
	test_grep "^sweep $id: 4 runs, 4 succeeded$" out &&
	echo "$id" >sweep-id &&
	sweep_lines "$id" >lines &&
	test_line_count = 4 lines &&
	test_line_count = 4 lines &&
	git notes --ref=train show HEAD >all &&
	test_line_count = 4 all &&
	for lr in 0.1 0.01; do
		for bs in 1 2; do
			grep " param.lr=$lr param.bs=$bs\( \|$\)" lines >line &&
			test_line_count = 1 line &&
			test "$(field status <line)" = succeeded &&
			test "$(field args <line)" = "--lr $lr --bs $bs" &&
			want=$(awk -v lr=$lr -v bs=$bs "BEGIN { printf \"%.17g\", lr * 10 + bs }") &&
			test "$(field metric.loss <line | awk "{ printf \"%.17g\", \$1 }")" = "$want" &&
			run=$(sed "s/ .*//" line) &&
			test_grep "^lr=$lr bs=$bs lit=$" .git/train/runs/$run/log &&
			test_grep "^\[lr=$lr bs=$bs\] lr=$lr bs=$bs lit=$" out || exit 1
		done
	done &&
	# one at a time by default: no run saw another
	test "$(grep -c " metric.seen=1 " lines)" = 4
'

test_expect_success 'compare --sweep ranks the runs by the metric, best first' '
	id=$(cat sweep-id) &&
	git train compare --sweep "$id" --metric loss >out 2>err &&
	test_grep "^sweep $id: 4 runs, best first by loss (lower is better)$" out &&
	# the rows as the notes have them, sorted by loss
	sweep_lines "$id" >lines &&
	while read -r line; do
		echo "$(echo "$line" | field metric.loss) $(echo "$line" | sed "s/ .*//") $(echo "$line" | field param.lr) $(echo "$line" | field param.bs)"
	done <lines | sort -g | awk "{ print \$2, \$3, \$4 }" >expect &&
	grep "^[0-9]\{8\}-" out | awk "{ print \$1, \$2, \$3 }" >actual &&
	test_cmp expect actual &&
	test_line_count = 4 actual &&
	head -n 1 actual | grep " 0.01 1$" &&
	grep "^[0-9]\{8\}-" out | head -n 1 | grep "  best$" &&
	# accuracy: higher is better
	git train compare --sweep "$id" --metric acc >out &&
	test_grep "best first by acc (higher is better)" out &&
	grep "^[0-9]\{8\}-" out | awk "{ print \$2 }" >lrs &&
	printf "0.01\n0.01\n0.1\n0.1\n" >expect &&
	test_cmp expect lrs &&
	git train compare --sweep "$id" --json >json &&
	test "$(test_json "d[\"metric\"] == \"loss\" and [r[\"params\"][\"lr\"] + \"/\" + r[\"params\"][\"bs\"] for r in d[\"runs\"]] == [\"0.01/1\", \"0.1/1\", \"0.01/2\", \"0.1/2\"]" <json)" = True
'

test_expect_success 'log shows the sweep on one line with its runs under it' '
	id=$(cat sweep-id) &&
	git train log >out &&
	test_grep "^[0-9a-f]\{7\}  sweep $id: 4 runs, 4 succeeded, best loss=1.1 (" out &&
	grep "^  " out >runs &&
	test_line_count = 4 runs &&
	test_grep "  lr=0.01 bs=1$" runs &&
	test_grep "  lr=0.1 bs=2$" runs
'

test_expect_success 'compare --sweep: no such sweep, and its usage' '
	test_expect_code 1 git train compare --sweep sweep-20000101-000000-0000 2>err &&
	test_grep "^error: no run of sweep" err &&
	test_expect_code 129 git train compare --metric loss 2>err &&
	test_grep "^error: --metric needs --sweep" err &&
	test_expect_code 129 git train compare --sweep x HEAD 2>err &&
	test_grep "takes no runs or commits" err
'

test_expect_success '--parallel 2: two runs at once' '
	mkdir sync &&
	git train local --sweep lr=1,2 --parallel 2 -- --lr {lr} --bs 0 --sync "$PWD/sync" >out 2>err ||
	{ cat out err; exit 1; } &&
	test_grep "at most 2 at once" err &&
	id=$(sweep_id_of out) &&
	sweep_lines "$id" >lines &&
	test_line_count = 2 lines &&
	test "$(grep -c " metric.seen=2 " lines)" = 2
'

test_expect_success '--stash: one snapshot for every run of the sweep; {{name}} is a literal' '
	echo "# changed" >>train.sh &&
	git train local --stash --sweep lr=3,4 -- --lr {lr} --bs 1 --lit "{{lr}}" >out 2>err ||
	{ cat out err; exit 1; } &&
	test "$(grep -c "^running snapshot .* of the working tree" err)" = 1 &&
	id=$(sweep_id_of out) &&
	git notes --ref=train list >notes &&
	for c in $(git notes --ref=train list | awk "{ print \$2 }"); do
		git notes --ref=train show $c | grep " sweep=$id" >>stash-lines || :
	done &&
	test_line_count = 2 stash-lines &&
	test "$(field parent <stash-lines | sort -u)" = "$(git rev-parse HEAD)" &&
	test "$(field args <stash-lines | sort)" = "$(printf "%s\n" "--lr 3 --bs 1 --lit '"'{lr}'"'" "--lr 4 --bs 1 --lit '"'{lr}'"'")" &&
	test_grep "^\[lr=3\] lr=3 bs=1 lit={lr}$" out &&
	git checkout -q train.sh
'

test_expect_success 'usage errors: nothing runs' '
	git notes --ref=train list >before &&
	test_expect_code 129 git train local --sweep lr=1,2 -- --lr {lr} --bs {bs} 2>err &&
	test_grep "^error: the script arguments name {bs}, but no --sweep bs=... gives it" err &&
	test_grep "^hint: write {{bs}} for a literal {bs}" err &&
	test_expect_code 129 git train local --sweep lr=1,2 --sweep bs=1 -- --lr {lr} 2>err &&
	test_grep "^error: --sweep bs: no script argument uses {bs}" err &&
	test_expect_code 129 git train local --sweep 1x=1 -- --lr {1x} 2>err &&
	test_grep "^error: --sweep takes <name>=<value>" err &&
	test_expect_code 129 git train local --sweep lr -- --lr 1 2>err &&
	test_grep "^error: --sweep takes <name>=<value>" err &&
	test_expect_code 129 git train local --sweep lr=1,,2 -- --lr {lr} 2>err &&
	test_grep "^error: --sweep lr: an empty value" err &&
	test_expect_code 129 git train local --sweep lr=1,1 -- --lr {lr} 2>err &&
	test_grep "^error: --sweep lr: the value .1. is given twice" err &&
	test_expect_code 129 git train local --sweep lr=1 --sweep lr=2 -- --lr {lr} 2>err &&
	test_grep "^error: --sweep lr is given twice" err &&
	test_expect_code 129 git train local --parallel 2 -- --lr 1 2>err &&
	test_grep "^error: --parallel needs --sweep" err &&
	test_expect_code 129 git train local --sweep lr=1 --parallel -1 -- --lr {lr} 2>err &&
	test_grep "^error: --parallel takes a number of runs" err &&
	git notes --ref=train list >after &&
	test_cmp before after
'

test_expect_success 'a failing run fails the sweep, the others still run' '
	git train local --sweep lr=0.5,oops -- --lr {lr} --bs 1 >out 2>err
	test $? = 1 &&
	id=$(sweep_id_of out) &&
	test_grep "^sweep $id: 2 runs, 1 succeeded, 1 failed$" out &&
	test_grep "^  \[lr=oops\]  [0-9]\{8\}-[^ ]*  *failed (exit 3)$" out
'

test_done
