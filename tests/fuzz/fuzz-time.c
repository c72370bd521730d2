/*
 * fuzz-time: the times and durations of AWS answers, notes and options.
 * An ISO 8601 time that reads writes back to a time that reads the same; a
 * duration as the notes write it reads back, and writes the same again.
 */
#include "fuzz.h"

#include "util/time.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_cstr(data, size);
	char out[TIME_ISO8601_SIZE], again_out[TIME_ISO8601_SIZE];
	time_t t, again;
	double d, d2;
	long l;

	if (!time_parse_iso8601(&t, s)) {
		time_format_iso8601(out, t);
		FUZZ_CHECK(!time_parse_iso8601(&again, out), "'%s' wrote '%s', which does not read",
			   s, out);
		FUZZ_CHECK(again == t, "'%s' wrote '%s', which reads as another time", s, out);
		time_format_iso8601(again_out, again);
		FUZZ_CHECK(!strcmp(out, again_out), "'%s' then '%s'", out, again_out);
	}
	(void)time_parse_duration(&l, s);
	err_clear();
	if (!time_parse_formatted_duration(&d, s)) {
		struct buf b = BUF_INIT, b2 = BUF_INIT, e = BUF_INIT;

		FUZZ_CHECK(d >= 0, "'%s' reads as %g", s, d);
		time_format_duration(&b, d);
		FUZZ_CHECK(!time_parse_formatted_duration(&d2, b.ptr),
			   "'%s' (%g s) wrote '%s', which does not read", s, d, b.ptr);
		time_format_duration(&b2, d2);
		FUZZ_CHECK(!strcmp(b.ptr, b2.ptr), "'%s' then '%s'", b.ptr, b2.ptr);
		time_format_elapsed(&e, d);
		buf_release(&b);
		buf_release(&b2);
		buf_release(&e);
	}
	free(s);
	return 0;
}
