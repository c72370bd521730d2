/*
 * s3-upload: the streaming uploader (see s3-upload.h).
 *
 * Threads: the producer's sink (archive_commit's writer thread) fills one
 * part at a time and queues it; S3_UPLOAD_JOBS workers send queued parts through
 * the one aws_client, each on a warm connection of its own (see http.h).
 * The main thread only starts, finishes and aborts.
 * Everyone waits with a timeout, so a cancel flag set by a signal handler
 * is seen within a tenth of a second even by a thread with nothing to do.
 */
#include "services/s3-upload.h"

#include <errno.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "services/s3.h"
#include "util/progress.h"

struct uploader;

struct part {
	struct uploader *up;
	char *data;
	size_t len, pos; /* pos: bytes handed to the HTTP layer in this attempt */
	int number;
};

struct worker {
	struct uploader *up;
	pthread_t thread;
	int started;
};

struct uploader {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct aws_client *c;
	const char *bucket, *key, *name;
	const struct aws_header *meta;
	size_t nr_meta;
	const struct s3_upload_opts *opts;
	size_t part_size;
	int jobs;

	/* under lock */
	struct part **spare, **queue;
	int nr_spare, nr_queued, nr_buffers, max_buffers;
	int producing_done;
	int stop;    /* a failure or a cancel: everyone winds down */
	char *error; /* the first failure */
	struct s3_part *parts;
	unsigned char (*digests)[SHA256_DIGEST_LENGTH]; /* the parts' SHA-256, for the checksum */
	size_t nr_parts;

	/* the sink's, then the main thread's */
	EVP_MD_CTX *whole; /* the SHA-256 of all the bytes so far */
	struct part *filling;
	char *upload_id;
	uint64_t bytes;
	struct worker *workers;
	struct progress *progress;
};

static int cancelled(const struct uploader *up)
{
	return up->opts->cancel && *up->opts->cancel;
}

/* With the lock held. */
static void fail_locked(struct uploader *up, const char *msg)
{
	if (!up->error)
		up->error = xstrdup(msg);
	up->stop = 1;
	pthread_cond_broadcast(&up->cond);
}

static void fail(struct uploader *up, const char *msg)
{
	pthread_mutex_lock(&up->lock);
	fail_locked(up, msg);
	pthread_mutex_unlock(&up->lock);
}

/* With the lock held: waits for a change, or a tenth of a second to look at the cancel flag. */
static void wait_locked(struct uploader *up)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 100 * 1000 * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&up->cond, &up->lock, &ts);
	if (cancelled(up))
		fail_locked(up, "interrupted");
}

/* The sink's error for archive_commit(): whatever stopped us. */
static int stopped(struct uploader *up)
{
	pthread_mutex_lock(&up->lock);
	if (cancelled(up))
		fail_locked(up, "interrupted");
	err_set("%s", up->error ? up->error : "interrupted");
	pthread_mutex_unlock(&up->lock);
	return -1;
}

static long long part_read(void *ctx, void *dst, size_t len)
{
	struct part *p = ctx;

	if (cancelled(p->up))
		return err_set("interrupted");
	if (len > p->len - p->pos)
		len = p->len - p->pos;
	memcpy(dst, p->data + p->pos, len);
	p->pos += len;
	progress_add(p->up->progress, (long long)len);
	return (long long)len;
}

static int part_rewind(void *ctx)
{
	struct part *p = ctx;

	progress_add(p->up->progress, -(long long)p->pos);
	p->pos = 0;
	return cancelled(p->up) ? err_set("interrupted") : 0;
}

/*
 * The part as a request body, signed with its SHA-256 so that S3 checks it,
 * and carrying it as its checksum, which S3 keeps with the object (see s3.h).
 */
static void part_body(struct aws_body_reader *out, char sum[S3_SHA256_SIZE],
		      unsigned char md[SHA256_DIGEST_LENGTH], struct part *p, char hex[65])
{
	SHA256((const unsigned char *)p->data, p->len, md);
	hex_encode(hex, md, SHA256_DIGEST_LENGTH);
	s3_sha256_base64(sum, md);
	p->pos = 0;
	out->read = part_read;
	out->rewind = part_rewind;
	out->ctx = p;
	out->length = (long long)p->len;
	out->sha256_hex = hex;
}

static int send_one(struct uploader *up, struct aws_client *c, struct part *p)
{
	struct aws_body_reader body;
	char hex[65], sum[S3_SHA256_SIZE], *etag = NULL;
	unsigned char md[SHA256_DIGEST_LENGTH];
	int r;

	part_body(&body, sum, md, p, hex);
	r = s3_upload_part(&etag, c, up->bucket, up->key, up->upload_id, p->number, &body, sum);
	pthread_mutex_lock(&up->lock);
	if (r) {
		fail_locked(up, err_msg());
	} else {
		up->parts[p->number - 1].etag = etag;
		memcpy(up->parts[p->number - 1].sha256, sum, sizeof(sum));
		memcpy(up->digests[p->number - 1], md, sizeof(md));
	}
	p->len = 0;
	up->spare[up->nr_spare++] = p;
	pthread_cond_broadcast(&up->cond);
	pthread_mutex_unlock(&up->lock);
	return r;
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct uploader *up = w->up;

	pthread_mutex_lock(&up->lock);
	while (!up->stop) {
		if (cancelled(up)) {
			fail_locked(up, "interrupted");
			break;
		}
		if (up->nr_queued) {
			struct part *p = up->queue[0];

			memmove(up->queue, up->queue + 1, --up->nr_queued * sizeof(*up->queue));
			pthread_mutex_unlock(&up->lock);
			send_one(up, up->c, p);
			pthread_mutex_lock(&up->lock);
			continue;
		}
		if (up->producing_done)
			break;
		wait_locked(up);
	}
	pthread_mutex_unlock(&up->lock);
	return NULL;
}

static int start_workers(struct uploader *up)
{
	int i;

	up->workers = xcalloc((size_t)up->jobs, sizeof(*up->workers));
	for (i = 0; i < up->jobs; i++) {
		struct worker *w = &up->workers[i];

		w->up = up;
		if (pthread_create(&w->thread, NULL, worker_main, w))
			return err_set("cannot start an upload thread: %s", strerror(errno));
		w->started = 1;
	}
	return 0;
}

static void join_workers(struct uploader *up)
{
	int i;

	pthread_mutex_lock(&up->lock);
	up->producing_done = 1;
	pthread_cond_broadcast(&up->cond);
	pthread_mutex_unlock(&up->lock);
	for (i = 0; up->workers && i < up->jobs; i++) {
		if (!up->workers[i].started)
			continue;
		pthread_join(up->workers[i].thread, NULL);
	}
	free(up->workers);
	up->workers = NULL;
}

/*
 * A part's buffer, in 2 MiB pages where the kernel offers them: each page
 * of a new buffer costs a fault, and in a virtual machine a fault can take
 * tens of microseconds, a quarter of a second for the buffers of one upload
 * in 4 KiB pages.
 */
static char *buffer_alloc(size_t n)
{
	void *p;

	if (posix_memalign(&p, 2u << 20, n))
		return xmalloc(n);
#ifdef MADV_HUGEPAGE
	madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

/* A buffer to fill: a spare one, a new one while under the limit, else wait. NULL when stopped. */
static struct part *take_buffer(struct uploader *up)
{
	struct part *p = NULL;

	pthread_mutex_lock(&up->lock);
	while (!p && !up->stop) {
		if (up->nr_spare) {
			p = up->spare[--up->nr_spare];
		} else if (up->nr_buffers < up->max_buffers) {
			p = xcalloc(1, sizeof(*p));
			p->up = up;
			p->data = buffer_alloc(up->part_size);
			up->nr_buffers++;
		} else {
			wait_locked(up);
		}
	}
	pthread_mutex_unlock(&up->lock);
	return p;
}

/* The sink's: queues the full part, starting the multipart upload with the first. */
static int queue_part(struct uploader *up)
{
	struct part *p = up->filling;

	if (!up->upload_id) {
		if (s3_create_multipart_upload(&up->upload_id, up->c, up->bucket, up->key, up->meta,
					       up->nr_meta) ||
		    start_workers(up)) {
			fail(up, err_msg());
			return -1;
		}
	}
	pthread_mutex_lock(&up->lock);
	if (up->nr_parts == S3_MAX_PARTS) {
		pthread_mutex_unlock(&up->lock);
		fail(up, "too large for S3: more than 10000 parts");
		return -1;
	}
	up->parts = xrealloc(up->parts, (up->nr_parts + 1) * sizeof(*up->parts));
	up->digests = xrealloc(up->digests, (up->nr_parts + 1) * sizeof(*up->digests));
	up->parts[up->nr_parts].number = p->number = (int)up->nr_parts + 1;
	up->parts[up->nr_parts].sha256[0] = '\0';
	up->parts[up->nr_parts++].etag = NULL;
	up->queue[up->nr_queued++] = p;
	up->bytes += p->len;
	up->filling = NULL;
	pthread_cond_broadcast(&up->cond);
	pthread_mutex_unlock(&up->lock);
	return 0;
}

static int part_sink(void *ctx, const void *data, size_t len)
{
	struct uploader *up = ctx;
	const char *from = data;

	if (cancelled(up))
		return stopped(up);
	/* here, beside the compressor's threads: the workers' cores are the network's */
	EVP_DigestUpdate(up->whole, data, len);
	while (len) {
		size_t n;

		if (!up->filling && !(up->filling = take_buffer(up)))
			return stopped(up);
		/* queued only once more data comes: a short object stays one PUT */
		if (up->filling->len == up->part_size) {
			if (queue_part(up))
				return stopped(up);
			continue;
		}
		n = up->part_size - up->filling->len;
		if (n > len)
			n = len;
		memcpy(up->filling->data + up->filling->len, from, n);
		up->filling->len += n;
		from += n;
		len -= n;
	}
	return 0;
}

/* After the producer: the last part, then CompleteMultipartUpload or a single PUT. */
static int finish(struct uploader *up)
{
	struct aws_body_reader body;
	char hex[65], sum[S3_SHA256_SIZE];
	unsigned char md[SHA256_DIGEST_LENGTH];
	int r;

	pthread_mutex_lock(&up->lock);
	if (cancelled(up))
		fail_locked(up, "interrupted");
	r = up->stop;
	pthread_mutex_unlock(&up->lock);
	if (r || (!up->filling && !(up->filling = take_buffer(up))))
		return -1;
	progress_set_total(up->progress, up->bytes + up->filling->len);
	if (up->upload_id) {
		if (queue_part(up))
			return -1;
		join_workers(up);
		if (cancelled(up))
			fail(up, "interrupted");
		if (up->stop)
			return -1;
		r = s3_complete_multipart_upload(up->c, up->bucket, up->key, up->upload_id,
						 up->parts, up->nr_parts);
	} else {
		part_body(&body, sum, md, up->filling, hex);
		up->bytes = up->filling->len;
		r = s3_put_object(up->c, up->bucket, up->key, &body, sum, up->meta, up->nr_meta);
	}
	if (r)
		fail(up, err_msg());
	return r;
}

/* Leaves the current error as it is, adding to it only when the abort fails too. */
static void abort_upload(struct uploader *up)
{
	char *msg;

	if (!up->upload_id)
		return;
	msg = xstrdup(err_msg());
	if (s3_abort_multipart_upload(up->c, up->bucket, up->key, up->upload_id)) {
		err_set("%s; and the incomplete upload cannot be aborted: %s", msg, err_msg());
		err_hint("S3 bills its parts until it is removed: aws s3api abort-multipart-upload "
			 "--bucket %s --key %s --upload-id %s",
			 up->bucket, up->key, up->upload_id);
	} else if (strcmp(msg, err_msg())) {
		err_set("%s", msg);
	}
	free(msg);
}

static void uploader_release(struct uploader *up)
{
	size_t i;
	int k;

	join_workers(up);
	for (k = 0; k < up->nr_spare; k++) {
		free(up->spare[k]->data);
		free(up->spare[k]);
	}
	for (k = 0; k < up->nr_queued; k++) {
		free(up->queue[k]->data);
		free(up->queue[k]);
	}
	if (up->filling) {
		free(up->filling->data);
		free(up->filling);
	}
	for (i = 0; i < up->nr_parts; i++)
		free(up->parts[i].etag);
	free(up->parts);
	free(up->digests);
	EVP_MD_CTX_free(up->whole);
	free(up->spare);
	free(up->queue);
	free(up->error);
	free(up->upload_id);
	pthread_cond_destroy(&up->cond);
	pthread_mutex_destroy(&up->lock);
}

/*
 * out's sha256 and checksum: whole's digest, and S3's checksum of an object
 * in nr parts whose digests are digests (nr 0: one PUT, the whole's).
 */
static void set_checksums(struct s3_upload_stats *out, EVP_MD_CTX *whole,
			  const unsigned char (*digests)[SHA256_DIGEST_LENGTH], size_t nr)
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char sum[S3_SHA256_SIZE];

	EVP_DigestFinal_ex(whole, md, NULL);
	hex_encode(out->sha256, md, SHA256_DIGEST_LENGTH);
	if (!nr) {
		s3_sha256_base64(out->checksum, md);
		return;
	}
	SHA256((const unsigned char *)digests, nr * SHA256_DIGEST_LENGTH, md);
	s3_sha256_base64(sum, md);
	snprintf(out->checksum, sizeof(out->checksum), "%s-%d", sum, (int)nr);
}

static EVP_MD_CTX *sha256_start(void)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();

	if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha256(), NULL))
		abort(); /* out of memory, as x*alloc */
	return ctx;
}

static size_t part_size_of(const struct s3_upload_opts *opts)
{
	size_t n = opts->part_size ? opts->part_size : S3_UPLOAD_PART_SIZE;

	return n < S3_MIN_PART_SIZE ? S3_MIN_PART_SIZE : n;
}

int s3_upload_stream(struct s3_upload_stats *out, struct aws_client *c, const char *bucket,
		     const char *key, const struct aws_header *meta, size_t nr_meta,
		     s3_upload_producer_fn produce, void *ctx, const struct s3_upload_opts *opts)
{
	struct uploader up = { 0 };
	const char *slash = strrchr(key, '/');
	double start = now_monotonic();
	int ours = 1, ret = -1; /* ours: a failure of the upload, not of the producer */

	memset(out, 0, sizeof(*out));
	pthread_mutex_init(&up.lock, NULL);
	pthread_cond_init(&up.cond, NULL);
	up.c = c;
	up.bucket = bucket;
	up.key = key;
	up.name = slash ? slash + 1 : key;
	up.meta = meta;
	up.nr_meta = nr_meta;
	up.opts = opts;
	up.part_size = part_size_of(opts);
	up.whole = sha256_start();
	up.jobs = opts->jobs > 0 ? opts->jobs : S3_UPLOAD_JOBS;
	/*
	 * one part per worker: filling one takes milliseconds, sending it far
	 * longer, so an extra buffer to fill ahead would only cost memory
	 */
	up.max_buffers = up.jobs;
	up.spare = xcalloc((size_t)up.max_buffers, sizeof(*up.spare));
	up.queue = xcalloc((size_t)up.max_buffers, sizeof(*up.queue));
	if (opts->progress_title)
		up.progress = progress_start(opts->ui, opts->progress_title, opts->size_hint, 1);

	if (produce(ctx, part_sink, &up)) {
		pthread_mutex_lock(&up.lock);
		ours = up.error != NULL;
		up.stop = 1;
		pthread_cond_broadcast(&up.cond);
		pthread_mutex_unlock(&up.lock);
	} else if (!finish(&up)) {
		ret = 0;
		set_checksums(out, up.whole, up.digests, up.upload_id ? up.nr_parts : 0);
	}
	join_workers(&up);
	if (ret) {
		/* the producer's own error (and hints) stays as it is */
		if (ours)
			err_set("cannot upload '%s': %s", up.name,
				up.error ? up.error : "interrupted");
		abort_upload(&up);
	}
	out->bytes = up.bytes;
	out->parts = up.upload_id ? (int)up.nr_parts : 0;
	out->seconds = now_monotonic() - start;
	progress_stop(up.progress, !ret);
	uploader_release(&up);
	return ret;
}

/* s3_upload_digest()'s sink: the parts cut as part_sink() cuts them. */
struct digest {
	EVP_MD_CTX *whole, *part;
	size_t part_size, in_part;
	unsigned char (*digests)[SHA256_DIGEST_LENGTH];
	size_t nr;
	uint64_t bytes;
};

static void digest_part_end(struct digest *d)
{
	d->digests = xrealloc(d->digests, (d->nr + 1) * sizeof(*d->digests));
	EVP_DigestFinal_ex(d->part, d->digests[d->nr++], NULL);
	EVP_DigestInit_ex(d->part, EVP_sha256(), NULL);
	d->in_part = 0;
}

static int digest_sink(void *ctx, const void *data, size_t len)
{
	struct digest *d = ctx;
	const char *from = data;

	EVP_DigestUpdate(d->whole, data, len);
	d->bytes += len;
	while (len) {
		size_t n = d->part_size - d->in_part;

		/* a full part ends only once more data comes, as in part_sink() */
		if (!n) {
			digest_part_end(d);
			continue;
		}
		if (n > len)
			n = len;
		EVP_DigestUpdate(d->part, from, n);
		d->in_part += n;
		from += n;
		len -= n;
	}
	return 0;
}

int s3_upload_digest(struct s3_upload_stats *out, s3_upload_producer_fn produce, void *ctx,
		     const struct s3_upload_opts *opts)
{
	struct digest d = { 0 };
	double start = now_monotonic();
	int ret;

	memset(out, 0, sizeof(*out));
	d.whole = sha256_start();
	d.part = sha256_start();
	d.part_size = part_size_of(opts);
	ret = produce(ctx, digest_sink, &d);
	if (!ret) {
		if (d.nr) /* the last part, queued by finish() */
			digest_part_end(&d);
		set_checksums(out, d.whole, d.digests, d.nr);
		out->bytes = d.bytes;
		out->parts = (int)d.nr;
		out->seconds = now_monotonic() - start;
	}
	free(d.digests);
	EVP_MD_CTX_free(d.part);
	EVP_MD_CTX_free(d.whole);
	return ret;
}

int s3_upload_matches(const struct s3_upload_stats *st, const char *checksum, long long size)
{
	const char *dash = strrchr(st->checksum, '-'); /* never in base64 */
	size_t n = dash ? (size_t)(dash - st->checksum) : 0;

	if (!checksum || size < 0 || (uint64_t)size != st->bytes || !st->checksum[0])
		return 0;
	if (!strcmp(checksum, st->checksum))
		return 1;
	return st->parts && dash && strlen(checksum) == n && !strncmp(checksum, st->checksum, n);
}
