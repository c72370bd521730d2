/*
 * backend: where a run happens, as the pipeline (run.h) sees it. A backend
 * is a table of operations; the pipeline calls them in this order:
 *
 *   prepare -> start -> [follow] -> collect -> release
 *
 * and stop whenever the run must end early. Everything around them (the
 * commit, the script's check, the run id, the note, the summary) is the
 * pipeline's, the same for every backend. A new backend (several nodes for
 * one run, a run resumed after a preemption) is a new table; the commands
 * do not change.
 *
 * Every operation gets the run (run.h): run->req says what was asked for
 * (repository, config, script, arguments, ui, cancel flag), run->commit and
 * run->hex which code, run->rec what is known so far (id, parent, args);
 * run->opts is the backend's own options, given to run_init(), and
 * run->state its own state, which it allocates in prepare and frees in
 * release. Operations speak through run->req->ui and never print.
 */
#ifndef RUN_BACKEND_H
#define RUN_BACKEND_H

struct run;

struct run_backend {
	const char *name; /* "local", "aws" */

	/*
	 * What must hold before anything runs or costs money: prerequisites,
	 * the price, a place for the run. Sets run->rec.backend (where it
	 * runs: "local", the instance type) and may replace run->rec.id (with
	 * one that is free where the run lives). RC_OK; RC_NOT_READY when a
	 * prerequisite failed (said through the ui, each with its fix); or
	 * RC_ERROR with err_set. Nothing is left to clean up on failure but
	 * what release frees.
	 */
	int (*prepare)(struct run *run);

	/*
	 * Puts the code where the run happens and starts the training. A
	 * backend whose training runs attached to this process (local) gets
	 * everything ready here and starts it when follow begins. The cancel
	 * flag is watched throughout. RC_OK; or, with everything it started
	 * already cleaned up (an instance terminated, an upload aborted):
	 * RC_CANCELLED (err_set says what was cleaned up), RC_NO_SPOT, RC_ERROR.
	 */
	int (*start)(struct run *run);

	/*
	 * Copies the training's output, as it comes, to out_fd (and err_fd
	 * for a backend that keeps the two apart) until the training ends.
	 * RC_OK when it ended (whatever its outcome); RC_DETACHED when the
	 * cancel flag rose and the training goes on without us; RC_ERROR when
	 * it cannot be followed (the training may go on).
	 */
	int (*follow)(struct run *run, int out_fd, int err_fd);

	/*
	 * The ended training's outcome into run->rec: status, exit code, start,
	 * duration, metrics, where its log and outputs are, and anything else
	 * the note should say. Writes the result document where the run lives
	 * when the training did not (layout.h). Things worth telling that do
	 * not change the outcome (metrics skipped, outputs not kept) go to the
	 * ui as warnings. 0 ended; 1 not ended yet; RC_ERROR with err_set.
	 */
	int (*collect)(struct run *run);

	/*
	 * Ends the training early and frees what it holds where it runs (the
	 * instance), saying so through the ui; why is for that message. The
	 * current error is kept. 0, or RC_ERROR when something may be left
	 * running (said through the ui with what to do).
	 */
	int (*stop)(struct run *run, const char *why);

	/* Frees run->state (always called, whatever happened before). */
	void (*release)(struct run *run);
};

extern const struct run_backend backend_local;
extern const struct run_backend backend_aws;

#endif
