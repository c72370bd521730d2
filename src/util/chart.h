/*
 * chart: text charts of a list of values, for a terminal or a pipe.
 *
 * Pure: appends to a buffer, prints nothing. CHART_UNICODE draws with block
 * characters (eighths of a cell for bars, eight levels for sparklines);
 * CHART_ASCII with '#' and plain punctuation, for pipes and files.
 * Values that are not finite (NaN, infinities) are left out of the scale and
 * drawn blank, so a bad value never turns into "nan" in a chart.
 */
#ifndef UTIL_CHART_H
#define UTIL_CHART_H

#include <stddef.h>

#include "util/util.h"

enum chart_style {
	CHART_ASCII,
	CHART_UNICODE
};

struct chart_scale {
	double min, max;
	int valid; /* at least one finite value */
};

/* The range of the finite values among v[0..n). */
void chart_scale_init(struct chart_scale *out, const double *v, size_t n);

/*
 * A bar for v, exactly width columns wide (padded with spaces): the smallest
 * value gets one column, the largest all of them, all-equal values all.
 */
void chart_bar(struct buf *out, const struct chart_scale *s, double v, size_t width,
	       enum chart_style style);

/* One column per value, in the order given, from low to high. */
void chart_sparkline(struct buf *out, const struct chart_scale *s, const double *v, size_t n,
		     enum chart_style style);

#endif
