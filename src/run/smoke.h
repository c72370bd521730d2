/*
 * smoke: the pre-push smoke run, apart from what it prints.
 *
 * A smoke run is `git train local --smoke` (or, when train.smoke.backend is
 * an instance type, `git train <type> --smoke --wait`) of one commit with
 * train.smoke.args. A tree needs only one: a commit whose tree already has a
 * passing smoke run with the same arguments is not run again, whichever
 * commit that run was recorded on (an amend that changes only the message, a
 * rebase that keeps the tree, a note copied by notes.rewriteRef).
 *
 * Only passes this clone recorded count: a smoke run's note line carries
 * clone=<seal>, this clone's seal (git/clone-id.h) of the tree, the run id,
 * the arguments and the status. A line pulled from a shared remote, or
 * copied onto another tree, has no seal that checks here, so its tree is
 * smoke-run again.
 */
#ifndef RUN_SMOKE_H
#define RUN_SMOKE_H

#include <git2.h>
#include <signal.h>

#include "git/config.h"
#include "git/run-record.h"
#include "util/strvec.h"
#include "util/util.h"

/* Default train.smoke.timeout, in seconds. */
#define SMOKE_DEFAULT_TIMEOUT 600

struct smoke_settings {
	char *backend;	    /* train.smoke.backend: "local" (default) or an instance type */
	struct strvec args; /* train.smoke.args, split into words like a shell would */
	char *args_text;    /* the words shell-quoted, as a note's args= holds them; "" for none */
	long timeout;	    /* train.smoke.timeout in seconds; 0: no limit */
	int required;	    /* train.smoke.required: a commit git-train cannot run fails */
};

/* 0, or -1 with err_set for a malformed value (nothing to release then). */
int smoke_settings_load(struct smoke_settings *out, const struct config *cfg);
void smoke_settings_release(struct smoke_settings *s);

/* The note line's field that holds the seal. */
#define SMOKE_SEAL_KEY RUN_RECORD_SEAL_KEY

/*
 * Seals rec when it is a smoke run's line (smoke=1 and no seal yet): adds
 * clone=<seal> for tree, making this clone's secret if it has none. 0, or
 * -1 with err_set.
 */
int smoke_seal(struct run_record *rec, git_repository *repo, const git_oid *tree);

/* A passing smoke run found in the notes. */
struct smoke_pass {
	char *run_id;
	git_oid commit; /* the commit it was recorded on */
};

/*
 * Looks for a note line with smoke=1, status=succeeded, args equal to
 * args_text and this clone's seal on any commit whose tree is tree. 0 with *out when there is one
 * (release it), 1 when there is none, -1 with err_set.
 */
int smoke_find_pass(struct smoke_pass *out, git_repository *repo, const git_oid *tree,
		    const char *args_text);
void smoke_pass_release(struct smoke_pass *p);

/* The words after `git train` that smoke-run the commit hex (to push onto argv). */
void smoke_command(struct strvec *out, const struct smoke_settings *s, const char *hex);

/* The same as one line a user can paste: "git train local --smoke --rev ... -- ...". */
void smoke_command_line(struct buf *out, const struct smoke_settings *s, const char *hex);

/*
 * Runs argv (argv[0] looked up in PATH) in its own process group, stdin from
 * /dev/null, stdout and stderr into the file log_path (created or truncated).
 * At timeout seconds (0: none), or when *cancel becomes non-zero, its whole
 * group gets SIGTERM and, after a grace period, SIGKILL. 0 with *out_code its
 * exit code (128+N when killed by signal N) and *out_timed_out set when the
 * timeout ended it; -1 with err_set when it could not start. While it runs,
 * tick (when not NULL) is called about once a second with the seconds so far.
 */
int smoke_run(int *out_code, int *out_timed_out, char *const *argv, const char *log_path,
	      long timeout, const volatile sig_atomic_t *cancel,
	      void (*tick)(void *data, double elapsed), void *tick_data);

/* The last n lines of the file at path, each ending in a newline. 0, or -1 with err_set. */
int smoke_log_tail(struct buf *out, const char *path, int n);

#endif
