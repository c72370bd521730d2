/*
 * parse-options: git-style option parsing for the subcommands.
 *
 * Accepts --long, --long=value, --long value, -s, -s value, -svalue, --no-long for
 * booleans, and stops at "--" (everything after it is returned untouched in
 * *rest). Non-option words before "--" are returned in order in *args.
 * An unknown option is reported with the closest known one as a suggestion.
 */
#ifndef CMD_PARSE_OPTIONS_H
#define CMD_PARSE_OPTIONS_H

#include <stdio.h>

enum opt_type {
	OPTION_END,
	OPTION_BOOL,
	OPTION_STRING,
	OPTION_INT,
	OPTION_STRING_LIST /* repeatable: each value appended to a struct strvec */
};

struct option {
	enum opt_type type;
	int short_name;
	const char *long_name;
	void *value; /* int * for BOOL/INT, const char ** for STRING (borrowed from argv),
		       struct strvec * for STRING_LIST (the caller clears it) */
	const char *argh;
	const char *help;
};

#define OPT_BOOL(s, l, v, h)                                                                       \
	{                                                                                          \
		OPTION_BOOL, (s), (l), (v), NULL, (h)                                              \
	}
#define OPT_STRING(s, l, v, a, h)                                                                  \
	{                                                                                          \
		OPTION_STRING, (s), (l), (v), (a), (h)                                             \
	}
#define OPT_INT(s, l, v, a, h)                                                                     \
	{                                                                                          \
		OPTION_INT, (s), (l), (v), (a), (h)                                                \
	}
#define OPT_STRING_LIST(s, l, v, a, h)                                                             \
	{                                                                                          \
		OPTION_STRING_LIST, (s), (l), (v), (a), (h)                                        \
	}
#define OPT_END()                                                                                  \
	{                                                                                          \
		OPTION_END, 0, NULL, NULL, NULL, NULL                                              \
	}

struct parsed_args {
	const char **args; /* non-option words before "--" (array owned, strings borrowed) */
	int nr_args;
	const char **rest; /* words after "--" (points into argv) */
	int nr_rest;
	int dashdash; /* "--" was given */
};

enum {
	PARSE_OPT_OK = 0,
	PARSE_OPT_HELP = 1,
	PARSE_OPT_ERROR = -1
};

/*
 * Parses argv[0..argc) (argv[0] is the first word after the subcommand).
 * Returns PARSE_OPT_OK, PARSE_OPT_HELP after printing usage on stdout for -h,
 * or PARSE_OPT_ERROR after printing the error and usage on stderr.
 * Callers exit 129 for the last two.
 */
int parse_options(struct parsed_args *out, int argc, const char **argv, const struct option *opts,
		  const char *const *usage);
void parse_options_release(struct parsed_args *pa);
void parse_options_usage(FILE *fp, const char *const *usage, const struct option *opts);

#endif
