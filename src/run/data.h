/*
 * data: the S3 data sources of a run (train.data, inputs.h): their
 * fingerprint, and for local runs their download through a cache.
 *
 * The fingerprint names the exact data a run saw, as the commit names its
 * code: the first 12 hex digits of the SHA-256 of the listing's lines
 *
 *     <key relative to the prefix> TAB <size> TAB <ETag without its quotes> LF
 *
 * sorted bytewise (LC_ALL=C sort). The runner computes the same from the
 * AWS CLI's listing (runner.sh), so that data changed between the launch
 * and the run is seen.
 *
 * Object keys are untrusted: a key whose part after the prefix starts with
 * '/', holds an empty, "." or ".." component or a control character is
 * refused, and nothing is ever written outside a source's directory.
 *
 * Local runs keep the objects in a cache keyed by their ETag and size,
 * ${XDG_CACHE_HOME:-$HOME/.cache}/git-train/data/objects/<sha-256>, made
 * read-only, and give the run a directory of hard links to them (copies
 * where links cannot be made): an object already there is not downloaded
 * again.
 */
#ifndef RUN_DATA_H
#define RUN_DATA_H

#include <stddef.h>

#include "aws/client.h"
#include "git/inputs.h"
#include "services/s3-objects.h"

/* Whether the part of a key after the prefix is safe to write under a directory (0, else -1). */
int data_check_key(const char *rel);

/* The fingerprint of a listing under prefix (caller frees). */
char *data_fingerprint(const struct s3_listed *v, size_t nr, const char *prefix);

/*
 * Lists source d with c: fails (err_set, naming the source) when it cannot
 * be listed, is empty or holds a key data_check_key() refuses; else sets
 * d->fingerprint and, when out is not NULL, gives the listing (caller frees
 * with s3_listed_free). 0 or -1.
 */
int data_list(struct s3_listed **out, size_t *out_nr, struct aws_client *c, struct inputs_data *d);

/* ${XDG_CACHE_HOME:-$HOME/.cache}/git-train/data (caller frees); NULL with err_set without HOME. */
char *data_cache_dir(void);

/*
 * Makes dest (which must not exist) hold the listed objects of d at their
 * relative keys, downloading into cache what it lacks. *out_downloaded
 * counts the objects downloaded. 0, or -1 with err_set.
 */
int data_fetch(size_t *out_downloaded, struct aws_client *c, const struct inputs_data *d,
	       const struct s3_listed *v, size_t nr, const char *cache, const char *dest);

#endif
