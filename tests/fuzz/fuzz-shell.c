/*
 * fuzz-shell: train.args-style text split into words and quoted back
 * (quote(split(x)) splits to the same words), and words quoted for the SSM
 * command split back to themselves (split(quote(words)) == words) when they
 * are UTF-8: other bytes are quoted as $(printf ...), which only a shell
 * expands. The input's first byte picks the direction; words are separated
 * by NUL bytes.
 */
#include "fuzz.h"

#include "util/shell.h"

/* RFC 3629 UTF-8 without NUL, as shell.c's quoting takes literally. */
static int is_utf8(const unsigned char *s, size_t len)
{
	size_t i = 0, n, k;

	while (i < len) {
		unsigned char c = s[i], lo = 0x80, hi = 0xbf;

		if (!c)
			return 0;
		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf)
			n = 2;
		else if (c >= 0xe0 && c <= 0xef)
			n = 3;
		else if (c >= 0xf0 && c <= 0xf4)
			n = 4;
		else
			return 0;
		if (c == 0xe0)
			lo = 0xa0;
		else if (c == 0xed)
			hi = 0x9f;
		else if (c == 0xf0)
			lo = 0x90;
		else if (c == 0xf4)
			hi = 0x8f;
		if (len - i < n || s[i + 1] < lo || s[i + 1] > hi)
			return 0;
		for (k = 2; k < n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return 0;
		i += n;
	}
	return 1;
}

/*
 * Quotes words and splits them back: the same words (when they are UTF-8:
 * the quoting may respell the rest), never a NUL in the quoted text.
 */
static void quote_back(const struct strvec *words, int all_utf8)
{
	struct strvec back = STRVEC_INIT;
	struct buf q = BUF_INIT;
	size_t i;

	shell_quote_argv(&q, (const char *const *)words->v, (int)words->nr);
	FUZZ_CHECK(!memchr(buf_cstr(&q), '\0', q.len), "a NUL in the quoted text");
	FUZZ_CHECK(!shell_split(&back, buf_cstr(&q)), "quoted words do not split (%s): %s",
		   err_msg(), buf_cstr(&q));
	if (all_utf8) {
		FUZZ_CHECK(words->nr == back.nr, "%zu words became %zu: %s", words->nr, back.nr,
			   buf_cstr(&q));
		for (i = 0; i < words->nr; i++)
			FUZZ_CHECK(!strcmp(words->v[i], back.v[i]),
				   "word %zu '%s' became '%s' in: %s", i, words->v[i], back.v[i],
				   buf_cstr(&q));
	}
	strvec_clear(&back);
	buf_release(&q);
}

/* split, quote, split: the same words. */
static void split_quote_split(const char *text)
{
	struct strvec words = STRVEC_INIT;
	size_t i;

	if (!shell_split(&words, text)) {
		int all_utf8 = 1;

		for (i = 0; i < words.nr; i++)
			all_utf8 &= is_utf8((const unsigned char *)words.v[i], strlen(words.v[i]));
		quote_back(&words, all_utf8);
	}
	err_clear();
	strvec_clear(&words);
}

/* quote, split: the same words. */
static void quote_split(const uint8_t *data, size_t size)
{
	struct strvec words = STRVEC_INIT;
	const char *p = (const char *)data, *end = p + size;
	int all_utf8 = 1;

	while (p <= end && size) {
		const char *nul = memchr(p, '\0', (size_t)(end - p));
		size_t n = nul ? (size_t)(nul - p) : (size_t)(end - p);

		all_utf8 &= is_utf8((const unsigned char *)p, n);
		strvec_push_nodup(&words, xstrndup(p, n));
		p += n + 1;
	}
	quote_back(&words, all_utf8);
	err_clear();
	strvec_clear(&words);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;

	if (!size)
		return 0;
	if (data[0] & 1) {
		quote_split(data + 1, size - 1);
		return 0;
	}
	text = fuzz_cstr(data + 1, size - 1);
	split_quote_split(text);
	free(text);
	return 0;
}
