/*
 * run-record: what is known about one run, and its one-line form in the notes.
 *
 * A note line is the run id followed by key=value fields, e.g.
 *   20261129-043512-a1b2c3d-4f2a backend=local status=succeeded exit=0
 *   start=2026-11-29T04:35:12Z duration=12.3s metric.loss=0.0625 log=<path>
 * Values are percent-encoded where they hold spaces, '%', '=' or non-printable
 * bytes, so any line parses back to the same record. Lines start with the run
 * id, which sorts by time, so `cat_sort_uniq` merges keep them in order.
 * Unknown keys are kept (extra) so that newer versions' lines survive.
 */
#ifndef GIT_RUN_RECORD_H
#define GIT_RUN_RECORD_H

#include <stddef.h>
#include <time.h>

#include "util/util.h"

struct metric {
	char *name;
	double value;
};

struct run_field {
	char *key;
	char *value;
};

struct run_record {
	char *id;
	char *backend;	 /* "local", or an instance type */
	char *status;	 /* succeeded, failed, interrupted, ... */
	int exit_code;	 /* -1 when unknown */
	time_t start;	 /* 0 when unknown */
	double duration; /* seconds; < 0 when unknown */
	char *log;	 /* where the full log is */
	char *parent;	 /* for --stash snapshots: the commit they were made on */
	struct metric *metrics;
	size_t nr_metrics;
	struct run_field *extra;
	size_t nr_extra;
};

void run_record_init(struct run_record *r);
void run_record_release(struct run_record *r);
void run_record_add_metric(struct run_record *r, const char *name, double value);
void run_record_add_extra(struct run_record *r, const char *key, const char *value);
/* The value of an extra field; borrowed, NULL if absent. */
const char *run_record_extra(const struct run_record *r, const char *key);

/* A number as the notes write it: the shortest form (up to 17 digits) that reads back the same. */
void run_record_put_number(struct buf *out, double v);

/* Appends the one-line form (no newline) to out. */
void run_record_format(struct buf *out, const struct run_record *r);

/*
 * The extra field that holds the seal of the clone that wrote the line
 * (run/smoke.h): each clone seals its own lines, so it is no part of what
 * a line says of its run.
 */
#define RUN_RECORD_SEAL_KEY "clone"

/*
 * Whether two lines say the same of their run: equal but for their seals.
 * Two lines of one run that are not are a conflict: pulled, forged, or a race.
 */
int run_record_same(const struct run_record *a, const struct run_record *b);

/* 0 parsed, 1 not a git-train line (left alone by callers), -1 malformed (err_set). */
int run_record_parse(struct run_record *out, const char *line, size_t len);

/*
 * A new run id: UTC time, short commit SHA and 4 random hex digits,
 * e.g. "20261129-043512-a1b2c3d-4f2a". Sorts by time. Caller frees.
 */
char *run_record_new_id(const char *short_sha, time_t now);

/*
 * Parses a metrics.json: a flat JSON object of numbers. Non-number values are
 * skipped with a warning line appended to warnings. 0, or -1 with err_set.
 */
int run_record_parse_metrics(struct run_record *r, const char *json, struct buf *warnings);

#endif
