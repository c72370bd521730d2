#include "run/data.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#define FINGERPRINT_HEX 12

int data_check_key(const char *rel)
{
	const char *p = rel;

	if (*p == '/')
		return -1;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return -1;
	for (p = rel; *p;) {
		size_t n = strcspn(p, "/");

		/* a trailing '/' is a "directory" marker; elsewhere an empty component is not */
		if ((n == 0 && p[n]) || (n == 1 && p[0] == '.') ||
		    (n == 2 && p[0] == '.' && p[1] == '.'))
			return -1;
		p += n;
		if (*p)
			p++;
	}
	return 0;
}

/* The ETag without its quotes, borrowed into out. */
static void bare_etag(struct buf *out, const char *etag)
{
	size_t n = etag ? strlen(etag) : 0;

	if (n >= 2 && etag[0] == '"' && etag[n - 1] == '"')
		buf_add(out, etag + 1, n - 2);
	else if (n)
		buf_add(out, etag, n);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *data_fingerprint(const struct s3_listed *v, size_t nr, const char *prefix)
{
	char **lines = xcalloc(nr ? nr : 1, sizeof(*lines));
	size_t plen = strlen(prefix), i;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	for (i = 0; i < nr; i++) {
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s\t%lld\t",
			   v[i].key + (strncmp(v[i].key, prefix, plen) ? 0 : plen), v[i].size);
		bare_etag(&b, v[i].etag);
		buf_putc(&b, '\n');
		lines[i] = buf_detach(&b);
	}
	qsort(lines, nr, sizeof(*lines), cmp_str);
	if (!ctx)
		abort();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	for (i = 0; i < nr; i++) {
		EVP_DigestUpdate(ctx, lines[i], strlen(lines[i]));
		free(lines[i]);
	}
	EVP_DigestFinal_ex(ctx, md, &md_len);
	EVP_MD_CTX_free(ctx);
	free(lines);
	hex_encode(hex, md, md_len);
	hex[FINGERPRINT_HEX] = '\0';
	return xstrdup(hex);
}

/* A key for a message: control characters as '?', at most 200 bytes. */
static char *shown_key(const char *key)
{
	char *s = xstrndup(key, strnlen(key, 200)), *p;

	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = '?';
	return s;
}

int data_list(struct s3_listed **out, size_t *out_nr, struct aws_client *c, struct inputs_data *d)
{
	struct s3_listed *v = NULL;
	size_t nr = 0, i, plen = strlen(d->prefix);
	char *uri = inputs_data_uri(d);
	int ret = -1;

	if (out) {
		*out = NULL;
		*out_nr = 0;
	}
	if (s3_list_objects(&v, &nr, c, d->bucket, d->prefix)) {
		err_set("cannot list the data '%s' at %s: %s", d->name, uri, err_msg());
		goto out;
	}
	if (!nr) {
		err_set("the data '%s' at %s is empty or does not exist", d->name, uri);
		err_hint("aws s3 ls %s shows what is there; the prefix is a directory: "
			 "s3://<bucket>/<prefix>/",
			 uri);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		const char *key = v[i].key;

		if (strncmp(key, d->prefix, plen) || data_check_key(key + plen)) {
			char *shown = shown_key(key);

			err_set("refusing the data '%s' at %s: its object key '%s' would land "
				"outside the data's directory",
				d->name, uri, shown);
			free(shown);
			goto out;
		}
	}
	free(d->fingerprint);
	d->fingerprint = data_fingerprint(v, nr, d->prefix);
	if (out) {
		*out = v;
		*out_nr = nr;
		v = NULL;
		nr = 0;
	}
	ret = 0;
out:
	s3_listed_free(v, nr);
	free(uri);
	return ret;
}

char *data_cache_dir(void)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

	if (xdg && *xdg == '/')
		return xstrfmt("%s/git-train/data", xdg);
	if (!home || !*home) {
		err_set("cannot tell where the data cache goes: neither XDG_CACHE_HOME nor HOME is set");
		return NULL;
	}
	return xstrfmt("%s/.cache/git-train/data", home);
}

/* objects/<sha-256 of "etag TAB size">: nothing of the key in the name. */
static char *cache_path(const char *objects, const struct s3_listed *o)
{
	struct buf b = BUF_INIT;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int md_len = 0;
	char hex[2 * EVP_MAX_MD_SIZE + 1];

	bare_etag(&b, o->etag);
	buf_printf(&b, "\t%lld", o->size);
	EVP_Digest(b.ptr, b.len, md, &md_len, EVP_sha256(), NULL);
	buf_release(&b);
	hex_encode(hex, md, md_len);
	return xstrfmt("%s/%s", objects, hex);
}

static int to_fd(void *ctx, const void *data, size_t len)
{
	return write_all(*(int *)ctx, data, len) ? -1 : 0;
}

/* GetObject into a temporary file renamed to path once whole and of the listed size. */
static int download(struct aws_client *c, const char *bucket, const struct s3_listed *o,
		    const char *path)
{
	char *tmp = xstrfmt("%s.tmp-XXXXXX", path);
	struct stat st;
	int fd = mkstemp(tmp), r, ret = -1;

	if (fd < 0) {
		err_set("cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	r = s3_get_object(NULL, c, bucket, o->key, 0, to_fd, &fd);
	if (r == 1)
		err_set("s3://%s/%s is gone: it was removed while the data was read", bucket,
			o->key);
	if (r)
		goto out;
	if (fstat(fd, &st) || st.st_size != o->size) {
		err_set("s3://%s/%s changed while it was read (%lld bytes, not %lld)", bucket,
			o->key, (long long)st.st_size, o->size);
		goto out;
	}
	if (fchmod(fd, 0444) || close(fd)) {
		fd = -1;
		err_set("cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		err_set("cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (ret)
		unlink(tmp);
	free(tmp);
	return ret;
}

static int copy_file(const char *from, const char *to)
{
	struct buf b = BUF_INIT;
	int ret = read_file(&b, from) ? -1 : write_file_atomic(to, b.ptr, b.len, 0444);

	buf_release(&b);
	return ret;
}

/* dest/<rel>: its directories made, then a link to the cached object. */
static int place(const char *dest, const char *rel, const char *cached)
{
	char *path = xstrfmt("%s/%s", dest, rel), *slash = strrchr(path, '/');
	int ret = -1;

	*slash = '\0';
	if (mkdir_p(path, 0777))
		goto out;
	*slash = '/';
	if (!slash[1]) {
		ret = 0; /* a "directory" marker */
		goto out;
	}
	if (!link(cached, path))
		ret = 0;
	else if (errno == EXDEV || errno == EPERM || errno == EMLINK)
		ret = copy_file(cached, path);
	else
		err_set("cannot make '%s': %s", path, strerror(errno));
out:
	free(path);
	return ret;
}

int data_fetch(size_t *out_downloaded, struct aws_client *c, const struct inputs_data *d,
	       const struct s3_listed *v, size_t nr, const char *cache, const char *dest)
{
	char *objects = xstrfmt("%s/objects", cache);
	size_t plen = strlen(d->prefix), i;
	int ret = -1;

	*out_downloaded = 0;
	if (mkdir_p(objects, 0777))
		goto out;
	if (mkdir(dest, 0777)) {
		err_set("cannot create '%s': %s", dest, strerror(errno));
		goto out;
	}
	for (i = 0; i < nr; i++) {
		const char *rel = v[i].key + plen;
		char *cached;
		int r = 0;

		if (!*rel)
			continue;
		if (data_check_key(rel))
			goto out; /* data_list() refused it already */
		cached = cache_path(objects, &v[i]);
		if (rel[strlen(rel) - 1] != '/' && access(cached, F_OK)) {
			r = download(c, d->bucket, &v[i], cached);
			if (!r)
				(*out_downloaded)++;
		}
		if (!r)
			r = place(dest, rel, cached);
		free(cached);
		if (r)
			goto out;
	}
	ret = 0;
out:
	free(objects);
	return ret;
}
