/*
 * backend-local: run the training on this machine, in a fresh run directory.
 *
 * The run directory <train dir>/runs/<run-id>/ holds: code.tar.gz (the exact
 * archive), work/ (where it is extracted and the script runs), log (stdout and
 * stderr as the script wrote them), result.json, and outputs/ (the script's
 * outputs directory, moved out of work/ when the run ends).
 */
#ifndef BACKEND_LOCAL_H
#define BACKEND_LOCAL_H

#include <git2.h>

#include "config.h"
#include "run-record.h"

struct local_run {
	git_repository *repo;
	git_commit *commit;
	const struct train_settings *settings;
	const char *const *args; /* script arguments, passed byte for byte */
	int nr_args;
	const char *run_dir;     /* exists, empty */
	int keep_workdir;        /* keep work/ after the run */
};

/*
 * Prepares (archive, extract), runs train.setup then the script, streaming
 * output live to our stdout/stderr and into the log, and collects the result
 * into rec (status, exit code, start, duration, metrics, log). Ctrl-C is
 * forwarded to the script and the run recorded as interrupted.
 * Returns 0 when the script ran (whatever its exit code), -1 with err_set
 * when it could not be started.
 */
int backend_local_run(struct run_record *rec, const struct local_run *run);

#endif
