/*
 * outputs: a run's outputs listed, and what each must hash to (see
 * outputs.h); writing them is outputs-fetch.c's.
 */
#include "run/outputs-internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "run/layout.h"
#include "services/s3-objects.h"

/* outputs.sha256 is one line per file: a few MiB is a huge run. */
#define SUMS_MAX (16 << 20)

int outputs_name_ok(const char *name)
{
	const char *p = name;

	if (!*name || *name == '/' || strlen(name) > 4096)
		return 0;
	for (; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	for (p = name; *p;) {
		size_t n = strcspn(p, "/");

		if (!n || n > 255 || (n == 1 && p[0] == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return 0;
		p += n;
		if (*p == '/' && !*++p)
			return 0; /* a trailing '/' */
	}
	return 1;
}

static void add_file(struct outputs *o, const char *name, long long size, const char *md5)
{
	struct outputs_file *f;

	o->v = xrealloc(o->v, (o->nr + 1) * sizeof(*o->v));
	f = &o->v[o->nr++];
	f->name = xstrdup(name);
	f->size = size;
	f->md5 = md5 ? xstrdup(md5) : NULL;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct outputs_file *)a)->name,
		      ((const struct outputs_file *)b)->name);
}

/* An ETag that is an MD5 ("<32 hex>", quoted): its hex, else NULL. Borrowed in tmp. */
static const char *etag_md5(char tmp[33], const char *etag)
{
	size_t n, i;

	if (!etag)
		return NULL;
	if (*etag == '"')
		etag++;
	n = strcspn(etag, "\"");
	if (n != 32)
		return NULL;
	for (i = 0; i < 32; i++) {
		char c = etag[i];

		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return NULL;
		tmp[i] = (char)(c >= 'A' && c <= 'F' ? c - 'A' + 'a' : c);
	}
	tmp[32] = '\0';
	return tmp;
}

int outputs_list_s3_item(struct outputs *out, struct aws_client *c, const char *bucket,
			 const char *run_prefix, enum layout_item item)
{
	struct s3_listed *v = NULL;
	size_t nr = 0, i;
	char md5[33];

	memset(out, 0, sizeof(*out));
	out->client = c;
	out->bucket = xstrdup(bucket);
	out->prefix = layout_run_key(run_prefix, item);
	/* only the outputs have the runner's sums */
	if (item == LAYOUT_OUTPUTS)
		out->sums_key = layout_run_key(run_prefix, LAYOUT_OUTPUTS_SUMS);
	if (s3_list_objects(&v, &nr, c, bucket, out->prefix))
		return -1;
	for (i = 0; i < nr; i++) {
		const char *name = v[i].key + strlen(out->prefix);
		size_t n = strlen(name);

		/* a "folder" the console made: nothing to write */
		if (strncmp(v[i].key, out->prefix, strlen(out->prefix)) || !n || name[n - 1] == '/')
			continue;
		add_file(out, name, v[i].size, etag_md5(md5, v[i].etag));
	}
	s3_listed_free(v, nr);
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), by_name);
	return 0;
}

int outputs_list_s3(struct outputs *out, struct aws_client *c, const char *bucket,
		    const char *run_prefix)
{
	return outputs_list_s3_item(out, c, bucket, run_prefix, LAYOUT_OUTPUTS);
}

static int walk(struct outputs *o, const char *root, const char *rel)
{
	char *path = *rel ? xstrfmt("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(path);
	struct dirent *de;
	int ret = 0;

	if (!d) {
		ret = err_set("cannot read '%s': %s", path, strerror(errno));
		free(path);
		return ret;
	}
	while (!ret && (de = readdir(d))) {
		char *name, *full;
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		name = *rel ? xstrfmt("%s/%s", rel, de->d_name) : xstrdup(de->d_name);
		full = xstrfmt("%s/%s", root, name);
		if (lstat(full, &st))
			ret = err_set("cannot read '%s': %s", full, strerror(errno));
		else if (S_ISDIR(st.st_mode))
			ret = walk(o, root, name);
		else if (S_ISREG(st.st_mode))
			add_file(o, name, (long long)st.st_size, NULL);
		else {
			o->skipped = xrealloc(o->skipped, (o->nr_skipped + 1) * sizeof(char *));
			o->skipped[o->nr_skipped++] = xstrdup(name);
		}
		free(full);
		free(name);
	}
	closedir(d);
	free(path);
	return ret;
}

int outputs_list_local(struct outputs *out, const char *run_dir)
{
	return outputs_list_local_item(out, run_dir, LAYOUT_OUTPUTS);
}

int outputs_list_local_item(struct outputs *out, const char *run_dir, enum layout_item item)
{
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->local_dir = layout_local_path(run_dir, item);
	if (lstat(out->local_dir, &st))
		return errno == ENOENT
			       ? 0
			       : err_set("cannot read '%s': %s", out->local_dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (walk(out, out->local_dir, ""))
		return -1;
	if (out->nr)
		qsort(out->v, out->nr, sizeof(*out->v), by_name);
	return 0;
}

void outputs_release(struct outputs *o)
{
	size_t i;

	for (i = 0; i < o->nr; i++) {
		free(o->v[i].name);
		free(o->v[i].md5);
	}
	for (i = 0; i < o->nr_sums; i++) {
		free(o->sum_names[i]);
		free(o->sums[i]);
	}
	for (i = 0; i < o->nr_skipped; i++)
		free(o->skipped[i]);
	free(o->skipped);
	free(o->sum_names);
	free(o->sums);
	free(o->v);
	free(o->local_dir);
	free(o->bucket);
	free(o->prefix);
	free(o->sums_key);
	memset(o, 0, sizeof(*o));
}

/* --- outputs.sha256 --------------------------------------------------------- */

static int capped(void *ctx, const void *data, size_t len)
{
	struct buf *b = ctx;

	if (b->len + len > SUMS_MAX)
		return err_set("outputs.sha256 is larger than %d MiB", SUMS_MAX >> 20);
	buf_add(b, data, len);
	return 0;
}

/* sha256sum's name: "\\" starts one with "\\n" and "\\\\" escaped. */
static char *unescape(const char *s, size_t n, int escaped)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < n; i++) {
		if (escaped && s[i] == '\\' && i + 1 < n) {
			i++;
			buf_putc(&b, s[i] == 'n' ? '\n' : s[i]);
		} else {
			buf_putc(&b, s[i]);
		}
	}
	return buf_detach(&b);
}

static void parse_sums(struct outputs *o, const char *text)
{
	const char *p = text;

	while (*p) {
		size_t n = strcspn(p, "\n"), i;
		int escaped = *p == '\\';
		const char *l = p + escaped;
		char *name;

		p += n + (p[n] == '\n');
		n -= (size_t)escaped;
		if (n < 67)
			continue;
		for (i = 0; i < 64 && strchr("0123456789abcdef", l[i]) && l[i]; i++)
			;
		if (i != 64 || l[64] != ' ' || (l[65] != ' ' && l[65] != '*'))
			continue;
		name = unescape(l + 66, n - 66, escaped);
		o->sum_names = xrealloc(o->sum_names, (o->nr_sums + 1) * sizeof(char *));
		o->sums = xrealloc(o->sums, (o->nr_sums + 1) * sizeof(char *));
		o->sum_names[o->nr_sums] = xstrdup(skip_prefix(name, "./", NULL) ? name + 2 : name);
		o->sums[o->nr_sums++] = xstrndup(l, 64);
		free(name);
	}
}

/* The runner's SHA-256 of name, NULL when it wrote none. */
static const char *runner_sum(struct outputs *o, const char *name)
{
	struct buf b = BUF_INIT;
	size_t i;

	if (!o->sums_loaded && o->sums_key) {
		o->sums_loaded = 1;
		if (s3_get_object(NULL, o->client, o->bucket, o->sums_key, 0, capped, &b) == 0)
			parse_sums(o, buf_cstr(&b));
		err_clear(); /* without it, files are fetched again: no failure */
		buf_release(&b);
	}
	for (i = o->nr_sums; i-- > 0;)
		if (!strcmp(o->sum_names[i], name))
			return o->sums[i];
	return NULL;
}

/* --- checksums -------------------------------------------------------------- */

EVP_MD_CTX *outputs_hash_new(enum sum_kind kind)
{
	EVP_MD_CTX *h;

	if (kind == SUM_NONE)
		return NULL;
	h = EVP_MD_CTX_new();
	if (!h || !EVP_DigestInit_ex(h, kind == SUM_MD5 ? EVP_md5() : EVP_sha256(), NULL))
		abort(); /* as xmalloc does when memory runs out */
	return h;
}

void outputs_hash_end(char hex[65], EVP_MD_CTX *h)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!h) {
		hex[0] = '\0';
		return;
	}
	EVP_DigestFinal_ex(h, md, &n);
	hex_encode(hex, md, n);
	EVP_MD_CTX_free(h);
}

/* Hashes fd from where it is to its end (h may be NULL: reads only). 0, or -1 (errno). */
int outputs_hash_fd(EVP_MD_CTX *h, int fd)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (h)
			EVP_DigestUpdate(h, chunk, (size_t)n);
	return n < 0 ? -1 : 0;
}

int outputs_hash_file(char hex[65], enum sum_kind kind, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	EVP_MD_CTX *h;
	int r;

	if (fd < 0)
		return -1;
	h = outputs_hash_new(kind);
	r = outputs_hash_fd(h, fd);
	close(fd);
	outputs_hash_end(hex, h);
	return r;
}

/* What the file must hash to. 0, or -1 with err_set (a local source that cannot be read). */
int outputs_want(struct want *w, struct outputs *o, const struct outputs_file *f)
{
	const char *sum;
	char *path;
	int r;

	memset(w, 0, sizeof(*w));
	if (f->md5) {
		w->kind = SUM_MD5;
		strcpy(w->hex, f->md5);
	} else if (o->local_dir) {
		w->kind = SUM_SHA256;
		path = xstrfmt("%s/%s", o->local_dir, f->name);
		r = outputs_hash_file(w->hex, SUM_SHA256, AT_FDCWD, path);
		if (r)
			err_set("cannot read '%s': %s", path, strerror(errno));
		free(path);
		return r;
	} else if ((sum = runner_sum(o, f->name))) {
		w->kind = SUM_SHA256;
		strcpy(w->hex, sum);
	}
	return 0;
}
