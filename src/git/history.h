/*
 * history: the runs recorded in refs/notes/train, read back for the commands
 * that look at them (git train log, git train compare).
 *
 * Every non-blank note line becomes one entry with its commit, short id and
 * subject; lines git-train did not write are kept raw (parsed = 0) so that
 * nothing in the notes is hidden. Entries come newest run first: by start
 * time, then in git's commit order, later lines of a note before earlier.
 */
#ifndef GIT_HISTORY_H
#define GIT_HISTORY_H

#include <git2.h>
#include <time.h>

#include "git/run-record.h"
#include "util/util.h"

struct cJSON;

struct history_entry {
	size_t order;	/* the commit's position in the walk */
	size_t line_no; /* the line's position in the note */
	git_oid commit;
	char *short_id;
	char *subject;
	char *line; /* the note line as written */
	int parsed; /* rec holds the line's fields */
	struct run_record rec;
	/*
	 * Another line in the history is for the same run and says something
	 * else (run_record_same()): pulled, forged, or a race. Both are kept
	 * and shown; neither is the run's outcome.
	 */
	int conflict;
};

struct history {
	struct history_entry *v;
	size_t nr;
	int any_notes; /* some commit, walked or not, has a note */
};

/*
 * The runs on the commits of a walk like git log's: revs are revisions and
 * ranges (A..B, A...B, ^A B); none means HEAD; all adds every branch, tag and
 * remote-tracking branch. 0, or -1 with err_set (a bad revision names it).
 */
int history_walk(struct history *out, git_repository *repo, int all, const char **revs, int nr);

/* Every run in the notes, on any commit, reachable or not. 0, or -1 with err_set. */
int history_every_note(struct history *out, git_repository *repo);

void history_release(struct history *h);

/*
 * The parsed run whose id is name or starts with it: 0 with *out its index,
 * 1 when no run matches, -1 with err_set and the candidates as hints when
 * several do.
 */
int history_find_run(size_t *out, const struct history *h, const char *name);

/* The metric's value in r: 1 with *out, 0 when r lacks it. */
int history_metric(double *out, const struct run_record *r, const char *name);

/*
 * Whether a smaller value of the metric is the better one, guessed from its
 * name: loss, error, perplexity, mse, rmse, wer, latency, time... as a word
 * of it ("val_loss", "eval/error").
 */
int history_lower_is_better(const char *metric);

/* Note values can hold any byte: control characters become '?'. */
void history_put_clean(struct buf *out, const char *s);
/* "2026-11-29T11:51:31Z", "-" for 0. */
void history_put_time(struct buf *out, time_t t);
/* Display width of UTF-8 text: continuation bytes take no column. */
size_t history_width(const char *s);
/* Appends s and spaces up to w columns. */
void history_pad(struct buf *out, const char *s, size_t w);

/*
 * A metric value for JSON, written as the notes write it: cJSON's own
 * printing can round the last digits. null for NaN and infinities.
 */
struct cJSON *history_number_json(double v);

/* The entry as `git train log --json` shows it. Caller frees with cJSON_Delete. */
struct cJSON *history_entry_json(const struct history_entry *e);

#endif
