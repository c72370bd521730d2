#include "gzpipe.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <archive-lib.h> /* angle brackets: see archive-lib.h */
#include "util.h"

#define SLOTS 4
#define SLOT_SIZE (256u << 10)

struct slot {
	char *data;
	size_t len;
};

struct gzpipe {
	archive_sink_fn sink;
	void *sink_ctx;
	struct archive *gz;
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
	int sink_failed;
	int discard; /* set once the thread is gone: freeing must not finish the stream */
};

static la_ssize_t gz_out(struct archive *a, void *data, const void *buf, size_t len)
{
	struct gzpipe *p = data;

	(void)a;
	if (p->discard || p->sink_failed)
		return -1;
	if (p->sink(p->sink_ctx, buf, len)) {
		p->sink_failed = 1;
		return -1;
	}
	return (la_ssize_t)len;
}

static int gz_error(struct gzpipe *p)
{
	if (p->sink_failed)
		return -1;
	return err_set("cannot compress the archive: %s", archive_error_string(p->gz));
}

static int gz_open(struct gzpipe *p)
{
	struct archive_entry *raw = archive_entry_new();
	int ret = 0;

	p->gz = archive_write_new();
	archive_entry_set_filetype(raw, AE_IFREG);
	/* level 1: several times faster than git's default 6, still plain gzip */
	if (archive_write_add_filter_gzip(p->gz) != ARCHIVE_OK ||
	    archive_write_set_filter_option(p->gz, "gzip", "compression-level", "1") != ARCHIVE_OK ||
	    archive_write_set_filter_option(p->gz, "gzip", "timestamp", NULL) != ARCHIVE_OK ||
	    archive_write_set_format_raw(p->gz) != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(p->gz, 0) != ARCHIVE_OK ||
	    archive_write_open2(p->gz, p, NULL, gz_out, NULL, NULL) != ARCHIVE_OK ||
	    archive_write_header(p->gz, raw) != ARCHIVE_OK)
		ret = gz_error(p);
	archive_entry_free(raw);
	return ret;
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
		if (archive_write_data(p->gz, s->data, s->len) != (la_ssize_t)s->len)
			return gz_error(p);
		pthread_mutex_lock(&p->lock);
		p->tail++;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	if (p->aborting)
		return 0;
	if (archive_write_finish_entry(p->gz) != ARCHIVE_OK || archive_write_close(p->gz) != ARCHIVE_OK)
		return gz_error(p);
	return 0;
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
	const char *d = data;

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
	p->discard = 1;
	if (p->gz)
		archive_write_free(p->gz);
	for (i = 0; i < SLOTS; i++)
		free(p->slot[i].data);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->cond);
	free(p->msg);
	free(p);
}
