/*
 * fuzz-outputs: what a run leaves for `git train outputs` and train.metric
 * to read: an output's name (first byte odd), which must be refused unless
 * it stays under the directory it is written to, or the run's log (first
 * byte even), scanned by train.metric patterns in pieces whose sizes the
 * second byte chooses, which must give the same metrics as one piece.
 */
#include "fuzz.h"

#include "run/metric-patterns.h"
#include "run/outputs.h"

static struct metric_patterns patterns;

static void scan(struct run_record *r, const uint8_t *data, size_t size, size_t piece)
{
	struct metric_scan s;
	size_t i;

	metric_scan_init(&s, &patterns);
	for (i = 0; i < size; i += piece)
		metric_scan_feed(&s, data + i, size - i < piece ? size - i : piece);
	metric_scan_finish(&s, r);
	metric_scan_release(&s);
}

static void check_name(const char *name)
{
	const char *p = name;

	if (!outputs_name_ok(name))
		return;
	FUZZ_CHECK(*name && *name != '/', "'%s' is absolute or empty", name);
	while (*p) {
		size_t n = strcspn(p, "/");

		FUZZ_CHECK(n && !(n == 2 && !strncmp(p, "..", 2)) && !(n == 1 && *p == '.'),
			   "'%s' has an empty, '.' or '..' component", name);
		p += n + (p[n] == '/');
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run_record a, b;
	char *name;
	size_t i;

	if (size < 2)
		return 0;
	if (data[0] & 1) {
		name = fuzz_cstr(data + 1, size - 1);
		check_name(name);
		free(name);
		return 0;
	}
	if (!patterns.nr && (metric_patterns_add(&patterns, "val_loss=val loss ([0-9.]+)") ||
			     metric_patterns_add(&patterns, "acc=acc(uracy)?[:=]") ||
			     metric_patterns_add(&patterns, "lr=lr ([-+0-9.eE]*)")))
		err_clear();
	run_record_init(&a);
	run_record_init(&b);
	scan(&a, data + 2, size - 2, size);
	scan(&b, data + 2, size - 2, (size_t)data[1] + 1);
	FUZZ_CHECK(a.nr_metrics == b.nr_metrics, "%zu metrics in one piece, %zu in pieces",
		   a.nr_metrics, b.nr_metrics);
	for (i = 0; i < a.nr_metrics; i++)
		FUZZ_CHECK(!strcmp(a.metrics[i].name, b.metrics[i].name) &&
				   a.metrics[i].value == b.metrics[i].value,
			   "metric %s differs in pieces", a.metrics[i].name);
	run_record_release(&a);
	run_record_release(&b);
	return 0;
}
