/*
 * clone-id: this clone's own secret and the seals made with it.
 *
 * The secret is train.cloneId in the repository's own config (.git/config):
 * 32 random bytes as 64 hex digits, made by `git train init` or, lazily, by
 * the first seal. Config is never pushed or fetched, so notes pulled from a
 * shared remote cannot know it. A seal of a text is the HMAC-SHA256 of the
 * text under the secret, cut to 16 bytes (32 hex digits): a note line whose
 * seal checks was written by this clone (or by one sharing its config), and
 * a line copied to another text (another tree, run or status) does not check.
 */
#ifndef GIT_CLONE_ID_H
#define GIT_CLONE_ID_H

#include <git2.h>

#define CLONE_ID_KEY "train.cloneId"

/*
 * This clone's secret. With create, one is made and written to the local
 * config when there is none. 0 with *out (caller frees), 1 when there is
 * none (only without create), -1 with err_set.
 */
int clone_id_get(char **out, git_repository *repo, int create);

/* The seal of text, making the secret when there is none. 0 with *out (caller frees), -1. */
int clone_id_seal(char **out, git_repository *repo, const char *text);

/* 1 when seal is text's seal under this clone's secret, else 0 (also without a secret). */
int clone_id_check(git_repository *repo, const char *text, const char *seal);

#endif
