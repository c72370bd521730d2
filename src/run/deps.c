/*
 * deps: see deps.h. The work is deps.sh's; here is what the local backend
 * and the result document need around it.
 */
#include "run/deps.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/util.h"

int deps_valid_key(const char *s)
{
	return s && strlen(s) == DEPS_KEY_LEN && strspn(s, "0123456789abcdef") == DEPS_KEY_LEN;
}

int deps_is_python(const char *word)
{
	const char *base = strrchr(word, '/');

	base = base ? base + 1 : word;
	return !strncmp(base, "python", 6) && strspn(base + 6, "0123456789.") == strlen(base + 6);
}

char *deps_local_root(void)
{
	const char *cache = getenv_nonempty("XDG_CACHE_HOME");
	const char *home = getenv_nonempty("HOME");

	/* the XDG base directory specification: a relative path is ignored */
	if (cache && *cache == '/')
		return xstrfmt("%s/git-train/envs", cache);
	if (home && *home == '/')
		return xstrfmt("%s/.cache/git-train/envs", home);
	err_set("no place for the dependency cache: neither XDG_CACHE_HOME nor HOME is an "
		"absolute path");
	return NULL;
}

int deps_read_result(struct deps_result *out, const char *path)
{
	struct buf text = BUF_INIT;
	const char *p;

	memset(out, 0, sizeof(*out));
	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	if (read_file(&text, path))
		return -1;
	for (p = buf_cstr(&text); *p;) {
		size_t n = strcspn(p, "\n");
		const char *v;
		char *line = xstrndup(p, n);

		if (skip_prefix(line, "key=", &v) && !out->key)
			out->key = xstrdup(v);
		else if (skip_prefix(line, "venv=", &v) && !out->venv)
			out->venv = xstrdup(v);
		free(line);
		p += n + (p[n] == '\n');
	}
	buf_release(&text);
	if (!deps_valid_key(out->key) || !out->venv || out->venv[0] != '/') {
		deps_result_release(out);
		return err_set("'%s' does not name a cache key and an environment", path);
	}
	return 0;
}

void deps_result_release(struct deps_result *r)
{
	free(r->key);
	free(r->venv);
	memset(r, 0, sizeof(*r));
}

static void set_entry(struct strvec *envp, const char *name, const char *value)
{
	size_t i, n = strlen(name);
	char *entry = xstrfmt("%s=%s", name, value);

	for (i = 0; i < envp->nr; i++)
		if (!strncmp(envp->v[i], name, n) && envp->v[i][n] == '=') {
			free(envp->v[i]);
			envp->v[i] = entry;
			return;
		}
	strvec_push_nodup(envp, entry);
}

static const char *get_entry(const struct strvec *envp, const char *name)
{
	size_t i, n = strlen(name);

	for (i = 0; i < envp->nr; i++)
		if (!strncmp(envp->v[i], name, n) && envp->v[i][n] == '=')
			return envp->v[i] + n + 1;
	return NULL;
}

void deps_apply(struct strvec *argv, struct strvec *envp, const char *venv)
{
	const char *path = get_entry(envp, "PATH");
	char *bin = xstrfmt("%s/bin", venv), *v;

	if (argv->nr) {
		char *word = argv->v[0], *own = xstrfmt("%s/%s", bin, word);

		if (deps_is_python(word)) {
			free(argv->v[0]);
			argv->v[0] = xstrfmt("%s/python", bin);
		} else if (!strchr(word, '/') && !access(own, X_OK)) {
			free(argv->v[0]);
			argv->v[0] = own;
			own = NULL;
		}
		free(own);
	}
	v = path && *path ? xstrfmt("%s:%s", bin, path) : xstrdup(bin);
	set_entry(envp, "PATH", v);
	set_entry(envp, "VIRTUAL_ENV", venv);
	free(v);
	free(bin);
}
