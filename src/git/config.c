#include "git/config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/util.h"

char *config_canonical_key(const char *key)
{
	char *k = xstrdup(key);
	char *first = strchr(k, '.'), *last = strrchr(k, '.'), *p;

	for (p = k; *p; p++) {
		if (first && p > first && p < last)
			continue; /* subsection: case-sensitive */
		*p = (char)tolower((unsigned char)*p);
	}
	return k;
}

static void add_param(struct config *cfg, const char *key, size_t keylen, const char *value)
{
	char *raw = xstrndup(key, keylen);
	struct config_param *p;

	cfg->params = xrealloc(cfg->params, (cfg->nr_params + 1) * sizeof(*cfg->params));
	p = &cfg->params[cfg->nr_params++];
	p->key = config_canonical_key(raw);
	p->value = value ? xstrdup(value) : NULL;
	free(raw);
}

/* Reads one sq-quoted word ('...' with '\'' for a quote) at *s into out. */
static int read_sq(struct buf *out, const char **s)
{
	const char *p = *s;

	if (*p != '\'')
		return -1;
	p++;
	for (;;) {
		if (!*p)
			return -1;
		if (*p == '\'') {
			if (p[1] == '\\' && p[2] == '\'' && p[3] == '\'') {
				buf_putc(out, '\'');
				p += 4;
				continue;
			}
			p++;
			break;
		}
		buf_putc(out, *p++);
	}
	*s = p;
	return 0;
}

int config_parse_parameters(struct config *cfg, const char *text)
{
	const char *s = text;
	struct buf key = BUF_INIT, val = BUF_INIT;
	int ret = 0;

	while (*s) {
		if (isspace((unsigned char)*s)) {
			s++;
			continue;
		}
		buf_reset(&key);
		buf_reset(&val);
		if (read_sq(&key, &s)) {
			ret = err_set("bogus format in GIT_CONFIG_PARAMETERS");
			break;
		}
		buf_grow(&key, 0);
		if (*s == '=') {
			/* new format: 'key'='value' or 'key'= */
			s++;
			if (*s == '\'') {
				if (read_sq(&val, &s)) {
					ret = err_set("bogus format in GIT_CONFIG_PARAMETERS");
					break;
				}
				buf_grow(&val, 0);
				add_param(cfg, key.ptr, key.len, val.ptr);
			} else if (!*s || isspace((unsigned char)*s)) {
				/* 'key'= is how git passes `-c key`: an implicit true */
				add_param(cfg, key.ptr, key.len, NULL);
			} else {
				ret = err_set("bogus format in GIT_CONFIG_PARAMETERS");
				break;
			}
		} else {
			/* old format: 'key=value' or 'key' */
			char *eq = strchr(key.ptr, '=');

			if (eq)
				add_param(cfg, key.ptr, (size_t)(eq - key.ptr), eq + 1);
			else
				add_param(cfg, key.ptr, key.len, NULL);
		}
	}
	buf_release(&key);
	buf_release(&val);
	return ret;
}

static int parse_env_count(struct config *cfg)
{
	const char *c = getenv("GIT_CONFIG_COUNT");
	long n, i;
	char *end;

	if (!c || !*c)
		return 0;
	n = strtol(c, &end, 10);
	if (*end || n < 0)
		return err_set("bogus count in GIT_CONFIG_COUNT");
	for (i = 0; i < n; i++) {
		char name[64];
		const char *k, *v;

		snprintf(name, sizeof(name), "GIT_CONFIG_KEY_%ld", i);
		k = getenv(name);
		snprintf(name, sizeof(name), "GIT_CONFIG_VALUE_%ld", i);
		v = getenv(name);
		if (!k || !*k)
			return err_set("missing config key GIT_CONFIG_KEY_%ld", i);
		if (!v)
			return err_set("missing config value GIT_CONFIG_VALUE_%ld", i);
		add_param(cfg, k, strlen(k), v);
	}
	return 0;
}

int config_load(struct config *out, git_repository *repo)
{
	git_config *cfg = NULL;
	const char *params = getenv("GIT_CONFIG_PARAMETERS");
	int r;

	memset(out, 0, sizeof(*out));
	r = repo ? git_repository_config_snapshot(&out->snapshot, repo) : 0;
	if (!repo) {
		r = git_config_open_default(&cfg);
		if (!r)
			r = git_config_snapshot(&out->snapshot, cfg);
		git_config_free(cfg);
	}
	if (r < 0)
		return err_git("cannot read git config");
	if (parse_env_count(out))
		return -1;
	if (params && config_parse_parameters(out, params))
		return -1;
	return 0;
}

void config_release(struct config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->nr_params; i++) {
		free(cfg->params[i].key);
		free(cfg->params[i].value);
	}
	free(cfg->params);
	git_config_free(cfg->snapshot);
	memset(cfg, 0, sizeof(*cfg));
}

/* The last -c setting of key; NULL if none. */
static const struct config_param *find_param(const struct config *cfg, const char *key)
{
	char *canon = config_canonical_key(key);
	const struct config_param *found = NULL;
	size_t i;

	for (i = 0; i < cfg->nr_params; i++)
		if (!strcmp(cfg->params[i].key, canon))
			found = &cfg->params[i];
	free(canon);
	return found;
}

int config_get_string(char **out, const struct config *cfg, const char *key)
{
	const struct config_param *p = find_param(cfg, key);
	git_buf b = { 0 };
	int r;

	*out = NULL;
	if (p) {
		*out = xstrdup(p->value ? p->value : "");
		return 0;
	}
	if (!cfg->snapshot)
		return 1;
	r = git_config_get_string_buf(&b, cfg->snapshot, key);
	if (r == GIT_ENOTFOUND)
		return 1;
	if (r < 0)
		return err_git("cannot read config '%s'", key);
	*out = xstrdup(b.ptr);
	git_buf_dispose(&b);
	return 0;
}

int config_parse_bool(int *out, const char *v)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0", "" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++)
		if (!strcasecmp(v, yes[i]))
			return *out = 1, 0;
	for (i = 0; i < ARRAY_SIZE(no); i++)
		if (!strcasecmp(v, no[i]))
			return *out = 0, 0;
	return -1;
}

int config_get_bool(int *out, const struct config *cfg, const char *key)
{
	const struct config_param *p = find_param(cfg, key);
	char *v = NULL;
	int r;

	if (p && !p->value)
		return *out = 1, 0;
	r = config_get_string(&v, cfg, key);
	if (r)
		return r;
	if (config_parse_bool(out, v)) {
		err_set("bad boolean config value '%s' for '%s'", v, key);
		free(v);
		return -1;
	}
	free(v);
	return 0;
}

int config_get_string_or(char **out, const struct config *cfg, const char *key, const char *def)
{
	int r = config_get_string(out, cfg, key);

	if (r < 0)
		return r;
	if ((r == 1 || !**out) && def) {
		free(*out);
		*out = xstrdup(def);
	} else if (r == 1 || !**out) {
		free(*out);
		*out = NULL;
	}
	return 0;
}

struct multivar_entry {
	int level;
	size_t order;
	char *value;
};

static int by_level(const void *a, const void *b)
{
	const struct multivar_entry *x = a, *y = b;

	if (x->level != y->level)
		return x->level < y->level ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/* The files' values of key, lowest level first (libgit2 iterates the highest first). */
static int file_values(struct strvec *out, const struct config *cfg, const char *key)
{
	git_config_iterator *it = NULL;
	git_config_entry *entry;
	struct multivar_entry *v = NULL;
	size_t nr = 0, i;
	int r;

	if (!cfg->snapshot)
		return 0;
	if (git_config_multivar_iterator_new(&it, cfg->snapshot, key, NULL) < 0)
		return err_git("cannot read config '%s'", key);
	while ((r = git_config_next(&entry, it)) == 0) {
		v = xrealloc(v, (nr + 1) * sizeof(*v));
		v[nr].level = (int)entry->level;
		v[nr].order = nr;
		v[nr].value = xstrdup(entry->value ? entry->value : "");
		nr++;
	}
	git_config_iterator_free(it);
	if (r != GIT_ITEROVER) {
		for (i = 0; i < nr; i++)
			free(v[i].value);
		free(v);
		return err_git("cannot read config '%s'", key);
	}
	if (nr)
		qsort(v, nr, sizeof(*v), by_level);
	for (i = 0; i < nr; i++)
		strvec_push_nodup(out, v[i].value);
	free(v);
	return 0;
}

int config_get_all(struct strvec *out, const struct config *cfg, const char *key)
{
	size_t before = out->nr, i;
	char *canon;

	if (file_values(out, cfg, key))
		return -1;
	canon = config_canonical_key(key);
	for (i = 0; i < cfg->nr_params; i++)
		if (!strcmp(cfg->params[i].key, canon))
			strvec_push(out, cfg->params[i].value ? cfg->params[i].value : "");
	free(canon);
	return out->nr > before ? 0 : 1;
}

void config_init_levels(void)
{
	const char *v = getenv("GIT_CONFIG_NOSYSTEM");
	int off = 0;

	if (v && *v && !config_parse_bool(&off, v) && off)
		git_libgit2_opts(GIT_OPT_SET_SEARCH_PATH, GIT_CONFIG_LEVEL_SYSTEM, "");
}
