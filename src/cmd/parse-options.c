#include "cmd/parse-options.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "util/strvec.h"
#include "util/util.h"

void parse_options_usage(FILE *fp, const char *const *usage, const struct option *opts)
{
	int i;

	for (i = 0; usage[i]; i++)
		fprintf(fp, "%s%s\n", i ? "   or: " : "usage: ", usage[i]);
	fputc('\n', fp);
	for (; opts->type != OPTION_END; opts++) {
		struct buf b = BUF_INIT;

		buf_puts(&b, "    ");
		if (opts->short_name)
			buf_printf(&b, "-%c%s", opts->short_name, opts->long_name ? ", " : "");
		if (opts->long_name)
			buf_printf(&b, "--%s", opts->long_name);
		if (opts->argh)
			buf_printf(&b, " <%s>", opts->argh);
		if (b.len < 30)
			fprintf(fp, "%-30s%s\n", b.ptr, opts->help);
		else
			fprintf(fp, "%s\n%30s%s\n", b.ptr, "", opts->help);
		buf_release(&b);
	}
	fputc('\n', fp);
}

static const struct option *find_long(const struct option *opts, const char *name, size_t len)
{
	for (; opts->type != OPTION_END; opts++)
		if (opts->long_name && strlen(opts->long_name) == len &&
		    !strncmp(opts->long_name, name, len))
			return opts;
	return NULL;
}

static const char *closest_long(const struct option *opts, const char *name)
{
	const char *best = NULL;
	size_t best_d = 3;

	for (; opts->type != OPTION_END; opts++) {
		size_t d;

		if (!opts->long_name)
			continue;
		d = levenshtein(name, opts->long_name);
		if (d < best_d || (d <= 3 && !strncmp(name, opts->long_name, strlen(name)) &&
				   strlen(name) >= 2)) {
			best = opts->long_name;
			best_d = d;
		}
	}
	return best;
}

static int set_value(const struct option *o, const char *val, int negated, const char *shown)
{
	switch (o->type) {
	case OPTION_BOOL:
		*(int *)o->value = !negated;
		return 0;
	case OPTION_STRING:
		*(const char **)o->value = val;
		return 0;
	case OPTION_STRING_LIST:
		strvec_push(o->value, val);
		return 0;
	case OPTION_INT: {
		char *end;
		long v;

		errno = 0;
		v = strtol(val, &end, 10);
		if (errno || end == val || *end || v < INT_MIN || v > INT_MAX) {
			msg_error("option '%s' expects a number, not '%s'", shown, val);
			return -1;
		}
		*(int *)o->value = (int)v;
		return 0;
	}
	default:
		return -1;
	}
}

static int bad_option(const struct option *opts, const char *const *usage, const char *arg)
{
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	char *n = xstrndup(name, strcspn(name, "="));
	const char *s = arg[1] == '-' ? closest_long(opts, n) : NULL;

	if (arg[1] == '-')
		msg_error("unknown option '%s'", n);
	else
		msg_error("unknown switch '%c'", arg[1]);
	if (s)
		msg_hint("did you mean '--%s'?", s);
	free(n);
	parse_options_usage(stderr, usage, opts);
	return PARSE_OPT_ERROR;
}

int parse_options(struct parsed_args *out, int argc, const char **argv, const struct option *opts,
		  const char *const *usage)
{
	int i;

	memset(out, 0, sizeof(*out));
	out->args = xcalloc((size_t)argc + 1, sizeof(*out->args));
	for (i = 0; i < argc; i++) {
		const char *arg = argv[i];
		const struct option *o = NULL;
		const char *val = NULL;
		int negated = 0;
		char shown[256];

		if (!strcmp(arg, "--")) {
			out->dashdash = 1;
			out->rest = argv + i + 1;
			out->nr_rest = argc - i - 1;
			return PARSE_OPT_OK;
		}
		if (arg[0] != '-' || !arg[1]) {
			out->args[out->nr_args++] = arg;
			continue;
		}
		if (!strcmp(arg, "-h") || !strcmp(arg, "--help-short")) {
			parse_options_usage(stdout, usage, opts);
			return PARSE_OPT_HELP;
		}
		if (arg[1] == '-') {
			const char *name = arg + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);

			o = find_long(opts, name, len);
			if (!o && len > 3 && !strncmp(name, "no-", 3)) {
				o = find_long(opts, name + 3, len - 3);
				if (o && o->type == OPTION_BOOL)
					negated = 1;
				else
					o = NULL;
			}
			if (!o)
				return bad_option(opts, usage, arg);
			snprintf(shown, sizeof(shown), "--%s", o->long_name);
			if (eq) {
				if (o->type == OPTION_BOOL) {
					msg_error("option '%s' takes no value", shown);
					return PARSE_OPT_ERROR;
				}
				val = eq + 1;
			}
		} else {
			const struct option *p;

			for (p = opts; p->type != OPTION_END; p++)
				if (p->short_name == arg[1])
					o = p;
			if (!o)
				return bad_option(opts, usage, arg);
			snprintf(shown, sizeof(shown), "-%c", o->short_name);
			if (arg[2]) {
				if (o->type == OPTION_BOOL)
					return bad_option(opts, usage, arg);
				val = arg + 2;
			}
		}
		if (o->type != OPTION_BOOL && !val) {
			if (i + 1 >= argc) {
				msg_error("option '%s' requires a value", shown);
				return PARSE_OPT_ERROR;
			}
			val = argv[++i];
		}
		if (set_value(o, val, negated, shown))
			return PARSE_OPT_ERROR;
	}
	out->rest = argv + argc;
	return PARSE_OPT_OK;
}

void parse_options_release(struct parsed_args *pa)
{
	free(pa->args);
	memset(pa, 0, sizeof(*pa));
}
