/*
 * Unit tests for notes_merge_text: one commit's note when both clones have
 * one, as `git notes merge -s cat_sort_uniq` would leave it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "git/notes-merge.h"
#include "util/util.h"

static enum notes_merge_pick merge(struct buf *out, size_t *added, const char *ours,
				   const char *theirs)
{
	buf_reset(out);
	return notes_merge_text(out, added, ours, strlen(ours), theirs, strlen(theirs));
}

static void test_union_is_sorted_unique_without_empty_lines(void **state)
{
	struct buf out = BUF_INIT;
	size_t added = 99;

	(void)state;
	assert_int_equal(merge(&out, &added, "b run\n\nd run\nb run\n", "c run\na run\n\n"),
			 NOTES_MERGE_UNION);
	assert_string_equal(buf_cstr(&out), "a run\nb run\nc run\nd run\n");
	assert_int_equal(added, 2);
	buf_release(&out);
}

static void test_a_side_holding_every_line_is_kept_as_it_is(void **state)
{
	struct buf out = BUF_INIT;
	size_t added = 99;

	(void)state;
	assert_int_equal(merge(&out, &added, "z\na\n", "a\n"), NOTES_MERGE_OURS);
	assert_int_equal(added, 0);
	assert_int_equal(merge(&out, &added, "a\n", "a\n\nz\na\n"), NOTES_MERGE_THEIRS);
	assert_int_equal(added, 1);
	assert_int_equal(out.len, 0);
	/* the same lines in another order: nothing new, ours stays */
	assert_int_equal(merge(&out, &added, "b\na", "a\nb\n"), NOTES_MERGE_OURS);
	assert_int_equal(added, 0);
	buf_release(&out);
}

static void test_any_line_is_kept_byte_for_byte(void **state)
{
	struct buf out = BUF_INIT;
	size_t added = 0;

	(void)state;
	/* not a git-train line, trailing blanks, a CR, no final newline */
	assert_int_equal(merge(&out, &added, "checked by hand  \nx=1 %zz\r", "20261129-000000 ok"),
			 NOTES_MERGE_UNION);
	assert_string_equal(buf_cstr(&out), "20261129-000000 ok\nchecked by hand  \nx=1 %zz\r\n");
	assert_int_equal(added, 1);
	buf_release(&out);
}

static void test_byte_order_and_prefixes(void **state)
{
	struct buf out = BUF_INIT;
	size_t added = 0;

	(void)state;
	/* strcmp order: "ab" before "abc", 'B' before 'a', UTF-8 last */
	assert_int_equal(merge(&out, &added, "abc\n\xc3\xa9t\xc3\xa9\n", "ab\nBa\n"),
			 NOTES_MERGE_UNION);
	assert_string_equal(buf_cstr(&out), "Ba\nab\nabc\n\xc3\xa9t\xc3\xa9\n");
	assert_int_equal(added, 2);
	buf_release(&out);
}

static void test_empty_notes(void **state)
{
	struct buf out = BUF_INIT;
	size_t added = 99;

	(void)state;
	assert_int_equal(merge(&out, &added, "", "\n\n"), NOTES_MERGE_OURS);
	assert_int_equal(added, 0);
	assert_int_equal(merge(&out, &added, "\n", "a\n"), NOTES_MERGE_THEIRS);
	assert_int_equal(added, 1);
	buf_release(&out);
}

static void test_refs(void **state)
{
	char *ref = notes_merge_remote_ref("origin");
	char *spec = notes_merge_refspec("up");

	(void)state;
	assert_string_equal(ref, "refs/notes/remotes/origin/train");
	assert_string_equal(spec, "+refs/notes/train*:refs/notes/remotes/up/train*");
	free(ref);
	free(spec);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_union_is_sorted_unique_without_empty_lines),
		cmocka_unit_test(test_a_side_holding_every_line_is_kept_as_it_is),
		cmocka_unit_test(test_any_line_is_kept_byte_for_byte),
		cmocka_unit_test(test_byte_order_and_prefixes),
		cmocka_unit_test(test_empty_notes),
		cmocka_unit_test(test_refs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
