/*
 * Unit tests for gzpipe: one valid gzip member whatever the sizes written,
 * the same bytes whatever the number of threads, the sink called in order
 * and never twice at once, and its failure reported back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "archive/gzpipe.h"
#include "util/util.h"

#define PIECE (256u << 10)

struct collect {
	struct buf out;
	pthread_mutex_t lock;
	int inside, overlapped, calls, fail_at;
	pthread_t producer;
	int on_producer;
};

static int collect_sink(void *ctx, const void *data, size_t len)
{
	struct collect *c = ctx;
	int r = 0;

	pthread_mutex_lock(&c->lock);
	if (c->inside++)
		c->overlapped = 1;
	if (pthread_equal(pthread_self(), c->producer))
		c->on_producer = 1;
	pthread_mutex_unlock(&c->lock);
	if (++c->calls == c->fail_at)
		r = err_set("disk full");
	else
		buf_add(&c->out, data, len);
	pthread_mutex_lock(&c->lock);
	c->inside--;
	pthread_mutex_unlock(&c->lock);
	return r;
}

static void collect_init(struct collect *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->lock, NULL);
	c->producer = pthread_self();
}

static void collect_release(struct collect *c)
{
	buf_release(&c->out);
	pthread_mutex_destroy(&c->lock);
}

/* Text that compresses, and random bytes that do not, in runs of run bytes. */
static unsigned char *make_input(size_t n, size_t run)
{
	unsigned char *d = xmalloc(n ? n : 1);
	uint64_t x = 0x9e3779b97f4a7c15ull;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((i / run) % 2) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			d[i] = (unsigned char)x;
		} else {
			d[i] = "step 42: loss = 0.125, lr = 3e-4\n"[i % 33];
		}
	}
	return d;
}

/* Compresses data, written in pieces of `chunk`, on `threads` threads. */
static void gzip_all(struct collect *c, const unsigned char *data, size_t n, size_t chunk,
		     unsigned threads)
{
	struct gzpipe *p = NULL;
	size_t at;

	collect_init(c);
	assert_int_equal(gzpipe_start(&p, threads, collect_sink, c), 0);
	for (at = 0; at < n; at += chunk)
		assert_int_equal(gzpipe_write(p, data + at, n - at < chunk ? n - at : chunk), 0);
	assert_int_equal(gzpipe_finish(p), 0);
	gzpipe_free(p);
	assert_int_equal(c->overlapped, 0);
	assert_int_equal(c->on_producer, 0);
}

/* gunzip: zlib checks the CRC-32 and the length of the trailer. */
static void assert_gunzips_to(const struct buf *gz, const unsigned char *data, size_t n)
{
	unsigned char *out = xmalloc(n + 1);
	z_stream z;

	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
	z.next_in = (unsigned char *)gz->ptr;
	z.avail_in = (uInt)gz->len;
	z.next_out = out;
	z.avail_out = (uInt)(n + 1);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, n);
	assert_int_equal(z.avail_in, 0);
	assert_memory_equal(out, data, n);
	inflateEnd(&z);
	free(out);
}

static void test_round_trip_and_same_bytes_whatever_the_threads(void **state)
{
	static const size_t sizes[] = { 0, 1, 5000, PIECE - 1, PIECE, PIECE + 1, 3 * PIECE + 777 };
	static const unsigned threads[] = { 1, 2, 3, 8 };
	size_t i, j;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		unsigned char *data = make_input(sizes[i], 100000);
		struct collect first;

		gzip_all(&first, data, sizes[i], 4096, 1);
		assert_true(first.out.len >= 20);
		assert_memory_equal(first.out.ptr, "\x1f\x8b\x08\0\0\0\0\0\x04\x03", 10);
		assert_gunzips_to(&first.out, data, sizes[i]);
		for (j = 0; j < ARRAY_SIZE(threads); j++) {
			struct collect again;

			/* other write sizes too: the pieces are cut alike */
			gzip_all(&again, data, sizes[i], 1000 + 3001 * j, threads[j]);
			assert_int_equal(again.out.len, first.out.len);
			assert_memory_equal(again.out.ptr, first.out.ptr, first.out.len);
			collect_release(&again);
		}
		collect_release(&first);
		free(data);
	}
}

static void test_random_data_is_stored_text_compresses(void **state)
{
	size_t n = 6 * PIECE;
	unsigned char *data = make_input(n, 3 * PIECE);
	struct collect c;

	(void)state;
	gzip_all(&c, data, n, 65536, 2);
	assert_gunzips_to(&c.out, data, n);
	/* half random (stored, a few bytes per 64 KiB), half text (compressed) */
	assert_true(c.out.len < n / 2 + n / 2 / 10);
	assert_true(c.out.len > n / 2);
	collect_release(&c);
	free(data);
}

static void test_a_failing_sink_stops_the_stream(void **state)
{
	size_t n = 8 * PIECE, at;
	unsigned char *data = make_input(n, 50000);
	struct gzpipe *p = NULL;
	struct collect c;
	int r = 0;

	(void)state;
	collect_init(&c);
	c.fail_at = 3;
	err_clear();
	assert_int_equal(gzpipe_start(&p, 2, collect_sink, &c), 0);
	for (at = 0; !r && at < n; at += 4096)
		r = gzpipe_write(p, data + at, 4096);
	if (!r)
		r = gzpipe_finish(p);
	assert_int_equal(r, -1);
	assert_string_equal(err_msg(), "disk full");
	assert_int_equal(c.calls, 3);
	gzpipe_free(p);
	err_clear();
	collect_release(&c);
	free(data);
}

static void test_free_without_finish_leaves_no_trailer(void **state)
{
	size_t n = 5 * PIECE + 10;
	unsigned char *data = make_input(n, 70000);
	struct gzpipe *p = NULL;
	struct collect c;

	(void)state;
	collect_init(&c);
	assert_int_equal(gzpipe_start(&p, 3, collect_sink, &c), 0);
	assert_int_equal(gzpipe_write(p, data, n), 0);
	gzpipe_free(p);
	/* whatever was emitted is no complete gzip member */
	if (c.out.len) {
		z_stream z;
		unsigned char *out = xmalloc(n);

		memset(&z, 0, sizeof(z));
		assert_int_equal(inflateInit2(&z, 16 + 15), Z_OK);
		z.next_in = (unsigned char *)c.out.ptr;
		z.avail_in = (uInt)c.out.len;
		z.next_out = out;
		z.avail_out = (uInt)n;
		assert_int_not_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
		inflateEnd(&z);
		free(out);
	}
	collect_release(&c);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_and_same_bytes_whatever_the_threads),
		cmocka_unit_test(test_random_data_is_stored_text_compresses),
		cmocka_unit_test(test_a_failing_sink_stops_the_stream),
		cmocka_unit_test(test_free_without_finish_leaves_no_trailer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
