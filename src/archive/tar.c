#include "archive/tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

#define BLOCK	       512
#define RECORD	       (20 * BLOCK)
#define USTAR_MAX_SIZE 077777777777ULL

struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8];
	char typeflag[1], linkname[100], magic[6], version[2], uname[32], gname[32];
	char devmajor[8], devminor[8], prefix[155], pad[12];
};

void tar_init(struct tar *t, tar_out_fn out, void *ctx, time_t mtime)
{
	memset(t, 0, sizeof(*t));
	t->out = out;
	t->ctx = ctx;
	t->mtime = mtime;
	t->buffer = xmalloc(TAR_BUFFER);
}

void tar_release(struct tar *t)
{
	free(t->buffer);
	t->buffer = NULL;
}

static int flush(struct tar *t)
{
	size_t n = t->used;

	t->used = 0;
	return n ? t->out(t->ctx, t->buffer, n) : 0;
}

int tar_data(struct tar *t, const void *data, size_t len)
{
	const char *p = data;

	t->offset += len;
	while (len) {
		size_t n;

		/* big pieces skip the copy */
		if (!t->used && len >= TAR_BUFFER)
			return t->out(t->ctx, p, len);
		n = TAR_BUFFER - t->used < len ? TAR_BUFFER - t->used : len;
		memcpy(t->buffer + t->used, p, n);
		t->used += n;
		p += n;
		len -= n;
		if (t->used == TAR_BUFFER && flush(t))
			return -1;
	}
	return 0;
}

static int zeros(struct tar *t, size_t n)
{
	static const char zero[BLOCK];

	while (n) {
		size_t k = n < BLOCK ? n : BLOCK;

		if (tar_data(t, zero, k))
			return -1;
		n -= k;
	}
	return 0;
}

int tar_end_data(struct tar *t)
{
	return zeros(t, (BLOCK - t->offset % BLOCK) % BLOCK);
}

static void octal(char *field, size_t size, uint64_t v)
{
	snprintf(field, size, "%0*llo", (int)size - 1, (unsigned long long)v);
}

static int put_ustar(struct tar *t, struct ustar *h, char type, unsigned mode, uint64_t size)
{
	const unsigned char *p = (const unsigned char *)h;
	unsigned sum = 0;
	size_t i;

	octal(h->mode, sizeof(h->mode), mode & 07777);
	octal(h->size, sizeof(h->size), size);
	octal(h->mtime, sizeof(h->mtime), (uint64_t)t->mtime);
	octal(h->uid, sizeof(h->uid), 0);
	octal(h->gid, sizeof(h->gid), 0);
	h->typeflag[0] = type;
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
	strcpy(h->uname, "root");
	strcpy(h->gname, "root");
	octal(h->devmajor, sizeof(h->devmajor), 0);
	octal(h->devminor, sizeof(h->devminor), 0);
	memset(h->chksum, ' ', sizeof(h->chksum));
	for (i = 0; i < sizeof(*h); i++)
		sum += p[i];
	snprintf(h->chksum, sizeof(h->chksum), "%07o", sum);
	return tar_data(t, h, sizeof(*h));
}

/* A pax record: "<length> <key>=<value>\n", the length counting its own digits. */
static void pax_record(struct buf *b, const char *key, const char *value, size_t len)
{
	size_t n = strlen(key) + len + 4, scale;

	for (scale = 1; n / 10 >= scale; scale *= 10)
		n++;
	buf_printf(b, "%zu %s=", n, key);
	buf_add(b, value, len);
	buf_putc(b, '\n');
}

static int put_pax(struct tar *t, char type, const char *name, struct buf *records)
{
	struct ustar h;

	memset(&h, 0, sizeof(h));
	snprintf(h.name, sizeof(h.name), "%s", name);
	if (put_ustar(t, &h, type, 0666, records->len) || tar_data(t, records->ptr, records->len))
		return -1;
	return tar_end_data(t);
}

int tar_global_header(struct tar *t, const git_oid *commit)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct buf rec = BUF_INIT;
	int r;

	git_oid_tostr(hex, sizeof(hex), commit);
	pax_record(&rec, "comment", hex, strlen(hex));
	r = put_pax(t, 'g', "pax_global_header", &rec);
	buf_release(&rec);
	return r;
}

/* Where git splits a long path into ustar's prefix and name: the last '/' that fits. */
static size_t path_prefix(const char *path, size_t len)
{
	size_t i = len;

	if (i > 1 && path[i - 1] == '/')
		i--;
	if (i > sizeof(((struct ustar *)0)->prefix))
		i = sizeof(((struct ustar *)0)->prefix);
	do {
		i--;
	} while (i > 0 && path[i] != '/');
	return i;
}

int tar_header(struct tar *t, enum tar_type type, const char *path, unsigned mode, uint64_t size,
	       const char *link, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	struct buf rec = BUF_INIT;
	struct ustar h;
	size_t len = strlen(path), plen;
	int r = 0;

	memset(&h, 0, sizeof(h));
	git_oid_tostr(hex, sizeof(hex), id);
	if (len <= sizeof(h.name)) {
		memcpy(h.name, path, len);
	} else if ((plen = path_prefix(path, len)) > 0 && len - plen - 1 <= sizeof(h.name)) {
		memcpy(h.prefix, path, plen);
		memcpy(h.name, path + plen + 1, len - plen - 1);
	} else {
		snprintf(h.name, sizeof(h.name), "%s.data", hex);
		pax_record(&rec, "path", path, len);
	}
	if (link && strlen(link) > sizeof(h.linkname)) {
		snprintf(h.linkname, sizeof(h.linkname), "see %s.paxheader", hex);
		pax_record(&rec, "linkpath", link, strlen(link));
	} else if (link) {
		memcpy(h.linkname, link, strlen(link));
	}
	if (type != TAR_FILE) {
		size = 0;
	} else if (size > USTAR_MAX_SIZE) {
		char n[32];

		snprintf(n, sizeof(n), "%llu", (unsigned long long)size);
		pax_record(&rec, "size", n, strlen(n));
		size = 0;
	}
	if (rec.len) {
		char *name = xstrfmt("%s.paxheader", hex);

		r = put_pax(t, 'x', name, &rec);
		free(name);
	}
	buf_release(&rec);
	return r ? r : put_ustar(t, &h, (char)type, mode, size);
}

int tar_finish(struct tar *t)
{
	/* at least two zero blocks, then up to the end of the record */
	size_t tail = RECORD - t->offset % RECORD;

	if (tail < 2 * BLOCK)
		tail += RECORD;
	if (zeros(t, tail))
		return -1;
	return flush(t);
}
