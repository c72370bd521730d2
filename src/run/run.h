/*
 * run: the run pipeline, one for every backend (DESIGN.md §2; backends in
 * backend.h):
 *
 *   run_init()     which code: HEAD, --rev, or a --stash snapshot of the
 *                  working tree (touching nothing); a warning when tracked
 *                  files differ from it; the script checked in it; a new
 *                  run id
 *   run_prepare()  the backend's checks and estimates, before anything runs
 *                  or costs money; then "run <id>: <commit> <subject> (<where>)"
 *   run_start()    the code where the run happens, and the training started
 *   run_follow()   its output as it comes, until it ends
 *   run_finish()   its outcome (the backend's collect), then its note: one
 *                  line on the commit in refs/notes/train
 *
 * and run_stop() to end it early. The pipeline speaks through the request's
 * ui and never prints; the command prints the summary (run_summary()) and
 * decides the exit status from the outcome (cmd/common.h).
 */
#ifndef RUN_RUN_H
#define RUN_RUN_H

#include <git2.h>
#include <signal.h>

#include "git/config.h"
#include "git/run-record.h"
#include "run/backend.h"
#include "run/script.h"
#include "util/strvec.h"
#include "util/ui.h"

/* What the command asks for. Everything here outlives the run. */
struct run_request {
	git_repository *repo;
	const struct config *cfg;
	const char *rev;       /* the commit to run; NULL: HEAD */
	int stash;	       /* a snapshot of the working tree instead */
	int include_untracked; /* with stash: untracked, non-ignored files too */
	const char *verb;      /* for the snapshot's message: "running" */
	const struct script_settings *script;
	const char *const *args; /* the script's arguments, byte for byte */
	int nr_args;
	int smoke; /* recorded as a smoke run (smoke=1) */
	/* with rev: the commit the --stash snapshot rev names was made on (a sweep's); else NULL */
	const char *parent;
	/* more note fields, "key=value" (a sweep's: sweep=, param.<name>=); may be NULL */
	const struct strvec *fields;
	const struct ui *ui;	       /* may be NULL: silent */
	volatile sig_atomic_t *cancel; /* raised by the command's signal handler; may be NULL */
};

struct run {
	const struct run_request *req;
	const struct run_backend *backend;
	const void *opts; /* the backend's options */
	void *state;	  /* the backend's state */
	git_commit *commit;
	char hex[GIT_OID_HEXSZ + 1];
	char *short_id;
	/* What the note will say: id, backend, parent, args and smoke from the
	 * start, the outcome once collected. */
	struct run_record rec;
	int started; /* run_start() succeeded */
	int ended;   /* run_finish() collected the outcome */
	/* set by the backend: a run tried again (git train resume), whose note
	 * line run_finish() replaces rather than adds */
	int replace_note;
};

/*
 * Which code: the commit rev names (HEAD when NULL), or with stash a
 * snapshot of the working tree (snapshot.h), saying which through ui:
 * "<verb> snapshot <id> of the working tree", or that there was nothing to
 * snapshot (then it is HEAD). *out_parent (when not NULL) gets the commit a
 * snapshot was made on, else NULL. 0, or -1 with err_set.
 */
int run_resolve_code(git_commit **out, char **out_parent, git_repository *repo, const char *rev,
		     int stash, int include_untracked, const char *verb, const struct ui *ui);

/* 0, or RC_ERROR with err_set (a bad revision, no script in the commit, ...). */
int run_init(struct run *out, const struct run_request *req, const struct run_backend *backend,
	     const void *opts);
/* RC_OK, RC_NOT_READY or RC_ERROR (backend.h: prepare). */
int run_prepare(struct run *r);
/* RC_OK, RC_CANCELLED, RC_NO_SPOT or RC_ERROR (backend.h: start). */
int run_start(struct run *r);
/* RC_OK, RC_DETACHED or RC_ERROR (backend.h: follow). */
int run_follow(struct run *r, int out_fd, int err_fd);
/*
 * The outcome into r->rec and the note on r's commit. 0; 1 when the run
 * has not ended; RC_ERROR with err_set when the outcome cannot be had, or
 * when the note could not be written (r->ended is then set all the same).
 */
int run_finish(struct run *r);
/* Ends the run early (backend.h: stop). */
int run_stop(struct run *r, const char *why);
void run_release(struct run *r);

/*
 * Writes rec as a line of the note on commit, unless the note has that very
 * line already: every command that sees a finished run calls this, the
 * first one writes it. Another line for rec's id does not count (a pulled
 * or forged one must not keep the real outcome out): both stay, a conflict
 * status and log show. 0 written, 1 already there, -1 with err_set.
 */
int run_note_write(git_repository *repo, const struct run_record *rec, const char *commit);

/*
 * The line that sums up an ended run, without a newline: "run <id>
 * succeeded in 12.3s", "failed (exit 3) in 4m05s", "failed (setup exit 4)
 * in 1.0s", "interrupted after 9.5s", "was preempted after 1h02m03s: EC2
 * reclaimed the spot instance"; then, for a run on EC2, "(<type> <market>,
 * $<cost>)"; then ": <metric>=<value> ..."; then, unless it succeeded, a
 * second line "log: <where the log is>".
 */
void run_summary(struct buf *out, const struct run_record *rec);
/* Only the outcome's words, "succeeded in 12.3s" ... (see run_summary()). */
void run_outcome(struct buf *out, const struct run_record *rec);

#endif
