/*
 * convert: what `git archive` (and a checkout) does to a file's content on
 * its way out of the repository, git's convert_to_working_tree(): `ident`
 * ($Id$ gets the blob id), the end-of-line conversion (`text`, `eol`, the
 * old `crlf`, with core.autocrlf and core.eol), `working-tree-encoding`
 * (from UTF-8, by iconv) and the smudge of a filter driver (filter.h), in
 * git's order, with git's rules. Attributes come from the archived tree
 * (attrs.h); settings from the repository's config.
 *
 * Conversions other than the filter work on the whole content in memory,
 * as git's do; the filter's output, of any size, goes to a spool file.
 */
#ifndef ARCHIVE_CONVERT_H
#define ARCHIVE_CONVERT_H

#include <git2.h>
#include <stdint.h>

#include "archive/attrs.h"
#include "archive/filter.h"
#include "archive/spool.h"

enum convert_crlf {
	CONVERT_CRLF_UNDEFINED,
	CONVERT_CRLF_BINARY,
	CONVERT_CRLF_TEXT,
	CONVERT_CRLF_TEXT_INPUT,
	CONVERT_CRLF_TEXT_CRLF,
	CONVERT_CRLF_AUTO,
	CONVERT_CRLF_AUTO_INPUT,
	CONVERT_CRLF_AUTO_CRLF
};

struct convert {
	struct config cfg;
	int autocrlf; /* 0 false, 1 true, 2 input */
	int eol_crlf; /* core.eol=crlf */
	uint64_t big_file_threshold;
	struct filters filters;
	char **encodings; /* the plans' encodings, each once */
	size_t nr_encodings;
};

/* What to do to one file. */
struct convert_plan {
	unsigned char crlf; /* enum convert_crlf, as decided */
	unsigned char ident;
	struct filter_driver *driver; /* NULL: none that does anything */
	const char *encoding;	      /* NULL: none; owned by struct convert */
};

/* Settings from repo; treeish is the archived commit's hex id (kept). 0, or -1 with err_set. */
int convert_init(struct convert *c, git_repository *repo, const char *treeish);
void convert_release(struct convert *c);

/*
 * The marks (attrs.h) of the attributes that can change a file under these
 * settings: attrs_archive_marks, and where `text` alone converts
 * (core.autocrlf=true, core.eol=crlf) also "text", "eol" and "binary" (the
 * built-in macro that unsets text). Where none is mentioned, every
 * attribute is unspecified and the plan follows from the settings alone.
 */
const char *const *convert_marks(const struct convert *c);

/*
 * The plan for path from its attributes. 0 and plan->... set (a plan that
 * does nothing when convert_plan_empty()); -1 with err_set when the
 * attributes or settings are unusable (working-tree-encoding=true, a
 * required driver with no command, Git LFS missing: see filter_check()).
 */
int convert_plan(struct convert_plan *out, struct convert *c, const struct attrs_values *v,
		 const char *path);
int convert_plan_empty(const struct convert_plan *p);

/*
 * Applies plan to data (the blob id's content) into out. 0, or -1 with
 * err_set (a required filter failed: the message names path and driver).
 */
int convert_apply(struct spool *out, struct convert *c, const struct convert_plan *plan,
		  const char *path, const git_oid *id, const char *data, size_t len);

#endif
