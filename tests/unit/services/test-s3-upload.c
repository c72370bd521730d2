/*
 * Unit tests for s3-upload's local digest: the archive's SHA-256 and the
 * checksum S3 keeps of it (one PUT: the SHA-256 of the bytes; a multipart
 * upload: the SHA-256 of the parts' digests, "-<parts>"), with the parts cut
 * where the uploader cuts them, whatever pieces the producer writes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "services/s3-upload.h"
#include "util/util.h"

#define PART S3_MIN_PART_SIZE

struct bytes {
	const unsigned char *data;
	size_t len, piece;
	int fail;
};

/* Writes the bytes in pieces of a size that does not divide a part. */
static int produce(void *ctx, s3_upload_sink_fn sink, void *sink_ctx)
{
	struct bytes *b = ctx;
	size_t at = 0;

	if (b->fail)
		return err_set("the archive failed");
	while (at < b->len) {
		size_t n = b->len - at < b->piece ? b->len - at : b->piece;

		if (sink(sink_ctx, b->data + at, n))
			return -1;
		at += n;
	}
	return 0;
}

static unsigned char *pattern(size_t len)
{
	unsigned char *d = malloc(len ? len : 1);
	size_t i;

	for (i = 0; i < len; i++)
		d[i] = (unsigned char)(i * 7 + i / 4099);
	return d;
}

static void hex(char out[65], const unsigned char md[32])
{
	int i;

	for (i = 0; i < 32; i++)
		sprintf(out + 2 * i, "%02x", md[i]);
}

/* What S3 computes of len bytes uploaded in nr parts of PART (0: one PUT). */
static void expected(char sum[S3_CHECKSUM_SIZE], char whole[65], const unsigned char *d, size_t len,
		     size_t nr)
{
	unsigned char md[32], *mds = malloc(nr * 32 + 1);
	char b64[S3_SHA256_SIZE];
	size_t i;

	SHA256(d, len, md);
	hex(whole, md);
	if (!nr) {
		s3_sha256_base64(sum, md);
	} else {
		for (i = 0; i < nr; i++) {
			size_t from = i * PART, n = len - from < PART ? len - from : PART;

			SHA256(d + from, n, mds + 32 * i);
		}
		SHA256(mds, nr * 32, md);
		s3_sha256_base64(b64, md);
		snprintf(sum, S3_CHECKSUM_SIZE, "%s-%u", b64,
			 (unsigned)nr); /* S3: at most 10000 parts */
	}
	free(mds);
}

static void check(size_t len, size_t piece, int parts)
{
	struct s3_upload_opts opts = { 0 };
	struct s3_upload_stats st;
	unsigned char *d = pattern(len);
	struct bytes b = { d, len, piece, 0 };
	char sum[S3_CHECKSUM_SIZE], whole[65];

	opts.part_size = 1; /* raised to the minimum, as for an upload */
	assert_int_equal(s3_upload_digest(&st, produce, &b, &opts), 0);
	expected(sum, whole, d, len, (size_t)parts);
	assert_string_equal(st.sha256, whole);
	assert_string_equal(st.checksum, sum);
	assert_int_equal(st.parts, parts);
	assert_int_equal(st.bytes, len);
	free(d);
}

static void test_one_put(void **state)
{
	(void)state;
	check(0, 1000, 0);
	check(1, 1000, 0);
	check(12345, 1000, 0);
	/* a full part is queued only once more comes: exactly one part is one PUT */
	check(PART, 65536, 0);
	check(PART, PART, 0);
}

static void test_parts(void **state)
{
	(void)state;
	check(PART + 1, 65536, 2);
	check(PART + 1, PART + 1, 2);
	check(2 * PART, 3001, 2);
	check(2 * PART + 7, 1u << 20, 3);
}

/* The known answer: the SHA-256 of "abc", as S3 and sha256sum show it. */
static void test_known_answer(void **state)
{
	struct s3_upload_opts opts = { 0 };
	struct s3_upload_stats st;
	struct bytes b = { (const unsigned char *)"abc", 3, 1, 0 };

	(void)state;
	assert_int_equal(s3_upload_digest(&st, produce, &b, &opts), 0);
	assert_string_equal(st.sha256,
			    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_string_equal(st.checksum, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
}

static void test_producer_failure(void **state)
{
	struct s3_upload_opts opts = { 0 };
	struct s3_upload_stats st;
	struct bytes b = { NULL, 0, 1, 1 };

	(void)state;
	assert_int_equal(s3_upload_digest(&st, produce, &b, &opts), -1);
	assert_string_equal(err_msg(), "the archive failed");
	err_clear();
}

/* What a HEAD shows decides; a forged object never matches. */
static void test_matches(void **state)
{
	struct s3_upload_stats one = { 0 }, multi = { 0 };

	(void)state;
	one.bytes = 3;
	strcpy(one.checksum, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=");
	assert_true(s3_upload_matches(&one, one.checksum, 3));
	assert_false(s3_upload_matches(&one, NULL, 3));
	assert_false(s3_upload_matches(&one, one.checksum, 4));
	assert_false(s3_upload_matches(&one, one.checksum, -1));
	assert_false(s3_upload_matches(&one, "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=-1", 3));
	assert_false(s3_upload_matches(&one, "", 3));

	multi.bytes = 3 * PART;
	multi.parts = 3;
	strcpy(multi.checksum, "scEvjS7zuhRt0rijwEID+HBYcPrr2N+g4XhAKF6VhYU=-3");
	assert_true(s3_upload_matches(&multi, multi.checksum, 3 * PART));
	/* as moto's HEAD shows it */
	assert_true(s3_upload_matches(&multi,
				      "scEvjS7zuhRt0rijwEID+HBYcPrr2N+g4XhAKF6VhYU=", 3 * PART));
	/* the one object of other bytes with that SHA-256: the digests, 96 bytes */
	assert_false(s3_upload_matches(&multi, "scEvjS7zuhRt0rijwEID+HBYcPrr2N+g4XhAKF6VhYU=", 96));
	assert_false(s3_upload_matches(&multi, "scEvjS7zuhRt0rijwEID+HBYcPrr2N+g4XhAKF6VhYU=-4",
				       3 * PART));
	assert_false(
		s3_upload_matches(&multi, "scEvjS7zuhRt0rijwEID+HBYcPrr2N+g4XhAKF6VhY", 3 * PART));
	assert_false(s3_upload_matches(&multi, "xcEvjS7zuhRt0rijwEID+HBYcPrr2N+g4XhAKF6VhYU=-3",
				       3 * PART));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_put),	     cmocka_unit_test(test_parts),
		cmocka_unit_test(test_known_answer), cmocka_unit_test(test_producer_failure),
		cmocka_unit_test(test_matches),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
