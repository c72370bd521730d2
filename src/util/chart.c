#include "util/chart.h"

#include <math.h>

/* UTF-8 of U+2581..U+2588 (sparkline levels) and U+258F..U+2589 (bar eighths). */
static const char *const spark_unicode[8] = {
	"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
	"\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88",
};
static const char spark_ascii[8] = { '_', '.', ',', '-', '~', '=', '*', '#' };
static const char *const eighths[8] = {
	"",
	"\xe2\x96\x8f",
	"\xe2\x96\x8e",
	"\xe2\x96\x8d",
	"\xe2\x96\x8c",
	"\xe2\x96\x8b",
	"\xe2\x96\x8a",
	"\xe2\x96\x89",
};
static const char *const full_block = "\xe2\x96\x88";

void chart_scale_init(struct chart_scale *out, const double *v, size_t n)
{
	size_t i;

	out->min = out->max = 0;
	out->valid = 0;
	for (i = 0; i < n; i++) {
		if (!isfinite(v[i]))
			continue;
		if (!out->valid || v[i] < out->min)
			out->min = v[i];
		if (!out->valid || v[i] > out->max)
			out->max = v[i];
		out->valid = 1;
	}
}

/* Where v sits between min (0) and max (1); 1 when they are equal. */
static double position(const struct chart_scale *s, double v)
{
	double span = s->max - s->min;

	/* a span too wide for a double (max - min overflows) is scaled in halves */
	if (isinf(span))
		return (v / 2 - s->min / 2) / (s->max / 2 - s->min / 2);
	return span > 0 ? (v - s->min) / span : 1;
}

void chart_bar(struct buf *out, const struct chart_scale *s, double v, size_t width,
	       enum chart_style style)
{
	size_t used = 0, units, i;

	if (width && s->valid && isfinite(v)) {
		/* in eighths of a column; the first column is always drawn */
		units = 8 + (size_t)(position(s, v) * (double)(width - 1) * 8 + 0.5);
		if (style == CHART_ASCII)
			units = (units + 4) / 8 * 8;
		for (i = 0; i < units / 8; i++)
			buf_puts(out, style == CHART_ASCII ? "#" : full_block);
		used = units / 8;
		if (units % 8) {
			buf_puts(out, eighths[units % 8]);
			used++;
		}
	}
	for (; used < width; used++)
		buf_putc(out, ' ');
}

void chart_sparkline(struct buf *out, const struct chart_scale *s, const double *v, size_t n,
		     enum chart_style style)
{
	size_t i;

	for (i = 0; i < n; i++) {
		long level;

		if (!s->valid || !isfinite(v[i])) {
			buf_putc(out, ' ');
			continue;
		}
		level = s->max > s->min ? (long)(position(s, v[i]) * 7 + 0.5) : 3;
		if (style == CHART_ASCII)
			buf_putc(out, spark_ascii[level]);
		else
			buf_puts(out, spark_unicode[level]);
	}
}
