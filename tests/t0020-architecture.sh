#!/bin/sh
test_description='src/ is laid out by subsystem, in layers that docs/architecture.md names'
. "$(dirname "$0")/test-lib.sh"

CHECK="$SRCDIR/scripts/check-layers.py"

if command -v nm >/dev/null 2>&1 && command -v cc >/dev/null 2>&1; then
	test_set_prereq NM
fi

test_expect_success 'src/ holds no source but main; every other one is in a folder' '
	find "$SRCDIR/src" -maxdepth 1 -name "*.[ch]" >top &&
	echo "$SRCDIR/src/git-train.c" >expect &&
	test_cmp expect top
'

test_expect_success 'docs/architecture.md describes every folder under src/' '
	(cd "$SRCDIR/src" && find . -mindepth 1 -type d | sed "s|^\./||") >folders &&
	test -s folders &&
	while read dir; do
		grep -q "^| \`$dir/\` |" "$SRCDIR/docs/architecture.md" ||
			{ echo "not described: src/$dir/"; return 1; }
	done <folders
'

test_expect_success 'no #include_next, and every include names its folder' '
	"$CHECK" --srcdir "$SRCDIR" >out 2>&1 || { cat out; false; }
'

test_expect_success NM 'the build: no folder calls into one above it, and only cmd/ prints' '
	"$CHECK" --srcdir "$SRCDIR" --objdir "$GIT_TRAIN_BUILD_DIR" >out 2>&1 ||
		{ cat out; false; }
'

# A tree of two layers, built here, to see that the check fails when it must.
make_tree() {
	rm -rf fake && mkdir -p fake/docs fake/src/top fake/src/bottom fake/obj/src/top \
		fake/obj/src/bottom &&
	echo "Layers, top to bottom: top, bottom." >fake/docs/architecture.md &&
	echo "int git_train_main(void) { return 0; }" >fake/src/git-train.c &&
	printf "int bottom(void);\nint top(void) { return bottom(); }\n" >fake/src/top/a.c &&
	printf "int bottom(void) { return 1; }\n" >fake/src/bottom/b.c
}

build_tree() {
	for f in top/a bottom/b "$@"; do
		cc -c -o "fake/obj/src/$f.o" "fake/src/$f.c" || return 1
	done
}

test_expect_success NM 'a tree that keeps to its layers passes' '
	make_tree && build_tree &&
	"$CHECK" --srcdir fake --objdir fake/obj
'

test_expect_success NM 'a call into a layer above fails, naming the call' '
	make_tree &&
	printf "int top(void);\nint bottom(void) { return top(); }\n" >fake/src/bottom/b.c &&
	build_tree &&
	test_expect_code 1 "$CHECK" --srcdir fake --objdir fake/obj >out &&
	test_grep "^error: bottom/b.o calls top (top/a.o): bottom may not call into top" out
'

test_expect_success NM 'an include of a layer above fails' '
	make_tree &&
	echo "int top(void);" >fake/src/top/a.h &&
	printf "#include \"top/a.h\"\nint bottom(void) { return 1; }\n" >fake/src/bottom/b.c &&
	test_expect_code 1 "$CHECK" --srcdir fake >out &&
	test_grep "^error: src/bottom/b.c:1: includes top/a.h: bottom may not depend on top" out
'

test_expect_success NM 'a module below cmd/ that prints fails' '
	make_tree &&
	printf "#include <stdio.h>\nint say(int n) { return fprintf(stderr, \"%%d\", n); }\n" \
		>fake/src/bottom/say.c &&
	build_tree bottom/say &&
	test_expect_code 1 "$CHECK" --srcdir fake --objdir fake/obj >out &&
	test_grep "^error: bottom/say.o uses stderr: only cmd/ prints" out
'

test_expect_success 'a source outside the folders, an undocumented folder, #include_next: each fails' '
	make_tree &&
	echo "int loose;" >fake/src/loose.c &&
	mkdir fake/src/extra && echo "int extra;" >fake/src/extra/x.c &&
	printf "#include_next <stdio.h>\n" >fake/src/top/n.h &&
	test_expect_code 1 "$CHECK" --srcdir fake >out &&
	test_grep "^error: src/loose.c: every source but git-train.c goes in a subsystem folder" out &&
	test_grep "^error: src/extra/: a folder that docs/architecture.md does not list as a layer" out &&
	test_grep "^error: src/top/n.h:1: #include_next" out
'

# The formatting is .clang-format's, as clang-format 14 applies it (Debian
# 12's, what scripts/install-deps.sh installs): other versions format some
# constructs differently, so the check asks for that one.
if test "$(clang-format --version 2>/dev/null | sed -n 's/.*version \([0-9]*\)\..*/\1/p')" = 14; then
	test_set_prereq CLANG_FORMAT_14
fi

test_expect_success CLANG_FORMAT_14 'every C source is formatted as .clang-format says' '
	find "$SRCDIR/src" "$SRCDIR/tests/unit" "$SRCDIR/tests/helper" "$SRCDIR/tests/fuzz" \
		-name "*.[ch]" >sources &&
	test_line_count -gt 150 sources &&
	xargs clang-format --dry-run -Werror <sources >out 2>&1 || {
		head -n 40 out
		echo "clang-format -i applies .clang-format"
		false
	}
'

test_done
