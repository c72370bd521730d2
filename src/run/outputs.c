/*
 * outputs: list a run's outputs and bring them into a directory, safely
 * (see outputs.h).
 */
#include "run/outputs.h"

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
#include "util/progress.h"

/* outputs.sha256 is one line per file: a few MiB is a huge run. */
#define SUMS_MAX (16 << 20)

enum sum_kind {
	SUM_NONE,
	SUM_MD5,
	SUM_SHA256,
};

struct want {
	enum sum_kind kind;
	char hex[65];
};

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

int outputs_list_s3(struct outputs *out, struct aws_client *c, const char *bucket,
		    const char *run_prefix)
{
	struct s3_listed *v = NULL;
	size_t nr = 0, i;
	char md5[33];

	memset(out, 0, sizeof(*out));
	out->client = c;
	out->bucket = xstrdup(bucket);
	out->prefix = layout_run_key(run_prefix, LAYOUT_OUTPUTS);
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
	struct stat st;

	memset(out, 0, sizeof(*out));
	out->local_dir = layout_local_path(run_dir, LAYOUT_OUTPUTS);
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

	if (!o->sums_loaded) {
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

static EVP_MD_CTX *hash_new(enum sum_kind kind)
{
	EVP_MD_CTX *h;

	if (kind == SUM_NONE)
		return NULL;
	h = EVP_MD_CTX_new();
	if (!h || !EVP_DigestInit_ex(h, kind == SUM_MD5 ? EVP_md5() : EVP_sha256(), NULL))
		abort(); /* as xmalloc does when memory runs out */
	return h;
}

static void hash_end(char hex[65], EVP_MD_CTX *h)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	EVP_DigestFinal_ex(h, md, &n);
	hex_encode(hex, md, n);
	EVP_MD_CTX_free(h);
}

/* Hashes fd from where it is to its end (h may be NULL: reads only). 0, or -1 (errno). */
static int hash_fd(EVP_MD_CTX *h, int fd)
{
	char chunk[65536];
	ssize_t n;

	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (h)
			EVP_DigestUpdate(h, chunk, (size_t)n);
	return n < 0 ? -1 : 0;
}

static int hash_file(char hex[65], enum sum_kind kind, int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	EVP_MD_CTX *h;
	int r;

	if (fd < 0)
		return -1;
	h = hash_new(kind);
	r = hash_fd(h, fd);
	close(fd);
	hash_end(hex, h);
	return r;
}

/* What the file must hash to. 0, or -1 with err_set (a local source that cannot be read). */
static int want_of(struct want *w, struct outputs *o, const struct outputs_file *f)
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
		r = hash_file(w->hex, SUM_SHA256, AT_FDCWD, path);
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

/* --- writing under the destination ------------------------------------------ */

struct dest {
	int root; /* the destination directory */
	const char *dir;
};

/*
 * The directory that holds name under d, made when create (and missing),
 * never through a symbolic link: *out its fd (caller closes), *base the
 * last component (borrowed from name). 0; 1 when it does not exist (not
 * create); -1 with err_set.
 */
static int open_parent(int *out, const char **base, const struct dest *d, const char *name,
		       int create)
{
	int fd = dup(d->root), next;
	const char *p = name;
	char comp[256];

	if (fd < 0)
		return err_set("cannot open '%s': %s", d->dir, strerror(errno));
	for (;;) {
		size_t n = strcspn(p, "/");
		struct stat st;

		if (!p[n])
			break;
		memcpy(comp, p, n);
		comp[n] = '\0';
		next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT && create && !mkdirat(fd, comp, 0777))
			next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0) {
			int e = errno, link = !fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) &&
					      S_ISLNK(st.st_mode);
			int len = (int)((size_t)(p - name) + n);

			close(fd);
			if (e == ENOENT && !create)
				return 1;
			if (link)
				return err_set(
					"'%s/%.*s' is a symbolic link: not writing through it",
					d->dir, len, name);
			return err_set("cannot make directory '%s/%.*s': %s", d->dir, len, name,
				       strerror(e));
		}
		close(fd);
		fd = next;
		p += n + 1;
	}
	*out = fd;
	*base = p;
	return 0;
}

/* What a file's place under the destination holds: 0 nothing, 1 a file of st's size, -1. */
static int look(struct stat *st, int dirfd, const char *base, const struct dest *d,
		const char *name)
{
	if (fstatat(dirfd, base, st, AT_SYMLINK_NOFOLLOW))
		return errno == ENOENT
			       ? 0
			       : err_set("cannot read '%s/%s': %s", d->dir, name, strerror(errno));
	if (S_ISLNK(st->st_mode))
		return err_set("'%s/%s' is a symbolic link: not writing through it", d->dir, name);
	if (!S_ISREG(st->st_mode))
		return err_set("'%s/%s' is there and is not a file", d->dir, name);
	return 1;
}

/* 1 when the file is already there, the same; 0 when it is to be fetched; -1. */
static int already_there(struct outputs *o, const struct outputs_file *f, const struct dest *d)
{
	const char *base;
	struct stat st;
	struct want w;
	char hex[65];
	int fd, r;

	r = open_parent(&fd, &base, d, f->name, 0);
	if (r)
		return r == 1 ? 0 : -1;
	r = look(&st, fd, base, d, f->name);
	if (r == 1 && st.st_size == f->size) {
		r = want_of(&w, o, f);
		if (!r)
			r = w.kind != SUM_NONE && !hash_file(hex, w.kind, fd, base) &&
			    !strcmp(hex, w.hex);
	} else if (r == 1) {
		r = 0;
	}
	close(fd);
	return r;
}

struct fetch {
	int fd;
	EVP_MD_CTX *h;
	struct progress *meter;
	long long got;
};

static int to_part(void *ctx, const void *data, size_t len)
{
	struct fetch *x = ctx;

	if (write_all(x->fd, data, len))
		return err_set("cannot write: %s", strerror(errno));
	if (x->h)
		EVP_DigestUpdate(x->h, data, len);
	x->got += (long long)len;
	progress_add(x->meter, (long long)len);
	return 0;
}

/* The bytes of f from offset on, into x. 0, or -1 with err_set. */
static int fetch_from(struct fetch *x, struct outputs *o, const struct outputs_file *f,
		      long long offset)
{
	char *key, *path, chunk[65536];
	ssize_t n;
	int fd, r;

	if (offset >= f->size)
		return 0;
	if (!o->local_dir) {
		key = xstrfmt("%s%s", o->prefix, f->name);
		r = s3_get_object(NULL, o->client, o->bucket, key, offset, to_part, x);
		if (r == 1)
			err_set("s3://%s/%s is gone", o->bucket, key);
		free(key);
		return r ? -1 : 0;
	}
	path = xstrfmt("%s/%s", o->local_dir, f->name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	r = fd < 0 || lseek(fd, (off_t)offset, SEEK_SET) < 0 ? -1 : 0;
	while (!r && (n = read(fd, chunk, sizeof(chunk))) != 0)
		r = n < 0 ? -1 : to_part(x, chunk, (size_t)n);
	if (r && !err_msg()[0])
		err_set("cannot read '%s': %s", path, strerror(errno));
	if (fd >= 0)
		close(fd);
	free(path);
	return r;
}

/*
 * One file into <name>.part, then renamed: from the end of a .part already
 * there (started over once when the whole does not match). 0, or -1.
 */
static int fetch_file(struct outputs_stats *st, struct outputs *o, const struct outputs_file *f,
		      const struct dest *d, struct progress *meter)
{
	struct fetch x = { -1, NULL, meter, 0 };
	const char *base;
	char *part = NULL, hex[65];
	struct stat sb;
	struct want w;
	long long offset = 0;
	int dirfd = -1, ret = -1, r, attempt;

	if (open_parent(&dirfd, &base, d, f->name, 1) || look(&sb, dirfd, base, d, f->name) < 0 ||
	    want_of(&w, o, f))
		goto out;
	part = xstrfmt("%s.part", base);
	r = look(&sb, dirfd, part, d, part);
	if (r < 0)
		goto out;
	if (r == 1 && sb.st_size <= f->size)
		offset = (long long)sb.st_size;
	for (attempt = 0; attempt < 2; attempt++) {
		x.fd = openat(dirfd, part, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (x.fd < 0 || (!offset && ftruncate(x.fd, 0))) {
			err_set("cannot write '%s/%s.part': %s", d->dir, f->name, strerror(errno));
			goto out;
		}
		x.h = hash_new(w.kind);
		if (offset && (hash_fd(x.h, x.fd) || lseek(x.fd, (off_t)offset, SEEK_SET) < 0)) {
			err_set("cannot read '%s/%s.part': %s", d->dir, f->name, strerror(errno));
			goto out;
		}
		progress_add(meter, offset);
		if (fetch_from(&x, o, f, offset))
			goto out;
		if (x.h)
			hash_end(hex, x.h);
		x.h = NULL;
		close(x.fd);
		x.fd = -1;
		if (offset + x.got == f->size && (w.kind == SUM_NONE || !strcmp(hex, w.hex)))
			break;
		progress_add(meter, -(offset + x.got));
		unlinkat(dirfd, part, 0);
		if (!offset) {
			err_set("'%s' as downloaded does not match its %s (%lld of %lld bytes): "
				"removed; run the command again",
				f->name, w.kind == SUM_MD5 ? "MD5 (the ETag)" : "SHA-256",
				offset + x.got, f->size);
			goto out;
		}
		offset = 0; /* the .part was of another version: once more, from the start */
		x.got = 0;
	}
	if (renameat(dirfd, part, dirfd, base)) {
		err_set("cannot rename '%s/%s.part': %s", d->dir, f->name, strerror(errno));
		goto out;
	}
	st->fetched++;
	st->bytes += x.got;
	ret = 0;
out:
	if (x.h)
		EVP_MD_CTX_free(x.h);
	if (x.fd >= 0)
		close(x.fd);
	if (dirfd >= 0)
		close(dirfd);
	free(part);
	return ret;
}

int outputs_download(struct outputs_stats *out, struct outputs *o, const char *dir,
		     const struct ui *ui, const char *title)
{
	struct dest d = { -1, dir };
	struct progress *meter = NULL;
	char *todo = NULL;
	unsigned long long total = 0;
	size_t i;
	int ret = -1, r;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < o->nr; i++)
		if (!outputs_name_ok(o->v[i].name))
			return err_set("an output's name is not a safe file name ('%s' would be "
				       "written outside '%s', or holds a control character): "
				       "nothing downloaded",
				       o->v[i].name, dir);
	if (mkdir_p(dir, 0777))
		return -1;
	d.root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (d.root < 0)
		return err_set("cannot open '%s': %s", dir, strerror(errno));
	todo = xcalloc(o->nr ? o->nr : 1, 1);
	for (i = 0; i < o->nr; i++) {
		r = already_there(o, &o->v[i], &d);
		if (r < 0)
			goto out;
		todo[i] = !r;
		if (r)
			out->skipped++;
		else
			total += (unsigned long long)o->v[i].size;
	}
	if (total)
		meter = progress_start(ui, title, total, 0);
	for (i = 0; i < o->nr; i++)
		if (todo[i] && fetch_file(out, o, &o->v[i], &d, meter))
			goto out;
	ret = 0;
out:
	progress_stop(meter, !ret);
	free(todo);
	close(d.root);
	return ret;
}
