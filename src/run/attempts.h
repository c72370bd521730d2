/*
 * attempts: a run that is tried more than once (layout.h's attempt record).
 *
 * train.retryOnExit names the exit codes of a script that mean "run me
 * again" (a script's own way of saying it was preempted): numbers from 1
 * to 255, comma- or space-separated, in one value or several (`git config
 * --add`); an empty value drops the codes named before it.
 * train.maxInterruptions (default 5; 0: never; at most 100) bounds how many
 * attempts follow the first, preemptions and such retries together.
 * train.checkpointInterval (a duration, default 5m, at least 1 s): how often
 * a runner on EC2 copies the checkpoints to S3.
 *
 * The attempts themselves, as result.json's "attempts" and attempts.json
 * hold them (layout.h), for a backend that runs them (a local run writes
 * <run dir>/attempts.json too, which `git train resume` reads back).
 */
#ifndef RUN_ATTEMPTS_H
#define RUN_ATTEMPTS_H

#include <stddef.h>
#include <time.h>

#include "git/config.h"
#include "util/util.h"

#define RUN_MAX_INTERRUPTIONS_DEFAULT	5
#define RUN_MAX_INTERRUPTIONS_LIMIT	100
#define RUN_CHECKPOINT_INTERVAL_DEFAULT "5m"

struct retry_codes {
	int *v;
	size_t nr;
};

/*
 * train.retryOnExit into *out (none when unset). 0, or -1 with err_set
 * naming the bad entry.
 */
int run_retry_codes_parse(struct retry_codes *out, const struct config *cfg);
/* The same for one value (what the setting holds, or a command line's). */
int run_retry_codes_parse_value(struct retry_codes *out, const char *value);
int run_retry_codes_has(const struct retry_codes *c, int code);
/* "75 76": the codes space-separated (RETRY_ON_EXIT for the runner). */
void run_retry_codes_format(struct buf *out, const struct retry_codes *c);
void run_retry_codes_release(struct retry_codes *c);

/* train.maxInterruptions (default 5). 0, or -1 with err_set. */
int run_max_interruptions(int *out, const struct config *cfg);
/* train.checkpointInterval in seconds (default 5m). 0, or -1 with err_set. */
int run_checkpoint_interval(long *out, const struct config *cfg);

/* The three settings above, as a run reads them before it starts. */
struct run_attempt_settings {
	long checkpoint_interval;
	int max_interruptions;
	struct retry_codes retry;
};

/* 0, or -1 with err_set naming the bad setting (*out then holds nothing to release). */
int run_attempt_settings(struct run_attempt_settings *out, const struct config *cfg);

struct run_attempt {
	int attempt; /* 1, 2, ... */
	char *instance;
	time_t start, end; /* end 0 while it runs */
	double duration;   /* < 0 while it runs */
	char *status;	   /* layout.h: "running", "retried", "interrupted", ... */
	int exit_code;	   /* -1 when its script never ended */
};

struct run_attempts {
	struct run_attempt *v;
	size_t nr;
};

/* A new attempt, running, numbered after the last one. Returns it. */
struct run_attempt *run_attempts_begin(struct run_attempts *a, const char *instance, time_t start);
/* The last attempt ended. */
void run_attempts_end(struct run_attempts *a, time_t end, double duration, const char *status,
		      int exit_code);
/* The sum of the ended attempts' durations. */
double run_attempts_duration(const struct run_attempts *a);
/* The time between an attempt's end and the next one's start, summed. */
double run_attempts_lost(const struct run_attempts *a);

/* attempts.json for run_id (layout.h), ending in a newline. */
void run_attempts_format(struct buf *out, const struct run_attempts *a, const char *run_id);
/*
 * Reads an attempts.json back, only when it is run_id's: 0, or -1 with
 * err_set (what names it). Attempts that make no sense are refused.
 */
int run_attempts_parse(struct run_attempts *out, const char *text, size_t len, const char *run_id,
		       const char *what);
/*
 * Adds "attempts" and "lost" to a result document (layout_result_format's
 * text) when there was more than one attempt.
 */
void run_attempts_add_to_result(struct buf *doc, const struct run_attempts *a);
void run_attempts_release(struct run_attempts *a);

#endif
