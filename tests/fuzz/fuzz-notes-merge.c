/*
 * fuzz-notes-merge: merging a pulled note into ours (two texts, split at the
 * input's first NUL) gives cat_sort_uniq's result: every non-empty line of
 * both, sorted, once; a side that already holds the other is kept as it is;
 * the count of new lines is right; merging the result again changes nothing.
 */
#include "fuzz.h"

#include "git/notes-merge.h"

/* Whether line (len bytes, no newline) is a line of text. */
static int has_line(const char *text, size_t len, const char *line, size_t n)
{
	const char *p = text, *end = text + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t m = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (m == n && !memcmp(p, line, n))
			return 1;
		p += m + 1;
	}
	return 0;
}

/* Every non-empty line of a is in b; *distinct_missing counts those that are not. */
static size_t missing_lines(const char *a, size_t alen, const char *b, size_t blen)
{
	const char *p = a, *end = a + alen;
	size_t missing = 0;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t m = nl ? (size_t)(nl - p) : (size_t)(end - p);

		/* count each distinct line once: only its first occurrence in a */
		if (m && !has_line(b, blen, p, m) && !has_line(a, (size_t)(p - a), p, m))
			missing++;
		p += m + 1;
	}
	return missing;
}

static int line_less(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c < 0 || (!c && an < bn);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *ours = (const char *)data, *theirs, *nul = memchr(data, '\0', size);
	size_t ours_len = nul ? (size_t)(nul - ours) : size, theirs_len, added, again;
	struct buf out = BUF_INIT, twice = BUF_INIT;
	enum notes_merge_pick pick;

	theirs = nul ? nul + 1 : "";
	theirs_len = nul ? size - ours_len - 1 : 0;
	pick = notes_merge_text(&out, &added, ours, ours_len, theirs, theirs_len);
	FUZZ_CHECK(added == missing_lines(theirs, theirs_len, ours, ours_len),
		   "%zu new lines counted", added);
	if (pick == NOTES_MERGE_OURS) {
		FUZZ_CHECK(!added, "ours kept, but it lacks %zu lines", added);
	} else if (pick == NOTES_MERGE_THEIRS) {
		FUZZ_CHECK(!missing_lines(ours, ours_len, theirs, theirs_len),
			   "theirs taken, but it lacks lines of ours");
	} else {
		const char *p = out.ptr, *end = out.ptr + out.len, *prev = NULL;
		size_t prev_n = 0;

		FUZZ_CHECK(!missing_lines(ours, ours_len, out.ptr, out.len) &&
				   !missing_lines(theirs, theirs_len, out.ptr, out.len),
			   "the union lost a line");
		FUZZ_CHECK(out.len && out.ptr[out.len - 1] == '\n',
			   "the union does not end a line");
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t m = (size_t)(nl - p);

			FUZZ_CHECK(m, "an empty line in the union");
			FUZZ_CHECK(has_line(ours, ours_len, p, m) ||
					   has_line(theirs, theirs_len, p, m),
				   "a line in the union that neither side has");
			FUZZ_CHECK(!prev || line_less(prev, prev_n, p, m),
				   "the union is not sorted and unique");
			prev = p;
			prev_n = m;
			p = nl + 1;
		}
		/* merging either side into the union again brings nothing */
		FUZZ_CHECK(notes_merge_text(&twice, &again, out.ptr, out.len, theirs, theirs_len) ==
					   NOTES_MERGE_OURS &&
				   !again,
			   "merging theirs twice changes the note");
		FUZZ_CHECK(notes_merge_text(&twice, &again, out.ptr, out.len, ours, ours_len) ==
					   NOTES_MERGE_OURS &&
				   !again,
			   "merging ours into the union changes it");
	}
	buf_release(&out);
	buf_release(&twice);
	return 0;
}
