#include "archive/subst.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "git/repo.h"

static const char *const weekdays[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
				      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };

/* A date the way git shows it, in the signature's own time zone. */
static int put_date(struct buf *out, const git_time *when, char style)
{
	int off = when->offset, a = off < 0 ? -off : off;
	int tz = (off < 0 ? -1 : 1) * (a / 60 * 100 + a % 60);
	time_t t = (time_t)when->time + (time_t)off * 60;
	struct tm tm;

	if (style == 't') {
		buf_printf(out, "%lld", (long long)when->time);
		return 1;
	}
	if (!gmtime_r(&t, &tm))
		return 0;
	switch (style) {
	case 'd':
		buf_printf(out, "%s %s %d %02d:%02d:%02d %d %+05d", weekdays[tm.tm_wday],
			   months[tm.tm_mon], tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			   tm.tm_year + 1900, tz);
		break;
	case 'D':
		buf_printf(out, "%s, %d %s %d %02d:%02d:%02d %+05d", weekdays[tm.tm_wday],
			   tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
			   tm.tm_sec, tz);
		break;
	case 'i':
		buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d %+05d", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, tz);
		break;
	case 'I':
		buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
			   tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
			   off < 0 ? '-' : '+', a / 60, a % 60);
		break;
	case 's':
		buf_printf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
		break;
	default:
		return 0;
	}
	return 1;
}

/* %an %ae %al %ad ...: 0 when git would not know the placeholder either. */
static size_t put_person(struct buf *out, const git_signature *sig, char what)
{
	const char *at;

	switch (what) {
	case 'n':
		buf_puts(out, sig->name);
		return 2;
	case 'e':
		buf_puts(out, sig->email);
		return 2;
	case 'l':
		at = strchr(sig->email, '@');
		buf_add(out, sig->email, at ? (size_t)(at - sig->email) : strlen(sig->email));
		return 2;
	}
	return put_date(out, &sig->when, what) ? 2 : 0;
}

/* Where the subject paragraph ends and the body starts, as git's pretty.c. */
static const char *skip_blank_lines(const char *p)
{
	for (;;) {
		const char *q = p;

		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (*q != '\n')
			return p;
		p = q + 1;
	}
}

static const char *put_subject(struct buf *out, const char *msg)
{
	int first = 1;

	msg = skip_blank_lines(msg);
	while (*msg) {
		const char *nl = strchr(msg, '\n');
		size_t len = nl ? (size_t)(nl - msg) : strlen(msg);
		const char *next = msg + len + (nl ? 1 : 0);

		while (len && strchr(" \t\r\n", msg[len - 1]))
			len--;
		if (!len) {
			msg = next;
			break;
		}
		if (out) {
			if (!first)
				buf_putc(out, ' ');
			buf_add(out, msg, len);
		}
		first = 0;
		msg = next;
	}
	return msg;
}

static void put_id(struct buf *out, git_repository *repo, const git_oid *id, int abbrev)
{
	char hex[GIT_OID_HEXSZ + 1];
	char *s;

	if (!abbrev) {
		buf_puts(out, git_oid_tostr(hex, sizeof(hex), id));
		return;
	}
	s = repo_short_id(repo, id);
	buf_puts(out, s);
	free(s);
}

static void put_parents(struct buf *out, git_repository *repo, git_commit *c, int abbrev)
{
	unsigned i;

	for (i = 0; i < git_commit_parentcount(c); i++) {
		if (i)
			buf_putc(out, ' ');
		put_id(out, repo, git_commit_parent_id(c, i), abbrev);
	}
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Full names of the refs (not HEAD) that peel to id, sorted as git iterates them. */
static size_t refs_pointing_at(char ***out, git_repository *repo, const git_oid *id)
{
	git_reference_iterator *it = NULL;
	git_reference *ref;
	size_t nr = 0, alloc = 0;

	*out = NULL;
	if (git_reference_iterator_new(&it, repo) < 0)
		return 0;
	while (!git_reference_next(&ref, it)) {
		const char *name = git_reference_name(ref);
		git_object *obj = NULL;

		if (!skip_prefix(name, "refs/replace/", NULL) &&
		    !git_reference_peel(&obj, ref, GIT_OBJECT_COMMIT) &&
		    git_oid_equal(git_object_id(obj), id)) {
			if (nr == alloc) {
				alloc = alloc ? 2 * alloc : 8;
				*out = xrealloc(*out, alloc * sizeof(**out));
			}
			(*out)[nr++] = xstrdup(name);
		}
		git_object_free(obj);
		git_reference_free(ref);
	}
	git_reference_iterator_free(it);
	if (nr)
		qsort(*out, nr, sizeof(**out), cmp_str);
	return nr;
}

static const char *short_ref(const char *name)
{
	const char *s = name;

	if (skip_prefix(name, "refs/heads/", &s) || skip_prefix(name, "refs/tags/", &s) ||
	    skip_prefix(name, "refs/remotes/", &s))
		return s;
	return name;
}

/*
 * %d and %D as git shows them: HEAD first ("HEAD -> <branch>" when HEAD is on
 * a branch that is here too), then the other refs newest-added first, which
 * is reverse refname order.
 */
static void put_decorations(struct buf *out, git_repository *repo, const git_oid *id, int parens)
{
	git_object *head = NULL, *head_commit = NULL;
	git_reference *head_ref = NULL;
	const char *current = NULL, *sep = parens ? " (" : "";
	char **names;
	size_t nr = refs_pointing_at(&names, repo, id), i;
	int has_head = !git_revparse_single(&head, repo, "HEAD") &&
		       !git_object_peel(&head_commit, head, GIT_OBJECT_COMMIT) &&
		       git_oid_equal(git_object_id(head_commit), id);

	if (has_head && !git_reference_lookup(&head_ref, repo, "HEAD") &&
	    git_reference_type(head_ref) == GIT_REFERENCE_SYMBOLIC)
		current = git_reference_symbolic_target(head_ref);
	if (current && !bsearch(&current, names, nr, sizeof(*names), cmp_str))
		current = NULL;
	if (has_head) {
		buf_printf(out, "%sHEAD", sep);
		if (current)
			buf_printf(out, " -> %s", short_ref(current));
		sep = ", ";
	}
	for (i = nr; i-- > 0;) {
		if (!current || strcmp(names[i], current))
			buf_printf(out, "%s%s%s", sep,
				   skip_prefix(names[i], "refs/tags/", NULL) ? "tag: " : "",
				   short_ref(names[i]));
		sep = ", ";
	}
	if (parens && (has_head || nr))
		buf_putc(out, ')');
	for (i = 0; i < nr; i++)
		free(names[i]);
	free(names);
	git_reference_free(head_ref);
	git_object_free(head_commit);
	git_object_free(head);
}

/* Expands the placeholder after a '%'; returns how many bytes it used, 0 if unknown. */
static size_t put_placeholder(struct buf *out, git_repository *repo, git_commit *c, const char *p)
{
	const char *msg = git_commit_message(c);

	switch (p[0]) {
	case 'n':
		buf_putc(out, '\n');
		return 1;
	case '%':
		buf_putc(out, '%');
		return 1;
	case 'x':
		if (hex_value(p[1]) < 0 || hex_value(p[2]) < 0)
			return 0;
		buf_putc(out, (char)(hex_value(p[1]) << 4 | hex_value(p[2])));
		return 3;
	case 'H':
	case 'h':
		put_id(out, repo, git_commit_id(c), p[0] == 'h');
		return 1;
	case 'T':
	case 't':
		put_id(out, repo, git_commit_tree_id(c), p[0] == 't');
		return 1;
	case 'P':
	case 'p':
		put_parents(out, repo, c, p[0] == 'p');
		return 1;
	case 'a':
		return p[1] ? put_person(out, git_commit_author(c), p[1]) : 0;
	case 'c':
		return p[1] ? put_person(out, git_commit_committer(c), p[1]) : 0;
	case 's':
		put_subject(out, msg);
		return 1;
	case 'b':
		buf_puts(out, skip_blank_lines(put_subject(NULL, msg)));
		return 1;
	case 'B':
		buf_puts(out, msg);
		return 1;
	case 'd':
	case 'D':
		put_decorations(out, repo, git_commit_id(c), p[0] == 'd');
		return 1;
	}
	return 0;
}

/* %+x, %-x and "% x": git's line-feed and space magic around an expansion. */
static size_t put_item(struct buf *out, git_repository *repo, git_commit *c, const char *p)
{
	size_t before = out->len, used;
	char magic = (*p == '+' || *p == '-' || *p == ' ') ? *p : 0;

	if (!magic)
		return put_placeholder(out, repo, c, p);
	used = put_placeholder(out, repo, c, p + 1);
	if (!used)
		return 0;
	if (magic == '-' && out->len == before) {
		while (out->len && out->ptr[out->len - 1] == '\n')
			out->ptr[--out->len] = '\0';
	} else if (out->len > before && magic != '-') {
		char *tail = xstrndup(out->ptr + before, out->len - before);

		out->len = before;
		buf_putc(out, magic == '+' ? '\n' : ' ');
		buf_puts(out, tail);
		free(tail);
	}
	return used + 1;
}

int subst_format(struct buf *out, git_repository *repo, git_commit *commit, const char *fmt)
{
	buf_grow(out, 0);
	for (;;) {
		const char *pct = strchr(fmt, '%');
		size_t used;

		if (!pct) {
			buf_puts(out, fmt);
			return 0;
		}
		buf_add(out, fmt, (size_t)(pct - fmt));
		fmt = pct + 1;
		used = put_item(out, repo, commit, fmt);
		if (used)
			fmt += used;
		else
			buf_putc(out, '%');
	}
}

int subst_expand(struct buf *out, git_repository *repo, git_commit *commit, const char *data,
		 size_t len)
{
	buf_grow(out, len);
	for (;;) {
		const char *b = memmem(data, len, "$Format:", 8), *e;
		char *fmt;

		if (!b)
			break;
		e = memchr(b + 8, '$', len - (size_t)(b + 8 - data));
		if (!e)
			break;
		buf_add(out, data, (size_t)(b - data));
		/* git reads the format as a C string: it ends at a NUL */
		fmt = xstrndup(b + 8, (size_t)(e - b - 8));
		subst_format(out, repo, commit, fmt);
		free(fmt);
		len -= (size_t)(e + 1 - data);
		data = e + 1;
	}
	buf_add(out, data, len);
	return 0;
}
