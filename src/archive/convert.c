/*
 * convert: see convert.h. The rules and their order are git's convert.c
 * (convert_attrs, convert_to_working_tree_ca_internal): ident, then the
 * end of line, then the encoding, then the smudge filter.
 */
#include "archive/convert.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

#define DEFAULT_BIG_FILE_THRESHOLD (512u << 20)
#define CHUNK_ICONV		   (64u << 10)

/* core.bigFileThreshold: a number with an optional k, m or g. */
static int read_threshold(uint64_t *out, const struct config *cfg)
{
	char *v = NULL, *end;
	unsigned long long n;
	int r = config_get_string(&v, cfg, "core.bigfilethreshold");

	*out = DEFAULT_BIG_FILE_THRESHOLD;
	if (r)
		return r < 0 ? -1 : 0;
	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		n <<= 10, end++;
	else if (*end == 'm' || *end == 'M')
		n <<= 20, end++;
	else if (*end == 'g' || *end == 'G')
		n <<= 30, end++;
	if (end == v || *end || errno) {
		err_set("bad core.bigFileThreshold '%s': expected a size like 512m", v);
		free(v);
		return -1;
	}
	free(v);
	*out = n;
	return 0;
}

static int read_eol_settings(struct convert *c)
{
	char *v = NULL;
	int r = config_get_string(&v, &c->cfg, "core.autocrlf");

	if (r < 0)
		return -1;
	if (!r && !strcasecmp(v, "input"))
		c->autocrlf = 2;
	else if (!r && config_parse_bool(&c->autocrlf, v)) {
		err_set("bad core.autocrlf '%s': expected true, false or input", v);
		free(v);
		return -1;
	}
	free(v);
	v = NULL;
	r = config_get_string(&v, &c->cfg, "core.eol");
	if (r < 0)
		return -1;
	if (!r && strcasecmp(v, "lf") && strcasecmp(v, "crlf") && strcasecmp(v, "native")) {
		err_set("bad core.eol '%s': expected lf, crlf or native", v);
		free(v);
		return -1;
	}
	c->eol_crlf = !r && !strcasecmp(v, "crlf");
	free(v);
	return 0;
}

int convert_init(struct convert *c, git_repository *repo, const char *treeish)
{
	memset(c, 0, sizeof(*c));
	if (config_load(&c->cfg, repo))
		return -1;
	filters_init(&c->filters, repo, &c->cfg, treeish);
	if (read_eol_settings(c) || read_threshold(&c->big_file_threshold, &c->cfg))
		return -1;
	return 0;
}

void convert_release(struct convert *c)
{
	size_t i;

	for (i = 0; i < c->nr_encodings; i++)
		free(c->encodings[i]);
	free(c->encodings);
	filters_release(&c->filters);
	config_release(&c->cfg);
}

/* git's text_eol_is_crlf(): where `text` alone puts CRLF. */
static int text_eol_is_crlf(const struct convert *c)
{
	if (c->autocrlf == 1)
		return 1;
	if (c->autocrlf == 2)
		return 0;
	return c->eol_crlf;
}

const char *const *convert_marks(const struct convert *c)
{
	static const char *const text_marks[] = { "export-", "ident", "filter", "crlf", "encoding",
						  "text",    "eol",   "binary", NULL };

	return c->autocrlf == 1 || text_eol_is_crlf(c) ? text_marks : attrs_archive_marks;
}

static int is_string(const char *v)
{
	return GIT_ATTR_HAS_VALUE(v);
}

static enum convert_crlf check_crlf(const char *v)
{
	if (GIT_ATTR_IS_TRUE(v))
		return CONVERT_CRLF_TEXT;
	if (GIT_ATTR_IS_FALSE(v))
		return CONVERT_CRLF_BINARY;
	if (!is_string(v))
		return CONVERT_CRLF_UNDEFINED;
	if (!strcmp(v, "input"))
		return CONVERT_CRLF_TEXT_INPUT;
	if (!strcmp(v, "auto"))
		return CONVERT_CRLF_AUTO;
	return CONVERT_CRLF_UNDEFINED;
}

static enum convert_crlf decide_crlf(const struct convert *c, const struct attrs_values *v)
{
	enum convert_crlf a = check_crlf(v->text);

	if (a == CONVERT_CRLF_UNDEFINED)
		a = check_crlf(v->crlf);
	if (a != CONVERT_CRLF_BINARY && is_string(v->eol)) {
		int lf = !strcmp(v->eol, "lf"), crlf = !strcmp(v->eol, "crlf");

		if (a == CONVERT_CRLF_AUTO && (lf || crlf))
			a = lf ? CONVERT_CRLF_AUTO_INPUT : CONVERT_CRLF_AUTO_CRLF;
		else if (lf)
			a = CONVERT_CRLF_TEXT_INPUT;
		else if (crlf)
			a = CONVERT_CRLF_TEXT_CRLF;
	}
	if (a == CONVERT_CRLF_TEXT)
		a = text_eol_is_crlf(c) ? CONVERT_CRLF_TEXT_CRLF : CONVERT_CRLF_TEXT_INPUT;
	if (a == CONVERT_CRLF_UNDEFINED)
		a = c->autocrlf == 1   ? CONVERT_CRLF_AUTO_CRLF
		    : c->autocrlf == 2 ? CONVERT_CRLF_AUTO_INPUT
				       : CONVERT_CRLF_BINARY;
	return a;
}

/* git's output_eol() == EOL_CRLF */
static int output_crlf(const struct convert *c, enum convert_crlf a)
{
	switch (a) {
	case CONVERT_CRLF_TEXT_CRLF:
	case CONVERT_CRLF_UNDEFINED:
	case CONVERT_CRLF_AUTO_CRLF:
		return 1;
	case CONVERT_CRLF_TEXT:
	case CONVERT_CRLF_AUTO:
		return text_eol_is_crlf(c);
	default:
		return 0;
	}
}

static int is_utf8_name(const char *s)
{
	return !strcasecmp(s, "utf-8") || !strcasecmp(s, "utf8");
}

static const char *intern_encoding(struct convert *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nr_encodings; i++)
		if (!strcmp(c->encodings[i], name))
			return c->encodings[i];
	c->encodings = xrealloc(c->encodings, (c->nr_encodings + 1) * sizeof(*c->encodings));
	c->encodings[c->nr_encodings] = xstrdup(name);
	return c->encodings[c->nr_encodings++];
}

int convert_plan(struct convert_plan *out, struct convert *c, const struct attrs_values *v,
		 const char *path)
{
	struct filter_driver *d = NULL;

	enum convert_crlf crlf = decide_crlf(c, v);

	memset(out, 0, sizeof(*out));
	/* only CRLF output changes content on its way out */
	out->crlf = (unsigned char)(output_crlf(c, crlf) ? crlf : CONVERT_CRLF_BINARY);
	out->ident = GIT_ATTR_IS_TRUE(v->ident);
	if (GIT_ATTR_IS_TRUE(v->encoding) || GIT_ATTR_IS_FALSE(v->encoding))
		return err_set("cannot archive '%s': working-tree-encoding must name an encoding, "
			       "not true or false",
			       path);
	if (is_string(v->encoding) && *v->encoding && !is_utf8_name(v->encoding))
		out->encoding = intern_encoding(c, v->encoding);
	if (!is_string(v->filter))
		return 0;
	if (filters_get(&d, &c->filters, v->filter) || filter_check(d, path))
		return -1;
	if (!d->process && !d->smudge && d->required) {
		err_set("cannot archive '%s': the filter '%s' is required, but neither "
			"filter.%s.process nor filter.%s.smudge is set",
			path, d->name, d->name, d->name);
		return -1;
	}
	if (d->process || d->smudge)
		out->driver = d;
	return 0;
}

int convert_plan_empty(const struct convert_plan *p)
{
	return !p->ident && !p->driver && !p->encoding &&
	       (p->crlf == CONVERT_CRLF_BINARY || p->crlf == CONVERT_CRLF_TEXT_INPUT ||
		p->crlf == CONVERT_CRLF_AUTO_INPUT);
}

/* ident: git's count_ident() and ident_to_worktree(). */

static size_t count_ident(const char *cp, size_t size)
{
	size_t cnt = 0;
	char ch;

	while (size) {
		ch = *cp++;
		size--;
		if (ch != '$')
			continue;
		if (size < 3)
			break;
		if (memcmp("Id", cp, 2))
			continue;
		ch = cp[2];
		cp += 3;
		size -= 3;
		if (ch == '$')
			cnt++;
		if (ch != ':')
			continue;
		while (size) {
			ch = *cp++;
			size--;
			if (ch == '$') {
				cnt++;
				break;
			}
			if (ch == '\n')
				break;
		}
	}
	return cnt;
}

static void ident_to_worktree(struct buf *out, const char *src, size_t len, const git_oid *id)
{
	char hex[GIT_OID_HEXSZ + 1];
	const char *dollar, *spc;

	git_oid_tostr(hex, sizeof(hex), id);
	for (;;) {
		dollar = memchr(src, '$', len);
		if (!dollar)
			break;
		buf_add(out, src, (size_t)(dollar + 1 - src));
		len -= (size_t)(dollar + 1 - src);
		src = dollar + 1;
		if (len < 3 || memcmp("Id", src, 2))
			continue;
		if (src[2] == '$') {
			src += 3;
			len -= 3;
		} else if (src[2] == ':') {
			dollar = memchr(src + 3, '$', len - 3);
			if (!dollar)
				break;
			if (memchr(src + 3, '\n', (size_t)(dollar - src - 3)))
				continue;
			spc = dollar - src > 4 ? memchr(src + 4, ' ', (size_t)(dollar - src - 4))
					       : NULL;
			if (spc && spc < dollar - 1)
				continue;
			len -= (size_t)(dollar + 1 - src);
			src = dollar + 1;
		} else {
			continue;
		}
		buf_printf(out, "Id: %s $", hex);
	}
	buf_add(out, src, len);
}

/* The end of line: git's gather_stats(), will_convert_lf_to_crlf(), crlf_to_worktree(). */

struct text_stat {
	size_t nul, lonecr, lonelf, crlf, printable, nonprintable;
};

static void gather_stats(struct text_stat *s, const char *buf, size_t size)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < size; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c == '\r') {
			if (i + 1 < size && buf[i + 1] == '\n') {
				s->crlf++;
				i++;
			} else {
				s->lonecr++;
			}
		} else if (c == '\n') {
			s->lonelf++;
		} else if (c == 127) {
			s->nonprintable++;
		} else if (c < 32) {
			if (c == '\b' || c == '\t' || c == '\033' || c == '\014') {
				s->printable++;
			} else {
				if (!c)
					s->nul++;
				s->nonprintable++;
			}
		} else {
			s->printable++;
		}
	}
	if (size >= 1 && buf[size - 1] == '\032')
		s->nonprintable--;
}

static int will_convert(const struct text_stat *s, enum convert_crlf a)
{
	if (!s->lonelf)
		return 0;
	if (a == CONVERT_CRLF_AUTO || a == CONVERT_CRLF_AUTO_INPUT || a == CONVERT_CRLF_AUTO_CRLF) {
		if (s->lonecr || s->crlf)
			return 0;
		if (s->lonecr || s->nul || (s->printable >> 7) < s->nonprintable)
			return 0;
	}
	return 1;
}

static void lf_to_crlf(struct buf *out, const char *src, size_t len)
{
	for (;;) {
		const char *nl = memchr(src, '\n', len);

		if (!nl)
			break;
		if (nl > src && nl[-1] == '\r') {
			buf_add(out, src, (size_t)(nl + 1 - src));
		} else {
			buf_add(out, src, (size_t)(nl - src));
			buf_add(out, "\r\n", 2);
		}
		len -= (size_t)(nl + 1 - src);
		src = nl + 1;
	}
	buf_add(out, src, len);
}

/* working-tree-encoding: git's reencode_string_len() from UTF-8. */

static int same_utf(const char *name, const char *want)
{
	if (strncasecmp(name, "utf", 3))
		return 0;
	name += 3;
	want += 3;
	if (*name == '-')
		name++;
	if (*want == '-')
		want++;
	return !strcasecmp(name, want);
}

static int reencode(struct buf *out, const char *src, size_t len, const char *to)
{
	static const char le_bom[] = { '\xff', '\xfe' }, be_bom[] = { '\xfe', '\xff' };
	const char *bom = NULL;
	char *in = (char *)src, *chunk = xmalloc(CHUNK_ICONV);
	iconv_t cd;
	int ret = 0;

	if (same_utf(to, "UTF-16LE-BOM"))
		bom = le_bom, to = "UTF-16LE";
	else if (same_utf(to, "UTF-16BE-BOM"))
		bom = be_bom, to = "UTF-16BE";
	cd = iconv_open(to, "UTF-8");
	if (cd == (iconv_t)-1) {
		free(chunk);
		return -1;
	}
	if (bom)
		buf_add(out, bom, 2);
	while (len) {
		char *o = chunk;
		size_t room = CHUNK_ICONV;

		if (iconv(cd, &in, &len, &o, &room) == (size_t)-1 && errno != E2BIG) {
			ret = -1;
			break;
		}
		buf_add(out, chunk, (size_t)(o - chunk));
	}
	iconv_close(cd);
	free(chunk);
	return ret;
}

static int smudge(struct spool *out, struct convert *c, const struct convert_plan *plan,
		  const char *path, const git_oid *id, const char *data, size_t len)
{
	struct filter_driver *d = plan->driver;
	int r;

	if (!d)
		return spool_write(out, data, len);
	r = filter_smudge(out, &c->filters, d, path, id, data, len);
	if (r <= 0)
		return r;
	if (d->required) {
		err_set("cannot archive '%s': the smudge filter '%s' failed", path, d->name);
		err_hint("'%s' is required (filter.%s.required): its messages above say why; "
			 "for Git LFS, 'git lfs fetch' gets the objects a commit needs",
			 d->process ? d->process : d->smudge, d->name);
		return -1;
	}
	/* as git: a driver that is not required leaves the content as it is */
	return spool_write(out, data, len);
}

int convert_apply(struct spool *out, struct convert *c, const struct convert_plan *plan,
		  const char *path, const git_oid *id, const char *data, size_t len)
{
	struct buf a = BUF_INIT, b = BUF_INIT;
	int r;

	spool_reset(out);
	if (plan->ident && count_ident(data, len)) {
		ident_to_worktree(&a, data, len, id);
		data = a.ptr;
		len = a.len;
	}
	if (len && output_crlf(c, (enum convert_crlf)plan->crlf)) {
		struct text_stat s;

		gather_stats(&s, data, len);
		if (will_convert(&s, (enum convert_crlf)plan->crlf)) {
			lf_to_crlf(&b, data, len);
			buf_release(&a);
			a = b;
			b = (struct buf)BUF_INIT;
			data = a.ptr;
			len = a.len;
		}
	}
	if (plan->encoding && len) {
		if (!reencode(&b, data, len, plan->encoding)) {
			data = b.ptr;
			len = b.len;
		}
		/* as git: content that does not convert stays as it is */
	}
	r = smudge(out, c, plan, path, id, data, len);
	buf_release(&a);
	buf_release(&b);
	return r;
}
