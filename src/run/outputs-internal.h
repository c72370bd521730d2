/*
 * outputs-internal: what outputs.c (the list, the checksums) and
 * outputs-fetch.c (the writing) share. See outputs.h.
 */
#ifndef RUN_OUTPUTS_INTERNAL_H
#define RUN_OUTPUTS_INTERNAL_H

#include <openssl/evp.h>

#include "run/outputs.h"

enum sum_kind {
	SUM_NONE,
	SUM_MD5,
	SUM_SHA256,
};

/* What a file must hash to. */
struct want {
	enum sum_kind kind;
	char hex[65];
};

/* A digest of kind (NULL for SUM_NONE), and its end: hex, the context freed. */
EVP_MD_CTX *outputs_hash_new(enum sum_kind kind);
void outputs_hash_end(char hex[65], EVP_MD_CTX *h);
/* Hashes fd from where it is to its end (h may be NULL: reads only). 0, or -1 (errno). */
int outputs_hash_fd(EVP_MD_CTX *h, int fd);
/* The hex digest of name in dirfd (not followed if a link). 0, or -1 (errno). */
int outputs_hash_file(char hex[65], enum sum_kind kind, int dirfd, const char *name);
/*
 * What f must hash to: its ETag's MD5, the runner's SHA-256 (outputs.sha256,
 * read once), a local source's own SHA-256, or nothing. 0, or -1 with err_set.
 */
int outputs_want(struct want *w, struct outputs *o, const struct outputs_file *f);

#endif
