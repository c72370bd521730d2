/*
 * subst: `export-subst`, the `$Format:<pretty format>$` placeholders that
 * `git archive` expands in files carrying that attribute, with the commit
 * being archived. Placeholders git knows but this does not (and unknown ones)
 * are copied through as git copies unknown ones: "%" and what follows.
 */
#ifndef ARCHIVE_SUBST_H
#define ARCHIVE_SUBST_H

#include <git2.h>
#include <stddef.h>

#include "util/util.h"

/* Appends data with every $Format:...$ expanded to out. 0, or -1 with err_set. */
int subst_expand(struct buf *out, git_repository *repo, git_commit *commit, const char *data,
		 size_t len);

/* Appends one pretty format (the part between "$Format:" and "$") to out. */
int subst_format(struct buf *out, git_repository *repo, git_commit *commit, const char *fmt);

#endif
