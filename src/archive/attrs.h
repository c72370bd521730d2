/*
 * attrs: the attributes `git archive` reads for each path of an archived
 * tree (export-ignore, export-subst and those of convert.h: text, eol, crlf,
 * ident, filter, working-tree-encoding), read as it reads them: from the archived commit's
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
 * outside the tree, so elsewhere the answer is known without asking: none
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

/* One path's attributes: libgit2's values (GIT_ATTR_IS_TRUE() ...), valid until the next call. */
struct attrs_values {
	int ignore, subst; /* export-ignore, export-subst */
	const char *text, *eol, *crlf, *ident, *filter, *encoding;
};

struct attrs {
	git_repository *repo; /* borrowed; its index must be empty */
	git_attr_options opts;
	const char *const *marks; /* NULL-terminated */
	int outside;		  /* a file outside the tree mentions a mark */
	/* per directory entered: it or a parent's .gitattributes mentions it */
	unsigned char *mentioned;
	size_t depth, alloc;
};

/*
 * Attributes from commit's tree in repo, asked only where a mark is
 * mentioned (marks: NULL-terminated, kept; NULL: everywhere).
 * 0, or -1 with err_set.
 */
int attrs_init(struct attrs *a, git_repository *repo, const git_oid *commit,
	       const char *const *marks);
/* The marks of the archive (see above). */
extern const char *const attrs_archive_marks[];
/*
 * Enters a directory whose tree is tree (the root first). path names it in
 * messages. 0, or -1 with err_set.
 */
int attrs_enter(struct attrs *a, git_tree *tree, const char *path);
void attrs_leave(struct attrs *a);
/*
 * The attributes of path (relative to the root; a directory ends in '/'),
 * which lies in the innermost directory entered; all unspecified where no
 * mark is mentioned. 0, or -1 with err_set.
 */
int attrs_get(struct attrs_values *out, struct attrs *a, const char *path);
void attrs_release(struct attrs *a);

#endif
