/* aws-trace: GIT_TRAIN_TRACE lines on stderr, secrets redacted. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "aws/internal.h"

#define REDACTED "<redacted>"

int aws_trace_level(void)
{
	const char *v = getenv("GIT_TRAIN_TRACE");

	if (!v || !*v || !strcmp(v, "0") || !strcasecmp(v, "false") || !strcasecmp(v, "no"))
		return 0;
	if (!strcmp(v, "2") || !strcasecmp(v, "headers"))
		return 2;
	return 1;
}

/* Presigned URLs carry the credential scope, the signature and the token. */
static const char *const secret_params[] = {
	"X-Amz-Signature=",
	"X-Amz-Credential=",
	"X-Amz-Security-Token=",
};

static void redact_params(struct buf *line)
{
	struct buf out = BUF_INIT;
	const char *p = line->ptr, *end;
	size_t i;

	while (*p) {
		for (i = 0; i < ARRAY_SIZE(secret_params); i++)
			if (!strncasecmp(p, secret_params[i], strlen(secret_params[i])))
				break;
		if (i == ARRAY_SIZE(secret_params) ||
		    (p > line->ptr && p[-1] != '?' && p[-1] != '&' && p[-1] != ' ' &&
		     p[-1] != ',')) {
			buf_putc(&out, *p++);
			continue;
		}
		buf_add(&out, p, strlen(secret_params[i]));
		buf_puts(&out, REDACTED);
		end = p + strcspn(p, "& ,");
		p = end;
	}
	buf_release(line);
	*line = out;
}

static void redact_secret(struct buf *line, const char *secret)
{
	struct buf out = BUF_INIT;
	size_t n = strlen(secret);
	const char *p = line->ptr, *hit;

	while ((hit = strstr(p, secret))) {
		buf_add(&out, p, (size_t)(hit - p));
		buf_puts(&out, REDACTED);
		p = hit + n;
	}
	buf_puts(&out, p);
	buf_release(line);
	*line = out;
}

static void emit(const char *const *secrets, struct buf *line)
{
	size_t i;

	buf_grow(line, 0);
	redact_params(line);
	/* Real secrets are long; a short one would blank out ordinary words. */
	for (i = 0; secrets && secrets[i]; i++)
		if (strlen(secrets[i]) >= 8)
			redact_secret(line, secrets[i]);
	buf_putc(line, '\n');
	/* One write per line, so lines from parallel requests do not mix. */
	fputs(line->ptr, stderr);
	fflush(stderr);
}

void aws_trace(const char *const *secrets, const char *fmt, ...)
{
	struct buf line = BUF_INIT;
	va_list ap;

	buf_puts(&line, "trace: ");
	va_start(ap, fmt);
	buf_vprintf(&line, fmt, ap);
	va_end(ap);
	emit(secrets, &line);
	buf_release(&line);
}

void aws_trace_header(const char *const *secrets, char dir, const char *name, const char *value)
{
	struct buf line = BUF_INIT;

	buf_printf(&line, "trace: %c %s: ", dir, name);
	if (!strcasecmp(name, "Authorization")) {
		/* The credential scope and signed header names are useful; the rest is not. */
		const char *sig = strstr(value, "Signature=");

		if (sig)
			buf_add(&line, value, (size_t)(sig - value));
		buf_puts(&line, sig ? "Signature=" REDACTED : REDACTED);
	} else if (!strcasecmp(name, "X-Amz-Security-Token")) {
		buf_puts(&line, REDACTED);
	} else {
		buf_puts(&line, value);
	}
	emit(secrets, &line);
	buf_release(&line);
}
