/*
 * config: `git config train.*` through libgit2, with git's precedence.
 *
 * libgit2 gives system < xdg < global < local < worktree; on top of that come
 * the `git -c key=value` settings that git passes to subcommands in
 * GIT_CONFIG_PARAMETERS (and GIT_CONFIG_COUNT/KEY_n/VALUE_n), which libgit2 does
 * not read. The repository may be NULL (outside a repository: global settings).
 *
 * Getters return 0 when the key is set, 1 when it is not, -1 (err_set) when the
 * value is malformed.
 */
#ifndef GIT_CONFIG_H
#define GIT_CONFIG_H

#include <git2.h>

#include "util/strvec.h"

struct config_param {
	char *key;   /* canonical: section and name lower-cased */
	char *value; /* NULL for `-c key` without '=' (boolean true) */
};

struct config {
	git_config *snapshot; /* NULL when no file config could be read */
	struct config_param *params;
	size_t nr_params;
};

/*
 * After git_libgit2_init(): the configuration files libgit2 reads are git's,
 * with GIT_CONFIG_NOSYSTEM=1 leaving out the system file (/etc/gitconfig) as
 * git does (libgit2 itself ignores the variable).
 */
void config_init_levels(void);
int config_load(struct config *out, git_repository *repo);
void config_release(struct config *cfg);

/*
 * Parses GIT_CONFIG_PARAMETERS (both git's old 'key=value' and new
 * 'key'='value' quoting) and appends to cfg->params. 0, or -1 with err_set.
 */
int config_parse_parameters(struct config *cfg, const char *text);
/* Lower-cases section and variable name, keeps a subsection's case. Caller frees. */
char *config_canonical_key(const char *key);

/* *out is a new string the caller frees. */
int config_get_string(char **out, const struct config *cfg, const char *key);
int config_get_bool(int *out, const struct config *cfg, const char *key);
int config_parse_bool(int *out, const char *value);
/*
 * The same as config_get_string(), but an empty value counts as unset and
 * an unset key gives a copy of def (NULL when def is). 0, or -1 (err_set).
 */
int config_get_string_or(char **out, const struct config *cfg, const char *key, const char *def);

/*
 * Every value of a multi-valued key, as `git config --get-all` gives them:
 * the files' from the lowest level to the highest (system, global, local,
 * worktree), each file's in its order, then the `git -c` ones; `-c key`
 * without '=' gives "". For settings keyed by arbitrary names, which are
 * `name=value` entries (`git config --add train.env KEY=VALUE`): config
 * names allow no '_' and ignore case. Appends to out. 0 when the key has a
 * value, 1 when it has none, -1 with err_set.
 */
int config_get_all(struct strvec *out, const struct config *cfg, const char *key);

#endif
