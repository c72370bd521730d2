/*
 * backend-local: a run on this machine (backend_local in backend.h), in a
 * fresh run directory <git dir>/train/runs/<run-id>/ laid out as layout.h
 * says: the exact archive, the work directory where it is extracted and
 * the script runs, the log (stdout and stderr as the script wrote them),
 * the result document, and the outputs (the script's outputs directory,
 * moved out of the work directory when the run ends).
 *
 * The script is run without a shell (script.h's command line), with
 * PYTHONUNBUFFERED=1, GIT_TRAIN_RUN_ID, GIT_TRAIN_COMMIT and GIT_TRAIN_OUTPUTS
 * set, and without GIT_DIR and friends, so that a script calling git never
 * touches the user's repository. train.setup runs first through /bin/sh in
 * the same directory, its output on err_fd; when it fails (or is
 * interrupted) the script does not run and the run is recorded with the
 * setup's exit status (stage "setup").
 *
 * The training runs attached, in follow: output streams live to the given
 * fds and into the log. Ctrl-C (SIGINT, SIGTERM) lets the script end by
 * itself, is forwarded to it when it was sent to git-train alone, and
 * escalates to SIGTERM then SIGKILL after a grace period (child.h); the run
 * is then recorded as "interrupted". A script killed by signal N is
 * recorded as failed with exit code 128+N. follow never detaches.
 *
 * When the run cannot start (archive, extraction, an unknown interpreter),
 * nothing is recorded and release removes the run directory.
 *
 * Checkpoints (issue 13), as on EC2: setup and the script get
 * GIT_TRAIN_CHECKPOINT_DIR=<run dir>/checkpoints (created; it stays after
 * the run) and GIT_TRAIN_ATTEMPT=<n>. A script that exits with a
 * train.retryOnExit code is run again at once (setup not again), attempt
 * n+1, after a "git-train: --- attempt <n+1> ..." line in the log, at most
 * train.maxInterruptions times. The attempts go into <run dir>/attempts.json
 * and, when there was more than one, result.json's "attempts" and "lost",
 * and the note's attempts= and lost=; the run's duration is their sum.
 *
 * resume_id (git train resume) runs an ended run again in its directory:
 * the same id, the code archived again from its commit (the request's rev),
 * its checkpoints and outputs kept, its log continued, the next attempt
 * number; its note line is replaced. While a run runs, its log is locked
 * (flock), which is how a run still running is told from one that ended.
 *
 * resume_from (--resume-from) is another run's checkpoints, copied into
 * this run's checkpoint directory before attempt 1 (outputs.h's checks of
 * the names); the note records resumed_from=<its id>.
 */
#ifndef RUN_BACKEND_LOCAL_H
#define RUN_BACKEND_LOCAL_H

#include <git2.h>

#include "run/backend.h"

struct outputs;
struct run_record;

struct backend_local_opts {
	int keep_workdir; /* keep work/ after the run */
	/* git train resume: this run again, whose note line is resumed */
	const char *resume_id;
	const struct run_record *resumed;
	/* --resume-from: that run's checkpoints, listed (outputs.h) */
	struct outputs *resume_from;
	const char *resume_from_id;
};

/* Whether local run id is running (its log is locked): 1 or 0. */
int backend_local_running(git_repository *repo, const char *id);

#endif
