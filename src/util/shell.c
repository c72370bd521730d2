#include "util/shell.h"

#include <string.h>

/*
 * Length of the valid UTF-8 sequence at s (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF), 0 if it is not one or is NUL.
 */
static size_t utf8_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t n, i;

	if (!s[0])
		return 0;
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
}

/* A run of valid UTF-8, single-quoted; a quote ends the quoting for '\''. */
static void quote_text(struct buf *out, const char *s, size_t len)
{
	size_t i;

	buf_putc(out, '\'');
	for (i = 0; i < len; i++) {
		if (s[i] == '\'')
			buf_puts(out, "'\\''");
		else
			buf_putc(out, s[i]);
	}
	buf_putc(out, '\'');
}

/*
 * Bytes that are not UTF-8, made by printf at run time (never a newline, so
 * $() keeps them all). NULs are left out: no shell word can hold one.
 */
static void quote_bytes(struct buf *out, const unsigned char *s, size_t len)
{
	size_t i;

	while (len && !*s) {
		s++;
		len--;
	}
	if (!len)
		return;
	buf_puts(out, "\"$(printf '");
	for (i = 0; i < len; i++)
		if (s[i])
			buf_printf(out, "\\%03o", s[i]);
	buf_puts(out, "')\"");
}

/* Words that mean themselves to every shell stay bare, as shlex.quote leaves them. */
static int is_bare(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!s[i] || !strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				     "0123456789@%+=:,./_-",
				     s[i]))
			return 0;
	return len > 0;
}

void shell_quote(struct buf *out, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, before = out->len;

	if (is_bare(s, len)) {
		buf_add(out, s, len);
		return;
	}
	while (i < len) {
		size_t start = i, n;

		while (i < len && (n = utf8_len(u + i, len - i)))
			i += n;
		if (i > start) {
			quote_text(out, s + start, i - start);
			continue;
		}
		while (i < len && !utf8_len(u + i, len - i))
			i++;
		quote_bytes(out, u + start, i - start);
	}
	if (out->len == before)
		buf_puts(out, "''");
}

void shell_quote_argv(struct buf *out, const char *const *argv, int argc)
{
	int i;

	for (i = 0; i < argc; i++) {
		if (i)
			buf_putc(out, ' ');
		shell_quote(out, argv[i], strlen(argv[i]));
	}
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* One word starting at *s (not a blank); *s ends past it. 0, or -1 with err_set. */
static int split_word(struct buf *word, const char **s, const char *all)
{
	const char *p = *s;
	char quote = 0;

	for (; *p && (quote || !is_blank(*p)); p++) {
		if (quote == '\'') {
			if (*p == '\'')
				quote = 0;
			else
				buf_putc(word, *p);
		} else if (*p == '\\' && (!quote || (p[1] && strchr("$`\"\\\n", p[1])))) {
			if (!p[1])
				return err_set("'%s' ends with a backslash", all);
			p++;
			if (*p != '\n') /* backslash-newline joins lines */
				buf_putc(word, *p);
		} else if (quote == '"' && *p == '"') {
			quote = 0;
		} else if (!quote && (*p == '\'' || *p == '"')) {
			quote = *p;
		} else {
			buf_putc(word, *p);
		}
	}
	*s = p;
	if (quote)
		return err_set("unterminated %s quote in '%s'", quote == '"' ? "double" : "single",
			       all);
	return 0;
}

int shell_split(struct strvec *out, const char *s)
{
	const char *p = s;

	for (;;) {
		struct buf word = BUF_INIT;

		while (is_blank(*p) || (p[0] == '\\' && p[1] == '\n'))
			p += is_blank(*p) ? 1 : 2;
		if (!*p)
			return 0;
		if (split_word(&word, &p, s)) {
			buf_release(&word);
			return -1;
		}
		strvec_push(out, buf_cstr(&word));
		buf_release(&word);
	}
}
