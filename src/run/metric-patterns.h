/*
 * metric-patterns: metrics from a run's output, for scripts that write no
 * metrics.json. Each `train.metric` entry is "<name>=<regex>": a POSIX
 * extended regular expression with exactly one capture group, matched
 * against each line of the run's log; the capture of the last match of the
 * whole log that is a number is the metric's value (e.g.
 * "val_loss=val loss ([0-9.]+)"). Several entries may name one metric: the
 * last match of any of them counts.
 *
 * One place for both backends: a local run's log file when the run is
 * collected, a run on EC2's log streamed from S3 when its result is
 * collected (by --wait, status, logs, stop or gc). Memory stays bounded
 * whatever the log's size: lines are cut at METRIC_LINE_MAX bytes (the
 * rest of a longer line is not matched) and a carriage return ends a line
 * as a newline does (progress bars redraw with it). A metric metrics.json
 * gave wins over a pattern's.
 */
#ifndef RUN_METRIC_PATTERNS_H
#define RUN_METRIC_PATTERNS_H

#include <regex.h>
#include <stddef.h>

#include "aws/client.h"
#include "git/config.h"
#include "git/run-record.h"

#define METRIC_LINE_MAX 4096

struct metric_pattern {
	char *name;
	regex_t re;
};

struct metric_patterns {
	struct metric_pattern *v;
	size_t nr;
};

/*
 * Reads and compiles every train.metric entry. 0 (with none: nr 0), or -1
 * with err_set naming the entry and what is wrong with it (no '=', a bad
 * name, a regex that does not compile or has not exactly one group).
 */
int metric_patterns_load(struct metric_patterns *out, const struct config *cfg);
/*
 * The same for commands that only look at runs (status, logs, stop, gc,
 * outputs): a bad entry must not keep them from their work. It is left
 * out, and what is wrong with it appended to skipped (a line each). 0, or
 * -1 with err_set when the configuration cannot be read.
 */
int metric_patterns_load_lenient(struct metric_patterns *out, const struct config *cfg,
				 struct buf *skipped);
/* One entry "<name>=<regex>" added to p. 0, or -1 with err_set naming it. */
int metric_patterns_add(struct metric_patterns *p, const char *entry);
void metric_patterns_release(struct metric_patterns *p);

/* A log read in pieces of any size, line by line. */
struct metric_scan {
	const struct metric_patterns *p;
	char line[METRIC_LINE_MAX + 1];
	size_t len;
	int cut;	/* the line went past METRIC_LINE_MAX: wait for its end */
	double *values; /* per pattern: the last number matched */
	int *found;
	size_t *at; /* per pattern: the line of its last match, 1-based */
	size_t lines;
};

void metric_scan_init(struct metric_scan *s, const struct metric_patterns *p);
void metric_scan_feed(struct metric_scan *s, const void *data, size_t len);
/*
 * Ends the log and adds the metrics found to rec, except those rec has
 * already (metrics.json's).
 */
void metric_scan_finish(struct metric_scan *s, struct run_record *rec);
void metric_scan_release(struct metric_scan *s);

/*
 * The patterns over a local log file / a log in S3, into rec (as
 * metric_scan_finish()). Nothing to do without patterns. 0, or -1 with
 * err_set (the log cannot be read; an absent one in S3 is no error).
 */
int metric_patterns_apply_file(struct run_record *rec, const struct metric_patterns *p,
			       const char *path);
int metric_patterns_apply_s3(struct run_record *rec, const struct metric_patterns *p,
			     struct aws_client *c, const char *bucket, const char *key);

#endif
