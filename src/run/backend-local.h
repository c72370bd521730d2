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
 */
#ifndef RUN_BACKEND_LOCAL_H
#define RUN_BACKEND_LOCAL_H

#include "run/backend.h"

struct backend_local_opts {
	int keep_workdir; /* keep work/ after the run */
};

#endif
