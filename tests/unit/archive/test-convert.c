/*
 * Unit tests for convert and spool: the plan git's rules give for a path's
 * attributes and settings, what ident, the end of line and the encoding do
 * to content (git's own outputs, as t0100 checks against git archive), and
 * a spool that moves to a temporary file once large.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "archive/convert.h"
#include "archive/spool.h"
#include "util/util.h"

static void settings(struct convert *c, int autocrlf, int eol_crlf)
{
	memset(c, 0, sizeof(*c));
	c->autocrlf = autocrlf;
	c->eol_crlf = eol_crlf;
	c->big_file_threshold = 512u << 20;
}

static int collect(void *ctx, const void *data, size_t len)
{
	buf_add(ctx, data, len);
	return 0;
}

/* content after plan, as a string */
static char *apply(struct convert *c, const struct convert_plan *plan, const char *data, size_t len,
		   size_t *out_len)
{
	struct spool s;
	struct buf b = BUF_INIT;
	git_oid id;

	git_oid_fromstr(&id, "0123456789abcdef0123456789abcdef01234567");
	spool_init(&s);
	assert_int_equal(convert_apply(&s, c, plan, "f.txt", &id, data, len), 0);
	assert_int_equal(spool_replay(&s, collect, &b), 0);
	assert_int_equal(s.size, b.len);
	spool_release(&s);
	*out_len = b.len;
	buf_grow(&b, 1);
	return buf_detach(&b);
}

static void test_plan(void **state)
{
	struct attrs_values v = { 0 };
	struct convert_plan p;
	struct convert c;

	(void)state;
	settings(&c, 0, 0);
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_true(convert_plan_empty(&p));
	v.text = "auto"; /* LF out: nothing to do */
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_true(convert_plan_empty(&p));
	v.eol = "crlf"; /* text=auto eol=crlf */
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_int_equal(p.crlf, CONVERT_CRLF_AUTO_CRLF);
	v.text = NULL; /* eol=crlf alone sets text */
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_int_equal(p.crlf, CONVERT_CRLF_TEXT_CRLF);
	v.eol = "lf";
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_true(convert_plan_empty(&p));
	/* core.autocrlf=true: an unspecified path is auto, crlf=input keeps LF */
	settings(&c, 1, 0);
	memset(&v, 0, sizeof(v));
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_int_equal(p.crlf, CONVERT_CRLF_AUTO_CRLF);
	v.crlf = "input";
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_true(convert_plan_empty(&p));
	/* core.eol=crlf: only text files */
	settings(&c, 0, 1);
	memset(&v, 0, sizeof(v));
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_true(convert_plan_empty(&p));
	v.text = "auto";
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_int_equal(p.crlf, CONVERT_CRLF_AUTO);
	/* the encoding: UTF-8 is no conversion, another one is kept once */
	settings(&c, 0, 0);
	memset(&v, 0, sizeof(v));
	v.encoding = "utf8";
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_true(convert_plan_empty(&p));
	v.encoding = "UTF-16LE-BOM";
	assert_int_equal(convert_plan(&p, &c, &v, "a"), 0);
	assert_string_equal(p.encoding, "UTF-16LE-BOM");
	convert_release(&c);
}

static void test_eol_and_ident(void **state)
{
	struct convert_plan p = { CONVERT_CRLF_TEXT_CRLF, 0, NULL, NULL };
	struct convert c;
	size_t len;
	char *s;

	(void)state;
	settings(&c, 0, 0);
	s = apply(&c, &p, "a\nb\r\nc\n", 7, &len);
	assert_string_equal(s, "a\r\nb\r\nc\r\n");
	free(s);
	/* auto: content that has a CRLF already, or looks binary, stays */
	p.crlf = CONVERT_CRLF_AUTO_CRLF;
	s = apply(&c, &p, "a\nb\r\n", 5, &len);
	assert_string_equal(s, "a\nb\r\n");
	free(s);
	s = apply(&c, &p, "a\n\0b\n", 5, &len);
	assert_int_equal(len, 5);
	assert_memory_equal(s, "a\n\0b\n", 5);
	free(s);
	s = apply(&c, &p, "a\nb\n", 4, &len);
	assert_string_equal(s, "a\r\nb\r\n");
	free(s);
	/* ident: every $Id$ and git's own expansions; another VCS's is kept */
	p.crlf = CONVERT_CRLF_BINARY;
	p.ident = 1;
	s = apply(&c, &p, "$Id$ $Id: x $ $Id: a b $ $Id", 28, &len);
	assert_string_equal(s, "$Id: 0123456789abcdef0123456789abcdef01234567 $ "
			       "$Id: 0123456789abcdef0123456789abcdef01234567 $ $Id: a b $ $Id");
	free(s);
	convert_release(&c);
}

static void test_encoding(void **state)
{
	struct convert_plan p = { CONVERT_CRLF_BINARY, 0, NULL, "UTF-16LE-BOM" };
	struct convert c;
	size_t len;
	char *s;

	(void)state;
	settings(&c, 0, 0);
	s = apply(&c, &p, "caf\xc3\xa9", 5, &len);
	assert_int_equal(len, 10);
	assert_memory_equal(s,
			    "\xff\xfe"
			    "c\0a\0f\0\xe9\0",
			    10);
	free(s);
	/* not UTF-8: left as it is, as git leaves it */
	s = apply(&c, &p, "caf\xe9", 4, &len);
	assert_int_equal(len, 4);
	assert_memory_equal(s, "caf\xe9", 4);
	free(s);
	convert_release(&c);
}

static void test_spool(void **state)
{
	struct spool s;
	struct buf b = BUF_INIT;
	char *chunk = xmalloc(100000);
	size_t i;

	(void)state;
	spool_init(&s);
	for (i = 0; i < 30; i++) {
		memset(chunk, 'a' + (int)i % 26, 100000);
		assert_int_equal(spool_write(&s, chunk, 100000), 0);
	}
	assert_true(s.fd >= 0); /* 3 MB: no longer in memory */
	assert_int_equal(s.mem.len, 0);
	assert_int_equal(spool_replay(&s, collect, &b), 0);
	assert_int_equal(b.len, 3000000);
	for (i = 0; i < 30; i++)
		assert_int_equal(b.ptr[i * 100000 + 99999], 'a' + (int)i % 26);
	spool_reset(&s);
	assert_int_equal(s.fd, -1);
	assert_int_equal(spool_write(&s, "small", 5), 0);
	assert_int_equal(s.fd, -1);
	buf_reset(&b);
	assert_int_equal(spool_replay(&s, collect, &b), 0);
	assert_int_equal(b.len, 5);
	spool_release(&s);
	buf_release(&b);
	free(chunk);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_eol_and_ident),
		cmocka_unit_test(test_encoding),
		cmocka_unit_test(test_spool),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
