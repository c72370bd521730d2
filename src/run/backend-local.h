/*
 * backend-local: run the training on this machine, in a fresh run directory.
 *
 * The run directory <train dir>/runs/<run-id>/ holds: code.tar.gz (the exact
 * archive), work/ (where it is extracted and the script runs), log (stdout and
 * stderr as the script wrote them), result.json, and outputs/ (the script's
 * outputs directory, moved out of work/ when the run ends).
 *
 * The script is run without a shell (argv as given), with PYTHONUNBUFFERED=1,
 * GIT_TRAIN_RUN_ID, GIT_TRAIN_COMMIT and GIT_TRAIN_OUTPUTS set, and without
 * GIT_DIR and friends, so that a script calling git never touches the user's
 * repository. train.setup runs first through /bin/sh in the same directory;
 * when it fails (or is interrupted) the script does not run and the run is
 * recorded with the setup's exit status.
 */
#ifndef RUN_BACKEND_LOCAL_H
#define RUN_BACKEND_LOCAL_H

#include <git2.h>

#include "git/config.h"
#include "git/run-record.h"
#include "util/util.h"

struct local_run {
	git_repository *repo;
	git_commit *commit;
	const struct train_settings *settings;
	const char *const *args; /* script arguments, passed byte for byte */
	int nr_args;
	const char *run_dir;     /* absolute, exists, empty */
	int keep_workdir;        /* keep work/ after the run */
};

/*
 * Prepares (archive, extract), runs train.setup then the script, streaming
 * output live to our stdout/stderr and into the log (setup output goes to
 * stderr), and collects the result into rec (status, exit code, start,
 * duration, metrics, log). rec->id must already be set: the script sees it.
 *
 * Ctrl-C (SIGINT, SIGTERM) lets the script end by itself, is forwarded to it
 * when it was sent to git-train alone, and escalates to SIGTERM then SIGKILL
 * after a grace period; the run is then recorded as "interrupted".
 * A script killed by signal N is recorded as failed with exit code 128+N.
 *
 * Things worth telling the user that do not fail the run (metrics.json
 * skipped values, outputs that could not be moved) are appended to warnings,
 * one per line.
 *
 * Returns 0 when the run happened (whatever its exit code), -1 with err_set
 * when the script could not be started (archive, extraction, unknown
 * interpreter, exec failure): nothing is recorded, and the run directory,
 * which may hold partial files, is the caller's to remove.
 */
int backend_local_run(struct run_record *rec, struct buf *warnings, const struct local_run *run);

#endif
