/*
 * filter: the smudge side of git's filter drivers, as `git archive` and a
 * checkout run them: `filter.<driver>.process` (the long-running process
 * protocol, version 2, capability smudge: one process per command for the
 * whole archive; Git LFS configures `git-lfs filter-process`), else
 * `filter.<driver>.smudge` (a shell command per file, %f its path quoted),
 * with `filter.<driver>.required`. Settings come from the repository's
 * config (git/config.h).
 *
 * Filters run with sh -c, in the work tree's top directory (the git
 * directory of a bare repository), their stderr the caller's. Their input is
 * written through a socket with MSG_NOSIGNAL, so a filter that exits early
 * never raises SIGPIPE in the archiver. Their output goes to a spool
 * (spool.h): any size, bounded memory. One thread only.
 */
#ifndef ARCHIVE_FILTER_H
#define ARCHIVE_FILTER_H

#include <git2.h>
#include <stddef.h>
#include <sys/types.h>

#include "archive/spool.h"
#include "git/config.h"

struct filter_driver {
	char *name;
	char *smudge;  /* NULL when unset or empty */
	char *process; /* NULL when unset or empty; wins over smudge */
	int required;
	/* the long-running process, once started */
	pid_t pid;
	int in, out;
	int smudges; /* it said capability=smudge */
	int broken;  /* it failed or aborted: not asked again, as git does */
	int checked; /* filter_check() passed */
};

struct filters {
	const struct config *cfg; /* borrowed */
	char *dir;		  /* where filters run */
	const char *treeish;	  /* hex of the archived commit, for process filters */
	struct filter_driver **drivers;
	size_t nr, alloc;
};

void filters_init(struct filters *f, git_repository *repo, const struct config *cfg,
		  const char *treeish);
/* Stops the processes still running and frees everything. */
void filters_release(struct filters *f);

/*
 * The driver an attribute `filter=<name>` names, with its settings; a
 * driver with neither command set still counts (it may be required).
 * 0, or -1 with err_set (a malformed `required`).
 */
int filters_get(struct filter_driver **out, struct filters *f, const char *name);

/*
 * Runs d's smudge on data (path's blob id, whose content after the other
 * conversions it is), into out. 0 when filtered; 1 when not (no command, or
 * it failed: out is then empty, and the caller keeps data as it is unless
 * d is required); -1 with err_set when out cannot be written.
 */
int filter_smudge(struct spool *out, struct filters *f, struct filter_driver *d, const char *path,
		  const git_oid *blob, const void *data, size_t len);

/*
 * Whether a driver's command can run here. Only Git LFS's is known: when d
 * is "lfs" and its command calls git-lfs, git-lfs must be on PATH. 0, or -1
 * with err_set naming path and saying how to install it.
 */
int filter_check(struct filter_driver *d, const char *path);

#endif
