/*
 * attrs: the export-ignore and export-subst attributes of each path of an
 * archived tree, read as `git archive` reads them: from the archived commit's
 * .gitattributes files, $GIT_DIR/info/attributes, core.attributesFile (or
 * the XDG file) and the system file, never the work tree or the index.
 *
 * libgit2 answers each path by walking up its directories and checking every
 * attribute file again (stat of the files on disk, lookups in the commit's
 * tree, a hash of their contents): on a tree of 15k files that was half of
 * the archiver's own time. Most trees mention neither attribute anywhere, so
 * the question is asked only where some attribute file that applies to the
 * directory (its own .gitattributes, its parents', or one outside the tree)
 * mentions "export-" at all, in any case. An attribute name is a literal
 * token, and macros come only from the root .gitattributes and the files
 * outside the tree, so elsewhere the answer is known without asking: neither
 * is set. Where it is asked, libgit2 answers exactly as before.
 *
 * The walk tells it where it is: attrs_enter() on entering a directory,
 * attrs_leave() on leaving it; attrs_get() answers for a path in the
 * innermost directory entered. One thread only.
 */
#ifndef ARCHIVE_ATTRS_H
#define ARCHIVE_ATTRS_H

#include <git2.h>
#include <stddef.h>

struct attrs {
	git_repository *repo; /* borrowed; its index must be empty */
	git_attr_options opts;
	int outside; /* a file outside the tree mentions "export-" */
	/* per directory entered: it or a parent's .gitattributes mentions it */
	unsigned char *mentioned;
	size_t depth, alloc;
};

/* Attributes from commit's tree in repo. 0, or -1 with err_set. */
int attrs_init(struct attrs *a, git_repository *repo, const git_oid *commit);
/*
 * Enters a directory whose tree is tree (the root first). path names it in
 * messages. 0, or -1 with err_set.
 */
int attrs_enter(struct attrs *a, git_tree *tree, const char *path);
void attrs_leave(struct attrs *a);
/*
 * Whether export-ignore and export-subst are set for path (relative to the
 * root; a directory ends in '/'), which lies in the innermost directory
 * entered. 0, or -1 with err_set.
 */
int attrs_get(int *out_ignore, int *out_subst, struct attrs *a, const char *path);
void attrs_release(struct attrs *a);

#endif
