#include "services/iam-policy.h"

#include <ctype.h>
#include <string.h>

#include "util/util.h"

int iam_policy_match(const char *pattern, const char *s, int ignore_case)
{
	const char *star = NULL, *retry = NULL;

	while (*s) {
		if (*pattern == '*') {
			star = pattern++;
			retry = s;
			continue;
		}
		if (*pattern && (*pattern == '?' || *pattern == *s ||
				 (ignore_case && tolower((unsigned char)*pattern) ==
							 tolower((unsigned char)*s)))) {
			pattern++;
			s++;
			continue;
		}
		if (!star)
			return 0;
		/* let the last '*' swallow one more character and try again */
		pattern = star + 1;
		s = ++retry;
	}
	while (*pattern == '*')
		pattern++;
	return !*pattern;
}

/* A policy element is a string or an array of strings. */
static int any_matches(const cJSON *v, const char *s, int ignore_case)
{
	const cJSON *item;

	if (cJSON_IsString(v))
		return iam_policy_match(v->valuestring, s, ignore_case);
	if (!cJSON_IsArray(v))
		return 0;
	cJSON_ArrayForEach (item, v)
		if (cJSON_IsString(item) && iam_policy_match(item->valuestring, s, ignore_case))
			return 1;
	return 0;
}

static int element_matches(const cJSON *st, const char *key, const char *not_key, const char *s,
			   int ignore_case)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(st, key);

	if (v)
		return any_matches(v, s, ignore_case);
	v = cJSON_GetObjectItemCaseSensitive(st, not_key);
	if (v)
		return !any_matches(v, s, ignore_case);
	return 0; /* identity policies must name their actions and resources */
}

static enum iam_decision statement_decision(const cJSON *st, const char *action,
					    const char *resource)
{
	const cJSON *effect = cJSON_GetObjectItemCaseSensitive(st, "Effect");
	int conditional = cJSON_GetObjectItemCaseSensitive(st, "Condition") != NULL;

	if (!cJSON_IsString(effect) || !element_matches(st, "Action", "NotAction", action, 1) ||
	    !element_matches(st, "Resource", "NotResource", resource, 0))
		return IAM_IMPLICIT_DENY;
	if (!strcmp(effect->valuestring, "Deny"))
		return conditional ? IAM_IMPLICIT_DENY : IAM_EXPLICIT_DENY;
	return !strcmp(effect->valuestring, "Allow") ? IAM_ALLOW : IAM_IMPLICIT_DENY;
}

enum iam_decision iam_policy_decide(const cJSON *const *docs, size_t nr, const char *action,
				    const char *resource)
{
	enum iam_decision result = IAM_IMPLICIT_DENY;
	size_t i;

	for (i = 0; i < nr; i++) {
		const cJSON *sts = cJSON_GetObjectItemCaseSensitive(docs[i], "Statement");
		const cJSON *st;

		if (cJSON_IsObject(sts)) {
			enum iam_decision d = statement_decision(sts, action, resource);

			if (d == IAM_EXPLICIT_DENY)
				return d;
			if (d == IAM_ALLOW)
				result = d;
			continue;
		}
		cJSON_ArrayForEach (st, sts) {
			enum iam_decision d = statement_decision(st, action, resource);

			if (d == IAM_EXPLICIT_DENY)
				return d;
			if (d == IAM_ALLOW)
				result = d;
		}
	}
	return result;
}

/* RFC 3986 decoding; '+' is a literal plus in IAM's encoding, not a space. */
static void url_decode(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '%' && hex_value(s[1]) >= 0 && hex_value(s[2]) >= 0) {
			buf_putc(out, (char)(hex_value(s[1]) << 4 | hex_value(s[2])));
			s += 2;
		} else {
			buf_putc(out, *s);
		}
	}
}

int iam_policy_parse(cJSON **out, const char *text)
{
	struct buf decoded = BUF_INIT;
	const char *p = text + strspn(text, " \t\r\n");
	int ret = 0;

	if (*p != '{') {
		url_decode(&decoded, p);
		p = buf_cstr(&decoded);
	}
	*out = cJSON_Parse(p);
	if (!*out || !cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		ret = err_set("malformed policy document");
	}
	buf_release(&decoded);
	return ret;
}
