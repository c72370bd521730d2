/*
 * metric-patterns: metrics from the lines of a run's log (see
 * metric-patterns.h).
 */
#include "run/metric-patterns.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "services/s3-objects.h"
#include "util/strvec.h"

/* Metric names as notes and tables show them well: no space, no '='. */
static int good_name(const char *s, size_t n)
{
	size_t i;

	if (!n)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("_.-/", s[i]))
			return 0;
	return 1;
}

int metric_patterns_add(struct metric_patterns *p, const char *entry)
{
	const char *eq = strchr(entry, '=');
	struct metric_pattern m;
	char msg[256];
	int r;

	if (!eq)
		return err_set("train.metric '%s' is not <name>=<regex>: "
			       "git config --add train.metric 'val_loss=val loss ([0-9.]+)'",
			       entry);
	if (!good_name(entry, (size_t)(eq - entry)))
		return err_set("train.metric '%s': the metric's name '%.*s' must be letters, "
			       "digits, '_', '.', '-' or '/'",
			       entry, (int)(eq - entry), entry);
	r = regcomp(&m.re, eq + 1, REG_EXTENDED);
	if (r) {
		regerror(r, &m.re, msg, sizeof(msg));
		return err_set("train.metric '%s': bad regular expression: %s", entry, msg);
	}
	if (m.re.re_nsub != 1) {
		regfree(&m.re);
		return err_set("train.metric '%s': the regular expression must have exactly one "
			       "capture group, the number (it has %zu), e.g. 'val loss ([0-9.]+)'",
			       entry, (size_t)m.re.re_nsub);
	}
	m.name = xstrndup(entry, (size_t)(eq - entry));
	p->v = xrealloc(p->v, (p->nr + 1) * sizeof(*p->v));
	p->v[p->nr++] = m;
	return 0;
}

int metric_patterns_load(struct metric_patterns *out, const struct config *cfg)
{
	struct strvec v = STRVEC_INIT;
	size_t i;
	int r, ret = -1;

	memset(out, 0, sizeof(*out));
	r = config_get_all(&v, cfg, "train.metric");
	if (r < 0)
		goto out;
	for (i = 0; i < v.nr; i++)
		if (metric_patterns_add(out, v.v[i]))
			goto out;
	ret = 0;
out:
	if (ret)
		metric_patterns_release(out);
	strvec_clear(&v);
	return ret;
}

int metric_patterns_load_lenient(struct metric_patterns *out, const struct config *cfg,
				 struct buf *skipped)
{
	struct strvec v = STRVEC_INIT;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (config_get_all(&v, cfg, "train.metric") < 0)
		return -1;
	for (i = 0; i < v.nr; i++)
		if (metric_patterns_add(out, v.v[i])) {
			buf_printf(skipped, "%s%s", skipped->len ? "\n" : "", err_msg());
			err_clear();
		}
	strvec_clear(&v);
	return 0;
}

void metric_patterns_release(struct metric_patterns *p)
{
	size_t i;

	for (i = 0; i < p->nr; i++) {
		free(p->v[i].name);
		regfree(&p->v[i].re);
	}
	free(p->v);
	memset(p, 0, sizeof(*p));
}

void metric_scan_init(struct metric_scan *s, const struct metric_patterns *p)
{
	memset(s, 0, sizeof(*s));
	s->p = p;
	s->values = xcalloc(p->nr ? p->nr : 1, sizeof(*s->values));
	s->found = xcalloc(p->nr ? p->nr : 1, sizeof(*s->found));
	s->at = xcalloc(p->nr ? p->nr : 1, sizeof(*s->at));
}

void metric_scan_release(struct metric_scan *s)
{
	free(s->values);
	free(s->found);
	free(s->at);
	memset(s, 0, sizeof(*s));
}

/* A decimal number, the whole of s[0, n): "0.25", "-3", "1e-4", ".5". */
static int parse_number(double *out, const char *s, size_t n)
{
	char tmp[64];
	size_t i = 0, digits = 0;
	char *end;

	if (!n || n >= sizeof(tmp))
		return -1;
	if (s[i] == '+' || s[i] == '-')
		i++;
	for (; i < n && isdigit((unsigned char)s[i]); i++)
		digits++;
	if (i < n && s[i] == '.')
		for (i++; i < n && isdigit((unsigned char)s[i]); i++)
			digits++;
	if (!digits)
		return -1;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (i >= n || !isdigit((unsigned char)s[i]))
			return -1;
		while (i < n && isdigit((unsigned char)s[i]))
			i++;
	}
	if (i != n)
		return -1;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	errno = 0;
	*out = strtod(tmp, &end);
	return errno || !isfinite(*out) ? -1 : 0;
}

/* Every match of pattern k in the line, in order: the last number counts. */
static void match_line(struct metric_scan *s, size_t k, const char *line)
{
	const regex_t *re = &s->p->v[k].re;
	regmatch_t m[2];
	const char *p = line;
	int flags = 0;
	double v;

	while (*p && !regexec(re, p, 2, m, flags)) {
		if (m[1].rm_so >= 0 &&
		    !parse_number(&v, p + m[1].rm_so, (size_t)(m[1].rm_eo - m[1].rm_so))) {
			s->values[k] = v;
			s->found[k] = 1;
			s->at[k] = s->lines;
		}
		/* on: past the match, at least a byte */
		p += m[0].rm_eo > 0 ? m[0].rm_eo : 1;
		flags = REG_NOTBOL;
	}
}

static void end_line(struct metric_scan *s)
{
	size_t k;

	s->line[s->len] = '\0';
	s->lines++;
	for (k = 0; k < s->p->nr; k++)
		match_line(s, k, s->line);
	s->len = 0;
	s->cut = 0;
}

void metric_scan_feed(struct metric_scan *s, const void *data, size_t len)
{
	const char *d = data;
	size_t i;

	if (!s->p->nr)
		return;
	for (i = 0; i < len; i++) {
		char c = d[i];

		if (c == '\n' || c == '\r') {
			if (s->cut)
				s->cut = 0, s->len = 0;
			else
				end_line(s);
		} else if (s->cut) {
			continue;
		} else if (s->len == METRIC_LINE_MAX) {
			end_line(s); /* what fits is matched, the rest of the line is not */
			s->cut = 1;
		} else {
			/* a NUL would end the line for regexec: take it as a space */
			s->line[s->len++] = c ? c : ' ';
		}
	}
}

void metric_scan_finish(struct metric_scan *s, struct run_record *rec)
{
	size_t k, j, i;

	if (!s->p->nr)
		return;
	if (s->len && !s->cut)
		end_line(s);
	for (k = 0; k < s->p->nr; k++) {
		const char *name = s->p->v[k].name;
		size_t best = k;
		int taken = 0;

		if (!s->found[k])
			continue;
		for (i = 0; i < rec->nr_metrics && !taken; i++)
			taken = !strcmp(rec->metrics[i].name, name);
		/* one of the same name matched later (or on the same line, after it) */
		for (j = 0; j < s->p->nr && !taken; j++)
			if (j != k && s->found[j] && !strcmp(s->p->v[j].name, name) &&
			    (s->at[j] > s->at[best] || (s->at[j] == s->at[best] && j > best)))
				best = j;
		if (!taken && best == k)
			run_record_add_metric(rec, name, s->values[k]);
	}
}

int metric_patterns_apply_file(struct run_record *rec, const struct metric_patterns *p,
			       const char *path)
{
	struct metric_scan s;
	char chunk[65536];
	ssize_t n;
	int fd;

	if (!p || !p->nr)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_set("cannot read the log '%s': %s", path, strerror(errno));
	metric_scan_init(&s, p);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		metric_scan_feed(&s, chunk, (size_t)n);
	if (n < 0) {
		err_set("cannot read the log '%s': %s", path, strerror(errno));
	} else {
		metric_scan_finish(&s, rec);
	}
	close(fd);
	metric_scan_release(&s);
	return n < 0 ? -1 : 0;
}

static int scan_sink(void *ctx, const void *data, size_t len)
{
	metric_scan_feed(ctx, data, len);
	return 0;
}

int metric_patterns_apply_s3(struct run_record *rec, const struct metric_patterns *p,
			     struct aws_client *c, const char *bucket, const char *key)
{
	struct metric_scan s;
	int r;

	if (!p || !p->nr)
		return 0;
	metric_scan_init(&s, p);
	r = s3_get_object(NULL, c, bucket, key, 0, scan_sink, &s);
	if (r >= 0)
		metric_scan_finish(&s, rec);
	metric_scan_release(&s);
	return r < 0 ? -1 : 0;
}
