#!/bin/sh
test_description='bash completion: git train <TAB> completes commands, options, instance types and run ids'
. "$(dirname "$0")/test-lib.sh"

# git's own completion, as Debian's git package installs it
GIT_COMPLETION=/usr/share/bash-completion/completions/git
# bash-completion's main script, whose loader finds completions/git-train
BASH_COMPLETION=/usr/share/bash-completion/bash_completion

if command -v bash >/dev/null 2>&1 && test -f "$GIT_COMPLETION"; then
	test_set_prereq BASH
else
	say "bash or git's completion ($GIT_COMPLETION) is missing: no completion tests"
fi
if test_have_prereq BASH && test -f "$BASH_COMPLETION"; then
	test_set_prereq BASHCOMPLETION
else
	say "bash-completion is not installed (apt-get install bash-completion): its loader is not tested"
fi
# completing run ids needs real runs of the test script
if test_have_prereq BASH && test_have_prereq PYTHON; then test_set_prereq RUNS; fi

# complete.bash LINE prints, one a line, what bash's completion offers for
# LINE with the cursor at its end (COMPREPLY, trailing spaces included), the
# way bash calls it: COMP_WORDS split at blanks and at "=", as readline does
# with its COMP_WORDBREAKS.
cat >complete.bash <<-\EOF
	set +o posix
	. "$GIT_COMPLETION" || exit 1
	. "$SRCDIR/contrib/completion/git-train.bash" || exit 1
	line=$1
	read -ra COMP_WORDS <<<"${line//=/ = }"
	case "$line" in *' ') COMP_WORDS+=('') ;; esac
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	__git_wrap__git_main || exit 1
	[ ${#COMPREPLY[@]} -eq 0 ] || printf '%s\n' "${COMPREPLY[@]}"
EOF

complete_line() {
	GIT_COMPLETION=$GIT_COMPLETION bash --norc --noprofile "$TRASH_DIRECTORY/complete.bash" "$1"
}

# test_completion LINE [WORD...]: completing LINE offers exactly the WORDs,
# one a line on stdin when there are none (in any order; a word that ends
# the argument ends with a space)
test_completion() {
	line=$1
	shift
	if test $# -gt 0; then printf '%s\n' "$@"; else cat; fi | sort >expect &&
	complete_line "$line" | sort >actual &&
	test_cmp expect actual
}

# the commands `git train -h` lists, but plumbing
help_commands() {
	git train -h | sed -n -e '/^commands:/,/^$/p' | grep -v "(plumbing)" |
		sed -n -e 's/^   \([a-z][a-z0-9-]*\) .*/\1/p'
}

# the long options `git train <cmd> -h` lists ("--rev=" when it takes a value)
help_options() {
	git train "$1" -h | sed -n -e 's/^ *\(-., \)\{0,1\}\(--[a-z0-9-]*\) <.*/\2=/p' \
		-e 's/^ *\(-., \)\{0,1\}\(--[a-z0-9-]*\)\( .*\)\{0,1\}$/\2/p'
}

test_expect_success 'setup' '
	test_commit first &&
	git branch experiment &&
	git init -q --bare team.git &&
	git remote add origin team.git &&
	git remote add backup team.git
'

test_expect_success BASH 'git train <TAB> offers every command of git train -h' '
	help_commands >commands &&
	test_line_count -ge 9 commands &&
	for c in local log status logs stop gc doctor upload archive; do
		grep -qx "$c" commands || { echo "git train -h lacks $c"; exit 1; }
	done &&
	complete_line "git train " >offered &&
	while read c; do
		grep -qx "$c " offered || { echo "not offered: $c"; cat offered; exit 1; }
	done <commands &&
	test_grep ! "aws-call" offered &&
	test_grep -x "t3\\." offered &&
	test_grep -x "g5\\." offered
'

test_expect_success BASH 'git train lo<TAB> completes the commands that start so' '
	test_completion "git train lo" "local " "log " "logs "
'

test_expect_success BASH 'the first word may be an instance type' '
	test_completion "git train g" "gc " "g4dn." "g5." "g6." "g6e." &&
	test_completion "git train t3." "t3.nano " "t3.micro " "t3.small " \
		"t3.medium " "t3.large " "t3.xlarge " "t3.2xlarge " &&
	test_completion "git train p4d." "p4d.24xlarge " &&
	test_completion "git train zz9." &&
	test_completion "git train --v" "--version "
'

test_expect_success BASH 'GIT_TRAIN_COMPLETION_INSTANCE_TYPES replaces the instance types' '
	GIT_TRAIN_COMPLETION_INSTANCE_TYPES="t3.micro x9.huge" &&
	export GIT_TRAIN_COMPLETION_INSTANCE_TYPES &&
	test_completion "git train x" "x9.huge " &&
	test_completion "git train t3.m" "t3.micro "
'

test_expect_success BASH 'git train local --s<TAB> completes its options' '
	test_completion "git train local --s" "--script=" "--setup=" "--smoke " "--stash " "--sweep="
'

test_expect_success BASH 'every command offers the options its -h lists' '
	for cmd in $(help_commands) t3.micro; do
		help_options $cmd >want.$cmd &&
		complete_line "git train $cmd --" >offered.$cmd &&
		# "--opt=" as it is, "--opt " with the space completion adds
		sed "/=\$/!s/\$/ /" want.$cmd >wanted.$cmd &&
		if grep -Fxv -f offered.$cmd wanted.$cmd >missing.$cmd; then
			echo "git train $cmd: not offered:"; cat missing.$cmd
			echo "offered:"; cat offered.$cmd
			exit 1
		fi
	done &&
	test_line_count -ge 20 want.t3.micro &&
	test_grep -x -e "--dry-run " offered.gc &&
	test_grep -x -e "--no-... " offered.gc &&
	test_completion "git train gc --no-" "--no-dry-run " &&
	test_completion "git train local --no-s" "--no-smoke " "--no-stash "
'

test_expect_success BASH 'option values: refs, instance types, formats, files' '
	test_completion "git train local --rev ex" "experiment " &&
	test_completion "git train local --rev=ex" "experiment " &&
	test_completion "git train local --stash --rev ma" "main " &&
	test_completion "git train doctor --instance-type g5.x" "g5.xlarge " &&
	test_completion "git train doctor --instance-type=g4dn.x" "g4dn.xlarge " &&
	test_completion "git train t3.micro --output=" "text " "run-id " "instance-id " "json " &&
	test_completion "git train t3.micro --region us-west-" "us-west-1 " "us-west-2 " &&
	test_completion "git train g5.xlarge --image " "pytorch " "base " "al2023 " &&
	test_completion "git train log --metric loss --best " "max " "min " &&
	# a file name: bash completes it
	test_completion "git train archive -o " &&
	test_completion "git train archive --output=" &&
	test_completion "git train local --script "
'

test_expect_success BASH 'commit arguments complete refs' '
	complete_line "git train compare " >offered &&
	test_grep -x "experiment " offered &&
	test_grep -x "main " offered &&
	test_completion "git train compare main ex" "experiment " &&
	test_completion "git train archive ex" "experiment " &&
	test_completion "git train log main..ex" "main..experiment "
'

test_expect_success BASH 'git train notes <TAB> completes push or pull, then a remote' '
	test_completion "git train notes " "push " "pull " &&
	test_completion "git train notes p" "push " "pull " &&
	test_completion "git train notes push " "backup " "origin " &&
	test_completion "git train notes pull o" "origin " &&
	test_completion "git train hooks " "install " "uninstall "
'

test_expect_success RUNS 'setup: two local runs' '
	test_make_train_repo &&
	git train local -- --epochs 1 >run1.out 2>&1 &&
	git train local -- --epochs 2 >run2.out 2>&1 &&
	git notes --ref=train show HEAD | cut -d" " -f1 >ids &&
	test_line_count = 2 ids &&
	sed -e "s/\$/ /" ids >offered-ids
'

test_expect_success RUNS 'git train logs <TAB> offers the recorded run ids' '
	test_completion "git train logs " <offered-ids &&
	test_completion "git train logs -f " <offered-ids &&
	test_completion "git train status " <offered-ids &&
	test_completion "git train stop $(head -n 1 ids) " <offered-ids &&
	test_completion "git train logs $(head -n 1 ids) " &&
	id=$(tail -n 1 ids) &&
	test_completion "git train logs ${id%??}" "$id " &&
	test_completion "git train compare $(head -n 1 ids) 2" <offered-ids &&
	test_completion "git train outputs " <offered-ids &&
	test_completion "git train outputs -o dir " <offered-ids &&
	test_completion "git train outputs $(head -n 1 ids) " &&
	test_completion "git train resume " <offered-ids &&
	test_completion "git train resume $(head -n 1 ids) " &&
	test_completion "git train local --resume-from " <offered-ids
'

test_expect_success RUNS 'git train log --metric <TAB> offers the recorded metrics' '
	test_completion "git train log --metric " "epochs " "loss " &&
	test_completion "git train log --metric=l" "loss "
'

test_expect_success RUNS 'git train compare --sweep <TAB> offers the recorded sweeps' '
	git train local --sweep epochs=1,2 -- --epochs {epochs} >sweep.out 2>&1 &&
	id=$(sed -n "s/^sweep \(sweep-[^:]*\): .*/\1/p" sweep.out | head -n 1) &&
	test -n "$id" &&
	test_completion "git train compare --sweep " "$id " &&
	test_completion "git train compare --sweep=sw" "$id " &&
	test_completion "git train local --sw" "--sweep=" &&
	test_completion "git train local --sweep " &&
	test_completion "git train t3.micro --par" "--parallel="
'

test_expect_success BASH 'after -- come the script arguments: no git-train options' '
	test_completion "git train local -- --s" &&
	test_completion "git train local --stash -- " &&
	test_completion "git train t3.micro --wait -- --e"
'

test_expect_success BASH 'git -C <dir> train completes in that repository' '
	git init -q other &&
	git -C other commit -q --allow-empty -m one &&
	git -C other branch elsewhere &&
	test_completion "git -C other train compare els" "elsewhere "
'

test_expect_success BASHCOMPLETION 'installed, git train <TAB> works with no setup' '
	prefix="$TRASH_DIRECTORY/prefix" &&
	make -C "$GIT_TRAIN_BUILD_DIR" install prefix="$prefix" >install.out 2>&1 ||
		{ cat install.out; false; } &&
	installed="$prefix/share/bash-completion/completions/git-train" &&
	test_path_is_file "$installed" &&
	# what bash does on the first TAB: complete -D runs the loader for the
	# command, then the completion function that loader registered
	cat >loader.bash <<-\EOF &&
	set +o posix
	. "$BASH_COMPLETION" || exit 1
	cmd=$1 line=$2
	_completion_loader "$cmd"
	spec=$(complete -p "$cmd") || exit 1
	func=${spec##*-F }
	func=${func%% *}
	read -ra COMP_WORDS <<<"$line"
	COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
	COMP_LINE=$line
	COMP_POINT=${#line}
	"$func" "$cmd" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf "%s\n" "${COMPREPLY[@]}"
	shopt -s extdebug
	declare -F _git_train >&2
	EOF
	XDG_DATA_DIRS="$prefix/share:/usr/share" BASH_COMPLETION=$BASH_COMPLETION \
		bash --norc --noprofile loader.bash git "git train lo" >actual 2>from &&
	printf "%s\n" "local " "log " "logs " >expect &&
	test_cmp expect actual &&
	test_grep " $installed\$" from &&
	XDG_DATA_DIRS="$prefix/share:/usr/share" BASH_COMPLETION=$BASH_COMPLETION \
		bash --norc --noprofile loader.bash git-train "git-train lo" >actual 2>from &&
	test_cmp expect actual &&
	test_grep " $installed\$" from &&
	make -C "$GIT_TRAIN_BUILD_DIR" uninstall prefix="$prefix" >/dev/null 2>&1 &&
	test_path_is_missing "$installed"
'

test_done
