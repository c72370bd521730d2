/*
 * fuzz-run-record: a note line (pulled from anyone's clone) parses, and what
 * it parses to writes back to a line that parses to the same record and
 * writes the same line again (parse, format, parse is stable).
 */
#include "fuzz.h"

#include "git/run-record.h"

static int same_number(double a, double b)
{
	return a == b || (a != a && b != b);
}

static int same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_record a, b;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT;
	size_t i;
	int r;

	r = run_record_parse(&a, (const char *)data, size);
	err_clear();
	if (r)
		return 0;
	run_record_format(&s1, &a);
	FUZZ_CHECK(!memchr(s1.ptr, '\n', s1.len) && strlen(s1.ptr) == s1.len,
		   "a line break or NUL in: %s", s1.ptr);
	r = run_record_parse(&b, s1.ptr, s1.len);
	FUZZ_CHECK(r == 0, "the line written does not read back (%s): %s", err_msg(), s1.ptr);
	run_record_format(&s2, &b);
	FUZZ_CHECK(!strcmp(s1.ptr, s2.ptr), "written twice differently:\n%s\n%s", s1.ptr, s2.ptr);
	FUZZ_CHECK(same_str(a.id, b.id) && same_str(a.backend, b.backend) &&
			   same_str(a.status, b.status) && same_str(a.log, b.log) &&
			   same_str(a.parent, b.parent),
		   "a field changed: %s", s1.ptr);
	FUZZ_CHECK(a.exit_code == b.exit_code, "exit %d became %d", a.exit_code, b.exit_code);
	FUZZ_CHECK(a.start == b.start, "start %lld became %lld", (long long)a.start,
		   (long long)b.start);
	FUZZ_CHECK((a.duration < 0) == (b.duration < 0), "duration %g became %g", a.duration,
		   b.duration);
	FUZZ_CHECK(a.nr_metrics == b.nr_metrics && a.nr_extra == b.nr_extra,
		   "fields lost or gained: %s", s1.ptr);
	for (i = 0; i < a.nr_metrics; i++)
		FUZZ_CHECK(!strcmp(a.metrics[i].name, b.metrics[i].name) &&
				   same_number(a.metrics[i].value, b.metrics[i].value),
			   "metric '%s' changed", a.metrics[i].name);
	for (i = 0; i < a.nr_extra; i++)
		FUZZ_CHECK(!strcmp(a.extra[i].key, b.extra[i].key) &&
				   !strcmp(a.extra[i].value, b.extra[i].value),
			   "field '%s' changed", a.extra[i].key);
	run_record_release(&a);
	run_record_release(&b);
	buf_release(&s1);
	buf_release(&s2);
	return 0;
}
