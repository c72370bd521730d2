/*
 * fuzz-metrics: what a training script leaves, metrics.json (a flat object
 * of numbers, first byte even) or the runner's result.json (first byte odd),
 * read into a run record, which must then write a note line that reads back
 * to the same record.
 */
#include "fuzz.h"

#include "git/run-record.h"
#include "run/layout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_record r, back;
	struct buf warnings = BUF_INIT, line = BUF_INIT, again = BUF_INIT;
	char *text;
	int ret;

	if (!size)
		return 0;
	text = fuzz_cstr(data + 1, size - 1);
	run_record_init(&r);
	if (data[0] & 1)
		ret = layout_result_parse(&r, (const char *)data + 1, size - 1, "result.json");
	else
		ret = run_record_parse_metrics(&r, text, &warnings);
	err_clear();
	if (!ret) {
		size_t i;

		r.id = xstrdup("20261129-043512-a1b2c3d-4f2a");
		run_record_format(&line, &r);
		FUZZ_CHECK(!run_record_parse(&back, line.ptr, line.len),
			   "the note line does not read back (%s): %s", err_msg(), line.ptr);
		FUZZ_CHECK(back.exit_code == r.exit_code && back.start == r.start &&
				   back.nr_metrics == r.nr_metrics,
			   "the record changed: %s", line.ptr);
		for (i = 0; i < r.nr_metrics; i++)
			FUZZ_CHECK(!strcmp(back.metrics[i].name, r.metrics[i].name),
				   "metric '%s' changed", r.metrics[i].name);
		run_record_format(&again, &back);
		FUZZ_CHECK(!strcmp(line.ptr, again.ptr), "written twice differently:\n%s\n%s",
			   line.ptr, again.ptr);
		run_record_release(&back);
	}
	run_record_release(&r);
	buf_release(&warnings);
	buf_release(&line);
	buf_release(&again);
	free(text);
	return 0;
}
