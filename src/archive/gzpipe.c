/*
 * gzpipe: see gzpipe.h. The deflate calls depend only on the input: slots
 * are full but the last, the output buffer is always drained when full and
 * only then, and the level of a slot depends on its bytes alone. zlib's
 * stored blocks follow the room left in the output buffer, so this is what
 * keeps the stream the same from run to run.
 */
#include "archive/gzpipe.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/util.h"

#define SLOTS 4
#define SLOT_SIZE (256u << 10)
#define OUT_SIZE (64u << 10)
/* slots shorter than this are compressed whatever they hold: too few bytes to judge */
#define MIN_JUDGED (64u << 10)

struct slot {
	unsigned char *data;
	size_t len;
};

struct gzpipe {
	archive_sink_fn sink;
	void *sink_ctx;
	z_stream z;
	int z_ready;
	int level; /* of the last slot */
	unsigned char *out;
	pthread_t thread;
	int running;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct slot slot[SLOTS];
	unsigned head, tail; /* slots filled by the producer: [tail, head) */
	int closing;  /* producer: no more data, finish the stream */
	int aborting; /* producer: stop now, no trailer */
	int failed;   /* thread: the error is in msg */
	char *msg;
};

/*
 * Level 1, or 0 (stored) for bytes whose histogram is nearly flat: there
 * Huffman coding saves next to nothing (random data, or what is already
 * compressed: packed checkpoints, images, wheels) while deflate would cost
 * many times more than a copy, and even adds a little. Flat means a
 * chi-squared statistic against the uniform distribution below n / 4: its
 * order-0 entropy is then above 7.8 bits per byte, a gain under 2.3%.
 * Integers only, so that every machine decides alike.
 */
static int slot_level(const unsigned char *d, size_t n)
{
	uint32_t h[4][256] = { { 0 } };
	uint64_t chi = 0;
	size_t i;
	int b;

	if (n < MIN_JUDGED)
		return 1;
	/* four tables: consecutive equal bytes do not wait on one counter */
	for (i = 0; i + 4 <= n; i += 4) {
		h[0][d[i]]++;
		h[1][d[i + 1]]++;
		h[2][d[i + 2]]++;
		h[3][d[i + 3]]++;
	}
	for (; i < n; i++)
		h[0][d[i]]++;
	for (b = 0; b < 256; b++) {
		int64_t dev = 256 * (int64_t)(h[0][b] + h[1][b] + h[2][b] + h[3][b]) - (int64_t)n;

		chi += (uint64_t)(dev * dev);
	}
	/* chi / (256 n) < n / 4 */
	return chi < 64 * (uint64_t)n * n ? 0 : 1;
}

static int gz_error(int r)
{
	return err_set("cannot compress the archive: zlib error %d", r);
}

/* Hands the full output buffer to the sink. */
static int drain(struct gzpipe *p)
{
	size_t n = OUT_SIZE - p->z.avail_out;

	p->z.next_out = p->out;
	p->z.avail_out = OUT_SIZE;
	return n ? p->sink(p->sink_ctx, p->out, n) : 0;
}

/* One deflate() call, with room to write. Its result, or -1 with err_set. */
static int step(struct gzpipe *p, int flush)
{
	int r;

	if (!p->z.avail_out && drain(p))
		return -1;
	r = deflate(&p->z, flush);
	if (r == Z_STREAM_ERROR)
		return gz_error(r);
	return r;
}

static int set_level(struct gzpipe *p, int level)
{
	int r;

	/* flushed to a block boundary first, deflateParams() changes at once */
	do {
		if (step(p, Z_BLOCK) < 0)
			return -1;
	} while (!p->z.avail_out);
	r = deflateParams(&p->z, level, Z_DEFAULT_STRATEGY);
	if (r != Z_OK)
		return gz_error(r);
	p->level = level;
	return 0;
}

static int compress_slot(struct gzpipe *p, struct slot *s)
{
	int level = slot_level(s->data, s->len);

	if (level != p->level && set_level(p, level))
		return -1;
	p->z.next_in = s->data;
	p->z.avail_in = (uInt)s->len;
	while (p->z.avail_in)
		if (step(p, Z_NO_FLUSH) < 0)
			return -1;
	return 0;
}

static int finish_stream(struct gzpipe *p)
{
	int r;

	while ((r = step(p, Z_FINISH)) != Z_STREAM_END)
		if (r < 0)
			return -1;
	return drain(p);
}

static int gz_open(struct gzpipe *p)
{
	/* 16 + 15: a gzip wrapper with a zero mtime, as `gzip -n` writes */
	int r = deflateInit2(&p->z, 1, Z_DEFLATED, 16 + 15, 8, Z_DEFAULT_STRATEGY);

	if (r != Z_OK)
		return gz_error(r);
	p->z_ready = 1;
	p->level = 1;
	p->out = xmalloc(OUT_SIZE);
	p->z.next_out = p->out;
	p->z.avail_out = OUT_SIZE;
	return 0;
}

/* Runs on the helper thread; errors go to p->msg for the producer. */
static int compress_all(struct gzpipe *p)
{
	for (;;) {
		struct slot *s;

		pthread_mutex_lock(&p->lock);
		while (p->tail == p->head && !p->closing && !p->aborting)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->aborting || p->tail == p->head) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		s = &p->slot[p->tail % SLOTS];
		pthread_mutex_unlock(&p->lock);
		if (compress_slot(p, s))
			return -1;
		pthread_mutex_lock(&p->lock);
		p->tail++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return p->aborting ? 0 : finish_stream(p);
}

static void *thread_main(void *arg)
{
	struct gzpipe *p = arg;

	if (compress_all(p)) {
		pthread_mutex_lock(&p->lock);
		p->msg = xstrdup(err_msg());
		p->failed = 1;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	err_clear();
	return NULL;
}

int gzpipe_start(struct gzpipe **out, archive_sink_fn sink, void *ctx)
{
	struct gzpipe *p = xcalloc(1, sizeof(*p));
	int i;

	*out = p;
	p->sink = sink;
	p->sink_ctx = ctx;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->cond, NULL);
	for (i = 0; i < SLOTS; i++)
		p->slot[i].data = xmalloc(SLOT_SIZE);
	if (gz_open(p))
		return -1;
	if (pthread_create(&p->thread, NULL, thread_main, p))
		return err_set("cannot start the compression thread");
	p->running = 1;
	return 0;
}

static int thread_failed(struct gzpipe *p)
{
	return err_set("%s", p->msg && *p->msg ? p->msg : "cannot write the archive");
}

/* The slot being filled is the one at head; it is handed over when full. */
static int hand_over(struct gzpipe *p)
{
	int failed;

	pthread_mutex_lock(&p->lock);
	p->head++;
	pthread_cond_broadcast(&p->cond);
	while (p->head - p->tail == SLOTS && !p->failed)
		pthread_cond_wait(&p->cond, &p->lock);
	failed = p->failed;
	p->slot[p->head % SLOTS].len = 0;
	pthread_mutex_unlock(&p->lock);
	return failed ? thread_failed(p) : 0;
}

int gzpipe_write(void *pipe, const void *data, size_t len)
{
	struct gzpipe *p = pipe;
	const unsigned char *d = data;

	while (len) {
		struct slot *s = &p->slot[p->head % SLOTS];
		size_t n = SLOT_SIZE - s->len < len ? SLOT_SIZE - s->len : len;

		memcpy(s->data + s->len, d, n);
		s->len += n;
		d += n;
		len -= n;
		if (s->len == SLOT_SIZE && hand_over(p))
			return -1;
	}
	return 0;
}

int gzpipe_finish(struct gzpipe *p)
{
	if (p->slot[p->head % SLOTS].len && hand_over(p))
		return -1;
	pthread_mutex_lock(&p->lock);
	p->closing = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	p->running = 0;
	return p->failed ? thread_failed(p) : 0;
}

void gzpipe_free(struct gzpipe *p)
{
	int i;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->aborting = 1;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	if (p->running)
		pthread_join(p->thread, NULL);
	if (p->z_ready)
		deflateEnd(&p->z);
	free(p->out);
	for (i = 0; i < SLOTS; i++)
		free(p->slot[i].data);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->msg);
	free(p);
}
