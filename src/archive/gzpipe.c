/*
 * gzpipe: see gzpipe.h. Pieces are numbered in order. The producer fills
 * piece `head` in a slot of its own; helpers take the pieces handed over,
 * [next, head), in order and compress each into its slot's output buffer;
 * the helper holding the `emitting` token hands the done pieces to the sink
 * while the oldest one not yet emitted is done, and writes the trailer after
 * the last. A slot is the producer's again once its piece is emitted.
 *
 * A piece's bytes depend on its input alone: every piece but the last is
 * full; its dictionary is the 32 KiB before it (copied into the slot, since
 * the previous slot may be refilled first); its level depends on its bytes
 * alone; its output buffer is always OUT_SIZE (zlib's stored blocks follow
 * the room left in the output buffer), grown the same way if ever short.
 */
#include "archive/gzpipe.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "util/util.h"

#define SLOT_SIZE (256u << 10)
/* more than deflate's worst case for a piece (stored blocks and the flush) */
#define OUT_SIZE  (SLOT_SIZE + SLOT_SIZE / 8)
#define DICT_SIZE (32u << 10)
/* slots shorter than this are compressed whatever they hold: too few bytes to judge */
#define MIN_JUDGED (64u << 10)

/* gzip's header as `gzip -n -1` writes it: no name, no time; "fastest", Unix */
static const unsigned char gzip_header[10] = { 0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 3 };
/* after the pieces' sync flushes: an empty final block (fixed codes, just end of block) */
static const unsigned char final_block[2] = { 0x03, 0x00 };

struct slot {
	unsigned char *data;
	size_t len;
	unsigned char *dict;
	size_t dict_len;
	unsigned char *out;
	size_t out_len, out_alloc;
	uLong crc;
	int done;
};

struct helper {
	struct gzpipe *p;
	pthread_t thread;
	int running;
	z_stream z[2]; /* raw deflate at level 0 (stored) and 1, reset for each piece */
	int z_ready[2];
};

struct gzpipe {
	archive_sink_fn sink;
	void *sink_ctx;
	pthread_mutex_t lock;
	pthread_cond_t work; /* helpers: a piece to compress, the end, or stop */
	pthread_cond_t room; /* producer: a piece emitted, the end, or a failure */
	struct slot *slot;
	unsigned nr_slots;
	uint64_t head;	  /* pieces handed over */
	uint64_t next;	  /* the next piece a helper takes */
	uint64_t emitted; /* pieces given to the sink */
	int emitting;	  /* a helper holds the sink */
	/* the emitting helper's: */
	int header_out;
	uLong crc;
	uint32_t isize;
	int closing;  /* producer: no more data, finish the stream */
	int aborting; /* producer: stop now, no trailer */
	int failed;   /* a helper: the error is in msg */
	int finished; /* the trailer is out */
	char *msg;
	struct helper *helpers;
	unsigned nr_helpers;
};

static struct slot *slot_of(struct gzpipe *p, uint64_t piece)
{
	return &p->slot[piece % p->nr_slots];
}

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

/* A piece as a raw deflate stream ending at a byte boundary. On a helper, unlocked. */
static int compress_piece(struct helper *h, struct slot *s)
{
	int level = slot_level(s->data, s->len);
	z_stream *z = &h->z[level];
	int r = deflateReset(z);

	/* a stored piece refers to nothing before it */
	if (r == Z_OK && level && s->dict_len)
		r = deflateSetDictionary(z, s->dict, (uInt)s->dict_len);
	if (r != Z_OK)
		return gz_error(r);
	z->next_in = s->data;
	z->avail_in = (uInt)s->len;
	z->next_out = s->out;
	z->avail_out = (uInt)s->out_alloc;
	for (;;) {
		size_t used;

		r = deflate(z, Z_SYNC_FLUSH);
		if (r != Z_OK && r != Z_BUF_ERROR)
			return gz_error(r);
		/* room left over: all input taken and flushed */
		if (z->avail_out)
			break;
		used = s->out_alloc;
		s->out_alloc += OUT_SIZE;
		s->out = xrealloc(s->out, s->out_alloc);
		z->next_out = s->out + used;
		z->avail_out = (uInt)(s->out_alloc - used);
	}
	s->out_len = s->out_alloc - z->avail_out;
	s->crc = crc32(0, s->data, (uInt)s->len);
	return 0;
}

static void put_le32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

/* The gzip header, before the first bytes out. Token holder, unlocked. */
static int put_header(struct gzpipe *p)
{
	if (p->header_out)
		return 0;
	p->header_out = 1;
	return p->sink(p->sink_ctx, gzip_header, sizeof(gzip_header));
}

static int put_piece(struct gzpipe *p, struct slot *s)
{
	if (put_header(p) || p->sink(p->sink_ctx, s->out, s->out_len))
		return -1;
	p->crc = crc32_combine(p->crc, s->crc, (z_off_t)s->len);
	p->isize += (uint32_t)s->len;
	return 0;
}

static int put_trailer(struct gzpipe *p)
{
	unsigned char t[sizeof(final_block) + 8];

	memcpy(t, final_block, sizeof(final_block));
	put_le32(t + sizeof(final_block), (uint32_t)p->crc);
	put_le32(t + sizeof(final_block) + 4, p->isize);
	if (put_header(p))
		return -1;
	return p->sink(p->sink_ctx, t, sizeof(t));
}

/*
 * Under the lock: if no one holds the sink, hands the done pieces to it in
 * order, and the trailer once everything is out after the producer closed.
 * The lock is let go around each call of the sink. 0, or -1 with err_set.
 */
static int emit(struct gzpipe *p)
{
	int r = 0;

	if (p->emitting)
		return 0;
	p->emitting = 1;
	/* after a failure (the sink's included) the sink is never called again */
	while (!r && !p->aborting && !p->failed) {
		if (p->emitted < p->head && slot_of(p, p->emitted)->done) {
			struct slot *s = slot_of(p, p->emitted);

			pthread_mutex_unlock(&p->lock);
			r = put_piece(p, s);
			pthread_mutex_lock(&p->lock);
			if (!r) {
				p->emitted++;
				pthread_cond_signal(&p->room);
			}
		} else if (p->closing && p->emitted == p->head && !p->finished) {
			pthread_mutex_unlock(&p->lock);
			r = put_trailer(p);
			pthread_mutex_lock(&p->lock);
			if (!r) {
				p->finished = 1;
				pthread_cond_broadcast(&p->room);
				pthread_cond_broadcast(&p->work);
			}
		} else {
			break;
		}
	}
	p->emitting = 0;
	return r;
}

/* Under the lock: the helper's error, for the producer. */
static void helper_failed(struct gzpipe *p)
{
	if (!p->failed) {
		p->msg = xstrdup(err_msg());
		p->failed = 1;
	}
	err_clear();
	pthread_cond_broadcast(&p->room);
	pthread_cond_broadcast(&p->work);
}

static void *helper_main(void *arg)
{
	struct helper *h = arg;
	struct gzpipe *p = h->p;

	pthread_mutex_lock(&p->lock);
	while (!p->aborting && !p->failed && !p->finished) {
		if (p->next < p->head) {
			struct slot *s = slot_of(p, p->next++);
			int r;

			pthread_mutex_unlock(&p->lock);
			r = compress_piece(h, s);
			pthread_mutex_lock(&p->lock);
			s->done = 1;
			if (r || emit(p))
				helper_failed(p);
		} else if (p->closing && p->emitted == p->head && !p->emitting) {
			if (emit(p))
				helper_failed(p);
		} else {
			pthread_cond_wait(&p->work, &p->lock);
		}
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static int helper_start(struct helper *h, struct gzpipe *p)
{
	int i, r;

	h->p = p;
	for (i = 0; i < 2; i++) {
		/*
		 * -15: raw deflate, the gzip wrapper is ours. Memory level 9
		 * for level 1: zlib's largest hash table, 5% faster than the
		 * default for 0.2% more bytes. Stored blocks use no hash
		 * table: the smallest, 1.
		 */
		r = deflateInit2(&h->z[i], i, Z_DEFLATED, -15, i ? 9 : 1, Z_DEFAULT_STRATEGY);
		if (r != Z_OK)
			return gz_error(r);
		h->z_ready[i] = 1;
	}
	if (pthread_create(&h->thread, NULL, helper_main, h))
		return err_set("cannot start a compression thread");
	h->running = 1;
	return 0;
}

int gzpipe_start(struct gzpipe **out, unsigned threads, archive_sink_fn sink, void *ctx)
{
	struct gzpipe *p = xcalloc(1, sizeof(*p));
	unsigned i;

	*out = p;
	p->sink = sink;
	p->sink_ctx = ctx;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->room, NULL);
	if (!threads)
		threads = 1;
	/* one being filled, one per helper, one done and waiting for the sink */
	p->nr_slots = threads + 2;
	p->slot = xcalloc(p->nr_slots, sizeof(*p->slot));
	for (i = 0; i < p->nr_slots; i++) {
		p->slot[i].data = xmalloc(SLOT_SIZE);
		p->slot[i].dict = xmalloc(DICT_SIZE);
		p->slot[i].out = xmalloc(OUT_SIZE);
		p->slot[i].out_alloc = OUT_SIZE;
	}
	p->crc = crc32(0, NULL, 0);
	p->helpers = xcalloc(threads, sizeof(*p->helpers));
	for (i = 0; i < threads; i++) {
		p->nr_helpers++;
		if (helper_start(&p->helpers[i], p))
			return -1;
	}
	return 0;
}

static int helper_error(struct gzpipe *p)
{
	return err_set("%s", p->msg && *p->msg ? p->msg : "cannot write the archive");
}

/* Hands the piece being filled to the helpers and takes the next slot. */
static int hand_over(struct gzpipe *p)
{
	struct slot *prev = slot_of(p, p->head), *s;
	int failed;

	pthread_mutex_lock(&p->lock);
	p->head++;
	pthread_cond_signal(&p->work);
	while (p->head - p->emitted == p->nr_slots && !p->failed)
		pthread_cond_wait(&p->room, &p->lock);
	failed = p->failed;
	pthread_mutex_unlock(&p->lock);
	if (failed)
		return helper_error(p);
	/* emitted, so no helper looks at it any more; prev is only read */
	s = slot_of(p, p->head);
	s->len = 0;
	s->done = 0;
	s->dict_len = prev->len < DICT_SIZE ? prev->len : DICT_SIZE;
	memcpy(s->dict, prev->data + prev->len - s->dict_len, s->dict_len);
	return 0;
}

int gzpipe_write(void *pipe, const void *data, size_t len)
{
	struct gzpipe *p = pipe;
	const unsigned char *d = data;

	while (len) {
		struct slot *s = slot_of(p, p->head);
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

static void join_helpers(struct gzpipe *p)
{
	unsigned i;

	for (i = 0; i < p->nr_helpers; i++) {
		if (p->helpers[i].running)
			pthread_join(p->helpers[i].thread, NULL);
		p->helpers[i].running = 0;
	}
}

int gzpipe_finish(struct gzpipe *p)
{
	int failed;

	if (slot_of(p, p->head)->len && hand_over(p))
		return -1;
	pthread_mutex_lock(&p->lock);
	p->closing = 1;
	pthread_cond_broadcast(&p->work);
	while (!p->finished && !p->failed)
		pthread_cond_wait(&p->room, &p->lock);
	failed = p->failed;
	pthread_mutex_unlock(&p->lock);
	join_helpers(p);
	return failed ? helper_error(p) : 0;
}

void gzpipe_free(struct gzpipe *p)
{
	unsigned i;
	int j;

	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->aborting = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	join_helpers(p);
	for (i = 0; i < p->nr_helpers; i++)
		for (j = 0; j < 2; j++)
			if (p->helpers[i].z_ready[j])
				deflateEnd(&p->helpers[i].z[j]);
	for (i = 0; i < p->nr_slots; i++) {
		free(p->slot[i].data);
		free(p->slot[i].dict);
		free(p->slot[i].out);
	}
	free(p->slot);
	free(p->helpers);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->room);
	free(p->msg);
	free(p);
}
