#include "aws/creds/profile.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "util/util.h"

static struct aws_config_entry *find_entry(const struct aws_profile_section *s, const char *key)
{
	size_t i;

	for (i = 0; i < s->nr; i++)
		if (!strcmp(s->v[i].key, key))
			return &s->v[i];
	return NULL;
}

static void section_set(struct aws_profile_section *s, const char *key, const char *value)
{
	struct aws_config_entry *e = find_entry(s, key);

	if (!e) {
		if (s->nr == s->alloc) {
			s->alloc = s->alloc ? 2 * s->alloc : 8;
			s->v = xrealloc(s->v, s->alloc * sizeof(*s->v));
		}
		e = &s->v[s->nr++];
		e->key = xstrdup(key);
		e->value = NULL;
	}
	secret_free(e->value);
	e->value = xstrdup(value);
}

/* A continuation line of a multi-line value: configparser joins with '\n'. */
static void section_append(struct aws_profile_section *s, const char *key, const char *more)
{
	struct aws_config_entry *e = find_entry(s, key);
	char *joined;

	if (!e)
		return;
	joined = xstrfmt("%s\n%s", e->value, more);
	secret_free(e->value);
	e->value = joined;
}

static void section_release(struct aws_profile_section *s)
{
	size_t i;

	for (i = 0; i < s->nr; i++) {
		free(s->v[i].key);
		secret_free(s->v[i].value);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static char *trim(char *s)
{
	char *end;

	while (isspace((unsigned char)*s))
		s++;
	end = s + strlen(s);
	while (end > s && isspace((unsigned char)end[-1]))
		*--end = '\0';
	return s;
}

static void lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/*
 * The profile a section header names, or NULL when it is not a profile:
 * botocore shlex-splits "profile NAME" and wants exactly two words.
 */
static char *header_profile(char *header, int is_config)
{
	char *name;
	size_t len;

	if (!is_config || !strcmp(header, "default"))
		return header;
	if (strncmp(header, "profile", 7) || !isspace((unsigned char)header[7]))
		return NULL;
	name = trim(header + 7);
	len = strlen(name);
	if (len >= 2 && (name[0] == '"' || name[0] == '\'') && name[len - 1] == name[0]) {
		name[len - 1] = '\0';
		return name + 1;
	}
	if (!*name || strpbrk(name, " \t"))
		return NULL;
	return name;
}

static void add_name(struct strvec *names, const char *name)
{
	size_t i;

	if (!names)
		return;
	for (i = 0; i < names->nr; i++)
		if (!strcmp(names->v[i], name))
			return;
	strvec_push(names, name);
}

struct parse_state {
	int in_section;	   /* a section header was seen */
	int match;	   /* the current section is the wanted profile */
	char *key;	   /* the last setting's key, for continuation lines */
	size_t key_indent; /* its indentation */
	int nested;	   /* its value was empty: continuation lines are settings */
};

static int parse_header(struct parse_state *st, struct aws_profile_section *out,
			struct strvec *names, char *line, int is_config, const char *name)
{
	char *close = strrchr(line, ']');
	char *profile;

	if (!close)
		return -1;
	*close = '\0';
	profile = header_profile(trim(line + 1), is_config);
	st->in_section = 1;
	st->match = profile && !strcmp(profile, name);
	if (profile)
		add_name(names, profile);
	if (st->match)
		out->found = 1;
	free(st->key);
	st->key = NULL;
	return 0;
}

static int parse_setting(struct parse_state *st, struct aws_profile_section *out, char *line,
			 size_t indent)
{
	size_t split = strcspn(line, "=:");
	char *key, *value;

	if (!line[split] || !st->in_section)
		return -1;
	line[split] = '\0';
	key = trim(line);
	value = trim(line + split + 1);
	if (!*key)
		return -1;
	lower(key);
	free(st->key);
	st->key = xstrdup(key);
	st->key_indent = indent;
	st->nested = !*value;
	if (st->match)
		section_set(out, key, value);
	return 0;
}

static void parse_continuation(struct parse_state *st, struct aws_profile_section *out, char *line)
{
	size_t split = strcspn(line, "=:");
	char *sub;

	if (!st->match)
		return;
	if (!st->nested) {
		section_append(out, st->key, line);
		return;
	}
	if (!line[split])
		return; /* botocore ignores such a line in a nested section too */
	line[split] = '\0';
	sub = xstrfmt("%s.%s", st->key, trim(line));
	lower(sub);
	section_set(out, sub, trim(line + split + 1));
	free(sub);
}

int aws_profile_parse(struct aws_profile_section *out, struct strvec *names, const char *text,
		      const char *file, int is_config, const char *name)
{
	struct parse_state st = { 0 };
	char *copy = xstrdup(text), *line, *next, *s;
	size_t lineno = 0, indent;
	int ret = -1;

	for (line = copy; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		for (s = line; *s == ' ' || *s == '\t'; s++)
			;
		indent = (size_t)(s - line);
		s = trim(s);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (st.key && indent > st.key_indent) {
			parse_continuation(&st, out, s);
		} else if (*s == '[') {
			if (parse_header(&st, out, names, s, is_config, name)) {
				err_set("cannot read '%s': line %zu: section header without ']'",
					file, lineno);
				goto out;
			}
		} else if (parse_setting(&st, out, s, indent)) {
			/* The line itself is not quoted: it may be a mistyped secret. */
			if (!st.in_section)
				err_set("cannot read '%s': line %zu: setting before any [section]",
					file, lineno);
			else
				err_set("cannot read '%s': line %zu: expected 'name = value'", file,
					lineno);
			err_hint("the AWS CLI's files look like this: [profile NAME] then "
				 "'region = us-east-1' lines; 'aws configure' writes them");
			goto out;
		}
	}
	ret = 0;
out:
	free(st.key);
	OPENSSL_cleanse(copy, strlen(text));
	free(copy);
	return ret;
}

static int load_file(struct aws_profile_section *out, struct strvec *names, const char *path,
		     int is_config, const char *name)
{
	struct buf text = BUF_INIT;
	struct stat st;
	int ret;

	if (!path || !*path)
		return 0;
	/* No file is an empty file, as for the AWS CLI. */
	if (stat(path, &st) && (errno == ENOENT || errno == ENOTDIR))
		return 0;
	if (read_file(&text, path))
		return -1;
	ret = aws_profile_parse(out, names, buf_cstr(&text), path, is_config, name);
	OPENSSL_cleanse(text.ptr ? text.ptr : "", text.len);
	buf_release(&text);
	return ret;
}

int aws_profile_load(struct aws_profile *out, const char *config_file, const char *credentials_file,
		     const char *name)
{
	memset(out, 0, sizeof(*out));
	out->name = xstrdup(name);
	if (load_file(&out->credentials, &out->names, credentials_file, 0, name) ||
	    load_file(&out->config, &out->names, config_file, 1, name)) {
		aws_profile_release(out);
		return -1;
	}
	return 0;
}

void aws_profile_release(struct aws_profile *p)
{
	free(p->name);
	section_release(&p->credentials);
	section_release(&p->config);
	strvec_clear(&p->names);
	memset(p, 0, sizeof(*p));
}

int aws_profile_exists(const struct aws_profile *p)
{
	return p->credentials.found || p->config.found;
}

const char *aws_profile_section_value(const struct aws_profile_section *s, const char *key)
{
	const struct aws_config_entry *e = find_entry(s, key);

	return e ? e->value : NULL;
}

const char *aws_profile_value(const struct aws_profile *p, const char *key)
{
	const char *v = aws_profile_section_value(&p->credentials, key);

	return v ? v : aws_profile_section_value(&p->config, key);
}
