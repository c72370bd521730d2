/*
 * outputs-fetch: the outputs written under their directory, each file once
 * (see outputs.h): never through a symbolic link, into a .part first,
 * resumed, checked.
 */
#include "run/outputs-internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "services/s3-objects.h"
#include "util/progress.h"

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
		r = outputs_want(&w, o, f);
		if (!r)
			r = w.kind != SUM_NONE && !outputs_hash_file(hex, w.kind, fd, base) &&
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
	char *part = NULL, *part_name = NULL, hex[65];
	struct stat sb;
	struct want w;
	long long offset = 0;
	int dirfd = -1, ret = -1, r, attempt;

	if (open_parent(&dirfd, &base, d, f->name, 1) || look(&sb, dirfd, base, d, f->name) < 0 ||
	    outputs_want(&w, o, f))
		goto out;
	part = xstrfmt("%s.part", base);
	part_name = xstrfmt("%s.part", f->name);
	r = look(&sb, dirfd, part, d, part_name);
	if (r < 0)
		goto out;
	if (r == 1 && sb.st_size <= f->size)
		offset = (long long)sb.st_size;
	for (attempt = 0; attempt < 2; attempt++) {
		x.fd = openat(dirfd, part, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (x.fd < 0 || (!offset && ftruncate(x.fd, 0))) {
			err_set("cannot write '%s/%s': %s", d->dir, part_name, strerror(errno));
			goto out;
		}
		x.h = outputs_hash_new(w.kind);
		if (offset &&
		    (outputs_hash_fd(x.h, x.fd) || lseek(x.fd, (off_t)offset, SEEK_SET) < 0)) {
			err_set("cannot read '%s/%s': %s", d->dir, part_name, strerror(errno));
			goto out;
		}
		progress_add(meter, offset);
		if (fetch_from(&x, o, f, offset))
			goto out;
		if (x.h)
			outputs_hash_end(hex, x.h);
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
		err_set("cannot rename '%s/%s': %s", d->dir, part_name, strerror(errno));
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
	free(part_name);
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
