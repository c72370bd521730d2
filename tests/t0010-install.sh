#!/bin/sh
test_description='make install puts the binary, the manual and the hooks in place'
. "$(dirname "$0")/test-lib.sh"

dest="$TRASH_DIRECTORY/dest"
prefix="$TRASH_DIRECTORY/prefix"

test_expect_success 'make install into a prefix' '
	make -C "$GIT_TRAIN_BUILD_DIR" install prefix="$prefix" >install.out 2>&1 ||
		{ cat install.out; false; } &&
	test -x "$prefix/bin/git-train" &&
	test_path_is_file "$prefix/share/man/man1/git-train.1" &&
	test_path_is_file "$prefix/share/git-train/hooks/README" &&
	test_path_is_file "$prefix/share/git-train/hooks/pre-push" &&
	test_path_is_file "$prefix/share/bash-completion/completions/git-train"
'

test_expect_success 'the installed git-train is a git subcommand' '
	PATH="$prefix/bin:$PATH" git train --version >out &&
	grep "^git-train version" out
'

test_expect_success MAN 'git help train and git train --help open the manual' '
	MANPATH="$prefix/share/man" MANPAGER=cat PAGER=cat MANWIDTH=80 \
		PATH="$prefix/bin:$PATH" git help train >help.out 2>&1 &&
	grep "git-train *- run a training script on exactly the code" help.out &&
	grep "CONFIGURATION" help.out &&
	grep "train.outputsDir" help.out &&
	MANPATH="$prefix/share/man" MANPAGER=cat PAGER=cat MANWIDTH=80 \
		PATH="$prefix/bin:$PATH" git train --help >help2.out 2>&1 &&
	test_cmp help.out help2.out &&
	MANPATH="$prefix/share/man" MANPAGER=cat PAGER=cat MANWIDTH=80 \
		"$prefix/bin/git-train" --help >help3.out 2>&1 &&
	test_cmp help.out help3.out
'

test_expect_success 'the manual documents every train.* key the code reads' '
	find "$SRCDIR/src" -name "*.c" -exec grep -ho "cfg, \"train\.[A-Za-z.]*\"" {} + |
		sed -e "s/^cfg, //" | tr -d "\"" | sort -u >keys &&
	test -s keys &&
	while read key; do
		grep -q "^\\\\fB$key\\\\fR" "$SRCDIR/man/git-train.1" ||
			{ echo "undocumented: $key"; exit 1; }
	done <keys
'

# undocumented <manual> <list>: of the "<command> [<option>]" lines of list,
# each command that does not start a bold line of the manual and each option
# that is not in it (roff writes a dash as \-); fails if there is one
undocumented() {
	awk '
		NR == FNR { gsub(/\\-/, "-"); man = man "\n" $0; next }
		!($1 in seen) && $1 != "t3.micro" {
			seen[$1] = 1
			if (!index(man, "\n\\fB" $1 " ") && !index(man, "\n\\fB" $1 "\\")) {
				print "undocumented command: " $1
				bad = 1
			}
		}
		$2 != "" && !index(man, $2) { print "undocumented: git train " $1 " " $2; bad = 1 }
		END { exit bad }' "$1" "$2"
}

test_expect_success 'the manual documents every command and every option of each' '
	git train -h | sed -n "s/^   \([a-z][a-z-]*\)  .*/\1/p" >commands &&
	test -s commands &&
	for cmd in $(cat commands) t3.micro; do
		git train $cmd -h >usage.$cmd 2>&1
		echo $cmd &&
		grep -oE -- "--[a-z][a-z-]*" usage.$cmd | sort -u | sed "s/^/$cmd /" || exit 1
	done >options &&
	undocumented "$SRCDIR/man/git-train.1" options &&
	test_line_count -gt 40 options
'

test_expect_success 'make uninstall removes it all' '
	make -C "$GIT_TRAIN_BUILD_DIR" uninstall prefix="$prefix" >/dev/null 2>&1 &&
	! test -e "$prefix/bin/git-train" &&
	! test -e "$prefix/share/man/man1/git-train.1" &&
	! test -e "$prefix/share/bash-completion/completions/git-train"
'

test_done
